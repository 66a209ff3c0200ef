//! Property tests: the invariants of the waveform functions and the spectral transforms hold
//! for random (finite) signals, lengths and rates, not only for the hand-picked cases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use ser_dsp::resample::resampled_len;
use ser_dsp::{
    Crop, LogMel, LogMelConfig, MelSpectrogram, MelSpectrogramConfig, SilencePolicy, Stft,
    StftConfig, TrimConfig, pad_or_truncate, pad_or_truncate_in_place, peak_normalize, resample,
    trim,
};

/// Few cases and short signals, so the file runs in seconds in a debug build, from a fixed
/// seed, so CI is reproducible. `PROPTEST_CASES=5000 PROPTEST_RNG_SEED=<n>` explore further.
fn config(cases: u32) -> ProptestConfig {
    let env = ProptestConfig::default(); // reads the PROPTEST_* variables
    let set = |name: &str| std::env::var_os(name).is_some();
    ProptestConfig {
        cases: if set("PROPTEST_CASES") {
            env.cases
        } else {
            cases
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            env.rng_seed
        } else {
            RngSeed::Fixed(20_261_124)
        },
        failure_persistence: None,
        ..env
    }
}

/// Any finite `f32`, from subnormals to `f32::MAX`, with some plain audio-range values.
fn finite_sample() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -1.0f32..1.0,
        1 => proptest::num::f32::NORMAL | proptest::num::f32::SUBNORMAL | proptest::num::f32::ZERO,
    ]
}

fn signal(max_len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(finite_sample(), 0..max_len)
}

fn audio_signal(min_len: usize, max_len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-1.0f32..1.0, min_len..max_len)
}

fn crop() -> impl Strategy<Value = Crop> {
    prop_oneof![Just(Crop::Start), Just(Crop::Center)]
}

const RATES: [u32; 7] = [8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000];

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn pad_or_truncate_any_length_exact_and_keeps_a_window(
        y in signal(300), n in 0usize..400, crop in crop()
    ) {
        let out = pad_or_truncate(&y, n, crop);
        prop_assert_eq!(out.len(), n);
        if y.len() <= n {
            // The input sits whole inside zeros, the odd remainder at the end.
            let left = (n - y.len()) / 2;
            prop_assert_eq!(&out[left..left + y.len()], &y[..]);
            prop_assert!(out[..left].iter().chain(&out[left + y.len()..]).all(|v| *v == 0.0));
        } else {
            let start = match crop {
                Crop::Start => 0,
                Crop::Center => (y.len() - n) / 2,
            };
            prop_assert_eq!(&out[..], &y[start..start + n]);
        }
        let mut in_place = y.clone();
        pad_or_truncate_in_place(&mut in_place, n, crop);
        prop_assert_eq!(in_place, out);
    }

    #[test]
    fn peak_normalize_finite_peak_is_one_or_all_zero(y in signal(300)) {
        let before = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut z = y.clone();
        let peak = peak_normalize(&mut z).unwrap();
        prop_assert_eq!(peak, before);
        let after = z.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if before == 0.0 {
            prop_assert!(z.iter().all(|v| *v == 0.0));
        } else {
            prop_assert_eq!(after, 1.0);
            prop_assert!(z.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn peak_normalize_non_finite_is_an_error_and_changes_nothing(
        mut y in audio_signal(1, 100), at in any::<prop::sample::Index>(),
        bad in prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)]
    ) {
        let i = at.index(y.len());
        y[i] = bad;
        let before = y.clone();
        prop_assert!(peak_normalize(&mut y).is_err());
        prop_assert_eq!(
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            before.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn trim_any_finite_signal_gives_a_sub_interval(
        y in signal(3000),
        top_db in 1.0f32..100.0,
        frame_pow in 4u32..10,
        hop_div in 1usize..5,
    ) {
        let frame_length = 1usize << frame_pow;
        let cfg = TrimConfig { top_db, frame_length, hop_length: (frame_length / hop_div).max(1) };
        let r = trim(&y, &cfg).unwrap();
        prop_assert!(r.start <= r.end && r.end <= y.len(), "{:?} of {}", r, y.len());
        // Any non-zero signal keeps its loudest sample's frame.
        if y.iter().any(|v| *v != 0.0) {
            prop_assert!(!r.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn resample_length_follows_the_documented_rule(
        y in audio_signal(0, 2000),
        from in prop::sample::select(&RATES[..]),
        to in prop::sample::select(&RATES[..]),
    ) {
        let out = resample(&y, from, to).unwrap();
        let expected = if from == to { y.len() } else { resampled_len(y.len(), from, to) };
        prop_assert_eq!(out.len(), expected);
        // librosa's rule: ceil(len * (to / from)), the ratio first, in f64.
        let ratio = f64::from(to) / f64::from(from);
        prop_assert_eq!(expected, (y.len() as f64 * ratio).ceil() as usize);
        prop_assert!(out.iter().all(|v| v.is_finite()));
    }

    /// Hops of `n_fft / 4` or less: with `n_fft / 2`, librosa's frame count (`1 + len / hop`)
    /// can leave the last samples under the very edge of the last Hann window only, where
    /// dividing by the tiny window sum amplifies `f32` rounding (1.6e-4 seen; librosa the same).
    #[test]
    fn stft_istft_round_trip_within_tolerance(
        n_fft_pow in 6u32..10,
        hop_div in prop::sample::select(&[4usize, 8][..]),
        y in audio_signal(1, 3000),
    ) {
        let n_fft = 1usize << n_fft_pow;
        let stft = Stft::new(StftConfig::new(n_fft).with_hop_length(n_fft / hop_div)).unwrap();
        let spec = stft.complex(&y).unwrap();
        let back = stft.inverse(spec.view(), Some(y.len())).unwrap();
        prop_assert_eq!(back.len(), y.len());
        let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let (worst, at) = y
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b).abs())
            .enumerate()
            .fold((0.0f32, 0), |(m, i), (j, d)| if d > m { (d, j) } else { (m, i) });
        prop_assert!(
            worst <= 1e-4 * peak.max(1e-3),
            "n_fft {} hop {} len {}: |error| {} at {} (peak {})",
            n_fft, n_fft / hop_div, y.len(), worst, at, peak
        );
    }

    #[test]
    fn mel_spectrogram_finite_input_no_nan(
        y in prop::collection::vec(prop_oneof![4 => -1.0f32..1.0, 1 => -1e15f32..1e15], 1..4000),
        n_mels in 8usize..64,
        sample_rate in prop::sample::select(&RATES[..]),
    ) {
        let mut cfg = MelSpectrogramConfig::default();
        cfg.stft.n_fft = 512;
        cfg.mel.sample_rate = sample_rate;
        cfg.mel.n_mels = n_mels;
        let mel = MelSpectrogram::new(cfg).unwrap().compute(&y).unwrap();
        prop_assert!(mel.iter().all(|v| v.is_finite() && *v >= 0.0));
    }

    #[test]
    fn logmel_keep_any_finite_input_no_nan(
        y in prop::collection::vec(finite_sample(), 1..6000),
        sample_rate in prop::sample::select(&RATES[..]),
        trim_db in prop_oneof![Just(None), (5.0f32..60.0).prop_map(Some)],
        duration in prop_oneof![Just(None), (0.05f32..0.5).prop_map(Some)],
        normalize in any::<bool>(),
    ) {
        let cfg = LogMelConfig {
            n_fft: 512,
            hop_length: 128,
            n_mels: 40,
            trim_db,
            duration_secs: duration,
            normalize: normalize || y.iter().any(|v| v.abs() > 1e15),
            silence: SilencePolicy::Keep,
            ..LogMelConfig::default()
        };
        let logmel = LogMel::new(cfg).unwrap();
        match logmel.extract_samples(&y, sample_rate) {
            Ok(features) => {
                prop_assert_eq!(features.nrows(), 40);
                prop_assert!(features.iter().all(|v| v.is_finite()), "NaN or inf in {:?}", features);
                if let Some(n) = logmel.n_frames() {
                    prop_assert_eq!(features.ncols(), n);
                }
            }
            // Only a clip that resamples to nothing may be refused, and not with a panic.
            Err(e) => prop_assert!(duration.is_none(), "{}", e),
        }
    }
}
