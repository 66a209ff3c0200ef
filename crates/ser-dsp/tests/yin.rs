//! Parity of [`yin`] with `librosa.yin` 0.11: every case of
//! `fixtures/golden/ser-dsp/pitch/index.json` (written by
//! `fixtures/scripts/make_golden_pitch.py`) is recomputed from its clip and compared frame
//! by frame. Run with `--nocapture` to see the measured errors.
//!
//! | what | measure | bound | why |
//! |---|---|---|---|
//! | f0, every frame | max relative error | see `REL_BOUND` | librosa's autocorrelation is an f32 FFT, here f64; the parabolic refinement of a smooth trough moves by a fraction of that |
//! | frames picking another trough | fraction of frames off by more than `REL_BOUND` | see `MAX_FLIPPED` | a trough within f32 rounding of `trough_threshold`, or two near-equal global minima, may go either way |
//!
//! Also: bad input (empty, NaN, `fmin >= fmax`, `fmax` above Nyquist, `fmin` too low for
//! the frame, a zero hop, a signal shorter than a frame when not centred) gives typed
//! errors, and a release-mode timing (`--ignored`).

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::clip;
use ndarray::{Array1, ArrayD, Ix1};
use ndarray_npy::read_npy;
use ser_dsp::{Error, YinConfig, yin};
use serde_json::Value;

/// Max relative error of f0 on the frames that pick the same trough as librosa.
const REL_BOUND: f64 = 1e-4;
/// The largest fraction of frames allowed to exceed [`REL_BOUND`].
const MAX_FLIPPED: f64 = 0.0;

const SET: &str = "pitch";

fn config_of(p: &Value) -> YinConfig {
    YinConfig {
        fmin: p["fmin"].as_f64().unwrap(),
        fmax: p["fmax"].as_f64().unwrap(),
        frame_length: p["frame_length"].as_u64().unwrap() as usize,
        hop_length: p["hop_length"].as_u64().map(|h| h as usize),
        trough_threshold: p["trough_threshold"].as_f64().unwrap(),
        center: p["center"].as_bool().unwrap(),
    }
}

#[test]
fn yin_matches_librosa_on_every_frame() {
    let index = common::index(SET);
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        assert_eq!(case["kind"], "yin");
        let (y, sr) = clip(case["clip"].as_str().unwrap());
        assert_eq!(u64::from(sr), case["params"]["sr"].as_u64().unwrap());
        let cfg = config_of(&case["params"]);
        let golden: ArrayD<f64> =
            read_npy(common::golden_dir(SET).join(case["file"].as_str().unwrap())).unwrap();
        let golden: Array1<f64> = golden.into_dimensionality::<Ix1>().unwrap();
        let got = yin(&y, sr, &cfg).unwrap();
        assert_eq!(got.len(), golden.len(), "{}", case["name"]);
        let mut max_rel = 0.0f64;
        let mut flipped = 0usize;
        for (g, want) in got.iter().zip(golden.iter()) {
            let rel = (f64::from(*g) - want).abs() / want.abs();
            if rel > REL_BOUND {
                flipped += 1;
            } else {
                max_rel = max_rel.max(rel);
            }
        }
        let frac = flipped as f64 / golden.len() as f64;
        println!(
            "{}: {} frames, max rel error {max_rel:.2e} (same trough), {flipped} frames beyond {REL_BOUND:e}",
            case["name"],
            golden.len()
        );
        assert!(max_rel <= REL_BOUND, "{}: {max_rel}", case["name"]);
        assert!(frac <= MAX_FLIPPED, "{}: {flipped} frames", case["name"]);
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let cfg = YinConfig::new(65.41, 2093.0);
    assert!(matches!(yin(&[], 16_000, &cfg), Err(Error::Empty { .. })));
    let mut y = vec![0.1f32; 4000];
    y[17] = f32::NAN;
    assert!(matches!(
        yin(&y, 16_000, &cfg),
        Err(Error::NonFinite { index: 17, .. })
    ));
    let y = vec![0.1f32; 4000];
    let bad = |c: YinConfig, sr: u32, field: &str| match yin(&y, sr, &c) {
        Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected InvalidConfig({field}), got {other:?}"),
    };
    bad(YinConfig::new(500.0, 500.0), 16_000, "fmin");
    bad(YinConfig::new(600.0, 500.0), 16_000, "fmin");
    bad(YinConfig::new(0.0, 500.0), 16_000, "fmin");
    bad(YinConfig::new(f64::NAN, 500.0), 16_000, "fmin");
    bad(YinConfig::new(65.41, 8000.5), 16_000, "fmax");
    // 16000 / 7.8 > 2047: one period of fmin does not fit.
    bad(YinConfig::new(7.8, 500.0), 16_000, "frame_length");
    bad(cfg.with_frames(2048, Some(0)), 16_000, "hop_length");
    bad(
        YinConfig {
            trough_threshold: f64::NAN,
            ..cfg
        },
        16_000,
        "trough_threshold",
    );
    assert!(matches!(yin(&y, 0, &cfg), Err(Error::ZeroSampleRate)));
    // fmax exactly at Nyquist is allowed, as in librosa.
    assert!(yin(&y, 16_000, &YinConfig::new(65.41, 8000.0)).is_ok());

    // Shorter than a frame: fine when centred (librosa pads), an error otherwise.
    let short = vec![0.1f32; 1000];
    assert_eq!(yin(&short, 16_000, &cfg).unwrap().len(), 1 + 1000 / 512);
    let nocenter = YinConfig {
        center: false,
        ..cfg
    };
    assert!(matches!(
        yin(&short, 16_000, &nocenter),
        Err(Error::TooShort {
            needed: 2048,
            got: 1000,
            ..
        })
    ));
}

#[test]
fn a_pure_tone_is_found() {
    let sr = 22_050u32;
    for f in [110.0f32, 440.0, 1000.0] {
        let y: Vec<f32> = (0..sr)
            .map(|n| (2.0 * std::f32::consts::PI * f * n as f32 / sr as f32).sin())
            .collect();
        let f0 = yin(&y, sr, &YinConfig::default()).unwrap();
        // Skip the frames that overlap the zero padding.
        for v in f0.iter().skip(4).take(f0.len() - 8) {
            // YIN's parabolic refinement is biased by a few 1e-3 on pure tones (librosa too).
            assert!((v - f).abs() / f < 5e-3, "{f}: {v}");
        }
    }
}

/// `cargo test --release -p ser-dsp --test yin -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release"]
fn timing_3s_16k() {
    let (y, sr) = clip("speech_16k");
    let y: Vec<f32> = y.iter().cycle().take(48_000).copied().collect();
    let cfg = YinConfig::new(65.41, 2093.0);
    let _ = yin(&y, sr, &cfg).unwrap();
    let reps = 50;
    let t = std::time::Instant::now();
    for _ in 0..reps {
        std::hint::black_box(yin(&y, sr, &cfg).unwrap());
    }
    println!(
        "yin, 3 s at 16 kHz: {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
}
