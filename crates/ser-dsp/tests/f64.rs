//! Parity of the `f64` path with librosa 0.11 on float64 input: every case of
//! `fixtures/golden/ser-dsp/f64/index.json` (written by `fixtures/scripts/make_golden_f64.py`)
//! is recomputed here from `f64` samples. Run with `--nocapture` to see the measured errors.
//!
//! | what | measure | bound | why |
//! |---|---|---|---|
//! | complex STFT | max abs error / max abs of librosa's | 1e-12 | same f64 maths, different FFT algorithm (realfft vs pocketfft) |
//! | power | max relative error over bins above 1e-10 of the peak | 1e-10 | as above; quiet bins carry the FFTs' absolute rounding |
//! | mel filterbank | max abs error | 1e-15 | same f64 formulas |
//! | mel spectrogram | max relative error over bands above 1e-10 of the peak | 1e-10 | power through the f64 weights, f64 sums |
//! | power_to_db | max abs error (dB) | 1e-9 | f64 `log10` of the above |
//!
//! `f32` callers are untouched: `parity.rs` and the other golden tests pin their numbers.

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ndarray::{Array2, Array3, ArrayD, Ix2, Ix3};
use ndarray_npy::read_npy;
use ser_dsp::num_complex::Complex64;
use ser_dsp::{
    DbConfig, MelConfig, MelFilterbank, MelNorm, MelScale, MelSpectrogram, MelSpectrogramConfig,
    PadMode, Ref, Stft, StftConfig, Window, power_to_db,
};
use serde_json::Value;

const SET: &str = "f64";

fn npy(case: &Value) -> ArrayD<f64> {
    read_npy(common::golden_dir(SET).join(case["file"].as_str().unwrap())).unwrap()
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

/// The case's clip as librosa's float64 input (the f32 samples, widened exactly).
fn clip64(case: &Value) -> (Vec<f64>, u32) {
    let (y, sr) = common::clip(case["clip"].as_str().unwrap());
    (y.into_iter().map(f64::from).collect(), sr)
}

fn window(name: &str) -> Window {
    match name {
        "hann" => Window::Hann,
        "hamming" => Window::Hamming,
        other => panic!("window {other}"),
    }
}

fn stft_config(p: &Value) -> StftConfig {
    StftConfig::new(usize_of(&p["n_fft"]))
        .with_hop_length(usize_of(&p["hop_length"]))
        .with_win_length(usize_of(&p["win_length"]))
        .with_window(window(p["window"].as_str().unwrap()))
        .with_center(p["center"].as_bool().unwrap())
        .with_pad_mode(match p["pad_mode"].as_str().unwrap() {
            "constant" => PadMode::Constant,
            "reflect" => PadMode::Reflect,
            other => panic!("pad_mode {other}"),
        })
}

fn mel_config(p: &Value) -> MelConfig {
    MelConfig {
        sample_rate: p["sr"].as_u64().unwrap() as u32,
        n_mels: usize_of(&p["n_mels"]),
        fmin: p["fmin"].as_f64().unwrap_or(0.0) as f32,
        fmax: p["fmax"].as_f64().map(|v| v as f32),
        scale: if p["htk"].as_bool().unwrap_or(false) {
            MelScale::Htk
        } else {
            MelScale::Slaney
        },
        norm: match p["norm"].as_str() {
            Some("slaney") => MelNorm::Slaney,
            _ => MelNorm::None,
        },
    }
}

/// The largest `|a - b| / |b|` over the entries of `b` above `floor` times its peak, and the
/// largest `|a - b|` over all of them divided by that peak.
fn errors(a: &[f64], b: &[f64], floor: f64) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let peak = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut rel = 0.0f64;
    let mut abs = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        abs = abs.max((x - y).abs());
        if y.abs() > floor * peak {
            rel = rel.max((x - y).abs() / y.abs());
        }
    }
    (rel, abs / peak)
}

#[test]
fn stft_f64_matches_librosa_float64() {
    for case in common::cases(SET, "stft_complex") {
        let p = &case["params"];
        let (y, _) = clip64(&case);
        let (a, b) = (usize_of(&p["samples"][0]), usize_of(&p["samples"][1]));
        let y = &y[a..b];
        let stft = Stft::<f64>::plan(stft_config(p)).unwrap();
        let gold: Array3<f64> = npy(&case).into_dimensionality::<Ix3>().unwrap();
        let ours: Array2<Complex64> = stft.complex(y).unwrap();
        assert_eq!(ours.dim(), (gold.shape()[1], gold.shape()[2]));
        let mut mine = Vec::new();
        let mut theirs = Vec::new();
        for ((f, t), c) in ours.indexed_iter() {
            mine.extend([c.re, c.im]);
            theirs.extend([gold[[0, f, t]], gold[[1, f, t]]]);
        }
        let (_, abs) = errors(&mine, &theirs, 0.0);
        // Power, magnitude: |X|² from librosa's complex bins.
        let gold_power: Vec<f64> = ours
            .indexed_iter()
            .map(|((f, t), _)| gold[[0, f, t]].powi(2) + gold[[1, f, t]].powi(2))
            .collect();
        let power = stft.power(y).unwrap();
        let (rel_p, _) = errors(power.as_slice().unwrap(), &gold_power, 1e-10);
        let magnitude = stft.magnitude(y).unwrap();
        let gold_mag: Vec<f64> = gold_power.iter().map(|v| v.sqrt()).collect();
        let (rel_m, _) = errors(magnitude.as_slice().unwrap(), &gold_mag, 1e-5);
        println!(
            "{}: complex {abs:.2e} of peak, power {rel_p:.2e} rel, magnitude {rel_m:.2e} rel",
            case["id"]
        );
        assert!(abs < 1e-12, "{}: {abs:e}", case["id"]);
        assert!(rel_p < 1e-10, "{}: {rel_p:e}", case["id"]);
        assert!(rel_m < 1e-10, "{}: {rel_m:e}", case["id"]);
    }
}

#[test]
fn mel_filterbank_f64_matches_librosa_float64() {
    for case in common::cases(SET, "mel_filterbank") {
        let p = &case["params"];
        let fb = MelFilterbank::<f64>::build(&mel_config(p), usize_of(&p["n_fft"])).unwrap();
        let gold = npy(&case).into_dimensionality::<Ix2>().unwrap();
        let ours = fb.to_array();
        assert_eq!(ours.dim(), gold.dim());
        let err = ours
            .iter()
            .zip(&gold)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        println!("{}: max abs error {err:.2e}", case["id"]);
        assert!(err < 1e-15, "{}: {err:e}", case["id"]);
        // The f32 weights are the f64 ones rounded (to within librosa's float32 quirk of
        // rounding the triangle before the norm: one f32 ulp).
        let f32s = MelFilterbank::new(&mel_config(p), usize_of(&p["n_fft"]))
            .unwrap()
            .to_array();
        for (a, b) in f32s.iter().zip(&ours) {
            assert!((f64::from(*a) - b).abs() <= 2.0 * f64::from(f32::EPSILON) * b.abs());
        }
    }
}

fn melspectrogram(case: &Value) -> (MelSpectrogram<f64>, Vec<f64>) {
    let p = &case["params"];
    let (y, sr) = clip64(case);
    let mut mel = MelConfig {
        sample_rate: sr,
        ..MelConfig::default()
    };
    mel.n_mels = usize_of(&p["n_mels"]);
    let config = MelSpectrogramConfig {
        stft: StftConfig::new(usize_of(&p["n_fft"])).with_hop_length(usize_of(&p["hop_length"])),
        mel,
        power: p["power"].as_f64().unwrap() as f32,
    };
    (MelSpectrogram::<f64>::plan(config).unwrap(), y)
}

#[test]
fn melspectrogram_f64_matches_librosa_float64() {
    for case in common::cases(SET, "melspectrogram") {
        let (mel, y) = melspectrogram(&case);
        let gold = npy(&case).into_dimensionality::<Ix2>().unwrap();
        let ours: Array2<f64> = mel.compute(&y).unwrap();
        assert_eq!(ours.dim(), gold.dim());
        let (rel, abs) = errors(
            ours.as_slice().unwrap(),
            gold.as_standard_layout().as_slice().unwrap(),
            1e-10,
        );
        println!("{}: {rel:.2e} rel, {abs:.2e} of peak", case["id"]);
        assert!(rel < 1e-10, "{}: {rel:e}", case["id"]);

        // The same projection through `apply` on the f64 power spectrogram.
        let power = mel.stft().power(&y).unwrap();
        let applied = mel.filterbank().apply(power.view()).unwrap();
        let (rel, _) = errors(
            applied.as_slice().unwrap(),
            gold.as_standard_layout().as_slice().unwrap(),
            1e-10,
        );
        assert!(rel < 1e-10, "apply: {rel:e}");

        // f32 input keeps the f32 path: within f32 rounding of the f64 result, not equal.
        let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let ours32 = MelSpectrogram::new(*mel.config())
            .unwrap()
            .compute(&y32)
            .unwrap();
        let (rel32, _) = errors(
            &ours32.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            ours.as_slice().unwrap(),
            1e-6,
        );
        assert!(rel32 > 0.0 && rel32 < 1e-3, "f32 path: {rel32:e}");
    }
}

#[test]
fn power_to_db_f64_matches_librosa_float64() {
    for case in common::cases(SET, "power_to_db") {
        let p = &case["params"];
        let mel_case = serde_json::json!({"clip": case["clip"], "params": p["mel"]});
        let (mel, y) = melspectrogram(&mel_case);
        let s: Array2<f64> = mel.compute(&y).unwrap();
        let config = DbConfig {
            reference: Ref::Value(p["ref"].as_f64().unwrap() as f32),
            amin: p["amin"].as_f64().unwrap() as f32,
            top_db: p["top_db"].as_f64().map(|v| v as f32),
        };
        let db = power_to_db(s.view(), &config).unwrap();
        let gold = npy(&case).into_dimensionality::<Ix2>().unwrap();
        let err = db
            .iter()
            .zip(&gold)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        println!("{}: max abs error {err:.2e} dB", case["id"]);
        assert!(err < 1e-9, "{}: {err:e}", case["id"]);
    }
}

#[test]
fn f64_input_is_checked_like_f32() {
    let stft = Stft::<f64>::plan(StftConfig::new(64).with_hop_length(16)).unwrap();
    let mut y = vec![0.5f64; 256];
    y[100] = f64::NAN;
    assert!(matches!(
        stft.power(&y),
        Err(ser_dsp::Error::NonFinite { index: 100, .. })
    ));
    assert!(matches!(
        stft.power(&Vec::<f64>::new()),
        Err(ser_dsp::Error::Empty { .. })
    ));
    let s = ndarray::arr1(&[1.0f64, -1.0]);
    assert!(matches!(
        power_to_db(s.view(), &DbConfig::default()),
        Err(ser_dsp::Error::NegativePower { index: 1, .. })
    ));
}

/// f64 input is transformed in f64 even with `Precision::F32` (the default of
/// `MelSpectrogramConfig`): its results do not depend on the configured precision.
#[test]
fn f64_input_ignores_the_f32_precision() {
    let y: Vec<f64> = (0..5000)
        .map(|n| (n as f64 * 0.031).sin() * (n as f64 * 0.0007).cos())
        .collect();
    let narrow =
        Stft::<f64>::plan(StftConfig::new(512).with_precision(ser_dsp::Precision::F32)).unwrap();
    let wide = Stft::<f64>::plan(StftConfig::new(512)).unwrap();
    assert_eq!(narrow.power(&y).unwrap(), wide.power(&y).unwrap());
    // A scratch made for f32 input serves f64 input too.
    let mut scratch = narrow.make_scratch();
    let mut frames = 0;
    narrow
        .for_each_frame(&y, &mut scratch, |_, s: &[Complex64]| {
            frames += usize::from(!s.is_empty())
        })
        .unwrap();
    assert_eq!(frames, narrow.n_frames(y.len()));
}
