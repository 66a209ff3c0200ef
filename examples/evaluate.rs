//! Evaluates a trained run on labelled corpora: accuracy, balanced accuracy (UA), per-class
//! precision/recall/F1, macro and weighted averages, the confusion matrix and per-corpus
//! figures.
//!
//! ```text
//! cargo run --release --example evaluate -- --run RUN_DIR --data DIR... [--split test|all] [--json]
//! cargo run --release --example evaluate -- --run runs/speaker --data ../shared/corpus/RAVDESS --data ../shared/corpus/TESS
//! cargo run --release --example evaluate -- --data ../shared/corpus/RAVDESS --split all   # the shipped model
//! cargo run --release --example evaluate -- --run runs/a --run runs/b --run runs/c --data DIR --confusion c.png
//! ```
//!
//! Without `--run` the shipped model is evaluated (its weights derive from RAVDESS and are
//! under CC BY-NC-SA 4.0, see docs/model-card.md); it was trained on RAVDESS actors 01–16
//! (17–20 are its test actors), so only the figures of actors 17 and up are speaker-independent.
//!
//! `--split test` (the default when the run has a `split.csv`) evaluates only the files
//! the run held out for testing; `--split all` every labelled file under `--data`. Audio is
//! featurized exactly as in training (the run's `config.json`). `--json` prints one JSON
//! object (`accuracy`, `balanced_accuracy`, `macro_f1`, `per_class`, `confusion`,
//! `per_group`, ...) instead of the table. `--run` repeated evaluates the ensemble of runs
//! trained alike (the mean of their probabilities; they must share their test split).
//! `--confusion PNG` draws the confusion matrix.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Parser, ValueEnum};
use ser_datasets::{Split, SplitLookup, read_manifest};
use ser_examples::plot::draw_confusion;
use ser_examples::runs::{corpus_of, dataset, featurize, labelled, prepare_for};
use ser_examples::{ModelArgs, run};
use ser_models::parse_device;
use ser_models::train::predict_mean;

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Which {
    /// The run's test split (from its split.csv).
    Test,
    /// Every labelled file under --data.
    All,
}

/// Evaluate a trained run.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Corpus folders.
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Which files to evaluate (default: test if the run has a split.csv, else all).
    #[arg(long, value_enum)]
    split: Option<Which>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Feature cache folder.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Draw the confusion matrix to this PNG.
    #[arg(long)]
    confusion: Option<PathBuf>,
    /// Replace an existing --confusion file.
    #[arg(long)]
    overwrite: bool,
}

fn main() {
    run(|| {
        let args = Args::parse();
        let (_, device_desc) = parse_device(&args.device)?;
        if let Some(png) = args.confusion.as_ref().filter(|p| p.exists()) {
            if !args.overwrite {
                bail!("{} exists; pass --overwrite to replace it", png.display());
            }
        }
        let (cfg, models) = args.model.recognizer(&args.device)?.into_parts();
        let (mut utterances, _) = labelled(&args.data)?;
        let split_csv = args.model.run.first().map(|r| r.join("split.csv"));
        // An ensemble's members are tested on one split: their split.csv files agree.
        if let Some(first) = split_csv.as_ref().filter(|p| p.exists()) {
            let ours = std::fs::read(first)?;
            for r in &args.model.run[1..] {
                if std::fs::read(r.join("split.csv")).ok().as_ref() != Some(&ours) {
                    bail!(
                        "{} was split otherwise than {}: an ensemble is tested on one split",
                        r.display(),
                        args.model.run[0].display()
                    );
                }
            }
        }
        let which = args
            .split
            .unwrap_or(if split_csv.as_ref().is_some_and(|p| p.exists()) {
                Which::Test
            } else {
                Which::All
            });
        if which == Which::Test {
            let Some(split_csv) = split_csv.filter(|p| p.exists()) else {
                bail!("the model has no split.csv (no test split is known): use --split all");
            };
            // Rows are found by corpus, speaker and path below the corpus, however the
            // corpus's path is typed now or was when the run was trained.
            let rows = read_manifest(&split_csv)?;
            let lookup = SplitLookup::new(&rows);
            utterances.retain(|u| lookup.split_of(u) == Some(Split::Test));
            let in_run = rows.iter().filter(|a| a.split == Some(Split::Test)).count();
            if in_run == 0 {
                bail!(
                    "the run's split.csv holds no test clip (its corpus had too few speakers): \
                     use --split all"
                );
            }
            if utterances.len() < in_run && !utterances.is_empty() {
                eprintln!(
                    "note: {} of the run's {in_run} test clips are not under {:?}",
                    in_run - utterances.len(),
                    args.data
                );
            }
        }
        if utterances.is_empty() {
            bail!(
                "no labelled file to evaluate under {:?} ({which:?} split)",
                args.data
            );
        }
        let feats = featurize(&utterances, cfg.features, args.cache.as_deref(), args.json)?;
        // A speaker-standardised model sees each speaker's clips by their statistics.
        let feats = prepare_for(&cfg.model, &utterances, feats)?;
        let data = dataset(&utterances, &feats, 64)?;
        let preds = predict_mean(&models, &data)?;
        let corpora = corpus_of(&utterances);
        let group = |p: &Path| {
            corpora
                .get(p)
                .map_or("?".to_string(), |c| c.as_str().to_string())
        };
        let names: Vec<&str> = cfg.classes.iter().map(String::as_str).collect();
        let rep = preds.report(&names, Some(&group))?;
        if let Some(png) = &args.confusion {
            let members = match models.len() {
                1 => String::new(),
                n => format!(", ensemble of {n}"),
            };
            draw_confusion(
                png,
                &rep,
                &format!("{}{members}, {which:?} split", cfg.model.architecture).to_lowercase(),
            )?;
        }
        if args.json {
            println!("{}", serde_json::to_string(&rep)?);
        } else {
            println!(
                "{} on {} files ({which:?} split, {device_desc}), mean cross-entropy {:.3}\n",
                cfg.model.architecture,
                preds.labels.len(),
                preds.loss
            );
            println!("{}", rep.to_text());
        }
        Ok(())
    });
}
