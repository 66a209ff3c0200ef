//! Scans corpus folders, prints class counts, splits the labelled set and writes it as a
//! manifest (CSV: `path,corpus,speaker,gender,original_label,emotion,split`).
//!
//! ```text
//! cargo run --release --example dataset -- DIR... [--corpus NAME] [--split random|speaker]
//!     [--seed N] [--train F --validation F --test F] [--out manifest.csv] [--overwrite]
//! cargo run --release --example dataset -- ../shared/corpus/RAVDESS --split speaker --out ravdess.csv
//! cargo run --release --example dataset            # the small fake corpora in fixtures/corpora
//! ```
//!
//! Each folder's corpus is detected unless `--corpus` names it. The program prints the
//! counts per corpus × emotion, the counts per split, and how many files were rejected or
//! were duplicates (with the first few reasons). `--split speaker` keeps every speaker in
//! one split and checks that no speaker leaks. Labels the mapping policy leaves out get
//! no split (their `emotion` and `split` columns are empty). The manifest is written
//! atomically and an existing file is not replaced without `--overwrite`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use ser_datasets::{
    Assignment, Corpus, Counts, LabelPolicy, Overwrite, SPLITS, SplitFractions,
    check_no_speaker_leak, random_split, scan, speaker_split, write_manifest,
};
use ser_examples::run;

/// How to split the labelled set.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum SplitArg {
    /// Stratified random split per emotion class (speakers may be in several splits).
    Random,
    /// Speaker-independent split: no speaker in two splits.
    Speaker,
}

/// Scan emotional-speech corpora, count, split, and write a manifest.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Corpus folders (default: every folder of fixtures/corpora).
    dirs: Vec<PathBuf>,
    /// The corpus of every folder (ravdess, savee, crema-d, esd, tess, jl-corpus);
    /// detected per folder if not given.
    #[arg(long)]
    corpus: Option<Corpus>,
    /// How to split.
    #[arg(long, value_enum, default_value_t = SplitArg::Speaker)]
    split: SplitArg,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Training fraction.
    #[arg(long, default_value_t = 0.70)]
    train: f64,
    /// Validation fraction.
    #[arg(long, default_value_t = 0.15)]
    validation: f64,
    /// Test fraction.
    #[arg(long, default_value_t = 0.15)]
    test: f64,
    /// Write the manifest here (CSV).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing manifest.
    #[arg(long)]
    overwrite: bool,
}

/// How many rejection reasons to show.
const SHOW: usize = 5;

/// The first `show` of `lines`, then "... and N more `what`" for the rest, so that a long
/// list says how much it left out.
fn first(lines: impl ExactSizeIterator<Item = String>, show: usize, what: &str) -> Vec<String> {
    let n = lines.len();
    let mut out: Vec<String> = lines.take(show).collect();
    if n > show {
        out.push(format!("... and {} more {what}", n - show));
    }
    out
}

/// Every folder of `fixtures/corpora`, sorted.
fn fixture_dirs() -> Result<Vec<PathBuf>> {
    let root = ser_examples::repo_path("fixtures/corpora")?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("cannot read {}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn main() {
    run(|| {
        let args = Args::parse();
        let fractions = SplitFractions::new(args.train, args.validation, args.test)?;
        let dirs = if args.dirs.is_empty() {
            fixture_dirs()?
        } else {
            args.dirs.clone()
        };
        let report = scan(&dirs, args.corpus, &LabelPolicy::default())?;
        for root in &report.roots {
            let corpus = root.corpus.map_or("no corpus recognised", Corpus::as_str);
            println!("{}: {corpus}", root.root.display());
        }
        println!(
            "{} utterances, {} rejected, {} duplicates, {} non-audio files ignored",
            report.utterances.len(),
            report.rejected.len(),
            report.duplicates.len(),
            report.ignored
        );
        let rejected = report
            .rejected
            .iter()
            .map(|r| format!("rejected {}: {}", r.path.display(), r.reason));
        let duplicates = report.duplicates.iter().map(|d| {
            format!(
                "duplicate {} (same bytes as {})",
                d.path.display(),
                d.same_as.display()
            )
        });
        for line in first(rejected, SHOW, "rejected").into_iter().chain(first(
            duplicates,
            SHOW,
            "duplicates",
        )) {
            println!("  {line}");
        }
        if report.utterances.is_empty() {
            bail!("no utterance found");
        }
        println!(
            "\nall utterances:\n{}",
            Counts::from_utterances(&report.utterances)
        );

        let assignments: Vec<Assignment> = match args.split {
            SplitArg::Random => random_split(&report.utterances, &fractions, args.seed)?,
            SplitArg::Speaker => {
                let a = speaker_split(&report.utterances, &fractions, args.seed)?;
                check_no_speaker_leak(&a)?;
                a
            }
        };
        for split in SPLITS {
            let counts = Counts::from_utterances(
                assignments
                    .iter()
                    .filter(|a| a.split == Some(split))
                    .map(|a| &a.utterance),
            );
            println!("{split}: {} utterances\n{counts}", counts.total());
        }
        let none = assignments.iter().filter(|a| a.split.is_none()).count();
        if none > 0 {
            println!("{none} utterances with a left-out label get no split");
        }
        if let Some(out) = &args.out {
            match write_manifest(out, &assignments, Overwrite::replace_if(args.overwrite)) {
                Err(ser_datasets::Error::Exists { path }) => {
                    bail!("{} exists (pass --overwrite to replace it)", path.display())
                }
                other => other?,
            }
            println!("wrote {} rows to {}", assignments.len(), out.display());
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_say_how_many_they_leave_out() {
        let lines = |n: usize| {
            (0..n)
                .map(|i| format!("r{i}"))
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert_eq!(first(lines(3), 5, "rejected"), ["r0", "r1", "r2"]);
        let long = first(lines(12), 5, "rejected");
        assert_eq!(long.len(), 6);
        assert_eq!(long[5], "... and 7 more rejected");
    }
}
