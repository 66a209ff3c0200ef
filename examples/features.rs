//! Log-mel features for one file or many, as `.npy` (and PNG) files.
//!
//! ```text
//! cargo run --release --example features -- INPUT... --out OUT [--png] [LogMel flags]
//! cargo run --release --example features -- fixtures/audio/speech_16k.wav --out speech.npy --png
//! cargo run --release --example features -- ../shared/corpus/RAVDESS --out feats/
//! cargo run --release --example features -- clip.wav --out clip.npy --preset librosa --sample-rate 22050
//! cargo run --release --example features -- clip.wav --out mfcc.npy --mfcc 20 --deltas
//! cargo run --release --example features -- clip.flac --out clip.npy --preset librosa --pitch
//! ```
//!
//! `--preset research` (the default) is the research pipeline, `LogMelConfig::research()`;
//! `--preset librosa` is `LogMelConfig::librosa(--sample-rate)`, librosa's
//! `power_to_db(melspectrogram(y=y, sr=sr))` (no normalisation, trim or fixed length,
//! fmax = Nyquist, ref 1.0). The other feature flags, when given, override the preset's value.
//! `--mfcc N` writes N MFCCs of that log-mel instead (`librosa.feature.mfcc(S=...)`), and
//! `--deltas` appends their first and second deltas as rows (`librosa.feature.delta`).
//! `--pitch` also writes the f0 track beside each output, `<name>.f0.npy` (`clip.npy` ->
//! `clip.f0.npy`): float32, shape `(n_frames,)`, Hz, NaN where unvoiced, as
//! `librosa.pyin(y, fmin=65.41, fmax=2093.0, sr=sr)[0]` (frame_length 2048, hop 512, the
//! other parameters librosa's defaults) on the whole file at `--sample-rate` (resampled if
//! needed; never normalised, trimmed or cropped, whatever the preset).
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
use ser_dsp::ndarray::Array1;
use ser_dsp::ndarray::{self, Array2, Axis};
use ser_dsp::{
    Crop, DeltaConfig, LogMel, LogMelConfig, Mfcc, MfccConfig, PyinConfig, SilencePolicy, delta,
    pyin,
};
use ser_examples::{Input, collect_inputs, run, write_atomic, write_npy, write_spectrogram_png};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// `LogMelConfig::research()`: normalise, trim 20 dB, 3 s, fmax 8 kHz, ref = max.
    Research,
    /// `LogMelConfig::librosa(--sample-rate)`: librosa's defaults, ref = 1.0.
    Librosa,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CropArg {
    Start,
    Center,
}

/// Log-mel features (research pipeline or librosa's defaults) as .npy files.
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
    /// The settings the flags below start from.
    #[arg(long, value_enum, default_value_t = Preset::Research)]
    preset: Preset,
    /// Target sample rate in Hz.
    #[arg(long, default_value_t = 16_000)]
    sample_rate: u32,
    /// FFT length [preset's: 2048].
    #[arg(long)]
    n_fft: Option<usize>,
    /// Hop length in samples [preset's: 512].
    #[arg(long)]
    hop: Option<usize>,
    /// Number of mel bands [preset's: 128].
    #[arg(long)]
    n_mels: Option<usize>,
    /// Lowest mel frequency in Hz [preset's: 0].
    #[arg(long)]
    fmin: Option<f32>,
    /// Highest mel frequency in Hz, 0: half the sample rate [research: 8000, librosa: 0].
    #[arg(long)]
    fmax: Option<f32>,
    /// Dynamic range kept below the peak in dB, 0: keep all [preset's: 80].
    #[arg(long)]
    top_db: Option<f32>,
    /// Silence-trim threshold in dB, 0 disables trimming [research: 20, librosa: 0].
    #[arg(long)]
    trim_db: Option<f32>,
    /// Fixed duration in seconds, 0 keeps the full length [research: 3, librosa: 0].
    #[arg(long)]
    duration: Option<f32>,
    /// Which part of a too-long clip is kept [preset's: start].
    #[arg(long, value_enum)]
    crop: Option<CropArg>,
    /// Do not divide by the peak first (librosa's preset never does).
    #[arg(long)]
    no_normalize: bool,
    /// Featurize all-zero files (a constant map) instead of reporting them.
    #[arg(long)]
    keep_silent: bool,
    /// Write N MFCCs (the DCT of the log-mel, as `librosa.feature.mfcc(S=log_mel, n_mfcc=N)`)
    /// instead of the log-mel.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    mfcc: Option<u16>,
    /// Append the first and second deltas as extra rows (`librosa.feature.delta`, width 9,
    /// orders 1 and 2): 3 x the rows. Needs at least 9 frames.
    #[arg(long)]
    deltas: bool,
    /// Also write each file's f0 in Hz per frame to `<name>.f0.npy` beside its output
    /// (float32, NaN where unvoiced): `librosa.pyin(y, fmin=65.41, fmax=2093.0, sr=sr)`,
    /// frame 2048, hop 512, on the whole file at --sample-rate (never normalised, trimmed or
    /// cropped).
    #[arg(long)]
    pitch: bool,
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

/// The preset's value, or the flag's where it was given (`0` meaning "off" for the optional
/// settings).
fn config(a: &Args) -> Result<LogMelConfig> {
    let base = match a.preset {
        Preset::Research => LogMelConfig {
            sample_rate: a.sample_rate,
            ..LogMelConfig::research()
        },
        Preset::Librosa => LogMelConfig::librosa(a.sample_rate),
    };
    let or_optional = |name: &str, flag: Option<f32>, preset: Option<f32>| match flag {
        Some(v) => optional(name, v),
        None => Ok(preset),
    };
    Ok(LogMelConfig {
        n_fft: a.n_fft.unwrap_or(base.n_fft),
        hop_length: a.hop.unwrap_or(base.hop_length),
        n_mels: a.n_mels.unwrap_or(base.n_mels),
        fmin: a.fmin.unwrap_or(base.fmin),
        fmax: or_optional("fmax", a.fmax, base.fmax)?,
        top_db: or_optional("top-db", a.top_db, base.top_db)?,
        trim_db: or_optional("trim-db", a.trim_db, base.trim_db)?,
        duration_secs: or_optional("duration", a.duration, base.duration_secs)?,
        crop: match a.crop {
            None => base.crop,
            Some(CropArg::Start) => Crop::Start,
            Some(CropArg::Center) => Crop::Center,
        },
        normalize: base.normalize && !a.no_normalize,
        silence: if a.keep_silent {
            SilencePolicy::Keep
        } else {
            base.silence
        },
        ..base
    })
}

/// `--pitch`'s settings: librosa's `pyin` with fmin 65.41 Hz, fmax 2093.0 Hz, 2048-sample
/// frames every 512 samples.
fn pitch_config() -> PyinConfig {
    PyinConfig::new(65.41, 2093.0).with_frames(2048, Some(512))
}

/// Where `--pitch` writes the f0 track of the features written to `out`: `<name>.f0.npy`.
fn f0_path(out: &Path) -> PathBuf {
    out.with_extension("f0.npy")
}

/// What is written for each file: the log-mel, or its MFCCs, with deltas if asked, and the
/// f0 track with `--pitch`.
struct Features {
    logmel: LogMel,
    mfcc: Option<Mfcc>,
    deltas: bool,
    /// `--pitch`: pYIN's settings and the rate it runs at.
    pitch: Option<(PyinConfig, u32)>,
}

impl Features {
    /// The extractors of `a`'s settings.
    fn new(a: &Args) -> Result<Self> {
        let config = config(a)?;
        let logmel = LogMel::new(config).context("invalid feature settings")?;
        let mfcc = match a.mfcc {
            Some(n) => Some(
                Mfcc::new(MfccConfig {
                    n_mfcc: usize::from(n),
                    lifter: 0.0,
                    mel: config.mel(),
                    db: config.db(),
                })
                .context("--mfcc")?,
            ),
            None => None,
        };
        let pitch = if a.pitch {
            let p = pitch_config();
            p.validate(config.sample_rate).with_context(|| {
                format!(
                    "--pitch at --sample-rate {} (fmax 2093 Hz needs 4186 Hz or more)",
                    config.sample_rate
                )
            })?;
            Some((p, config.sample_rate))
        } else {
            None
        };
        Ok(Self {
            logmel,
            mfcc,
            deltas: a.deltas,
            pitch,
        })
    }

    /// `--pitch`'s f0 track of `audio` (Hz per frame, NaN where unvoiced), at the target rate.
    fn f0(&self, audio: &ser_dsp::Audio) -> Result<Option<Array1<f32>>> {
        let Some((config, sr)) = &self.pitch else {
            return Ok(None);
        };
        let resampled;
        let y = if audio.sample_rate() == *sr {
            audio.samples()
        } else {
            resampled = ser_dsp::resample_cached(audio.samples(), audio.sample_rate(), *sr)?;
            &resampled[..]
        };
        Ok(Some(pyin(y, *sr, config).context("--pitch")?.f0))
    }

    /// The features of `audio`, and its f0 track with `--pitch`.
    fn extract(&self, audio: ser_dsp::Audio) -> Result<(Array2<f32>, Option<Array1<f32>>)> {
        let f0 = self.f0(&audio)?;
        let mut x = self.logmel.extract_owned(audio)?;
        if let Some(mfcc) = &self.mfcc {
            x = mfcc.from_db(x.view())?;
        }
        if self.deltas {
            let d1 = delta(x.view(), &DeltaConfig::new(1)).context("--deltas")?;
            let d2 = delta(x.view(), &DeltaConfig::new(2)).context("--deltas")?;
            x = ndarray::concatenate(Axis(0), &[x.view(), d1.view(), d2.view()])?;
        }
        Ok((x, f0))
    }
}

fn one(features: &Features, input: &Path, out: &Path, a: &Args) -> Result<(usize, usize)> {
    let audio = ser_audio_io::load(input)?;
    let (features, f0) = features
        .extract(audio)
        .with_context(|| input.display().to_string())?;
    write_npy(out, &features, Overwrite::replace_if(a.overwrite))?;
    if let Some(f0) = f0 {
        use ndarray_npy::WriteNpyExt;
        write_atomic(&f0_path(out), Overwrite::replace_if(a.overwrite), |w| {
            Ok(f0.write_npy(w)?)
        })?;
    }
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
        let features = Features::new(&args)?;
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
            let (rows, cols) = one(&features, &inputs[0].path, &args.out, &args)?;
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
                let r = one(&features, path, &out, &args);
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
        assert!(refused(&["--preset", "librosa", "--sample-rate", "192000"]));
        assert!(refused(&["--preset", "other"]));
        assert!(!refused(&[
            "--png-scale",
            "16",
            "--threads",
            "256",
            "--duration",
            "0"
        ]));
    }

    #[test]
    fn presets_and_overrides() {
        // Research stays the default, with the flags' old defaults.
        let research = config(&parse(&[]).unwrap()).unwrap();
        assert_eq!(research, LogMelConfig::research());
        let explicit = config(&parse(&["--preset", "research"]).unwrap()).unwrap();
        assert_eq!(explicit, research);
        let old_flags = [
            "--n-fft",
            "2048",
            "--hop",
            "512",
            "--n-mels",
            "128",
            "--fmin",
            "0",
            "--fmax",
            "8000",
            "--top-db",
            "80",
            "--trim-db",
            "20",
            "--duration",
            "3",
            "--crop",
            "start",
        ];
        assert_eq!(config(&parse(&old_flags).unwrap()).unwrap(), research);
        let a = parse(&[
            "--fmax",
            "0",
            "--trim-db",
            "0",
            "--no-normalize",
            "--keep-silent",
        ]);
        let c = config(&a.unwrap()).unwrap();
        assert_eq!((c.fmax, c.trim_db, c.normalize), (None, None, false));
        assert_eq!(c.silence, SilencePolicy::Keep);
        assert_eq!(c.reference, ser_dsp::Ref::Max);
        // librosa's defaults at the given rate; flags override them.
        let a = parse(&["--preset", "librosa", "--sample-rate", "22050"]).unwrap();
        assert_eq!(a.preset, Preset::Librosa);
        assert_eq!(config(&a).unwrap(), LogMelConfig::librosa(22_050));
        let a = parse(&["--preset", "librosa", "--n-mels", "64", "--duration", "2"]).unwrap();
        let c = config(&a).unwrap();
        assert_eq!((c.n_mels, c.duration_secs), (64, Some(2.0)));
        assert_eq!(
            LogMelConfig {
                n_mels: 128,
                duration_secs: None,
                ..c
            },
            LogMelConfig::librosa(16_000)
        );
    }

    #[test]
    fn mfccs_and_deltas_stack_as_rows() {
        let a = parse(&["--mfcc", "20", "--deltas"]).unwrap();
        let f = Features::new(&a).unwrap();
        let sr = 16_000;
        let y: Vec<f32> = (0..2 * sr)
            .map(|i| 0.5 * (i as f32 * 0.07).sin() * (1.0 + (i as f32 * 0.0003).sin()))
            .collect();
        let audio = ser_dsp::Audio::new(y, 16_000).unwrap();
        let (x, f0) = f.extract(audio.clone()).unwrap();
        assert!(f0.is_none());
        assert_eq!(
            x.dim(),
            (60, 94),
            "20 MFCCs, their deltas and delta-deltas, 3 s"
        );
        // The first 20 rows are the MFCCs of the log-mel; the next 20 their delta.
        let db = f.logmel.extract(&audio).unwrap();
        let m = f.mfcc.as_ref().unwrap().from_db(db.view()).unwrap();
        assert_eq!(x.slice(ndarray::s![..20, ..]), m);
        let d1 = delta(m.view(), &DeltaConfig::new(1)).unwrap();
        assert_eq!(x.slice(ndarray::s![20..40, ..]), d1);
        assert!(parse(&["--mfcc", "0"]).is_err());
        assert!(!parse(&[]).unwrap().pitch);
        assert!(
            Features::new(&parse(&["--mfcc", "129"]).unwrap()).is_err(),
            "more than n_mels"
        );
    }

    #[test]
    fn pitch_is_librosas_pyin_on_the_file_at_the_target_rate() {
        // fixtures/audio/speech_22k.wav at --sample-rate 16000: the f0 track is pyin's on
        // the resampled file, whatever the preset does to the log-mel.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let clip = root.join("fixtures/audio/speech_22k.wav");
        let dir = std::env::temp_dir().join(format!("ser-features-pitch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("speech.npy");
        let argv = [
            "features",
            clip.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--preset",
            "librosa",
            "--sample-rate",
            "16000",
            "--pitch",
            "--overwrite",
        ];
        let a = Args::try_parse_from(argv).unwrap();
        let f = Features::new(&a).unwrap();
        one(&f, &clip, &out, &a).unwrap();
        let written: Array1<f32> = ndarray_npy::read_npy(dir.join("speech.f0.npy")).unwrap();

        let audio = ser_audio_io::load(&clip).unwrap();
        assert_eq!(audio.sample_rate(), 22_050);
        let y = ser_dsp::resample(audio.samples(), 22_050, 16_000).unwrap();
        let want = pyin(&y, 16_000, &PyinConfig::new(65.41, 2093.0))
            .unwrap()
            .f0;
        assert_eq!(written.len(), 1 + y.len() / 512);
        assert_eq!(written.len(), want.len());
        for (w, g) in written.iter().zip(&want) {
            assert!(w == g || (w.is_nan() && g.is_nan()), "{w} vs {g}");
        }
        let voiced = written.iter().filter(|v| !v.is_nan()).count();
        assert!(
            voiced > written.len() / 2,
            "speech: {voiced} of {}",
            written.len()
        );
        assert!(
            written
                .iter()
                .filter(|v| !v.is_nan())
                .all(|v| (65.0..2100.0).contains(v))
        );
        // The log-mel beside it is unchanged by --pitch.
        let x: Array2<f32> = ndarray_npy::read_npy(&out).unwrap();
        let (plain, _) = Features::new(&parse(&["--preset", "librosa"]).unwrap())
            .unwrap()
            .extract(ser_audio_io::load(&clip).unwrap())
            .unwrap();
        assert_eq!(x, plain);
        std::fs::remove_dir_all(&dir).unwrap();

        // Below 4186 Hz, fmax 2093 Hz is above Nyquist: refused before any work.
        assert!(Features::new(&parse(&["--pitch", "--sample-rate", "4000"]).unwrap()).is_err());
        assert_eq!(f0_path(Path::new("a/b.npy")), Path::new("a/b.f0.npy"));
    }
}
