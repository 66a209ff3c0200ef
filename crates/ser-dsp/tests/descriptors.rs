//! Parity of the frame descriptors and deltas with librosa 0.11: every case of
//! `fixtures/golden/ser-dsp/descriptors/index.json` (written by
//! `fixtures/scripts/make_golden_descriptors.py`) is recomputed here. Spectral cases start
//! from the clip: `S` is ser-dsp's own [`Stft`] magnitude (f64 precision), so their errors
//! include the STFT's (≈1e-6 relative). Delta cases read the stored input. Run with
//! `--nocapture` to see the measured errors.
//!
//! | what | measure | bound | why |
//! |---|---|---|---|
//! | delta | max abs error / max abs of the golden output | 1e-5 | same f64 maths on f32 data, f32 output; relative to the peak because deltas cross zero (measured 1.4e-6, order 2 width 5) |
//! | rms | max abs error / peak rms | 1e-6 | librosa sums squares in f32, here in f64 (measured 8e-8) |
//! | zero-crossing rate | exact | 0 | integer counts of sign changes |
//! | centroid, bandwidth | max relative error over frames above 1e-6 of the peak | 1e-5 | f64 sums of an f32 spectrogram; the STFTs differ by ≈1e-7 relative (measured 1.1e-7); silent frames give 0 in both |
//! | flatness | max abs error | 1e-5 | librosa takes f32 logs and means (measured 7e-7) |
//! | contrast (dB) | max abs error | 1e-3 dB | means of sorted f32 bins, then dB (measured 4e-6 dB) |
//! | contrast (linear) | max abs error / peak | 1e-5 | (measured 1.2e-7) |
//! | chroma filterbank | max abs error | 1e-6 | f64 maths rounded to f32 as librosa's (entries ≤ 1) |
//! | chromagram | max abs error / peak | 1e-5 | power spectrogram through the f32 filterbank, f64 sums (librosa: f32 matmul); measured 3e-7 |
//! | rolloff | frames off by more than one bin: none; off by one bin | ≤ 2% of frames | a threshold on an f32 cumulative sum may flip within the STFT's error (measured: every frame exact) |

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::clip;

use ndarray::Array2;
use ser_dsp::{
    BandwidthConfig, ChromaConfig, ChromaNorm, ContrastConfig, ContrastScale, DeltaConfig, Error,
    FlatnessConfig, FrameConfig, Stft, StftConfig, chroma_filterbank, chroma_stft, delta, rms,
    spectral_bandwidth, spectral_centroid, spectral_contrast, spectral_flatness, spectral_rolloff,
    zero_crossing_rate,
};
use serde_json::Value;

const SET: &str = "descriptors";

fn cases(kind: &str) -> Vec<Value> {
    common::cases(SET, kind)
}

fn npy(file: &Value) -> Array2<f32> {
    common::npy2(SET, file.as_str().unwrap())
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

fn f32_of(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// The case's clip, its magnitude spectrogram and rate.
fn spectrogram(case: &Value) -> (Array2<f32>, u32) {
    let (y, sr) = clip(case["clip"].as_str().unwrap());
    let p = &case["params"];
    assert!(p["center"].as_bool().unwrap());
    let stft = Stft::new(
        StftConfig::new(usize_of(&p["n_fft"])).with_hop_length(usize_of(&p["hop_length"])),
    )
    .unwrap();
    (stft.magnitude(&y).unwrap(), sr)
}

fn frame_config(p: &Value) -> FrameConfig {
    FrameConfig::new(usize_of(&p["frame_length"]), usize_of(&p["hop_length"]))
        .with_center(p["center"].as_bool().unwrap())
}

/// A one-row golden file as a vector, after checking the row shape.
fn row(case: &Value) -> Vec<f32> {
    let g = npy(&case["file"]);
    assert_eq!(g.nrows(), 1, "{}", case["id"]);
    g.into_iter().collect()
}

fn max_abs(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, |m, e| if e.is_nan() { f32::NAN } else { m.max(e) })
}

fn peak(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Max relative error where the golden value is above 1e-6 of its peak.
fn max_rel(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let floor = 1e-6 * peak(want);
    got.iter()
        .zip(want)
        .filter(|(_, w)| w.abs() > floor)
        .map(|(g, w)| (g - w).abs() / w.abs())
        .fold(0.0, f32::max)
}

fn check(id: &Value, what: &str, err: f32, bound: f32) {
    println!(
        "{what:10} {:50} {err:.3e} (bound {bound:.0e})",
        id.as_str().unwrap()
    );
    assert!(err <= bound, "{id}: {what} error {err:e} > {bound:e}");
}

#[test]
fn delta_matches_librosa() {
    for case in cases("delta") {
        let p = &case["params"];
        let input = npy(&case["input"]);
        let cfg = DeltaConfig {
            width: usize_of(&p["width"]),
            order: usize_of(&p["order"]),
        };
        let got = delta(input.view(), &cfg).unwrap();
        let want = npy(&case["file"]);
        assert_eq!(got.dim(), want.dim());
        let (g, w): (Vec<f32>, Vec<f32>) = (got.into_iter().collect(), want.into_iter().collect());
        check(&case["id"], "delta", max_abs(&g, &w) / peak(&w), 1e-5);
    }
}

#[test]
fn rms_matches_librosa() {
    for case in cases("rms") {
        let (y, _) = clip(case["clip"].as_str().unwrap());
        let got = rms(&y, &frame_config(&case["params"])).unwrap().to_vec();
        let want = row(&case);
        let err = max_abs(&got, &want) / peak(&want).max(f32::MIN_POSITIVE);
        check(&case["id"], "rms", err, 1e-6);
    }
}

#[test]
fn zero_crossing_rate_matches_librosa_exactly() {
    for case in cases("zero_crossing_rate") {
        let (y, _) = clip(case["clip"].as_str().unwrap());
        let got = zero_crossing_rate(&y, &frame_config(&case["params"]))
            .unwrap()
            .to_vec();
        check(&case["id"], "zcr", max_abs(&got, &row(&case)), 0.0);
    }
}

#[test]
fn centroid_and_bandwidth_match_librosa() {
    for case in cases("spectral_centroid") {
        let (s, sr) = spectrogram(&case);
        let got = spectral_centroid(s.view(), sr).unwrap().to_vec();
        check(&case["id"], "centroid", max_rel(&got, &row(&case)), 1e-5);
    }
    for case in cases("spectral_bandwidth") {
        let (s, sr) = spectrogram(&case);
        let p = &case["params"];
        let cfg = BandwidthConfig {
            p: f32_of(&p["p"]),
            norm: p["norm"].as_bool().unwrap(),
        };
        let got = spectral_bandwidth(s.view(), sr, &cfg).unwrap().to_vec();
        check(&case["id"], "bandwidth", max_rel(&got, &row(&case)), 1e-5);
    }
}

#[test]
fn rolloff_matches_librosa_to_one_bin() {
    for case in cases("spectral_rolloff") {
        let (s, sr) = spectrogram(&case);
        let roll = f32_of(&case["params"]["roll_percent"]);
        let got = spectral_rolloff(s.view(), sr, roll).unwrap().to_vec();
        let want = row(&case);
        let bin = sr as f32 / (2 * (s.nrows() - 1)) as f32;
        let mut off_by_one = 0;
        for (g, w) in got.iter().zip(&want) {
            let bins = ((g - w) / bin).abs();
            assert!(bins < 1.5, "{}: {g} vs {w} Hz", case["id"]);
            if bins > 0.5 {
                off_by_one += 1;
            }
        }
        let frac = off_by_one as f32 / want.len() as f32;
        check(&case["id"], "rolloff", frac, 0.02);
    }
}

#[test]
fn flatness_matches_librosa() {
    for case in cases("spectral_flatness") {
        let (s, _) = spectrogram(&case);
        let p = &case["params"];
        let cfg = FlatnessConfig {
            amin: f32_of(&p["amin"]),
            power: f32_of(&p["power"]),
        };
        let got = spectral_flatness(s.view(), &cfg).unwrap().to_vec();
        check(&case["id"], "flatness", max_abs(&got, &row(&case)), 1e-5);
    }
}

#[test]
fn contrast_matches_librosa() {
    for case in cases("spectral_contrast") {
        let (s, sr) = spectrogram(&case);
        let p = &case["params"];
        let linear = p["linear"].as_bool().unwrap();
        let cfg = ContrastConfig {
            fmin: f32_of(&p["fmin"]),
            n_bands: usize_of(&p["n_bands"]),
            quantile: f32_of(&p["quantile"]),
            scale: if linear {
                ContrastScale::Linear
            } else {
                ContrastScale::Db
            },
        };
        let got = spectral_contrast(s.view(), sr, &cfg).unwrap();
        let want = npy(&case["file"]);
        assert_eq!(got.dim(), want.dim());
        let (g, w): (Vec<f32>, Vec<f32>) = (got.into_iter().collect(), want.into_iter().collect());
        if linear {
            check(&case["id"], "contrast", max_abs(&g, &w) / peak(&w), 1e-5);
        } else {
            check(&case["id"], "contrast", max_abs(&g, &w), 1e-3);
        }
    }
}

fn chroma_config(p: &Value) -> ChromaConfig {
    ChromaConfig {
        n_chroma: usize_of(&p["n_chroma"]),
        tuning: Some(f32_of(&p["tuning"])),
        norm: if p["norm"].is_null() {
            ChromaNorm::None
        } else {
            ChromaNorm::Max
        },
    }
}

#[test]
fn chroma_matches_librosa() {
    for case in cases("chroma_filterbank") {
        let p = &case["params"];
        let cfg = ChromaConfig {
            norm: ChromaNorm::Max,
            n_chroma: usize_of(&p["n_chroma"]),
            tuning: Some(f32_of(&p["tuning"])),
        };
        let got = chroma_filterbank(
            p["sr"].as_u64().unwrap() as u32,
            usize_of(&p["n_fft"]),
            &cfg,
        )
        .unwrap();
        let want = npy(&case["file"]);
        assert_eq!(got.dim(), want.dim());
        let (g, w): (Vec<f32>, Vec<f32>) = (got.into_iter().collect(), want.into_iter().collect());
        check(&case["id"], "chromafb", max_abs(&g, &w), 1e-6);
    }
    for case in cases("chroma_stft") {
        let (y, sr) = clip(case["clip"].as_str().unwrap());
        let p = &case["params"];
        let stft = Stft::new(
            StftConfig::new(usize_of(&p["n_fft"])).with_hop_length(usize_of(&p["hop_length"])),
        )
        .unwrap();
        let s = stft.power(&y).unwrap();
        let got = chroma_stft(s.view(), sr, &chroma_config(p)).unwrap();
        let want = npy(&case["file"]);
        assert_eq!(got.dim(), want.dim());
        let (g, w): (Vec<f32>, Vec<f32>) = (got.into_iter().collect(), want.into_iter().collect());
        check(&case["id"], "chroma", max_abs(&g, &w) / peak(&w), 1e-5);
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let frames = FrameConfig::default();
    assert!(matches!(rms(&[], &frames), Err(Error::Empty { .. })));
    assert!(matches!(
        zero_crossing_rate(&[0.0, f32::NAN], &frames),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        rms(&[0.1; 100], &frames.with_center(false)),
        Err(Error::TooShort {
            needed: 2048,
            got: 100,
            ..
        })
    ));
    assert!(matches!(
        rms(&[0.1; 100], &FrameConfig::new(0, 512)),
        Err(Error::InvalidConfig {
            field: "frame_length",
            ..
        })
    ));

    let x = Array2::<f32>::zeros((13, 5));
    assert!(matches!(
        delta(x.view(), &DeltaConfig::default()),
        Err(Error::TooShort {
            needed: 9,
            got: 5,
            ..
        })
    ));
    assert!(matches!(
        delta(
            Array2::<f32>::zeros((13, 0)).view(),
            &DeltaConfig::default()
        ),
        Err(Error::Empty { .. })
    ));
    let mut x = Array2::<f32>::zeros((2, 20));
    x[[1, 3]] = f32::INFINITY;
    assert!(matches!(
        delta(x.view(), &DeltaConfig::default()),
        Err(Error::NonFinite { index: 23, .. })
    ));
    assert!(matches!(
        delta(x.view(), &DeltaConfig::new(0)),
        Err(Error::InvalidConfig { field: "order", .. })
    ));

    let mut s = Array2::<f32>::ones((1025, 4));
    assert!(matches!(
        spectral_centroid(s.view(), 0),
        Err(Error::ZeroSampleRate)
    ));
    assert!(matches!(
        spectral_centroid(Array2::<f32>::zeros((1025, 0)).view(), 16_000),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        spectral_bandwidth(
            Array2::<f32>::zeros((1, 4)).view(),
            16_000,
            &BandwidthConfig::default()
        ),
        Err(Error::TooShort { .. })
    ));
    s[[7, 2]] = -1.0;
    assert!(matches!(
        spectral_rolloff(s.view(), 16_000, 0.85),
        Err(Error::NegativeValue { .. })
    ));
    assert!(matches!(
        spectral_rolloff(s.view(), 16_000, 1.5),
        Err(Error::InvalidConfig { .. })
    ));
    s[[7, 2]] = f32::NAN;
    assert!(matches!(
        spectral_flatness(s.view(), &FlatnessConfig::default()),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        chroma_stft(s.view(), 16_000, &ChromaConfig::default()),
        Err(Error::NonFinite { .. })
    ));
    s[[7, 2]] = 1.0;
    // 200 Hz · 2^5 = 6.4 kHz is above the 4 kHz Nyquist of 8 kHz audio.
    assert!(matches!(
        spectral_contrast(s.view(), 8000, &ContrastConfig::default()),
        Err(Error::InvalidConfig { .. })
    ));
    // Too few bins for the narrow low bands.
    assert!(matches!(
        spectral_contrast(
            Array2::<f32>::ones((9, 4)).view(),
            16_000,
            &ContrastConfig::default()
        ),
        Err(Error::InvalidConfig { .. })
    ));
}

/// Per-function timings on 3 s of speech at 16 kHz (librosa's defaults), for the comparison
/// with librosa in the report: `cargo test --release -p ser-dsp --test descriptors --
/// --ignored --nocapture timings`.
#[test]
#[ignore = "timing, run in release by hand"]
fn timings() {
    use std::hint::black_box;
    use std::time::Instant;

    fn time<T>(name: &str, mut f: impl FnMut() -> T) {
        black_box(f());
        let reps = 200;
        let t0 = Instant::now();
        for _ in 0..reps {
            black_box(f());
        }
        let us = t0.elapsed().as_secs_f64() * 1e6 / f64::from(reps);
        println!("{name:22} {us:9.1} µs");
    }

    let (long, sr) = clip("speech_long_16k");
    let y = &long[..48_000];
    let stft = Stft::new(StftConfig::default()).unwrap();
    let s = stft.magnitude(y).unwrap();
    let mfcc = npy(&cases("delta")[0]["input"]);
    let frames = FrameConfig::default();
    time("stft magnitude (f64)", || stft.magnitude(y).unwrap());
    time("rms", || rms(y, &frames).unwrap());
    time("zero_crossing_rate", || {
        zero_crossing_rate(y, &frames).unwrap()
    });
    time("spectral_centroid", || {
        spectral_centroid(s.view(), sr).unwrap()
    });
    time("spectral_bandwidth", || {
        spectral_bandwidth(s.view(), sr, &BandwidthConfig::default()).unwrap()
    });
    time("spectral_rolloff", || {
        spectral_rolloff(s.view(), sr, 0.85).unwrap()
    });
    time("spectral_flatness", || {
        spectral_flatness(s.view(), &FlatnessConfig::default()).unwrap()
    });
    time("spectral_contrast", || {
        spectral_contrast(s.view(), sr, &ContrastConfig::default()).unwrap()
    });
    let power = stft.power(y).unwrap();
    time("chroma_stft", || {
        chroma_stft(power.view(), sr, &ChromaConfig::default()).unwrap()
    });
    time("delta (20 x 80, o1)", || {
        delta(mfcc.view(), &DeltaConfig::default()).unwrap()
    });
    time("delta (20 x 80, o2)", || {
        delta(mfcc.view(), &DeltaConfig::new(2)).unwrap()
    });
}
