//! The named presets, pre-emphasis and CMVN against `fixtures/golden/ser-dsp/presets/`
//! (written by `fixtures/scripts/make_golden_presets.py` with librosa 0.11 and numpy). Run
//! with `--nocapture` to see the measured errors.
//!
//! | what | measure | bound |
//! |---|---|---|
//! | `LogMelConfig::librosa(sr)` vs `power_to_db(melspectrogram(y=y, sr=sr))` | max abs error | 1e-3 dB |
//! | `preemphasis`, `deemphasis` (state `zf` too) vs `librosa.effects` | max abs error | 1e-6 × peak (measured: bit-identical) |
//! | `cmvn` vs numpy `(x - mean) / max(std, eps)` (ddof 0, float64), both variants | max abs error | 1e-5 (measured: bit-identical) |

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::{Array2, ArrayD};
use ndarray_npy::read_npy;
use ser_dsp::{LogMel, LogMelConfig, Ref};
use serde_json::Value;

mod common;

const SET: &str = "presets";

fn cases(kind: &str) -> Vec<Value> {
    common::cases(SET, kind)
}

fn npy2(file: &str) -> Array2<f32> {
    common::npy2(SET, file)
}

fn golden2(case: &Value) -> Array2<f32> {
    npy2(case["file"].as_str().unwrap())
}

fn max_abs_diff<'a>(
    got: impl IntoIterator<Item = &'a f32>,
    want: impl IntoIterator<Item = &'a f32>,
) -> f32 {
    got.into_iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

#[test]
fn librosa_preset_matches_librosa_defaults() {
    for case in cases("librosa_logmel") {
        let (y, sr) = common::clip(case["clip"].as_str().unwrap());
        let logmel = LogMel::new(LogMelConfig::librosa(sr)).unwrap();
        let got = logmel.extract_samples(&y, sr).unwrap();
        let want = golden2(&case);
        assert_eq!(got.dim(), want.dim(), "{}", case["id"]);
        let e = max_abs_diff(&got, &want);
        println!("{}: max abs error {e:.3e} dB", case["id"]);
        assert!(e <= 1e-3, "{}: max abs error {e} dB", case["id"]);
    }
}

/// How far the research default is from librosa's defaults on one clip (the figures quoted
/// in `LogMelConfig::research`'s docs).
#[test]
fn research_default_is_far_from_librosa_defaults() {
    let (y, sr) = common::clip("speech_16k");
    let research = LogMel::new(LogMelConfig::research())
        .unwrap()
        .extract_samples(&y, sr)
        .unwrap();
    let librosa = LogMel::new(LogMelConfig::librosa(sr))
        .unwrap()
        .extract_samples(&y, sr)
        .unwrap();
    let stats = |a: &Array2<f32>| {
        let peak = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (peak, a.mean().unwrap())
    };
    let (rp, rm) = stats(&research);
    let (lp, lm) = stats(&librosa);
    println!(
        "speech_16k: research {:?} peak {rp:.1} dB mean {rm:.1} dB; librosa {:?} peak {lp:.1} dB \
         mean {lm:.1} dB; apart {:.1} dB at the peak, {:.1} dB on average",
        research.dim(),
        librosa.dim(),
        lp - rp,
        lm - rm
    );
    assert_eq!(rp, 0.0);
    assert!((lp - 29.0).abs() < 0.1 && (rm + 62.5).abs() < 0.1 && (lm + 30.7).abs() < 0.1);
}

#[test]
fn research_is_the_default_and_its_json_is_unchanged() {
    assert_eq!(LogMelConfig::research(), LogMelConfig::default());
    let json = serde_json::to_string(&LogMelConfig::default()).unwrap();
    // The JSON trained runs wrote before `reference` existed.
    let before = r#"{"sample_rate":16000,"n_fft":2048,"hop_length":512,"n_mels":128,"fmin":0.0,"fmax":8000.0,"power":2.0,"top_db":80.0,"trim_db":20.0,"duration_secs":3.0,"crop":"start","normalize":true,"silence":"reject"}"#;
    assert_eq!(json, before);
    let back: LogMelConfig = serde_json::from_str(before).unwrap();
    assert_eq!(back, LogMelConfig::default());
    assert_eq!(back.reference, Ref::Max);
    let lib = LogMelConfig::librosa(22_050);
    let text = serde_json::to_string(&lib).unwrap();
    assert!(text.contains(r#""reference":{"value":1.0}"#), "{text}");
    assert_eq!(serde_json::from_str::<LogMelConfig>(&text).unwrap(), lib);
}

#[test]
fn librosa_preset_keeps_silence_at_minus_100_db() {
    let logmel = LogMel::new(LogMelConfig::librosa(16_000)).unwrap();
    let db = logmel.extract_samples(&[0.0; 4096], 16_000).unwrap();
    assert_eq!(db.dim(), (128, 9));
    assert!(db.iter().all(|v| (v + 100.0).abs() < 1e-4));
}

fn excerpt(case: &Value) -> Vec<f32> {
    let (y, _) = common::clip(case["clip"].as_str().unwrap());
    let r = case["excerpt"].as_array().unwrap();
    let (lo, hi) = (
        r[0].as_u64().unwrap() as usize,
        r[1].as_u64().unwrap() as usize,
    );
    y[lo..hi].to_vec()
}

fn golden1(case: &Value) -> Vec<f32> {
    let a: ArrayD<f32> =
        read_npy(common::golden_dir(SET).join(case["file"].as_str().unwrap())).unwrap();
    a.into_iter().collect()
}

#[test]
fn emphasis_matches_librosa() {
    let mut n = 0;
    for kind in ["preemphasis", "deemphasis"] {
        for case in cases(kind) {
            let y = excerpt(&case);
            let coef = case["params"]["coef"].as_f64().unwrap() as f32;
            let zi = case["params"]["zi"].as_f64().map(|z| z as f32);
            let mut got = y.clone();
            let zf = if kind == "preemphasis" {
                ser_dsp::preemphasis_in_place(&mut got, coef, zi).unwrap()
            } else {
                ser_dsp::deemphasis_in_place(&mut got, coef, zi).unwrap()
            };
            let want = golden1(&case);
            let e = max_abs_diff(&got, &want);
            let peak = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let zf_want = case["zf"].as_f64().unwrap() as f32;
            println!(
                "{}: max abs error {e:.3e} (peak {peak:.3}), zf {zf} vs {zf_want}",
                case["id"]
            );
            assert!(e <= 1e-6 * peak.max(1.0), "{}: {e}", case["id"]);
            assert!(
                (zf - zf_want).abs() <= 1e-7,
                "{}: zf {zf} vs {zf_want}",
                case["id"]
            );
            n += 1;
        }
    }
    assert_eq!(n, 4);
}

#[test]
fn cmvn_matches_numpy() {
    for case in cases("cmvn") {
        let x = npy2(case["input"].as_str().unwrap());
        let p = &case["params"];
        assert_eq!(p["ddof"], 0);
        let config = ser_dsp::CmvnConfig {
            variance: p["variance"].as_bool().unwrap(),
            eps: p["eps"].as_f64().unwrap() as f32,
        };
        let got = ser_dsp::cmvn(x.view(), &config).unwrap();
        let want = golden2(&case);
        let e = max_abs_diff(&got, &want);
        println!("{}: max abs error {e:.3e}", case["id"]);
        assert!(e <= 1e-5, "{}: max abs error {e}", case["id"]);
    }
}

/// librosa's defaults leave no mel band empty up to about 168 kHz (librosa warns above), and
/// `LogMel::new` refuses what librosa warns about.
#[test]
fn librosa_preset_rates() {
    for sr in [1000, 8000, 16_000, 22_050, 44_100, 48_000, 96_000, 160_000] {
        assert!(LogMel::new(LogMelConfig::librosa(sr)).is_ok(), "{sr}");
    }
    assert!(matches!(
        LogMel::new(LogMelConfig::librosa(192_000)),
        Err(ser_dsp::Error::EmptyMelBands { .. })
    ));
}
