//! Log-mel features for one file or many, as `.npy` (and PNG) files.
//!
//! ```text
//! cargo run --release --example features -- INPUT... --out OUT [--png] [LogMel flags]
//! cargo run --release --example features -- fixtures/audio/speech_16k.wav --out speech.npy --png
//! cargo run --release --example features -- ../shared/corpus/RAVDESS --out feats/
//! ```
//!
//! One input file and an `OUT` ending in `.npy`: writes the log-mel there, float32, shape
//! `(n_mels, n_frames)`. Otherwise `OUT` is a directory with one `.npy` per audio file (same
//! relative path below a directory input), computed on all cores with a progress bar. A bad
//! file is reported and skipped; the exit status is 1 if any failed. Existing files are not
//! replaced without `--overwrite`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use ser_core::Overwrite;
use ser_dsp::{Crop, LogMel, LogMelConfig, SilencePolicy};
use ser_examples::{Input, collect_inputs, run, write_npy, write_spectrogram_png};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CropArg {
    Start,
    Center,
}

/// Research log-mel features (normalize, trim, resample, fix length, mel, dB) as .npy files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Audio files or directories (searched recursively).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: a `.npy` file for one input, else a directory.
    #[arg(long)]
    out: PathBuf,
    /// Also draw each spectrogram as a PNG beside its .npy (magma colormap).
    #[arg(long)]
    png: bool,
    /// PNG pixels per bin (1 to 16).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    png_scale: u16,
    /// Replace existing output files.
    #[arg(long)]
    overwrite: bool,
    /// Target sample rate in Hz.
    #[arg(long, default_value_t = 16_000)]
    sample_rate: u32,
    /// FFT length.
    #[arg(long, default_value_t = 2048)]
    n_fft: usize,
    /// Hop length in samples.
    #[arg(long, default_value_t = 512)]
    hop: usize,
    /// Number of mel bands.
    #[arg(long, default_value_t = 128)]
    n_mels: usize,
    /// Lowest mel frequency in Hz.
    #[arg(long, default_value_t = 0.0)]
    fmin: f32,
    /// Highest mel frequency in Hz (0: half the sample rate).
    #[arg(long, default_value_t = 8000.0)]
    fmax: f32,
    /// Dynamic range kept below the peak, in dB (0: keep all).
    #[arg(long, default_value_t = 80.0)]
    top_db: f32,
    /// Silence-trim threshold in dB (0 disables trimming).
    #[arg(long, default_value_t = 20.0)]
    trim_db: f32,
    /// Fixed duration in seconds (0 keeps the full length).
    #[arg(long, default_value_t = 3.0)]
    duration: f32,
    /// Which part of a too-long clip is kept.
    #[arg(long, value_enum, default_value_t = CropArg::Start)]
    crop: CropArg,
    /// Do not divide by the peak first.
    #[arg(long)]
    no_normalize: bool,
    /// Featurize all-zero files (a constant map) instead of reporting them.
    #[arg(long)]
    keep_silent: bool,
    /// Worker threads (default: all cores; 1 to 256).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

/// `Some(v)` for a positive setting, `None` for 0 (the flag's "off"), an error for a
/// negative or non-finite one (NaN must not pass for "off").
fn optional(name: &str, v: f32) -> Result<Option<f32>> {
    if !(v.is_finite() && v >= 0.0) {
        anyhow::bail!("--{name} must be a finite number >= 0 (0 turns it off), got {v}");
    }
    Ok((v > 0.0).then_some(v))
}

fn config(a: &Args) -> Result<LogMelConfig> {
    Ok(LogMelConfig {
        sample_rate: a.sample_rate,
        n_fft: a.n_fft,
        hop_length: a.hop,
        n_mels: a.n_mels,
        fmin: a.fmin,
        fmax: optional("fmax", a.fmax)?,
        top_db: optional("top-db", a.top_db)?,
        trim_db: optional("trim-db", a.trim_db)?,
        duration_secs: optional("duration", a.duration)?,
        crop: match a.crop {
            CropArg::Start => Crop::Start,
            CropArg::Center => Crop::Center,
        },
        normalize: !a.no_normalize,
        silence: if a.keep_silent {
            SilencePolicy::Keep
        } else {
            SilencePolicy::Reject
        },
        ..LogMelConfig::default()
    })
}

fn one(logmel: &LogMel, input: &Path, out: &Path, a: &Args) -> Result<(usize, usize)> {
    let audio = ser_audio_io::load(input)?;
    let features = logmel
        .extract_owned(audio)
        .with_context(|| input.display().to_string())?;
    write_npy(out, &features, Overwrite::replace_if(a.overwrite))?;
    if a.png {
        write_spectrogram_png(
            &out.with_extension("png"),
            &features,
            usize::from(a.png_scale),
            Overwrite::replace_if(a.overwrite),
        )?;
    }
    Ok(features.dim())
}

fn main() {
    run(|| {
        let args = Args::parse();
        let logmel = LogMel::new(config(&args)?).context("invalid feature settings")?;
        let inputs = collect_inputs(&args.inputs)?;
        if let Some(t) = args.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(usize::from(t))
                .build_global()?;
        }
        let single = inputs.len() == 1
            && args.inputs.len() == 1
            && args.inputs[0].is_file()
            && args.out.extension().is_some_and(|e| e == "npy");
        if single {
            let (rows, cols) = one(&logmel, &inputs[0].path, &args.out, &args)?;
            println!(
                "{} -> {} ({rows} x {cols}, float32)",
                inputs[0].path.display(),
                args.out.display()
            );
            return Ok(());
        }
        if args.out.extension().is_some_and(|e| e == "npy") {
            bail!(
                "{} inputs need a directory for --out, not a .npy file",
                inputs.len()
            );
        }
        let bar = ProgressBar::new(inputs.len() as u64).with_style(ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {per_sec}, eta {eta} {msg}",
        )?);
        let failed = AtomicUsize::new(0);
        let start = Instant::now();
        let errors: Vec<String> = inputs
            .par_iter()
            .filter_map(|Input { path, relative }| {
                let out = args.out.join(relative).with_extension("npy");
                let r = one(&logmel, path, &out, &args);
                bar.inc(1);
                r.err().map(|e| {
                    failed.fetch_add(1, Ordering::Relaxed);
                    let msg: Vec<String> = e.chain().map(|c| c.to_string()).collect();
                    msg.join(": ")
                })
            })
            .collect();
        bar.finish_and_clear();
        for e in &errors {
            eprintln!("skipped {e}");
        }
        let n_ok = inputs.len() - errors.len();
        println!(
            "{n_ok} of {} files -> {} in {:.2} s ({:.0} files/s)",
            inputs.len(),
            args.out.display(),
            start.elapsed().as_secs_f64(),
            n_ok as f64 / start.elapsed().as_secs_f64().max(1e-9)
        );
        if failed.load(Ordering::Relaxed) > 0 {
            bail!("{} of {} files failed", errors.len(), inputs.len());
        }
        Ok(())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> std::result::Result<Args, clap::Error> {
        let mut argv = vec!["features", "in.wav", "--out", "out.npy"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv)
    }

    /// The settings: refused by clap, by `config`, or by `LogMel::new`.
    fn refused(extra: &[&str]) -> bool {
        match parse(extra) {
            Err(_) => true,
            Ok(a) => config(&a).and_then(|c| Ok(LogMel::new(c)?)).is_err(),
        }
    }

    #[test]
    fn hostile_settings_are_refused_before_any_work() {
        for bad in [
            &["--png-scale", "10000"][..],
            &["--png-scale", "0"],
            &["--threads", "10000"],
            &["--threads", "0"],
            &["--sample-rate", "4294967295"],
            &["--duration", "86400"],
            &["--duration", "nan"],
            &["--top-db", "nan"],
            &["--fmax", "1e9"],
            &["--n-fft", "1"],
        ] {
            assert!(refused(bad), "{bad:?} was accepted");
        }
        assert!(!refused(&[]), "the defaults");
        assert!(!refused(&[
            "--png-scale",
            "16",
            "--threads",
            "256",
            "--duration",
            "0"
        ]));
    }
}
