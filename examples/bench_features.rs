//! Single-threaded per-file timings of the research pipeline on real files, and batch
//! throughput on all cores, printed as one JSON object for `scripts/bench_reference.py`.
//!
//! ```text
//! cargo run --release --example bench_features -- --json FILES...
//! cargo run --release --example bench_features -- ../shared/corpus/RAVDESS/Actor_01
//! ```
//!
//! Each file is run once as warm-up, then `--repeats` times; a stage's figure is the mean over
//! files of the per-file median, in milliseconds. `pipeline` is the end-to-end time (decode to
//! log-mel) measured without instrumentation; the stages come from a separate instrumented
//! run of the same steps. `logmel` is mel spectrogram + dB on the 3 s, 16 kHz clip.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use rayon::prelude::*;
use ser_dsp::{
    DbConfig, LogMel, LogMelConfig, MelSpectrogram, Precision, Resampler, Stft, StftConfig,
    TrimConfig, pad_or_truncate, peak_normalize, power_to_db, trim,
};
use ser_examples::{collect_inputs, run};

/// Times the log-mel pipeline per stage, single-threaded, and the batch throughput.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Audio files or directories.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Timed repeats per file (after one warm-up).
    #[arg(long, default_value_t = 7)]
    repeats: usize,
    /// Print only the JSON object.
    #[arg(long)]
    json: bool,
}

const STAGES: [&str; 10] = [
    "decode",
    "normalize",
    "trim",
    "resample",
    "pad",
    "stft",
    "mel",
    "db",
    "logmel",
    "pipeline",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

struct Tools {
    logmel: LogMel,
    stft: Stft,
    mel: MelSpectrogram,
}

/// One instrumented run: the time of each stage in ms (pipeline excluded).
fn stages(path: &PathBuf, t: &Tools) -> Result<[f64; 9]> {
    let cfg = t.logmel.config();
    let s = Instant::now();
    let audio = ser_audio_io::load(path)?;
    let decode = ms(s);
    let sr = audio.sample_rate();
    let mut y = audio.into_samples();
    let s = Instant::now();
    peak_normalize(&mut y)?;
    let normalize = ms(s);
    let s = Instant::now();
    let kept = trim(&y, &TrimConfig::with_top_db(20.0))?;
    let trim_ms = ms(s);
    let y = &y[kept];
    let s = Instant::now();
    let y16 = if sr == cfg.sample_rate {
        None
    } else {
        Some(Resampler::new(sr, cfg.sample_rate)?.process(y)?)
    };
    let resample = if y16.is_some() { ms(s) } else { 0.0 };
    let y16 = y16.as_deref().unwrap_or(y);
    let s = Instant::now();
    let y3 = pad_or_truncate(y16, cfg.n_samples().unwrap_or(y16.len()), cfg.crop);
    let pad = ms(s);
    let s = Instant::now();
    let power = t.stft.power(&y3)?;
    let stft = ms(s);
    let s = Instant::now();
    let mel = t.mel.filterbank().apply(power.view())?;
    let mel_ms = ms(s);
    let s = Instant::now();
    let _db = power_to_db(mel.view(), &cfg.db())?;
    let db = ms(s);
    let s = Instant::now();
    let mut m = t.mel.compute(&y3)?;
    ser_dsp::db::power_to_db_array_in_place(&mut m, &DbConfig::research())?;
    let logmel = ms(s);
    Ok([
        decode, normalize, trim_ms, resample, pad, stft, mel_ms, db, logmel,
    ])
}

fn pipeline(path: &PathBuf, logmel: &LogMel) -> Result<ndarray::Array2<f32>> {
    let audio = ser_audio_io::load(path)?;
    Ok(logmel.extract_owned(audio)?)
}

use ser_dsp::ndarray;

fn main() {
    run(|| {
        let args = Args::parse();
        let files: Vec<PathBuf> = collect_inputs(&args.inputs)?
            .into_iter()
            .map(|i| i.path)
            .collect();
        if files.is_empty() {
            bail!("no input files");
        }
        let logmel = LogMel::new(LogMelConfig::default())?;
        let tools = Tools {
            stft: Stft::new(
                StftConfig::default()
                    .with_precision(Precision::F32)
                    .with_hop_length(512),
            )?,
            mel: MelSpectrogram::new(logmel.config().mel())?,
            logmel,
        };
        let repeats = args.repeats.max(1);
        let mut per_stage: Vec<Vec<f64>> = vec![Vec::new(); STAGES.len()];
        for (i, f) in files.iter().enumerate() {
            pipeline(f, &tools.logmel).with_context(|| f.display().to_string())?;
            let mut runs = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                let s = Instant::now();
                std::hint::black_box(pipeline(f, &tools.logmel)?);
                runs.push(ms(s));
            }
            per_stage[9].push(median(runs));
            let st: Vec<[f64; 9]> = (0..repeats)
                .map(|_| stages(f, &tools))
                .collect::<Result<_>>()?;
            for (k, col) in per_stage.iter_mut().take(9).enumerate() {
                col.push(median(st.iter().map(|r| r[k]).collect()));
            }
            if !args.json && (i + 1) % 25 == 0 {
                eprintln!("{}/{} files", i + 1, files.len());
            }
        }
        let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        let per_file: serde_json::Map<String, serde_json::Value> = STAGES
            .iter()
            .zip(&per_stage)
            .map(|(k, v)| ((*k).to_string(), serde_json::json!(mean(v))))
            .collect();

        // Batch: every file once, on all cores, best of three passes.
        let threads = rayon::current_num_threads();
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let s = Instant::now();
            let n_ok = files
                .par_iter()
                .filter(|f| pipeline(f, &tools.logmel).is_ok())
                .count();
            if n_ok != files.len() {
                bail!("{} files failed in the batch pass", files.len() - n_ok);
            }
            best = best.min(s.elapsed().as_secs_f64());
        }
        let out = serde_json::json!({
            "files": files.len(),
            "repeats": repeats,
            "threads": 1,
            "per_file_ms": per_file,
            "batch": {"threads": threads, "files_per_s": files.len() as f64 / best},
        });
        if args.json {
            println!("{out}");
        } else {
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Ok(())
    })
}
