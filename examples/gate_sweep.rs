//! How the speech gate's threshold behaves on a corpus: for each threshold, how many whole
//! files it would call speechless (they all hold speech) and in how many the opening
//! stretch before the speaker starts counts as speech. The figures behind
//! `SpeechGateConfig`'s default (see `ser_dsp::activity`).
//!
//! ```text
//! cargo run --release --example gate_sweep -- ../shared/corpus/RAVDESS [--lead 0.6] [--db -50,-55,-60,-65,-70]
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use rayon::prelude::*;
use ser_dsp::{SpeechGate, SpeechGateConfig};
use ser_examples::{collect_inputs, run};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Sweep the speech gate's threshold over a corpus.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Audio files or folders (searched recursively).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Thresholds in dBFS.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-50,-55,-60,-65,-70"
    )]
    db: Vec<f32>,
    /// Length of the opening stretch checked for false speech, in seconds (RAVDESS actors
    /// start speaking after about 0.8 s).
    #[arg(long, default_value_t = 0.6)]
    lead: f64,
}

fn main() {
    run(|| {
        let args = Args::parse();
        let files = collect_inputs(&args.inputs)?;
        let gates = args
            .db
            .iter()
            .map(|&threshold_db| {
                SpeechGate::new(SpeechGateConfig {
                    threshold_db,
                    ..SpeechGateConfig::default()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let counts = files
            .par_iter()
            .map(|f| -> Result<Vec<(bool, bool)>> {
                let audio = ser_audio_io::load(&f.path)
                    .with_context(|| format!("decoding {}", f.path.display()))?;
                let rate = audio.sample_rate();
                let lead = ((args.lead * f64::from(rate)) as usize).min(audio.len());
                gates
                    .iter()
                    .map(|g| {
                        let missed = !g.is_speech(audio.samples(), rate)?;
                        let false_start = g.is_speech(&audio.samples()[..lead], rate)?;
                        Ok((missed, false_start))
                    })
                    .collect()
            })
            .collect::<Result<Vec<_>>>()?;
        println!(
            "{} files; a file is speech with at least {} s of frames above the threshold",
            files.len(),
            SpeechGateConfig::default().min_speech_secs
        );
        println!(
            "threshold (dBFS) | files without speech | opening {} s counted as speech",
            args.lead
        );
        for (i, db) in args.db.iter().enumerate() {
            let missed = counts.iter().filter(|c| c[i].0).count();
            let false_start = counts.iter().filter(|c| c[i].1).count();
            println!("{db:>16} | {missed:>20} | {false_start:>8}");
        }
        Ok(())
    });
}
