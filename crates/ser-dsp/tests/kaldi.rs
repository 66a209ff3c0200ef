//! `kaldi_fbank` against `torchaudio.compliance.kaldi.fbank` (torchaudio 2.11), golden files
//! from `fixtures/scripts/make_golden_kaldi.py`, and its typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ser_dsp::{Error, KaldiFbank, KaldiFbankConfig, kaldi_fbank};
use serde_json::Value;

const SET: &str = "kaldi";

/// Largest absolute error on log features (natural log of power or magnitude, and the log
/// energy column) over every golden case, for bands within [`DEEP`] of the frame's loudest
/// band; the measured worst is printed by the test.
const LOG_ABS: f32 = 1e-4;
/// How far below the frame's loudest band (in natural-log units of power: 13.8 = 60 dB) the
/// [`LOG_ABS`] bound holds. Deeper bands (the far side lobes of a pure tone, 85 dB down) sit
/// at float32's rounding floor of the FFT and the window, in torchaudio as here.
const DEEP: f32 = 13.8;
/// The bound on those deeper bands.
const LOG_ABS_DEEP: f32 = 5e-3;
/// Largest error on linear mel energies, relative to the frame's largest energy.
const LINEAR_REL: f32 = 1e-5;
/// Largest absolute error on filterbank weights (in [0, 1]).
/// torchaudio builds the filters in float32 (mel values near 2000 divided by their small
/// differences), ser-dsp in f64; the narrow low bins differ by up to 2e-5.
const BANK_ABS: f32 = 5e-5;

fn config(params: &Value) -> KaldiFbankConfig {
    let mut c = KaldiFbankConfig::default();
    for (k, v) in params.as_object().unwrap() {
        match k.as_str() {
            "sample_frequency" => c.sample_frequency = v.as_f64().unwrap(),
            "num_mel_bins" => c.num_mel_bins = v.as_u64().unwrap() as usize,
            "use_energy" => c.use_energy = v.as_bool().unwrap(),
            "snip_edges" => c.snip_edges = v.as_bool().unwrap(),
            "vtln_warp" => c.vtln_warp = v.as_f64().unwrap(),
            "window_type" => c.window_type = v.as_str().unwrap().parse().unwrap(),
            "round_to_power_of_two" => c.round_to_power_of_two = v.as_bool().unwrap(),
            "use_power" => c.use_power = v.as_bool().unwrap(),
            "use_log_fbank" => c.use_log_fbank = v.as_bool().unwrap(),
            "htk_compat" => c.htk_compat = v.as_bool().unwrap(),
            "raw_energy" => c.raw_energy = v.as_bool().unwrap(),
            "subtract_mean" => c.subtract_mean = v.as_bool().unwrap(),
            "energy_floor" => c.energy_floor = v.as_f64().unwrap() as f32,
            "low_freq" => c.low_freq = v.as_f64().unwrap(),
            "high_freq" => c.high_freq = v.as_f64().unwrap(),
            "frame_length" => c.frame_length = v.as_f64().unwrap(),
            "frame_shift" => c.frame_shift = v.as_f64().unwrap(),
            "preemphasis_coefficient" => {
                c.preemphasis_coefficient = v.as_f64().unwrap() as f32;
            }
            "remove_dc_offset" => c.remove_dc_offset = v.as_bool().unwrap(),
            other => panic!("golden parameter {other} not mapped"),
        }
    }
    c
}

#[test]
fn fbank_matches_torchaudio() {
    let mut worst_log = 0.0f32;
    let mut worst_lin = 0.0f32;
    let mut worst_deep = 0.0f32;
    for case in common::cases(SET, "fbank") {
        let name = case["name"].as_str().unwrap();
        let cfg = config(&case["params"]);
        let (y, sr) = common::clip(case["clip"].as_str().unwrap());
        assert_eq!(f64::from(sr), cfg.sample_frequency, "{name}");
        let scale = case["scale"].as_f64().unwrap() as f32;
        let y: Vec<f32> = y.iter().map(|v| v * scale).collect();
        let want = common::npy2(SET, case["file"].as_str().unwrap());
        let got = kaldi_fbank(&y, &cfg).unwrap();
        assert_eq!(got.dim(), want.dim(), "{name}");
        let n_bins = cfg.num_mel_bins;
        let energy_col = match (cfg.use_energy, cfg.htk_compat) {
            (false, _) => None,
            (true, false) => Some(0),
            (true, true) => Some(n_bins),
        };
        for (t, (g, w)) in got.rows().into_iter().zip(want.rows()).enumerate() {
            let row_max = w
                .iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != energy_col)
                .map(|(_, v)| v.abs())
                .fold(0.0f32, f32::max);
            let row_top = w
                .iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != energy_col)
                .map(|(_, v)| *v)
                .fold(f32::NEG_INFINITY, f32::max);
            for (j, (a, b)) in g.iter().zip(w.iter()).enumerate() {
                let e = (a - b).abs();
                if Some(j) == energy_col || (cfg.use_log_fbank && *b >= row_top - DEEP) {
                    worst_log = worst_log.max(e);
                    assert!(e <= LOG_ABS, "{name}: frame {t}, column {j}: {a} vs {b}");
                } else if cfg.use_log_fbank {
                    worst_deep = worst_deep.max(e);
                    assert!(
                        e <= LOG_ABS_DEEP,
                        "{name}: frame {t}, column {j}: {a} vs {b}"
                    );
                } else {
                    let rel = e / row_max.max(f32::MIN_POSITIVE);
                    worst_lin = worst_lin.max(rel);
                    assert!(
                        rel <= LINEAR_REL,
                        "{name}: frame {t}, column {j}: {a} vs {b}"
                    );
                }
            }
        }
    }
    println!(
        "worst log error {worst_log:e} (deep bands {worst_deep:e}), worst linear relative \
         error {worst_lin:e}"
    );
}

#[test]
fn filterbank_matches_torchaudio_get_mel_banks() {
    for case in common::cases(SET, "melbank") {
        let p = &case["params"];
        let cfg = KaldiFbankConfig {
            num_mel_bins: p["num_bins"].as_u64().unwrap() as usize,
            sample_frequency: p["sample_freq"].as_f64().unwrap(),
            low_freq: p["low_freq"].as_f64().unwrap(),
            high_freq: p["high_freq"].as_f64().unwrap(),
            vtln_low: p["vtln_low"].as_f64().unwrap(),
            vtln_high: p["vtln_high"].as_f64().unwrap(),
            vtln_warp: p["vtln_warp_factor"].as_f64().unwrap(),
            ..Default::default()
        };
        let fb = KaldiFbank::new(cfg).unwrap();
        assert_eq!(
            fb.padded_window_size() as u64,
            p["window_length_padded"].as_u64().unwrap()
        );
        let want = common::npy2(SET, case["file"].as_str().unwrap());
        let got = fb.filterbank();
        assert_eq!(got.dim(), (want.nrows(), want.ncols() + 1));
        assert!(got.column(want.ncols()).iter().all(|v| *v == 0.0));
        let mut worst = 0.0f32;
        for ((b, k), w) in want.indexed_iter() {
            worst = worst.max((got[[b, k]] - w).abs());
        }
        println!("{}: worst weight error {worst:e}", case["name"]);
        assert!(worst <= BANK_ABS, "{}: {worst}", case["name"]);
    }
}

#[test]
fn frame_counts_follow_kaldi() {
    let snip = KaldiFbank::new(KaldiFbankConfig::default()).unwrap();
    assert_eq!(
        (
            snip.window_size(),
            snip.window_shift(),
            snip.padded_window_size()
        ),
        (400, 160, 512)
    );
    assert_eq!(snip.n_frames(400), 1);
    assert_eq!(snip.n_frames(559), 1);
    assert_eq!(snip.n_frames(560), 2);
    let mirror = KaldiFbank::new(KaldiFbankConfig {
        snip_edges: false,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(mirror.n_frames(400), 3);
    assert_eq!(mirror.n_frames(16_000), 100);
    let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.3).sin() * 1e3).collect();
    assert_eq!(mirror.compute(&y).unwrap().dim(), (100, 23));
    assert_eq!(snip.compute(&y).unwrap().dim(), (98, 23));
}

#[test]
fn scale_shifts_log_fbank_by_twice_its_log() {
    // log(power) of a scaled input moves by 2 ln(scale) wherever the floor is not reached.
    let (y, _) = common::clip("speech_16k");
    let a = kaldi_fbank(&y, &KaldiFbankConfig::default()).unwrap();
    let big: Vec<f32> = y.iter().map(|v| v * 32768.0).collect();
    let b = kaldi_fbank(&big, &KaldiFbankConfig::default()).unwrap();
    let shift = 2.0 * 32768f32.ln();
    for (p, q) in a.iter().zip(&b) {
        if *p > -10.0 {
            assert!((q - p - shift).abs() < 1e-3, "{p} {q}");
        }
    }
}

#[test]
fn bad_configs_are_typed_errors() {
    let bad = |c: KaldiFbankConfig, field: &str| match KaldiFbank::new(c) {
        Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("{field}: {other:?}"),
    };
    let d = KaldiFbankConfig::default;
    bad(
        KaldiFbankConfig {
            sample_frequency: 0.0,
            ..d()
        },
        "sample_frequency",
    );
    bad(
        KaldiFbankConfig {
            sample_frequency: f64::NAN,
            ..d()
        },
        "sample_frequency",
    );
    bad(
        KaldiFbankConfig {
            frame_length: 0.01,
            ..d()
        },
        "frame_length",
    );
    bad(
        KaldiFbankConfig {
            frame_length: 1e12,
            ..d()
        },
        "frame_length",
    );
    bad(
        KaldiFbankConfig {
            frame_shift: 0.01,
            ..d()
        },
        "frame_shift",
    );
    bad(
        KaldiFbankConfig {
            frame_shift: -1.0,
            ..d()
        },
        "frame_shift",
    );
    bad(
        KaldiFbankConfig {
            frame_length: 25.0625,
            round_to_power_of_two: false,
            ..d()
        },
        "frame_length",
    );
    bad(
        KaldiFbankConfig {
            preemphasis_coefficient: 1.5,
            ..d()
        },
        "preemphasis_coefficient",
    );
    bad(
        KaldiFbankConfig {
            preemphasis_coefficient: f32::NAN,
            ..d()
        },
        "preemphasis_coefficient",
    );
    bad(
        KaldiFbankConfig {
            num_mel_bins: 3,
            ..d()
        },
        "num_mel_bins",
    );
    bad(
        KaldiFbankConfig {
            num_mel_bins: 1 << 20,
            ..d()
        },
        "num_mel_bins",
    );
    bad(
        KaldiFbankConfig {
            low_freq: 8000.0,
            ..d()
        },
        "low_freq",
    );
    bad(
        KaldiFbankConfig {
            high_freq: 9000.0,
            ..d()
        },
        "high_freq",
    );
    bad(
        KaldiFbankConfig {
            high_freq: -8000.0,
            ..d()
        },
        "high_freq",
    );
    bad(
        KaldiFbankConfig {
            low_freq: 4000.0,
            high_freq: 3000.0,
            ..d()
        },
        "high_freq",
    );
    bad(
        KaldiFbankConfig {
            dither: -1.0,
            ..d()
        },
        "dither",
    );
    bad(
        KaldiFbankConfig {
            energy_floor: f32::INFINITY,
            ..d()
        },
        "energy_floor",
    );
    bad(
        KaldiFbankConfig {
            vtln_warp: 0.0,
            ..d()
        },
        "vtln_warp",
    );
    bad(
        KaldiFbankConfig {
            vtln_warp: 0.9,
            vtln_low: 10.0,
            ..d()
        },
        "vtln_low",
    );
    bad(
        KaldiFbankConfig {
            vtln_warp: 0.9,
            vtln_high: 9000.0,
            ..d()
        },
        "vtln_high",
    );
    // Without warping the VTLN cut-offs are not looked at (as torchaudio).
    assert!(
        KaldiFbank::new(KaldiFbankConfig {
            vtln_low: 10.0,
            ..d()
        })
        .is_ok()
    );
    assert!("gaussian".parse::<ser_dsp::KaldiWindow>().is_err());
}

#[test]
fn bad_input_is_a_typed_error() {
    let fb = KaldiFbank::new(KaldiFbankConfig::default()).unwrap();
    assert!(matches!(fb.compute(&[]), Err(Error::Empty { .. })));
    assert!(matches!(
        fb.compute(&[0.5; 399]),
        Err(Error::TooShort {
            needed: 400,
            got: 399,
            ..
        })
    ));
    let mut y = vec![0.1f32; 1000];
    y[700] = f32::NAN;
    assert!(matches!(
        fb.compute(&y),
        Err(Error::NonFinite { index: 700, .. })
    ));
    // Silence is floored, not an error: every band is ln(f32::EPSILON).
    let z = fb.compute(&[0.0; 1000]).unwrap();
    assert!(z.iter().all(|v| *v == f32::EPSILON.ln()));
}
