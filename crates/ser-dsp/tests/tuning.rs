//! Parity of `piptrack`, `estimate_tuning` and `chroma_stft` with an estimated tuning
//! (`tuning = None`) with librosa 0.11: every case of
//! `fixtures/golden/ser-dsp/tuning/index.json` (written by
//! `fixtures/scripts/make_golden_tuning.py`) is recomputed here from the clip, with
//! ser-dsp's own STFT (f64 precision, so its bins differ from librosa's by ≈1e-7 relative).
//! Run with `--nocapture` to see the measured errors.
//!
//! | what | measure | bound | why |
//! |---|---|---|---|
//! | piptrack peaks | bins and frames of the non-zero pitches | identical sets | local maxima of the same spectrum; a near-tie could flip (none does on these clips) |
//! | piptrack pitch | max relative error | 1e-5 (measured 1.2e-7) | parabolic interpolation of bins that differ by ≈1e-7; the vertex amplifies it where the parabola is flat |
//! | piptrack magnitude | max relative error | 1e-5 (measured 2.1e-7) | as above |
//! | estimate_tuning | the same histogram bin | 1e-12 | a histogram edge (measured: the same bin on every clip) |
//! | chroma_stft, tuning = None | max abs error / peak | 1e-5 | the estimated tuning is equal, the rest as `descriptors.rs` |

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use ndarray::Array2;
use ser_dsp::{
    ChromaConfig, ChromaNorm, PiptrackConfig, Stft, StftConfig, TuningConfig, chroma_stft,
    estimate_tuning, piptrack, pitch_tuning,
};
use serde_json::Value;

const SET: &str = "tuning";

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

fn f32_of(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// The case's clip through ser-dsp's STFT: magnitude, or power with `power`.
fn spectrogram(case: &Value, power: bool) -> (Array2<f32>, u32) {
    let (y, sr) = common::clip(case["clip"].as_str().unwrap());
    let p = &case["params"];
    assert!(p["center"].as_bool().unwrap());
    let stft = Stft::new(
        StftConfig::new(usize_of(&p["n_fft"])).with_hop_length(usize_of(&p["hop_length"])),
    )
    .unwrap();
    let s = if power {
        stft.power(&y).unwrap()
    } else {
        stft.magnitude(&y).unwrap()
    };
    (s, sr)
}

fn piptrack_config(p: &Value) -> PiptrackConfig {
    PiptrackConfig {
        fmin: f32_of(&p["fmin"]),
        fmax: f32_of(&p["fmax"]),
        threshold: f32_of(&p["threshold"]),
    }
}

/// librosa's peaks: `(bin, frame) -> (pitch, magnitude)`.
fn golden_peaks(case: &Value) -> BTreeMap<(usize, usize), (f32, f32)> {
    let a = common::npy2(SET, case["file"].as_str().unwrap());
    assert_eq!(a.nrows(), 4);
    a.columns()
        .into_iter()
        .map(|c| ((c[0] as usize, c[1] as usize), (c[2], c[3])))
        .collect()
}

#[test]
fn piptrack_matches_librosa() {
    for case in common::cases(SET, "piptrack") {
        let (s, sr) = spectrogram(&case, false);
        let (pitches, mags) = piptrack(s.view(), sr, &piptrack_config(&case["params"])).unwrap();
        assert_eq!(pitches.dim(), s.dim());
        let gold = golden_peaks(&case);
        let ours: BTreeMap<(usize, usize), (f32, f32)> = pitches
            .indexed_iter()
            .filter(|(_, p)| **p > 0.0)
            .map(|(i, p)| (i, (*p, mags[i])))
            .collect();
        // Zero magnitude wherever the pitch is zero, as librosa.
        assert!(
            pitches
                .iter()
                .zip(&mags)
                .all(|(p, m)| *p > 0.0 || *m == 0.0)
        );
        let missing: Vec<_> = gold.keys().filter(|k| !ours.contains_key(k)).collect();
        let extra: Vec<_> = ours.keys().filter(|k| !gold.contains_key(k)).collect();
        let (mut pitch_err, mut mag_err) = (0.0f64, 0.0f64);
        for (k, (gp, gm)) in &gold {
            if let Some((p, m)) = ours.get(k) {
                pitch_err = pitch_err.max(f64::from((p - gp).abs() / gp));
                mag_err = mag_err.max(f64::from((m - gm).abs() / gm.abs().max(f32::MIN_POSITIVE)));
            }
        }
        println!(
            "{}: {} peaks, {} missing, {} extra, pitch {pitch_err:.2e} rel, magnitude \
             {mag_err:.2e} rel",
            case["id"],
            gold.len(),
            missing.len(),
            extra.len()
        );
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{missing:?} {extra:?}"
        );
        assert!(pitch_err < 1e-5, "{}: pitch {pitch_err:e}", case["id"]);
        assert!(mag_err < 1e-5, "{}: magnitude {mag_err:e}", case["id"]);
    }
}

#[test]
fn estimate_tuning_matches_librosa() {
    for case in common::cases(SET, "estimate_tuning") {
        let p = &case["params"];
        let power = match p["input"].as_str().unwrap() {
            "power" => true,
            "magnitude" => false,
            other => panic!("input {other}"),
        };
        let (s, sr) = spectrogram(&case, power);
        let config = TuningConfig {
            piptrack: piptrack_config(p),
            resolution: p["resolution"].as_f64().unwrap(),
            bins_per_octave: usize_of(&p["bins_per_octave"]),
        };
        let ours = estimate_tuning(s.view(), sr, &config).unwrap();
        let gold = case["value"].as_f64().unwrap();
        println!("{}: {ours} (librosa {gold})", case["id"]);
        // The same histogram edge (serde_json may read the last digit of the JSON number
        // differently; another bin would be `resolution` away).
        assert!(
            (ours - gold).abs() < 1e-12,
            "{}: {ours} vs {gold}",
            case["id"]
        );
    }
}

/// The selection and histogram alone, on librosa's own peaks: the median rule and
/// `pitch_tuning` give librosa's estimate from librosa's piptrack.
#[test]
fn pitch_tuning_of_librosas_peaks_is_librosas_estimate() {
    let peaks = golden_peaks(
        &common::cases(SET, "piptrack")
            .into_iter()
            .find(|c| c["id"] == "speech_16k__piptrack")
            .unwrap(),
    );
    let mut mags: Vec<f32> = peaks.values().map(|(_, m)| *m).collect();
    mags.sort_by(f32::total_cmp);
    let n = mags.len();
    let median = if n % 2 == 1 {
        mags[n / 2]
    } else {
        (mags[n / 2 - 1] + mags[n / 2]) / 2.0
    };
    let selected: Vec<f32> = peaks
        .values()
        .filter(|(_, m)| *m >= median)
        .map(|(p, _)| *p)
        .collect();
    let gold = common::cases(SET, "estimate_tuning")
        .into_iter()
        .find(|c| c["id"] == "speech_16k__estimate_tuning_y")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!((pitch_tuning(&selected, 0.01, 12).unwrap() - gold).abs() < 1e-12);
}

#[test]
fn chroma_with_estimated_tuning_matches_librosa() {
    for case in common::cases(SET, "chroma_stft") {
        let p = &case["params"];
        assert!(p["tuning"].is_null());
        let (s, sr) = spectrogram(&case, true);
        let config = ChromaConfig {
            n_chroma: usize_of(&p["n_chroma"]),
            tuning: None,
            norm: ChromaNorm::Max,
        };
        let ours = chroma_stft(s.view(), sr, &config).unwrap();
        let gold = common::npy2(SET, case["file"].as_str().unwrap());
        assert_eq!(ours.dim(), gold.dim());
        let peak = gold.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let err = ours
            .iter()
            .zip(&gold)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
            / peak;
        println!("{}: {err:.2e} of peak", case["id"]);
        assert!(err < 1e-5, "{}: {err:e}", case["id"]);
    }
}

/// `tuning = None` is an estimate, not 0: on a clip whose estimate is not 0 the chromagram
/// differs from the one at A440, and equals the one at the estimated tuning.
#[test]
fn none_means_estimate() {
    let case = common::cases(SET, "chroma_stft")
        .into_iter()
        .find(|c| c["id"] == "multitone_44k__chroma_stft_tuning_none")
        .unwrap();
    let (s, sr) = spectrogram(&case, true);
    let estimated = chroma_stft(
        s.view(),
        sr,
        &ChromaConfig {
            tuning: None,
            ..ChromaConfig::default()
        },
    )
    .unwrap();
    let at_440 = chroma_stft(s.view(), sr, &ChromaConfig::default()).unwrap();
    assert_ne!(estimated, at_440);
    let t = estimate_tuning(s.view(), sr, &TuningConfig::default()).unwrap();
    assert!(t.abs() > 0.1, "{t}");
    let given = chroma_stft(
        s.view(),
        sr,
        &ChromaConfig {
            tuning: Some(t as f32),
            ..ChromaConfig::default()
        },
    )
    .unwrap();
    let diff = given
        .iter()
        .zip(&estimated)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff < 1e-6, "{diff}");
}
