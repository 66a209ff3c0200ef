//! Exports a trained run as a model to ship: its `config.json` and its weights, optionally
//! as `f16` (half the size), into a folder such as `crates/ser-models/shipped/`.
//!
//! ```text
//! cargo run --release --example export_model -- --run runs/shipped --out crates/ser-models/shipped --dtype f16 [--overwrite]
//! ```
//!
//! The run is loaded and checked first (configuration and weight shapes), then each file is
//! written atomically; existing files are kept unless `--overwrite`. The exported folder
//! is itself a run directory (`predict --run`, `evaluate --run` read it), without the
//! training history; with `--copy-split` the run's `split.csv` comes along, so that
//! `evaluate` finds the test split.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, ValueEnum};
use ser_core::Overwrite;
use ser_examples::{run, write_atomic};
use ser_models::candle_core::{DType, Device, Tensor};
use ser_models::run::{CONFIG_FILE, RunConfig, WEIGHTS_FILE};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Precision {
    /// 32-bit floats, as trained.
    F32,
    /// 16-bit IEEE floats: half the size; `evaluate` tells what it costs.
    F16,
}

/// Export a trained run for shipping.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The run directory written by the train example.
    #[arg(long)]
    run: PathBuf,
    /// The folder to write `config.json` and `model.safetensors` into.
    #[arg(long)]
    out: PathBuf,
    /// Weight precision.
    #[arg(long, value_enum, default_value_t = Precision::F16)]
    dtype: Precision,
    /// Copy the run's split.csv too (for `evaluate --run OUT` on the test split).
    #[arg(long)]
    copy_split: bool,
    /// Replace existing files in --out.
    #[arg(long)]
    overwrite: bool,
}

fn main() {
    run(|| {
        let args = Args::parse();
        let cfg = RunConfig::load(&args.run)?;
        let weights = args.run.join(WEIGHTS_FILE);
        let (_, model) = ser_models::load_run(&args.run, &Device::Cpu)?;
        for name in [CONFIG_FILE, WEIGHTS_FILE, "split.csv"] {
            let path = args.out.join(name);
            if path.exists() && !args.overwrite {
                bail!("{} exists (pass --overwrite to replace it)", path.display());
            }
        }
        let dtype = match args.dtype {
            Precision::F32 => DType::F32,
            Precision::F16 => DType::F16,
        };
        let tensors: BTreeMap<String, Tensor> = model
            .store()
            .tensors()
            .into_iter()
            .map(|(k, v)| Ok((k, v.to_dtype(dtype)?)))
            .collect::<Result<_>>()?;
        std::fs::create_dir_all(&args.out)?;
        ser_models::io::save_safetensors(&args.out.join(WEIGHTS_FILE), &tensors, None)?;
        let json = serde_json::to_string_pretty(&cfg)?;
        write_atomic(&args.out.join(CONFIG_FILE), Overwrite::Replace, |w| {
            use std::io::Write;
            Ok(writeln!(w, "{json}")?)
        })?;
        let split = args.run.join("split.csv");
        if args.copy_split {
            let bytes = std::fs::read(&split)?;
            write_atomic(&args.out.join("split.csv"), Overwrite::Replace, |w| {
                use std::io::Write;
                Ok(w.write_all(&bytes)?)
            })?;
        }
        let size = std::fs::metadata(args.out.join(WEIGHTS_FILE))?.len();
        eprintln!(
            "exported {} ({} parameters) as {:?}: {:.2} MB of weights in {}",
            weights.display(),
            model.n_params(),
            args.dtype,
            size as f64 / 1e6,
            args.out.display()
        );
        Ok(())
    });
}
