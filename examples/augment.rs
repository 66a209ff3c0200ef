//! Augments one audio file with `ser-augment` and writes the results as 16-bit WAV files.
//!
//! ```text
//! cargo run --release --example augment -- IN --out-dir DIR [--seed N] [--stretch RATE]
//!     [--pitch STEPS] [--noise AMP] [--snr DB] [--random N] [--overwrite]
//! cargo run --release --example augment -- fixtures/audio/speech_16k.wav --out-dir aug \
//!     --stretch 1.1 --pitch -2 --noise 0.005
//! cargo run --release --example augment -- fixtures/audio/speech_16k.wav --out-dir aug --random 5
//! ```
//!
//! Without IN, augments `fixtures/audio/speech_16k.wav`. With fixed flags, applies them in the order stretch, pitch, noise, SNR, and writes one
//! file named after the input and the settings. With `--random N`, makes N draws from the
//! research pipeline (`research_waveform`: each of stretch 0.8-1.2, pitch -2..2 semitones
//! and noise 0.005 with probability 0.5), seeds `seed, seed+1, ...`, one file each. Every
//! output is printed with what was applied. Existing files are not replaced without
//! `--overwrite`; samples outside [-1, 1] are clipped by the 16-bit format.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;
use ser_audio_io::{Audio, Overwrite, SaveOptions, WavFormat};
use ser_augment::{
    Compose, GaussianNoise, NoiseSnr, PitchShift, TimeStretch, Transform, augment_seeded,
    research_waveform,
};

/// Augments an audio file (time stretch, pitch shift, noise) into 16-bit WAV files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The audio file to augment.
    #[arg(default_value = "fixtures/audio/speech_16k.wav")]
    input: PathBuf,
    /// Directory for the outputs (created if missing).
    #[arg(long)]
    out_dir: PathBuf,
    /// The seed (for `--random N`, the first of N consecutive seeds).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Time-stretch rate (> 1 is faster and shorter).
    #[arg(long, allow_negative_numbers = true)]
    stretch: Option<f32>,
    /// Pitch shift in semitones (fractional allowed, negative is lower).
    #[arg(long, allow_negative_numbers = true)]
    pitch: Option<f32>,
    /// Gaussian noise amplitude (standard deviation), e.g. 0.005.
    #[arg(long, allow_negative_numbers = true)]
    noise: Option<f64>,
    /// Gaussian noise at this signal-to-noise ratio in dB.
    #[arg(long, allow_negative_numbers = true)]
    snr: Option<f64>,
    /// Make N random draws from the research pipeline instead of the fixed flags.
    #[arg(long, conflicts_with_all = ["stretch", "pitch", "noise", "snr"])]
    random: Option<u64>,
    /// Replace existing output files.
    #[arg(long)]
    overwrite: bool,
}

/// The fixed pipeline from the flags and a file-name suffix describing it.
fn fixed_pipeline(a: &Args) -> Result<(Compose<Audio>, String)> {
    let mut c = Compose::new();
    let mut name = String::new();
    if let Some(rate) = a.stretch {
        c = c.then(TimeStretch::fixed(rate).context("--stretch")?);
        name.push_str(&format!("_stretch{rate}"));
    }
    if let Some(steps) = a.pitch {
        c = c.then(PitchShift::fixed(steps).context("--pitch")?);
        name.push_str(&format!("_pitch{steps}"));
    }
    if let Some(amp) = a.noise {
        c = c.then(GaussianNoise::new(amp).context("--noise")?);
        name.push_str(&format!("_noise{amp}"));
    }
    if let Some(db) = a.snr {
        c = c.then(NoiseSnr::new(db).context("--snr")?);
        name.push_str(&format!("_snr{db}dB"));
    }
    if c.is_empty() {
        bail!("nothing to do: give --stretch, --pitch, --noise, --snr or --random N");
    }
    Ok((c, name))
}

fn write(path: &Path, audio: &Audio, overwrite: bool) -> Result<()> {
    let options =
        SaveOptions::new(WavFormat::Pcm16).with_overwrite(Overwrite::replace_if(overwrite));
    ser_audio_io::save_wav_with(path, audio, &options)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn main() {
    ser_examples::run(|| {
        let args = Args::parse();
        let stem = args
            .input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audio".to_string());
        // Every job: the pipeline, the seed and the output path.
        let research = research_waveform();
        let fixed;
        let jobs: Vec<(&dyn Transform<Audio>, u64, PathBuf)> = match args.random {
            Some(0) => bail!("--random needs at least 1 draw"),
            Some(n) => (0..n)
                .map(|i| {
                    let seed = args.seed.wrapping_add(i);
                    let path = args.out_dir.join(format!("{stem}_random_seed{seed}.wav"));
                    (&research as &dyn Transform<Audio>, seed, path)
                })
                .collect(),
            None => {
                let (pipeline, suffix) = fixed_pipeline(&args)?;
                fixed = pipeline;
                let path = args
                    .out_dir
                    .join(format!("{stem}{suffix}_seed{}.wav", args.seed));
                vec![(&fixed as &dyn Transform<Audio>, args.seed, path)]
            }
        };
        if !args.overwrite {
            if let Some((_, _, p)) = jobs.iter().find(|(_, _, p)| p.exists()) {
                bail!("{} exists (pass --overwrite to replace it)", p.display());
            }
        }
        let audio = ser_audio_io::load(&args.input)
            .with_context(|| format!("cannot load {}", args.input.display()))?;
        std::fs::create_dir_all(&args.out_dir)
            .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
        for (pipeline, seed, path) in &jobs {
            let (out, record) = augment_seeded(*pipeline, &audio, *seed)
                .with_context(|| format!("cannot augment {}", args.input.display()))?;
            write(path, &out, args.overwrite)?;
            println!("{}: seed {seed}: {record}", path.display());
        }
        Ok(())
    });
}
