//! The recognizer's speed: one 3 s window (featurize + forward at batch 1), and a whole file
//! through the chunked timeline (what `predict FILE` does), with peak memory.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run --release --example bench_recognizer -- --iters 200
//! cargo run --release --example bench_recognizer -- --file hour.flac [--run RUN_DIR]
//! ```
//!
//! The window is a real clip (`fixtures/audio/speech_long_16k.wav`, cut to 3 s); each
//! figure is the median over `--iters` after 10 untimed runs. The file run reports wall
//! time, the real-time factor (audio seconds per second) and the process's peak resident
//! memory (`VmHWM` of `/proc/self/status`, Linux only).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Parser;
use ser_dsp::Audio;
use ser_examples::{ModelArgs, repo_path, run};
use ser_models::timeline::TimelineConfig;

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Time the recognizer.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Timed repetitions of the one-window figures.
    #[arg(long, default_value_t = 200)]
    iters: usize,
    /// Also run this file through the chunked timeline (3 s windows every second).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Windows classified together on the file run.
    #[arg(long, default_value_t = 8)]
    batch: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    run(|| {
        let args = Args::parse();
        if args.iters == 0 {
            bail!("--iters must be at least 1");
        }
        let recognizer = args.model.recognizer("cpu")?;
        let clip = ser_audio_io::load(repo_path("fixtures/audio/speech_long_16k.wav")?)?;
        let window = Audio::new(clip.samples()[..48_000].to_vec(), 16_000)?;
        let (mut feat, mut fwd, mut both) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..args.iters + 10 {
            let t0 = Instant::now();
            let f = recognizer.featurize(&window)?;
            let t1 = Instant::now();
            let p = recognizer.classify_features(&[f.view()])?;
            let t2 = Instant::now();
            std::hint::black_box(p);
            if i >= 10 {
                feat.push((t1 - t0).as_secs_f64() * 1e3);
                fwd.push((t2 - t1).as_secs_f64() * 1e3);
                both.push((t2 - t0).as_secs_f64() * 1e3);
            }
        }
        let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
        println!(
            "one 3 s window, batch 1, threads {threads}: featurize {:.2} ms + forward {:.2} ms = {:.2} ms (median of {})",
            median(feat),
            median(fwd),
            median(both),
            args.iters
        );
        if let Some(file) = &args.file {
            let config = TimelineConfig {
                batch: args.batch,
                ..TimelineConfig::default()
            };
            let t0 = Instant::now();
            let t = recognizer.timeline_file(file, &config)?;
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{}: {:.0} s of audio, {} windows ({} with speech) in {secs:.1} s wall: {:.0}x real time, batch {}, threads {threads}; peak RSS {} MB; overall {:?}",
                file.display(),
                t.duration,
                t.segments.len(),
                t.speech_segments(),
                t.duration / secs,
                args.batch,
                peak_rss_mb().map_or("?".into(), |m| format!("{m:.0}")),
                t.overall.map(|p| p.emotion)
            );
        }
        Ok(())
    });
}
