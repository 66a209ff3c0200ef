//! ser-dsp beside other Rust mel-spectrogram crates: how far each is from librosa 0.11's
//! log-mel on the same real clips, and how long each takes per 3 s clip.
//!
//! The target is `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=16000))`:
//! n_fft 2048, hop 512, periodic Hann, frames centred with zero padding, 128 Slaney mel
//! bands (Slaney-normalised) to 8 kHz, power 2, dB with ref 1.0, amin 1e-10, top_db 80.
//! `make_reference.py` writes the clips and librosa's output to `data/`; run it first.
//!
//! Each crate is configured as close to that as its API allows; what it cannot do is done
//! here, the same way for every crate, and listed in `docs/comparison.md`:
//! * `center`: crates without librosa's centring get the clip zero-padded by n_fft / 2 on
//!   both sides (librosa 0.11's `pad_mode="constant"`), and the first 94 frames are kept;
//! * dB: crates without `power_to_db` get [`to_db`] (f64, ref 1, amin 1e-10, top_db 80)
//!   applied to their mel power.
//!
//! Timing: one thread, each crate's planned objects built once outside the clock where its
//! API allows (noted per crate), 3 warm-up passes over the clips, then the median over
//! `--runs` passes (default 50) of the time per clip: this thread's CPU time (what the work
//! costs, steady on a busy machine) and the wall-clock time.
//!
//! ```text
//! cargo run --release -- [--runs 50] [--data data]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use ndarray_npy::read_npy;
use ser_dsp::ndarray::{Array2, Array3, ArrayView1, Axis};

const SR: u32 = 16_000;
const N_FFT: usize = 2048;
const HOP: usize = 512;
const N_MELS: usize = 128;

/// librosa's `power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0)`, in f64.
fn to_db(power: &Array2<f64>) -> Array2<f32> {
    let db = power.mapv(|p| 10.0 * p.max(1e-10).log10());
    let top = db.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    db.mapv(|v| v.max(top - 80.0) as f32)
}

/// The clip zero-padded by n_fft / 2 on both sides, as librosa's `center=True`.
fn centre(y: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; y.len() + N_FFT];
    out[N_FFT / 2..N_FFT / 2 + y.len()].copy_from_slice(y);
    out
}

/// librosa's frame count for a centred STFT.
fn n_frames(n_samples: usize) -> usize {
    1 + n_samples / HOP
}

/// A crate's pipeline from a clip to a `(128, 94)` dB map.
type Pipeline = Box<dyn FnMut(&[f32]) -> Result<Array2<f32>>>;

/// One contender: a name, its version, and a function from a clip to a `(128, 94)` dB map.
struct Contender {
    name: &'static str,
    version: &'static str,
    notes: &'static str,
    run: Pipeline,
}

fn ser_dsp() -> Result<Contender> {
    let logmel = ser_dsp::LogMel::new(ser_dsp::LogMelConfig::librosa(SR))?;
    Ok(Contender {
        name: "ser-dsp (LogMel, LogMelConfig::librosa)",
        version: "0.1.0 (this repository)",
        notes: "all of it in the crate, f32; planned once",
        run: Box::new(move |y| Ok(logmel.extract_samples(y, SR)?)),
    })
}

fn mel_spec_streaming() -> Result<Contender> {
    use mel_spec::mel::SparseMelFilterbank;
    use mel_spec::stft::Spectrogram;
    // librosa's filterbank (Slaney scale and norm, fmin 0, fmax Nyquist), built once.
    let filters =
        SparseMelFilterbank::from_mel(f64::from(SR), N_FFT, N_MELS, None, None, false, true);
    let mut power = vec![0.0f64; N_FFT / 2 + 1];
    let mut mel = vec![0.0f64; N_MELS];
    Ok(Contender {
        name: "mel_spec, streaming (Spectrogram::add + SparseMelFilterbank)",
        version: "0.5.0",
        notes: "f64 STFT pushed hop by hop; centring, |X|^2 and dB here (MelSpectrogram::add \
                gives Whisper's normalised log10, not dB); a Spectrogram per clip (it has no reset)",
        run: Box::new(move |y| {
            let padded = centre(y);
            let frames = n_frames(y.len());
            let mut stft = Spectrogram::new(N_FFT, HOP);
            let mut out = Array2::<f64>::zeros((N_MELS, frames));
            let mut t = 0;
            for chunk in padded.chunks(HOP) {
                if t == frames {
                    break;
                }
                if let Some(fft) = stft.add(chunk) {
                    for (p, c) in power.iter_mut().zip(fft.iter()) {
                        *p = c.norm_sqr();
                    }
                    filters.project_power_f64(&power, &mut mel);
                    out.column_mut(t).assign(&ArrayView1::from(&mel));
                    t += 1;
                }
            }
            ensure!(
                t == frames,
                "mel_spec streaming gave {t} frames, expected {frames}"
            );
            Ok(to_db(&out))
        }),
    })
}

fn mel_spec_batch() -> Result<Contender> {
    use mel_spec::mel::{BatchLogMelConfig, BatchLogMelSpectrogram};
    let config = BatchLogMelConfig {
        sample_rate: SR as usize,
        n_fft: N_FFT,
        win_length: N_FFT,
        hop_length: HOP,
        n_mels: N_MELS,
        f_min: 0.0,
        f_max: None,
        htk: false,
        norm: true,
        preemphasis: 0.0,
        center: true,
        log_zero_guard: 1e-10,
        pad_to: 0,
        normalize_per_feature: false,
    };
    let batch = BatchLogMelSpectrogram::new(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut scratch = batch.scratch();
    Ok(Contender {
        name: "mel_spec, batch (BatchLogMelSpectrogram)",
        version: "0.5.0",
        notes: "ln(E + 1e-10) turned into dB and clipped at top_db here; symmetric Hann \
                window (not librosa's periodic one); planned once",
        run: Box::new(move |y| {
            let out = batch
                .compute_with_scratch(y, &mut scratch)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // mel_spec's ndarray is 0.16, ser-dsp's 0.17: copy across in logical order.
            let ln: Vec<f64> = out.iter().map(|&v| f64::from(v)).collect();
            let db =
                Array2::from_shape_vec(out.dim(), ln)?.mapv(|v| v * 10.0 / std::f64::consts::LN_10);
            let top = db.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            Ok(db.mapv(|v| v.max(top - 80.0) as f32))
        }),
    })
}

fn spectrs() -> Result<Contender> {
    use spectrs::spectrogram::mel::{MelScale, convert_to_mel};
    use spectrs::spectrogram::stft::{SpectrogramType, compute_spectrogram};
    Ok(Contender {
        name: "spectrs (compute_spectrogram + convert_to_mel)",
        version: "0.2.1",
        notes: "f32; centring and dB here; symmetric Hann window; builds its FFT plan and \
                filterbank on every call (its API)",
        run: Box::new(move |y| {
            let padded = centre(y);
            let frames = n_frames(y.len());
            let spec =
                compute_spectrogram(&padded, N_FFT, HOP, N_FFT, false, SpectrogramType::Power);
            let mel = convert_to_mel(&spec, SR, N_FFT, N_MELS, None, None, MelScale::Slaney);
            ensure!(
                mel.len() == N_MELS && mel[0].len() >= frames,
                "spectrs shape"
            );
            let out = Array2::from_shape_fn((N_MELS, frames), |(m, t)| f64::from(mel[m][t]));
            Ok(to_db(&out))
        }),
    })
}

fn rosa() -> Result<Contender> {
    use rosa::stft::{MelSpectrogramParams, mel_spectrogram};
    Ok(Contender {
        name: "rosa (mel_spectrogram + power_to_db)",
        version: "0.1.0",
        notes: "all of it in the crate, f64 (input converted from f32 here); builds its FFT \
                plan and filterbank on every call (its API)",
        run: Box::new(move |y| {
            let y64: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
            let params = MelSpectrogramParams::new(f64::from(SR));
            let mel = mel_spectrogram(&y64, &params);
            let db = rosa::power_to_db(mel.as_slice(), 1.0, 1e-10, Some(80.0));
            let (rows, cols) = mel.shape();
            ensure!(
                rows == N_MELS && cols == n_frames(y.len()),
                "rosa shape {rows}x{cols}"
            );
            Ok(Array2::from_shape_vec((rows, cols), db)?.mapv(|v| v as f32))
        }),
    })
}

fn aus() -> Result<Contender> {
    use aus::analysis::mel::MelFilterbank;
    let freqs = aus::spectrum::rfftfreq(N_FFT, SR);
    let bank = MelFilterbank::new(0.0, f64::from(SR) / 2.0, N_MELS, &freqs, true);
    Ok(Contender {
        name: "aus (rstft + MelFilterbank)",
        version: "0.1.8",
        notes: "f64 (input converted here); centring, |X|^2 and dB here; its filterbank \
                (built once) places its triangles differently from librosa's",
        run: Box::new(move |y| {
            let padded: Vec<f64> = centre(y).iter().map(|&v| f64::from(v)).collect();
            let frames = n_frames(y.len());
            let spec = aus::spectrum::rstft(&padded, N_FFT, HOP, aus::WindowType::Hanning);
            ensure!(spec.len() >= frames, "aus gave {} frames", spec.len());
            let mut out = Array2::<f64>::zeros((N_MELS, frames));
            for (t, frame) in spec.iter().take(frames).enumerate() {
                let power: Vec<f64> = frame
                    .iter()
                    .take(N_FFT / 2 + 1)
                    .map(|c| c.norm_sqr())
                    .collect();
                let mel = bank.filter(&power);
                out.column_mut(t).assign(&ArrayView1::from(&mel));
            }
            Ok(to_db(&out))
        }),
    })
}

/// This thread's CPU time in seconds (`CLOCK_THREAD_CPUTIME_ID`): unlike the wall clock, it
/// does not count time spent waiting for a core that other processes hold.
fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() -> Result<()> {
    let mut runs = 50usize;
    let mut data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--data" => data = PathBuf::from(args.next().context("--data DIR")?),
            other => bail!("unknown argument {other}; usage: [--runs N] [--data DIR]"),
        }
    }
    ensure!(runs > 0, "--runs must be positive");
    let clips: Array2<f32> = read_npy(data.join("clips.npy"))
        .with_context(|| format!("{}: run make_reference.py first", data.display()))?;
    let reference: Array3<f32> = read_npy(data.join("librosa.npy"))?;
    let n_clips = clips.nrows();
    ensure!(
        reference.dim() == (n_clips, N_MELS, n_frames(clips.ncols())),
        "reference shape"
    );
    let clips: Vec<Vec<f32>> = clips.axis_iter(Axis(0)).map(|r| r.to_vec()).collect();
    println!(
        "{n_clips} clips of {} samples at {SR} Hz ({:.2} s); {runs} timed passes",
        clips[0].len(),
        clips[0].len() as f64 / f64::from(SR)
    );

    let contenders = vec![
        ser_dsp()?,
        mel_spec_streaming()?,
        mel_spec_batch()?,
        spectrs()?,
        rosa()?,
        aus()?,
    ];
    println!(
        "\n| crate | version | max abs error (dB) | mean abs error (dB) | CPU ms per clip | wall ms per clip |"
    );
    println!("|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for mut c in contenders {
        // Exactness.
        let (mut max, mut sum, mut count) = (0.0f64, 0.0f64, 0usize);
        for (y, want) in clips.iter().zip(reference.axis_iter(Axis(0))) {
            let got = (c.run)(y)?;
            ensure!(
                got.dim() == want.dim(),
                "{}: shape {:?} vs {:?}",
                c.name,
                got.dim(),
                want.dim()
            );
            for (a, b) in got.iter().zip(want.iter()) {
                let e = f64::from((a - b).abs());
                max = max.max(e);
                sum += e;
                count += 1;
            }
        }
        // Speed: warm-up, then per-clip time of each pass.
        for _ in 0..3 {
            for y in &clips {
                std::hint::black_box((c.run)(std::hint::black_box(y))?);
            }
        }
        let mut per_clip = Vec::with_capacity(runs);
        let mut cpu_per_clip = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (t0, c0) = (Instant::now(), thread_cpu_secs());
            for y in &clips {
                std::hint::black_box((c.run)(std::hint::black_box(y))?);
            }
            cpu_per_clip.push((thread_cpu_secs() - c0) * 1e3 / n_clips as f64);
            per_clip.push(t0.elapsed().as_secs_f64() * 1e3 / n_clips as f64);
        }
        let ms = median(&mut per_clip);
        let cpu_ms = median(&mut cpu_per_clip);
        println!(
            "| {} | {} | {:.2e} | {:.2e} | {:.3} | {:.3} |",
            c.name,
            c.version,
            max,
            sum / count as f64,
            cpu_ms,
            ms
        );
        notes.push(format!("- {}: {}", c.name, c.notes));
    }
    println!();
    for n in notes {
        println!("{n}");
    }
    Ok(())
}
