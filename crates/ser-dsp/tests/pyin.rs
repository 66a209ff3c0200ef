//! Parity of [`pyin`] with `librosa.pyin` 0.11: every case of
//! `fixtures/golden/ser-dsp/pyin/index.json` (written by
//! `fixtures/scripts/make_golden_pyin.py`: speech at 16 and 22.05 kHz, a longer speech
//! clip, a 440 Hz tone, silence, one case with every parameter changed and not centred,
//! one on a coarse grid) is recomputed from its clip and compared frame by frame. Run with
//! `--nocapture` to see the measured agreement.
//!
//! | what | measure | bound | why |
//! |---|---|---|---|
//! | voicing | fraction of frames where `voiced_flag` differs | see `MAX_VOICING_DIFF` | librosa's difference function is `f32`, here `f64`: a trough within rounding of a threshold, or a period within rounding of a bin edge, may go the other way and move the Viterbi path |
//! | f0 | fraction of frames both call voiced whose f0 differs by more than `F0_REL` | see `MAX_F0_DIFF` | as above; f0 is a grid frequency, so it agrees to rounding or is a bin (0.58 %) or more off |
//! | voiced_prob | fraction of frames beyond `PROB_ABS`, and by how much | see `MAX_PROB_DIFF`, `PROB_FLIP_ABS` | a trough within rounding of a threshold moves that threshold's beta mass |
//!
//! Also: typed errors for bad configs and input, silence, `fill_na`, and a release-mode
//! timing (`--ignored`). The regularized incomplete beta is checked against scipy's
//! `beta.cdf` values stored in the same index by a unit test in `src/pitch/numeric.rs`.

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::clip;
use ndarray::{Array2, ArrayD, Ix2};
use ndarray_npy::read_npy;
use ser_dsp::{Error, FillNa, PyinConfig, pyin};
use serde_json::Value;

/// Largest fraction of frames whose voicing differs from librosa's.
const MAX_VOICING_DIFF: f64 = 0.0;
/// f0 agrees when within this relative difference.
const F0_REL: f64 = 1e-6;
/// Largest fraction of frames both call voiced whose f0 differs by more than [`F0_REL`].
const MAX_F0_DIFF: f64 = 0.0;
/// `voiced_prob` agrees when within this absolute difference.
const PROB_ABS: f64 = 1e-6;
/// Largest fraction of frames whose `voiced_prob` differs by more than [`PROB_ABS`]: a
/// trough within librosa's `f32` rounding of a threshold (measured: 1 frame of 741, a
/// trough at 0.349996 in librosa and 0.350002 in exact arithmetic, threshold 0.35).
const MAX_PROB_DIFF: f64 = 0.01;
/// The most such a frame may differ by: one threshold's beta mass (at most 0.0718 for
/// librosa's default `beta_parameters = (2, 18)`).
const PROB_FLIP_ABS: f64 = 0.072;

const SET: &str = "pyin";

fn config_of(p: &Value) -> PyinConfig {
    let beta = p["beta_parameters"].as_array().unwrap();
    PyinConfig {
        fmin: p["fmin"].as_f64().unwrap(),
        fmax: p["fmax"].as_f64().unwrap(),
        frame_length: p["frame_length"].as_u64().unwrap() as usize,
        hop_length: p["hop_length"].as_u64().map(|h| h as usize),
        n_thresholds: p["n_thresholds"].as_u64().unwrap() as usize,
        beta_parameters: (beta[0].as_f64().unwrap(), beta[1].as_f64().unwrap()),
        boltzmann_parameter: p["boltzmann_parameter"].as_f64().unwrap(),
        resolution: p["resolution"].as_f64().unwrap(),
        max_transition_rate: p["max_transition_rate"].as_f64().unwrap(),
        switch_prob: p["switch_prob"].as_f64().unwrap(),
        no_trough_prob: p["no_trough_prob"].as_f64().unwrap(),
        fill_na: match p["fill_na"].as_str() {
            Some("nan") => FillNa::Nan,
            None => FillNa::BestGuess,
            Some(other) => panic!("fill_na {other}"),
        },
        center: p["center"].as_bool().unwrap(),
    }
}

#[test]
fn pyin_matches_librosa_on_every_frame() {
    let cases = common::cases(SET, "pyin");
    assert!(cases.len() >= 5);
    let (mut frames, mut voiced_both, mut prob_diffs) = (0usize, 0usize, 0usize);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (y, sr) = clip(case["clip"].as_str().unwrap());
        assert_eq!(u64::from(sr), case["params"]["sr"].as_u64().unwrap());
        let cfg = config_of(&case["params"]);
        let golden: ArrayD<f64> =
            read_npy(common::golden_dir(SET).join(case["file"].as_str().unwrap())).unwrap();
        let golden: Array2<f64> = golden.into_dimensionality::<Ix2>().unwrap();
        let got = pyin(&y, sr, &cfg).unwrap();
        let n = golden.ncols();
        assert_eq!(got.f0.len(), n, "{name}");
        assert_eq!(got.voiced_flag.len(), n, "{name}");
        assert_eq!(got.voiced_prob.len(), n, "{name}");

        let (mut voicing_diff, mut f0_diff, mut both) = (0usize, 0usize, 0usize);
        let (mut max_rel, mut max_prob, mut prob_diff, mut max_flip) = (0.0f64, 0.0f64, 0, 0.0f64);
        for t in 0..n {
            let (want_f0, want_flag, want_prob) =
                (golden[[0, t]], golden[[1, t]] == 1.0, golden[[2, t]]);
            let (f0, flag) = (f64::from(got.f0[t]), got.voiced_flag[t]);
            let dp = (f64::from(got.voiced_prob[t]) - want_prob).abs();
            if dp > PROB_ABS {
                prob_diff += 1;
                max_flip = max_flip.max(dp);
            } else {
                max_prob = max_prob.max(dp);
            }
            if flag != want_flag {
                voicing_diff += 1;
                continue;
            }
            if !flag && cfg.fill_na == FillNa::Nan {
                assert!(f0.is_nan() && want_f0.is_nan(), "{name} frame {t}");
                continue;
            }
            // Voiced, or unvoiced with fill_na=None (the best guess's frequency).
            both += usize::from(flag);
            let rel = (f0 - want_f0).abs() / want_f0;
            if rel > F0_REL {
                f0_diff += 1;
            } else {
                max_rel = max_rel.max(rel);
            }
        }
        println!(
            "{name}: {n} frames, {} voiced in librosa; voicing differs on {voicing_diff}, \
             f0 beyond {F0_REL:e} on {f0_diff} (max rel {max_rel:.1e} on the rest), \
             |voiced_prob diff| beyond {PROB_ABS:e} on {prob_diff} (by {max_flip:.1e}; \
             max {max_prob:.1e} on the rest)",
            case["n_voiced"]
        );
        assert!(voicing_diff as f64 <= MAX_VOICING_DIFF * n as f64, "{name}");
        assert!(f0_diff as f64 <= MAX_F0_DIFF * n as f64, "{name}");
        assert!(prob_diff as f64 <= MAX_PROB_DIFF * n as f64, "{name}");
        assert!(max_flip <= PROB_FLIP_ABS, "{name}: {max_flip}");
        frames += n;
        prob_diffs += prob_diff;
        voiced_both += both;
    }
    println!(
        "{frames} frames in all, {voiced_both} voiced in both, voiced_prob beyond \
         {PROB_ABS:e} on {prob_diffs}"
    );
    assert!(prob_diffs as f64 <= MAX_PROB_DIFF * frames as f64);
    // The set is not degenerate: most speech frames are voiced, silence is not.
    assert!(voiced_both > frames / 3);
}

#[test]
fn silence_is_unvoiced_like_librosa() {
    let case = common::cases(SET, "pyin")
        .into_iter()
        .find(|c| c["clip"] == "silence_16k")
        .unwrap();
    assert_eq!(case["n_voiced"], 0);
    let (y, sr) = clip("silence_16k");
    let out = pyin(&y, sr, &config_of(&case["params"])).unwrap();
    assert!(out.voiced_flag.iter().all(|v| !v));
    assert!(out.f0.iter().all(|v| v.is_nan()));
    assert!(out.voiced_prob.iter().all(|v| *v == 0.0));
    // All zeros, and tiny noise, do not panic either.
    let zeros = vec![0.0f32; 10_000];
    assert!(pyin(&zeros, 16_000, &PyinConfig::default()).is_ok());
    let tiny: Vec<f32> = (0..10_000)
        .map(|i| 1e-30 * ((i % 7) as f32 - 3.0))
        .collect();
    assert!(pyin(&tiny, 16_000, &PyinConfig::default()).is_ok());
}

#[test]
fn bad_config_and_input_are_typed_errors() {
    let cfg = PyinConfig::new(65.41, 2093.0);
    assert!(matches!(pyin(&[], 16_000, &cfg), Err(Error::Empty { .. })));
    let mut y = vec![0.1f32; 4000];
    y[17] = f32::NAN;
    assert!(matches!(
        pyin(&y, 16_000, &cfg),
        Err(Error::NonFinite { index: 17, .. })
    ));
    let y: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin()).collect();
    let bad = |c: PyinConfig, field: &str| match pyin(&y, 16_000, &c) {
        Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected InvalidConfig({field}), got {other:?}"),
    };
    bad(PyinConfig::new(500.0, 500.0), "fmin");
    bad(PyinConfig::new(600.0, 500.0), "fmin");
    bad(PyinConfig::new(0.0, 500.0), "fmin");
    bad(PyinConfig::new(-5.0, 500.0), "fmin");
    bad(PyinConfig::new(f64::NAN, 500.0), "fmin");
    bad(PyinConfig::new(65.41, f64::INFINITY), "fmax");
    bad(PyinConfig::new(65.41, 8000.5), "fmax");
    // 16000 / 7.8 > 2047: one period of fmin does not fit in a frame.
    bad(PyinConfig::new(7.8, 500.0), "frame_length");
    bad(cfg.with_frames(2048, Some(0)), "hop_length");
    bad(
        PyinConfig {
            n_thresholds: 0,
            ..cfg
        },
        "n_thresholds",
    );
    bad(
        PyinConfig {
            beta_parameters: (0.0, 18.0),
            ..cfg
        },
        "beta_parameters",
    );
    bad(
        PyinConfig {
            beta_parameters: (2.0, f64::NAN),
            ..cfg
        },
        "beta_parameters",
    );
    bad(
        PyinConfig {
            boltzmann_parameter: -1.0,
            ..cfg
        },
        "boltzmann_parameter",
    );
    bad(
        PyinConfig {
            resolution: 0.0,
            ..cfg
        },
        "resolution",
    );
    bad(
        PyinConfig {
            resolution: 1e-4,
            ..cfg
        },
        "resolution",
    );
    bad(
        PyinConfig {
            max_transition_rate: f64::NAN,
            ..cfg
        },
        "max_transition_rate",
    );
    bad(
        PyinConfig {
            switch_prob: 1.5,
            ..cfg
        },
        "switch_prob",
    );
    bad(
        PyinConfig {
            no_trough_prob: -0.1,
            ..cfg
        },
        "no_trough_prob",
    );
    // Two semitones of range, fourteen a frame: librosa's transition_local raises too.
    bad(PyinConfig::new(200.0, 225.0), "max_transition_rate");
    assert!(matches!(pyin(&y, 0, &cfg), Err(Error::ZeroSampleRate)));
    assert!(PyinConfig::new(7.8, 500.0).validate(16_000).is_err());
    assert!(cfg.validate(16_000).is_ok());

    // Shorter than a frame: fine when centred (librosa pads), an error otherwise.
    let short = &y[..1000];
    assert_eq!(pyin(short, 16_000, &cfg).unwrap().f0.len(), 1 + 1000 / 512);
    assert!(matches!(
        pyin(short, 16_000, &cfg.with_center(false)),
        Err(Error::TooShort {
            needed: 2048,
            got: 1000,
            ..
        })
    ));
}

#[test]
fn fill_na_and_a_tone() {
    let sr = 22_050u32;
    let y: Vec<f32> = (0..sr)
        .map(|n| 0.5 * (2.0 * std::f32::consts::PI * 196.0 * n as f32 / sr as f32).sin())
        .collect();
    let out = pyin(&y, sr, &PyinConfig::default()).unwrap();
    // The middle frames are voiced, on the grid bin nearest 196 Hz (G3).
    for t in 4..out.f0.len() - 4 {
        assert!(out.voiced_flag[t], "{t}");
        assert!(
            (out.f0[t] - 196.0).abs() / 196.0 < 0.003,
            "{t}: {}",
            out.f0[t]
        );
        assert!(out.voiced_prob[t] > 0.9);
    }
    let mut y = y;
    y[..11_025].fill(0.0);
    let nan = pyin(&y, sr, &PyinConfig::default()).unwrap();
    let fill = pyin(
        &y,
        sr,
        &PyinConfig::default().with_fill_na(FillNa::Value(-1.0)),
    )
    .unwrap();
    let guess = pyin(
        &y,
        sr,
        &PyinConfig::default().with_fill_na(FillNa::BestGuess),
    )
    .unwrap();
    assert!(!nan.voiced_flag[5] && nan.f0[5].is_nan());
    assert_eq!(nan.voiced_flag, fill.voiced_flag);
    assert_eq!(nan.voiced_flag, guess.voiced_flag);
    for t in 0..nan.f0.len() {
        if nan.voiced_flag[t] {
            assert_eq!(nan.f0[t], fill.f0[t]);
            assert_eq!(nan.f0[t], guess.f0[t]);
        } else {
            assert_eq!(fill.f0[t], -1.0);
            assert!(guess.f0[t] >= 65.0 && guess.f0[t] <= 2100.0);
        }
    }
}

/// `cargo test --release -p ser-dsp --test pyin -- --ignored --nocapture`; librosa's time
/// on the same input: `.venv/bin/python fixtures/scripts/make_golden_pyin.py --time`.
#[test]
#[ignore = "timing; run in release"]
fn timing_3s_16k() {
    let (y, sr) = clip("speech_16k");
    let y: Vec<f32> = y.iter().cycle().take(48_000).copied().collect();
    let cfg = PyinConfig::new(65.41, 2093.0);
    let _ = pyin(&y, sr, &cfg).unwrap();
    let reps = 20;
    let t = std::time::Instant::now();
    for _ in 0..reps {
        std::hint::black_box(pyin(&y, sr, &cfg).unwrap());
    }
    println!(
        "pyin, 3 s at 16 kHz (fmin 65.41, fmax 2093): {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
}
