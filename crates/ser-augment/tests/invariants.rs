//! Invariants of the waveform and spectrogram transforms: determinism, the statistics they
//! promise, exact mask ranges, and typed errors on bad parameters or data.
// Test helpers may unwrap: a failing unwrap is a failing test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ser_augment::{
    Audio, Error, Fill, FrequencyMask, Gain, GaussianNoise, NoiseSnr, ShiftMode, SpecGaussianNoise,
    SpecShiftMode, SpecTimeShift, Spectrogram, TimeMask, TimeShift, Transform, augment_seeded,
    ndarray::Array2,
};

const SR: u32 = 16_000;

fn tone(freq: f32, secs: f32) -> Audio {
    let n = (SR as f32 * secs) as usize;
    let y = (0..n)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / SR as f32).sin())
        .collect();
    Audio::new(y, SR).unwrap()
}

fn spec() -> Spectrogram {
    Array2::from_shape_fn((16, 40), |(r, c)| (r * 40 + c) as f32 * 0.01 - 3.0)
}

fn energy(y: &[f32]) -> f64 {
    y.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

fn wave_transforms() -> Vec<Box<dyn Transform<Audio>>> {
    vec![
        Box::new(GaussianNoise::research()),
        Box::new(GaussianNoise::uniform(0.001, 0.01).unwrap()),
        Box::new(NoiseSnr::uniform(5.0, 20.0).unwrap()),
        Box::new(Gain::uniform(-6.0, 6.0).unwrap()),
        Box::new(TimeShift::new(0.2, ShiftMode::Roll).unwrap()),
        Box::new(TimeShift::new(0.2, ShiftMode::ZeroFill).unwrap()),
    ]
}

fn spec_transforms() -> Vec<Box<dyn Transform<Spectrogram>>> {
    vec![
        Box::new(SpecTimeShift::research()),
        Box::new(SpecTimeShift::new(0.3, SpecShiftMode::Fill(Fill::Min)).unwrap()),
        Box::new(SpecGaussianNoise::uniform(0.01, 0.1).unwrap()),
        Box::new(FrequencyMask::new(4, 2, Fill::Mean).unwrap()),
        Box::new(TimeMask::new(8, 2, Fill::Value(0.0)).unwrap()),
    ]
}

#[test]
fn wave_transforms_same_seed_are_bit_identical_and_seeds_differ() {
    let x = tone(440.0, 0.25);
    for t in wave_transforms() {
        let (a, ra) = augment_seeded(&*t, &x, 1).unwrap();
        let (b, rb) = augment_seeded(&*t, &x, 1).unwrap();
        assert_eq!(a.samples(), b.samples(), "{}", t.name());
        assert_eq!(ra, rb);
        assert_eq!(ra.steps.len(), 1);
        assert_eq!(ra.steps[0].name, t.name());
        assert_eq!(a.len(), x.len(), "{} changed the length", t.name());
        let (c, rc) = augment_seeded(&*t, &x, 2).unwrap();
        assert!(
            c.samples() != a.samples() || rc != ra,
            "{}: seeds 1 and 2 agree",
            t.name()
        );
    }
}

#[test]
fn spec_transforms_same_seed_are_bit_identical_and_seeds_differ() {
    let x = spec();
    for t in spec_transforms() {
        let (a, ra) = augment_seeded(&*t, &x, 1).unwrap();
        let (b, rb) = augment_seeded(&*t, &x, 1).unwrap();
        assert_eq!(a, b, "{}", t.name());
        assert_eq!(ra, rb);
        assert_eq!(a.dim(), x.dim());
        let differs = (2..6).any(|s| augment_seeded(&*t, &x, s).unwrap().0 != a);
        assert!(differs, "{}: all seeds agree", t.name());
    }
}

#[test]
fn gaussian_noise_research_has_amplitude_0_005() {
    let x = Audio::new(vec![0.0; 32_000], SR).unwrap();
    let (y, r) = augment_seeded(&GaussianNoise::research(), &x, 3).unwrap();
    assert_eq!(r.steps[0].params["amplitude"], 0.005);
    let std = (energy(y.samples()) / y.len() as f64).sqrt();
    assert!((std - 0.005).abs() < 0.0002, "std {std}");
}

#[test]
fn noise_snr_measures_the_requested_snr() {
    let x = tone(440.0, 1.0);
    for target in [0.0, 10.0, 20.0] {
        let t = NoiseSnr::new(target).unwrap();
        let mut measured = 0.0;
        let seeds = 5;
        for seed in 0..seeds {
            let (y, r) = augment_seeded(&t, &x, seed).unwrap();
            assert_eq!(r.steps[0].params["snr_db"], target);
            let noise: Vec<f32> = y
                .samples()
                .iter()
                .zip(x.samples())
                .map(|(a, b)| a - b)
                .collect();
            measured += 10.0 * (energy(x.samples()) / energy(&noise)).log10();
        }
        measured /= seeds as f64;
        assert!(
            (measured - target).abs() <= 0.5,
            "target {target} dB, measured {measured}"
        );
    }
}

#[test]
fn noise_snr_on_silence_is_a_no_op() {
    let x = Audio::new(vec![0.0; 100], SR).unwrap();
    let (y, r) = augment_seeded(&NoiseSnr::new(10.0).unwrap(), &x, 0).unwrap();
    assert_eq!(y, x);
    assert_eq!(r.steps[0].params["noise_std"], 0.0);
}

#[test]
fn gain_scales_by_the_recorded_db() {
    let x = tone(440.0, 0.1);
    let (y, r) = augment_seeded(&Gain::uniform(-12.0, 12.0).unwrap(), &x, 9).unwrap();
    let db = r.steps[0].params["gain_db"];
    assert!((-12.0..12.0).contains(&db));
    let factor = 10f64.powf(db / 20.0);
    for (a, b) in y.samples().iter().zip(x.samples()) {
        assert!((f64::from(*a) - f64::from(*b) * factor).abs() < 1e-6);
    }
}

#[test]
fn time_shift_roll_preserves_energy_and_zero_fill_preserves_length() {
    let x = tone(300.0, 0.2);
    for seed in 0..10 {
        let (y, r) =
            augment_seeded(&TimeShift::new(0.5, ShiftMode::Roll).unwrap(), &x, seed).unwrap();
        let k = r.steps[0].params["shift_samples"];
        assert!(k.abs() <= (0.5 * x.len() as f64).floor());
        let mut sorted_x: Vec<f32> = x.samples().to_vec();
        let mut sorted_y: Vec<f32> = y.samples().to_vec();
        sorted_x.sort_by(f32::total_cmp);
        sorted_y.sort_by(f32::total_cmp);
        assert_eq!(sorted_x, sorted_y, "roll must permute the samples");
        assert!((energy(y.samples()) - energy(x.samples())).abs() < 1e-9);

        let (z, r) =
            augment_seeded(&TimeShift::new(0.5, ShiftMode::ZeroFill).unwrap(), &x, seed).unwrap();
        assert_eq!(z.len(), x.len());
        let k = r.steps[0].params["shift_samples"] as i64;
        let n = x.len() as i64;
        for i in 0..n {
            let src = i - k;
            let expected = if (0..n).contains(&src) {
                x.samples()[src as usize]
            } else {
                0.0
            };
            assert_eq!(z.samples()[i as usize], expected);
        }
    }
}

#[test]
fn spec_time_shift_roll_moves_columns_exactly() {
    let x = spec();
    let t = SpecTimeShift::new(0.5, SpecShiftMode::Roll).unwrap();
    for seed in 0..5 {
        let (y, r) = augment_seeded(&t, &x, seed).unwrap();
        let k = r.steps[0].params["shift_frames"] as i64;
        let n = x.ncols() as i64;
        for c in 0..n {
            let src = (c - k).rem_euclid(n) as usize;
            assert_eq!(y.column(c as usize), x.column(src));
        }
    }
}

fn masked_ranges(r: &ser_augment::Record) -> (f32, Vec<(usize, usize)>) {
    let p = &r.steps[0].params;
    let fill = p["fill"] as f32;
    let mut ranges = Vec::new();
    for i in 0.. {
        match (p.get(&format!("start_{i}")), p.get(&format!("width_{i}"))) {
            (Some(&s), Some(&w)) => ranges.push((s as usize, w as usize)),
            _ => break,
        }
    }
    (fill, ranges)
}

#[test]
fn masks_fill_exactly_the_recorded_ranges() {
    let x = spec();
    let mean = (x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64) as f32;
    for seed in 0..20 {
        let (y, r) =
            augment_seeded(&FrequencyMask::new(5, 2, Fill::Mean).unwrap(), &x, seed).unwrap();
        let (fill, ranges) = masked_ranges(&r);
        assert_eq!(fill, mean);
        assert_eq!(ranges.len(), 2);
        for ((row, col), &v) in y.indexed_iter() {
            let masked = ranges.iter().any(|&(s, w)| (s..s + w).contains(&row));
            assert!(ranges.iter().all(|&(s, w)| w <= 5 && s + w <= x.nrows()));
            assert_eq!(v, if masked { fill } else { x[[row, col]] });
        }

        let (y, r) =
            augment_seeded(&TimeMask::new(10, 3, Fill::Value(-1.5)).unwrap(), &x, seed).unwrap();
        let (fill, ranges) = masked_ranges(&r);
        assert_eq!(fill, -1.5);
        assert_eq!(ranges.len(), 3);
        for ((row, col), &v) in y.indexed_iter() {
            let masked = ranges.iter().any(|&(s, w)| (s..s + w).contains(&col));
            assert_eq!(v, if masked { fill } else { x[[row, col]] });
        }
    }
}

#[test]
fn mask_wider_than_the_axis_is_clamped() {
    let x = Array2::from_elem((3, 2), 1.0f32);
    for seed in 0..10 {
        let (y, r) = augment_seeded(
            &FrequencyMask::new(100, 1, Fill::Value(0.0)).unwrap(),
            &x,
            seed,
        )
        .unwrap();
        let (_, ranges) = masked_ranges(&r);
        assert!(ranges[0].0 + ranges[0].1 <= 3);
        assert_eq!(y.dim(), (3, 2));
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let bad = [
        GaussianNoise::new(-0.1).err(),
        GaussianNoise::new(f64::NAN).err(),
        GaussianNoise::uniform(0.2, 0.1).err(),
        NoiseSnr::new(f64::INFINITY).err(),
        NoiseSnr::uniform(30.0, 10.0).err(),
        Gain::new(500.0).err(),
        TimeShift::new(1.5, ShiftMode::Roll).err(),
        TimeShift::new(-0.1, ShiftMode::ZeroFill).err(),
        SpecTimeShift::new(2.0, SpecShiftMode::Roll).err(),
        SpecTimeShift::new(0.1, SpecShiftMode::Fill(Fill::Value(f32::NAN))).err(),
        SpecGaussianNoise::new(-1.0).err(),
        FrequencyMask::new(0, 1, Fill::Mean).err(),
        FrequencyMask::new(3, 0, Fill::Mean).err(),
        TimeMask::new(3, 1, Fill::Value(f32::INFINITY)).err(),
    ];
    for (i, e) in bad.into_iter().enumerate() {
        assert!(
            matches!(e, Some(Error::InvalidParameter { .. })),
            "case {i}: {e:?}"
        );
    }
}

#[test]
fn empty_and_non_finite_inputs_are_typed_errors() {
    let empty = Audio::new(Vec::new(), SR).unwrap();
    let nan = Audio::new(vec![0.0, f32::NAN, 0.0], SR).unwrap();
    for t in wave_transforms() {
        assert!(
            matches!(augment_seeded(&*t, &empty, 0), Err(Error::Empty { .. })),
            "{}",
            t.name()
        );
        assert!(
            matches!(
                augment_seeded(&*t, &nan, 0),
                Err(Error::NonFinite { index: 1, .. })
            ),
            "{}",
            t.name()
        );
    }
    let mut bad = spec();
    bad[[1, 2]] = f32::NEG_INFINITY;
    for t in spec_transforms() {
        for shape in [(0, 5), (5, 0), (0, 0)] {
            let e = augment_seeded(&*t, &Array2::<f32>::zeros(shape), 0);
            assert!(
                matches!(e, Err(Error::Empty { .. })),
                "{} {shape:?}",
                t.name()
            );
        }
        let e = augment_seeded(&*t, &bad, 0);
        assert!(
            matches!(e, Err(Error::NonFinite { index: 42, .. })),
            "{}: {e:?}",
            t.name()
        );
    }
}

#[test]
fn overflowing_output_is_a_typed_error() {
    let x = Audio::new(vec![f32::MAX / 2.0; 4], SR).unwrap();
    let e = augment_seeded(&Gain::new(60.0).unwrap(), &x, 0);
    assert!(matches!(e, Err(Error::NonFinite { .. })));
}

#[test]
fn transforms_are_send_sync_and_serde() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GaussianNoise>();
    assert_send_sync::<FrequencyMask>();
    assert_send_sync::<Box<dyn Transform<Audio>>>();
    let t = TimeShift::new(0.25, ShiftMode::ZeroFill).unwrap();
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(serde_json::from_str::<TimeShift>(&json).unwrap(), t);
    let m = TimeMask::new(7, 2, Fill::Value(-80.0)).unwrap();
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<TimeMask>(&json).unwrap(), m);
}

#[test]
fn deserialized_invalid_transform_errors_on_apply() {
    let t: GaussianNoise =
        serde_json::from_str(r#"{"min_amplitude": 5.0, "max_amplitude": 5.0}"#).unwrap();
    let e = augment_seeded(&t, &tone(100.0, 0.01), 0);
    assert!(matches!(e, Err(Error::InvalidParameter { .. })));
}

#[test]
fn tiny_inputs_never_panic() {
    for len in 1..4 {
        let x = Audio::new(vec![0.25; len], SR).unwrap();
        for t in wave_transforms() {
            for seed in 0..5 {
                let (y, _) = augment_seeded(&*t, &x, seed).unwrap();
                assert_eq!(y.len(), len);
            }
        }
    }
    for shape in [(1, 1), (1, 3), (3, 1)] {
        let x = Array2::from_elem(shape, 0.5f32);
        for t in spec_transforms() {
            for seed in 0..5 {
                let (y, _) = augment_seeded(&*t, &x, seed).unwrap();
                assert_eq!(y.dim(), shape);
            }
        }
    }
    // Shifts by the whole length.
    let x = Audio::new(vec![1.0, 2.0, 3.0], SR).unwrap();
    for mode in [ShiftMode::Roll, ShiftMode::ZeroFill] {
        for seed in 0..10 {
            let (y, _) = augment_seeded(&TimeShift::new(1.0, mode).unwrap(), &x, seed).unwrap();
            assert_eq!(y.len(), 3);
        }
    }
}

#[test]
fn non_standard_layout_spectrogram_is_handled() {
    // A transposed (column-major) view: results match the standard-layout copy.
    let base = Array2::from_shape_fn((40, 16), |(c, r)| (r * 40 + c) as f32);
    let transposed = base.t().to_owned(); // standard layout
    let fortran = base.reversed_axes(); // same logical array, column-major memory
    assert_eq!(transposed, fortran);
    for t in spec_transforms() {
        let a = augment_seeded(&*t, &transposed, 4).unwrap();
        let b = augment_seeded(&*t, &fortran, 4).unwrap();
        assert_eq!(a, b, "{}", t.name());
    }
}
