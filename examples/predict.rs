//! Recognises the emotion in audio files of any length, or live from the microphone, with
//! the shipped model or a trained run.
//!
//! ```text
//! cargo run --release --example predict -- FILE...                 # the shipped model
//! cargo run --release --example predict -- --run RUN_DIR FILE...   # a model you trained
//! cargo run --release --example predict -- FILE... --json | --csv
//! cargo run --release --example predict -- long.flac --plot long.png
//! cargo run --release --features live --example predict -- --live
//! ```
//!
//! Each file is decoded in chunks (memory stays bounded whatever its length), cut into
//! windows (3 s every 1 s; `--window`, `--hop`) and each window classified; windows without
//! speech get no emotion. A file no longer than one window prints one line; a longer one
//! its timeline, then the overall emotion (the mean of the speech windows' probabilities).
//! When a file's name follows a corpus's convention (RAVDESS, TESS, ...), its true label is
//! printed beside the prediction. A file that cannot be read, or holds no speech, is
//! reported on its line and the others go on (the exit status is then 1).
//!
//! `--json` prints one object per line and file: `file`, `emotion`, `confidence`,
//! `probabilities` (name → value), `duration`, `true_emotion` and `segments` (each
//! `{start, end, emotion, probabilities}`, times in seconds; a stretch without speech has
//! `emotion: null`). `--csv` prints one row per segment. `--plot FILE.png` draws the
//! spectrogram with the seven probabilities over time under it (one input file).
//!
//! The shipped model's weights derive from RAVDESS and are under CC BY-NC-SA 4.0
//! (non-commercial, share-alike); see docs/model-card.md.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Parser;
use ser_core::Overwrite;
use ser_datasets::{CorpusParser, Emotion, LabelPolicy, RavdessParser, TessParser};
use ser_examples::timeline_out::{csv_header, timeline_csv, timeline_json};
use ser_examples::timeline_plot::draw_timeline;
use ser_examples::{ModelArgs, run};
use ser_models::timeline::{Timeline, TimelineConfig};
use ser_models::{Error as ModelError, Prediction};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Recognise the emotion in audio files (any length) or live input.
///
/// Without --run, the shipped model is used (an ensemble of three networks): trained on
/// RAVDESS actors 01-16, its weights are under CC BY-NC-SA 4.0 (non-commercial,
/// share-alike; docs/model-card.md).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Audio files.
    #[arg(required_unless_present = "live")]
    files: Vec<PathBuf>,
    /// One JSON object per line and file.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// One CSV row per segment (file,start,end,emotion,confidence, then the seven
    /// probabilities).
    #[arg(long)]
    csv: bool,
    /// Draw the spectrogram and the probabilities over time to this PNG (one input file).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Replace an existing --plot file.
    #[arg(long)]
    overwrite: bool,
    /// Window length in seconds.
    #[arg(long, default_value_t = 3.0)]
    window: f32,
    /// Hop between windows in seconds.
    #[arg(long, default_value_t = 1.0)]
    hop: f32,
    /// Speech gate: frames quieter than this (dB relative to full scale) are not speech.
    #[arg(long, default_value_t = -60.0, allow_hyphen_values = true)]
    gate_db: f32,
    /// Listen to the default microphone and print each window's emotion as it completes
    /// (needs the `live` cargo feature; Ctrl-C ends).
    #[arg(long, conflicts_with_all = ["files", "json", "csv", "plot"])]
    live: bool,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// The true label of a file named by a corpus's convention, if any.
fn true_label(path: &Path) -> Option<Emotion> {
    let root = path.parent().unwrap_or(Path::new("."));
    let policy = LabelPolicy::default();
    let parsers: [&dyn CorpusParser; 2] = [&RavdessParser, &TessParser];
    parsers
        .iter()
        .find_map(|p| p.parse(root, path, &policy).ok().flatten())
        .and_then(|u| u.emotion)
}

fn short(p: &Prediction) -> String {
    format!("{} ({:.0} %)", p.emotion, 100.0 * p.confidence())
}

fn print_text(file: &Path, t: &Timeline, overall: &Prediction, truth: Option<Emotion>) {
    let truth = truth.map_or(String::new(), |e| {
        let mark = if e == overall.emotion {
            "right"
        } else {
            "wrong"
        };
        format!("   [true: {e}, {mark}]")
    });
    if t.segments.len() > 1 {
        println!("{}  ({:.1} s)", file.display(), t.duration);
        for s in &t.segments {
            let what = s.prediction.as_ref().map_or("no speech".into(), short);
            println!("  {:>7.1} - {:>7.1} s  {what}", s.start, s.end);
        }
        println!("  overall: {}{truth}", short(overall));
    } else {
        let probs: Vec<String> = overall.iter().map(|(e, v)| format!("{e} {v:.2}")).collect();
        println!(
            "{}: {}{truth}  [{}]",
            file.display(),
            short(overall),
            probs.join(", ")
        );
    }
}

fn main() {
    run(|| {
        let args = Args::parse();
        let config = TimelineConfig {
            window_secs: args.window,
            hop_secs: args.hop,
            gate: ser_dsp::SpeechGateConfig {
                threshold_db: args.gate_db,
                ..Default::default()
            },
            ..TimelineConfig::default()
        };
        if args.live {
            let recognizer = args.model.recognizer(&args.device)?;
            return live::run(&recognizer, &config);
        }
        if args.plot.is_some() && args.files.len() != 1 {
            bail!("--plot draws one file; {} were given", args.files.len());
        }
        if let Some(png) = &args.plot {
            if png.exists() && !args.overwrite {
                bail!("{} exists; pass --overwrite to replace it", png.display());
            }
        }
        let recognizer = args.model.recognizer(&args.device)?;
        config.validate(recognizer.sample_rate())?;
        if args.csv {
            println!("{}", csv_header());
        }
        let mut failed = 0;
        let (mut known, mut right) = (0, 0);
        for file in &args.files {
            let result = recognizer
                .timeline_file(file, &config)
                .map_err(anyhow::Error::from)
                .and_then(|t| match t.overall {
                    Some(overall) => Ok((t, overall)),
                    None => Err(ModelError::no_speech(&config.gate).into()),
                });
            match result {
                Ok((t, overall)) => {
                    let truth = true_label(file);
                    known += usize::from(truth.is_some());
                    right += usize::from(truth == Some(overall.emotion));
                    if args.json {
                        println!("{}", timeline_json(file, &t, truth));
                    } else if args.csv {
                        for row in timeline_csv(file, &t) {
                            println!("{row}");
                        }
                    } else {
                        print_text(file, &t, &overall, truth);
                    }
                    if let Some(png) = &args.plot {
                        draw_timeline(
                            png,
                            file,
                            &recognizer,
                            &t,
                            Overwrite::replace_if(args.overwrite),
                        )?;
                        eprintln!("wrote {}", png.display());
                    }
                }
                Err(e) => {
                    failed += 1;
                    let chain = e
                        .chain()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(": ");
                    let name = file.display().to_string();
                    if chain.contains(&name) {
                        eprintln!("error: {chain}");
                    } else {
                        eprintln!("error: {name}: {chain}");
                    }
                }
            }
        }
        if known > 1 && !args.json && !args.csv {
            println!("\n{right} of the {known} files with a known label recognised correctly");
        }
        if failed > 0 {
            bail!("{failed} of {} files failed", args.files.len());
        }
        Ok(())
    });
}

#[cfg(not(feature = "live"))]
mod live {
    use anyhow::{Result, bail};
    use ser_models::Recognizer;
    use ser_models::timeline::TimelineConfig;

    pub(crate) fn run(_: &Recognizer, _: &TimelineConfig) -> Result<()> {
        bail!(
            "--live needs the `live` feature: cargo run --release --features live --example predict -- --live"
        )
    }
}

#[cfg(feature = "live")]
#[path = "live.rs"]
mod live;
