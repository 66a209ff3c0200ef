//! Predicts the emotion of audio files with a trained run, printing the seven
//! probabilities.
//!
//! ```text
//! cargo run --release --example predict -- --run RUN_DIR FILE... [--json]
//! ```
//!
//! Each file is decoded, featurized exactly as in training and classified; a file that
//! cannot be read is reported on its line and the others go on (the exit status is then
//! 1). `--json` prints one JSON object per line: `{"file", "emotion", "probabilities"}`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use ser_dsp::LogMel;
use ser_examples::run;
use ser_examples::runs::load_run;
use ser_models::features::batch_tensor;
use ser_models::parse_device;

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Predict the emotion of audio files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The run directory written by the train example.
    #[arg(long)]
    run: PathBuf,
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() {
    run(|| {
        let args = Args::parse();
        let (device, _) = parse_device(&args.device)?;
        let (cfg, model) = load_run(&args.run, &device)?;
        let logmel = LogMel::new(cfg.features)?;
        let mut failed = 0;
        for file in &args.files {
            let result = (|| -> Result<Vec<f32>> {
                let audio = ser_audio_io::load(file)?;
                let f = logmel.extract_owned(audio)?;
                let x = batch_tensor([f.view()], &model.config().input, &device)?;
                Ok(model.predict_proba(&x)?.squeeze(0)?.to_vec1::<f32>()?)
            })();
            match result {
                Ok(p) => {
                    let best = p
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .map_or(0, |(i, _)| i);
                    let name = cfg.classes.get(best).map_or("?", String::as_str);
                    if args.json {
                        let probs: serde_json::Map<String, serde_json::Value> = cfg
                            .classes
                            .iter()
                            .zip(&p)
                            .map(|(c, v)| (c.clone(), serde_json::json!(v)))
                            .collect();
                        println!(
                            "{}",
                            serde_json::json!({"file": file, "emotion": name, "probabilities": probs})
                        );
                    } else {
                        let probs: Vec<String> = cfg
                            .classes
                            .iter()
                            .zip(&p)
                            .map(|(c, v)| format!("{c} {:.2}", v))
                            .collect();
                        println!(
                            "{}: {name} ({:.0}%)  [{}]",
                            file.display(),
                            100.0 * p[best],
                            probs.join(", ")
                        );
                    }
                }
                Err(e) => {
                    failed += 1;
                    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
                    eprintln!("error: {}", chain.join(": "));
                }
            }
        }
        if failed > 0 {
            bail!("{failed} of {} files failed", args.files.len());
        }
        Ok(())
    });
}
