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
//! `evaluate` finds the test split. An ensemble run (`train --members N`, the default)
//! exports as one: each member to `OUT/member-K`, as `crates/ser-models/shipped/` holds the
//! shipped model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, ValueEnum};
use ser_core::Overwrite;
use ser_examples::{run, write_atomic};
use ser_models::candle_core::{DType, Device, Tensor};
use ser_models::run::{CONFIG_FILE, WEIGHTS_FILE, member_dir, run_members};

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
    /// The run directory written by the train example (a run or an ensemble run).
    #[arg(long)]
    run: PathBuf,
    /// The folder to write `config.json` and `model.safetensors` into (an ensemble's
    /// members: into `member-K` below it).
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
        let members = run_members(&args.run)?;
        // A run goes to --out itself, an ensemble run's members to --out/member-K.
        let targets: Vec<(PathBuf, PathBuf)> = if members == [args.run.clone()] {
            vec![(args.run.clone(), args.out.clone())]
        } else {
            (1..=members.len())
                .map(|k| (member_dir(&args.run, k), member_dir(&args.out, k)))
                .collect()
        };
        let mut names: Vec<PathBuf> = targets
            .iter()
            .flat_map(|(_, out)| [out.join(CONFIG_FILE), out.join(WEIGHTS_FILE)])
            .collect();
        if args.copy_split {
            names.push(args.out.join("split.csv"));
        }
        if let Some(p) = names.iter().find(|p| p.exists() && !args.overwrite) {
            bail!("{} exists (pass --overwrite to replace it)", p.display());
        }
        // Every member is loaded and checked before anything is written.
        let loaded = targets
            .iter()
            .map(|(run, _)| Ok(ser_models::load_run(run, &Device::Cpu)?))
            .collect::<Result<Vec<_>>>()?;
        let dtype = match args.dtype {
            Precision::F32 => DType::F32,
            Precision::F16 => DType::F16,
        };
        for ((run, out), (cfg, model)) in targets.iter().zip(&loaded) {
            let tensors: BTreeMap<String, Tensor> = model
                .store()
                .tensors()
                .into_iter()
                .map(|(k, v)| Ok((k, v.to_dtype(dtype)?)))
                .collect::<Result<_>>()?;
            std::fs::create_dir_all(out)?;
            ser_models::io::save_safetensors(&out.join(WEIGHTS_FILE), &tensors, None)?;
            let json = serde_json::to_string_pretty(cfg)?;
            write_atomic(&out.join(CONFIG_FILE), Overwrite::Replace, |w| {
                use std::io::Write;
                Ok(writeln!(w, "{json}")?)
            })?;
            let size = std::fs::metadata(out.join(WEIGHTS_FILE))?.len();
            eprintln!(
                "exported {} ({} parameters) as {:?}: {:.2} MB of weights in {}",
                run.join(WEIGHTS_FILE).display(),
                model.n_params(),
                args.dtype,
                size as f64 / 1e6,
                out.display()
            );
        }
        if args.copy_split {
            let bytes = std::fs::read(args.run.join("split.csv"))?;
            write_atomic(&args.out.join("split.csv"), Overwrite::Replace, |w| {
                use std::io::Write;
                Ok(w.write_all(&bytes)?)
            })?;
        }
        Ok(())
    });
}
