//! Property tests: length rules, noise statistics, seeded determinism and finiteness of the
//! transforms hold for random signals and parameters, not only for the hand-picked cases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use ser_augment::{
    Audio, Compose, Fill, FrequencyMask, Gain, GaussianNoise, NoiseSnr, PitchShift, Record,
    ShiftMode, SpecGaussianNoise, SpecTimeShift, Spectrogram, TimeMask, TimeShift, TimeStretch,
    Transform, augment_seeded, ndarray::Array2, pitch_shift, time_stretch,
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

const RATES: [u32; 5] = [8_000, 16_000, 22_050, 44_100, 48_000];

fn samples(min_len: usize, max_len: usize) -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(-1.0f32..1.0, min_len..max_len)
}

fn audio(min_len: usize, max_len: usize) -> impl Strategy<Value = Audio> {
    (samples(min_len, max_len), prop::sample::select(&RATES[..]))
        .prop_map(|(y, sr)| Audio::new(y, sr).unwrap())
}

fn spectrogram() -> impl Strategy<Value = Spectrogram> {
    (1usize..40, 1usize..60, any::<u64>()).prop_map(|(rows, cols, salt)| {
        Array2::from_shape_fn((rows, cols), |(r, c)| {
            let h = (r as u64 * 31 + c as u64 * 7) ^ salt;
            (h % 1000) as f32 * 0.08 - 80.0
        })
    })
}

/// The waveform transforms with random parameters: every one of them, with and without
/// randomness inside.
fn wave_transform() -> impl Strategy<Value = Arc<dyn Transform<Audio>>> {
    prop_oneof![
        (0.5f32..1.0, 1.0f32..2.0).prop_map(|(a, b)| {
            Arc::new(TimeStretch::new(a, b).unwrap()) as Arc<dyn Transform<Audio>>
        }),
        (-4.0f32..4.0).prop_map(|s| Arc::new(PitchShift::fixed(s).unwrap()) as _),
        Just(Arc::new(PitchShift::research()) as _),
        (0.0f64..0.5).prop_map(|a| Arc::new(GaussianNoise::new(a).unwrap()) as _),
        (-10.0f64..40.0).prop_map(|s| Arc::new(NoiseSnr::new(s).unwrap()) as _),
        (-20.0f64..20.0).prop_map(|d| Arc::new(Gain::new(d).unwrap()) as _),
        (0.0f64..1.0).prop_map(|f| Arc::new(TimeShift::new(f, ShiftMode::Roll).unwrap()) as _),
        (0.0f64..1.0).prop_map(|f| Arc::new(TimeShift::new(f, ShiftMode::ZeroFill).unwrap()) as _),
    ]
}

fn spec_transform() -> impl Strategy<Value = Arc<dyn Transform<Spectrogram>>> {
    prop_oneof![
        Just(Arc::new(SpecTimeShift::research()) as Arc<dyn Transform<Spectrogram>>),
        (0.0f64..1.0).prop_map(|s| Arc::new(SpecGaussianNoise::new(s).unwrap()) as _),
        (1usize..50, 1usize..4)
            .prop_map(|(w, n)| { Arc::new(FrequencyMask::new(w, n, Fill::Mean).unwrap()) as _ }),
        (1usize..80, 1usize..4)
            .prop_map(|(w, n)| { Arc::new(TimeMask::new(w, n, Fill::Min).unwrap()) as _ }),
    ]
}

fn shift_of(record: &Record) -> i64 {
    record.steps[0].params["shift_samples"] as i64
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn time_stretch_length_is_round_len_over_rate(y in samples(1, 3000), rate in 0.25f32..4.0) {
        let out = time_stretch(&y, rate).unwrap();
        let expected = (y.len() as f64 / f64::from(rate)).round_ties_even() as usize;
        prop_assert_eq!(out.len(), expected, "len {} rate {}", y.len(), rate);
        prop_assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn pitch_shift_keeps_the_length(
        y in samples(1, 3000),
        sr in prop::sample::select(&RATES[..]),
        n_steps in -12.0f32..12.0,
        bins_per_octave in prop::sample::select(&[12u32, 24, 36][..]),
    ) {
        let out = pitch_shift(&y, sr, n_steps, bins_per_octave).unwrap();
        prop_assert_eq!(out.len(), y.len());
        prop_assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn time_shift_keeps_length_roll_keeps_samples_zero_fill_moves_them(
        x in audio(1, 2000), max_fraction in 0.0f64..1.0, seed in any::<u64>()
    ) {
        let roll = TimeShift::new(max_fraction, ShiftMode::Roll).unwrap();
        let (y, record) = augment_seeded(&roll, &x, seed).unwrap();
        prop_assert_eq!(y.len(), x.len());
        prop_assert_eq!(y.sample_rate(), x.sample_rate());
        let n = x.len() as i64;
        let s = shift_of(&record);
        prop_assert!(s.abs() <= (max_fraction * n as f64).floor() as i64);
        for i in 0..n {
            prop_assert_eq!(y.samples()[i.rem_euclid(n) as usize],
                x.samples()[(i - s).rem_euclid(n) as usize]);
        }

        let fill = TimeShift::new(max_fraction, ShiftMode::ZeroFill).unwrap();
        let (y, record) = augment_seeded(&fill, &x, seed).unwrap();
        prop_assert_eq!(y.len(), x.len());
        let s = shift_of(&record);
        for i in 0..n {
            let src = i - s;
            let want = if (0..n).contains(&src) { x.samples()[src as usize] } else { 0.0 };
            prop_assert_eq!(y.samples()[i as usize], want);
        }
    }

    #[test]
    fn gaussian_noise_adds_the_requested_energy(
        x in audio(4000, 8000), amplitude in 0.001f64..0.5, seed in any::<u64>()
    ) {
        let (y, record) = augment_seeded(&GaussianNoise::new(amplitude).unwrap(), &x, seed).unwrap();
        prop_assert_eq!(y.len(), x.len());
        prop_assert_eq!(record.steps[0].params["amplitude"], amplitude);
        let n = x.len() as f64;
        let noise: Vec<f64> =
            y.samples().iter().zip(x.samples()).map(|(a, b)| f64::from(*a) - f64::from(*b)).collect();
        let mean = noise.iter().sum::<f64>() / n;
        let power = noise.iter().map(|v| v * v).sum::<f64>() / n;
        // Sample variance of n >= 4000 normals: relative standard error sqrt(2/n) <= 2.3 %.
        let ratio = power / (amplitude * amplitude);
        prop_assert!((0.85..1.15).contains(&ratio), "noise power / a^2 = {}", ratio);
        // Mean: standard error a / sqrt(n) <= a / 63.
        prop_assert!(mean.abs() < 0.1 * amplitude, "noise mean {} for a = {}", mean, amplitude);
    }

    #[test]
    fn wave_transforms_same_seed_same_output_finite_in_finite_out(
        t in wave_transform(), x in audio(1, 3000), seed in any::<u64>()
    ) {
        let (a, ra) = augment_seeded(t.as_ref(), &x, seed).unwrap();
        let (b, rb) = augment_seeded(t.as_ref(), &x, seed).unwrap();
        prop_assert_eq!(
            a.samples().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.samples().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(a.sample_rate(), x.sample_rate());
        prop_assert!(a.samples().iter().all(|v| v.is_finite()), "{:?}", t);
    }

    #[test]
    fn research_pipeline_same_seed_bit_identical(x in audio(100, 3000), seed in any::<u64>()) {
        let pipeline = ser_augment::research_waveform();
        let (a, ra) = augment_seeded(&pipeline, &x, seed).unwrap();
        let (b, rb) = augment_seeded(&pipeline, &x, seed).unwrap();
        prop_assert_eq!(a, b);
        prop_assert_eq!(ra, rb);
    }

    #[test]
    fn spec_transforms_keep_shape_same_seed_same_output(
        t in spec_transform(), s in spectrogram(), seed in any::<u64>()
    ) {
        let (a, ra) = augment_seeded(t.as_ref(), &s, seed).unwrap();
        let (b, rb) = augment_seeded(t.as_ref(), &s, seed).unwrap();
        prop_assert_eq!(a.dim(), s.dim());
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(ra, rb);
        prop_assert!(a.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn any_finite_input_never_panics(
        t in wave_transform(),
        y in prop::collection::vec(
            proptest::num::f32::NORMAL | proptest::num::f32::SUBNORMAL | proptest::num::f32::ZERO,
            1..500,
        ),
        seed in any::<u64>(),
    ) {
        let x = Audio::new(y, 16_000).unwrap();
        // Huge samples may overflow (a typed error); what comes back is finite.
        if let Ok((out, _)) = augment_seeded(t.as_ref(), &x, seed) {
            prop_assert!(out.samples().iter().all(|v| v.is_finite()), "{:?}", t);
        }
    }
}

#[test]
fn compose_of_everything_is_deterministic() {
    let x = Audio::new(
        (0..4000).map(|n| (n as f32 * 0.05).sin() * 0.3).collect(),
        16_000,
    )
    .unwrap();
    let pipeline = Compose::new()
        .then(TimeStretch::research())
        .then(PitchShift::research())
        .then(GaussianNoise::research())
        .then(TimeShift::new(0.2, ShiftMode::Roll).unwrap());
    for seed in [0, 1, u64::MAX] {
        assert_eq!(
            augment_seeded(&pipeline, &x, seed).unwrap(),
            augment_seeded(&pipeline, &x, seed).unwrap()
        );
    }
}

/// Regression (found by `any_finite_input_never_panics`): finite samples near `f32::MAX`
/// overflowed inside the phase vocoder and `time_stretch`/`pitch_shift` returned `Ok` with
/// NaN/inf samples; now they return [`ser_augment::Error::NonFinite`].
#[test]
fn huge_finite_input_is_a_typed_error_not_nan_output() {
    let y: Vec<f32> = (0..3000)
        .map(|n| if n % 2 == 0 { 3e38 } else { -3e38 })
        .collect();
    let stretched = time_stretch(&y, 0.8);
    assert!(
        matches!(stretched, Err(ser_augment::Error::NonFinite { .. })),
        "{stretched:?}"
    );
    let shifted = pitch_shift(&y, 16_000, 2.0, 12);
    assert!(
        matches!(shifted, Err(ser_augment::Error::NonFinite { .. })),
        "{shifted:?}"
    );
    let x = Audio::new(y, 16_000).unwrap();
    let t = TimeStretch::fixed(1.25).unwrap();
    assert!(matches!(
        augment_seeded(&t, &x, 0),
        Err(ser_augment::Error::NonFinite { .. })
    ));
}
