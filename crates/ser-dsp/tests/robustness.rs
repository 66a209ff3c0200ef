//! Bad data gets a typed error, never a panic: empty, NaN, infinite, silent and too-short
//! inputs, and wrong shapes, through every public entry point.

// A failed unwrap in a test is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ndarray::Array2;
use ser_dsp::num_complex::Complex32;
use ser_dsp::{
    Audio, Crop, DbConfig, Error, LogMel, LogMelConfig, MelConfig, MelFilterbank, MelSpectrogram,
    MelSpectrogramConfig, Mfcc, MfccConfig, Resampler, SilencePolicy, Stft, StftConfig,
    StreamingResampler, TrimConfig, pad_or_truncate, peak_normalize, power_to_db, resample, trim,
};

fn tone(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 0.07).sin() * 0.5).collect()
}

fn with(mut y: Vec<f32>, at: usize, v: f32) -> Vec<f32> {
    y[at] = v;
    y
}

#[test]
fn non_finite_samples_are_reported_with_their_index() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let y = with(tone(20_000), 12_345, bad);
        let check = |r: Result<(), Error>, what: &str| match r {
            Err(Error::NonFinite { index: 12_345, .. }) => {}
            other => panic!("{what} with {bad}: {other:?}"),
        };
        check(peak_normalize(&mut y.clone()).map(|_| ()), "peak_normalize");
        check(trim(&y, &TrimConfig::default()).map(|_| ()), "trim");
        check(resample(&y, 48_000, 16_000).map(|_| ()), "resample");
        check(
            StreamingResampler::new(48_000, 16_000)
                .unwrap()
                .push(&y, &mut Vec::new()),
            "stream",
        );
        check(
            Stft::new(StftConfig::default())
                .unwrap()
                .power(&y)
                .map(|_| ()),
            "stft",
        );
        let mel = MelSpectrogram::new(MelSpectrogramConfig::default()).unwrap();
        check(mel.compute(&y).map(|_| ()), "mel");
        check(
            Mfcc::new(MfccConfig::default())
                .unwrap()
                .compute(&y)
                .map(|_| ()),
            "mfcc",
        );
        let logmel = LogMel::new(LogMelConfig::default()).unwrap();
        check(logmel.extract_samples(&y, 16_000).map(|_| ()), "logmel");
        check(
            logmel.extract_samples(&y, 44_100).map(|_| ()),
            "logmel 44.1k",
        );
        let spec = Array2::from_elem((4, 3), bad);
        assert!(matches!(
            power_to_db(spec.view(), &DbConfig::default()),
            Err(Error::NonFinite { index: 0, .. })
        ));
    }
}

#[test]
fn empty_inputs_are_errors_or_empty_outputs() {
    let stft = Stft::new(StftConfig::default()).unwrap();
    assert!(matches!(stft.power(&[]), Err(Error::Empty { .. })));
    let logmel = LogMel::new(LogMelConfig::default()).unwrap();
    assert!(matches!(
        logmel.extract_samples(&[], 16_000),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(Audio::new(vec![], 0), Err(Error::ZeroSampleRate)));
    assert_eq!(trim(&[], &TrimConfig::default()).unwrap(), 0..0);
    assert_eq!(resample(&[], 44_100, 16_000).unwrap(), Vec::<f32>::new());
    assert_eq!(pad_or_truncate(&[], 4, Crop::Center), vec![0.0; 4]);
    assert_eq!(peak_normalize(&mut []).unwrap(), 0.0);
    let empty = Array2::<Complex32>::zeros((1025, 0));
    assert!(matches!(
        stft.inverse(empty.view(), None),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn silence_is_rejected_by_the_pipeline_unless_kept() {
    let zeros = vec![0.0f32; 30_000];
    let logmel = LogMel::new(LogMelConfig::default()).unwrap();
    assert!(matches!(
        logmel.extract_samples(&zeros, 16_000),
        Err(Error::Silent { .. })
    ));
    let keep = LogMel::new(LogMelConfig {
        silence: SilencePolicy::Keep,
        ..Default::default()
    })
    .unwrap();
    let out = keep.extract_samples(&zeros, 22_050).unwrap();
    assert!(
        out.iter().all(|v| *v == 0.0),
        "librosa gives a constant 0 dB map"
    );
}

#[test]
fn too_short_inputs_are_errors() {
    let no_center = Stft::new(StftConfig::new(1024).with_center(false)).unwrap();
    assert!(matches!(
        no_center.power(&tone(1000)),
        Err(Error::TooShort {
            needed: 1024,
            got: 1000,
            ..
        })
    ));
    // One sample is enough with centring (librosa agrees).
    let stft = Stft::new(StftConfig::default()).unwrap();
    assert_eq!(stft.power(&[0.5]).unwrap().dim(), (1025, 1));
    // A single sample through the whole pipeline, at every rate.
    let logmel = LogMel::new(LogMelConfig::default()).unwrap();
    for sr in [8000, 16_000, 22_050, 44_100, 48_000, 96_000] {
        assert_eq!(
            logmel.extract_samples(&[0.3], sr).unwrap().dim(),
            (128, 94),
            "{sr} Hz"
        );
    }
}

#[test]
fn wrong_shapes_are_errors() {
    let stft = Stft::new(StftConfig::new(512)).unwrap();
    let wrong = Array2::<Complex32>::zeros((100, 4));
    assert!(matches!(
        stft.inverse(wrong.view(), None),
        Err(Error::ShapeMismatch { .. })
    ));
    let fb = MelFilterbank::new(&MelConfig::default(), 2048).unwrap();
    let spec = Array2::<f32>::zeros((513, 4));
    assert!(matches!(
        fb.apply(spec.view()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        fb.apply_column(&[0.0; 10], &mut [0.0; 128]),
        Err(Error::ShapeMismatch { .. })
    ));
    let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
    assert!(matches!(
        mfcc.from_db(Array2::<f32>::zeros((40, 3)).view()),
        Err(Error::ShapeMismatch { .. })
    ));
    let mel = MelSpectrogram::new(MelSpectrogramConfig::default()).unwrap();
    let mut out = Array2::zeros((128, 5));
    let mut scratch = mel.stft().make_scratch();
    assert!(matches!(
        mel.compute_into(&tone(16_000), &mut scratch, &mut out),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn bad_configs_are_errors_naming_the_field() {
    let field = |e: Error| match e {
        Error::InvalidConfig { field, .. } => field,
        Error::ZeroSampleRate => "sample_rate",
        other => panic!("{other:?}"),
    };
    assert_eq!(field(Stft::new(StftConfig::new(0)).unwrap_err()), "n_fft");
    assert_eq!(
        field(Stft::new(StftConfig::new(512).with_win_length(600)).unwrap_err()),
        "win_length"
    );
    let mel = |c: MelConfig| field(MelFilterbank::new(&c, 2048).unwrap_err());
    assert_eq!(
        field(MelFilterbank::new(&MelConfig::default(), 0).unwrap_err()),
        "n_fft"
    );
    assert_eq!(
        mel(MelConfig {
            n_mels: 0,
            ..Default::default()
        }),
        "n_mels"
    );
    assert_eq!(
        mel(MelConfig {
            fmin: -1.0,
            ..Default::default()
        }),
        "fmin"
    );
    assert_eq!(
        mel(MelConfig {
            fmax: Some(f32::NAN),
            ..Default::default()
        }),
        "fmax"
    );
    assert_eq!(
        mel(MelConfig {
            sample_rate: 0,
            ..Default::default()
        }),
        "sample_rate"
    );
    let cfg = MelSpectrogramConfig {
        power: 0.0,
        ..Default::default()
    };
    assert_eq!(field(MelSpectrogram::new(cfg).unwrap_err()), "power");
    let cfg = MfccConfig {
        n_mfcc: 200,
        ..Default::default()
    };
    assert_eq!(field(Mfcc::new(cfg).unwrap_err()), "n_mfcc");
    let lm = |c: LogMelConfig| field(LogMel::new(c).unwrap_err());
    assert_eq!(
        lm(LogMelConfig {
            duration_secs: Some(-3.0),
            ..Default::default()
        }),
        "duration_secs"
    );
    assert_eq!(
        lm(LogMelConfig {
            trim_db: Some(f32::NAN),
            ..Default::default()
        }),
        "trim_db"
    );
    assert_eq!(
        lm(LogMelConfig {
            top_db: Some(-1.0),
            ..Default::default()
        }),
        "top_db"
    );
    let db = DbConfig {
        amin: 0.0,
        ..Default::default()
    };
    assert_eq!(
        field(power_to_db(Array2::<f32>::zeros((2, 2)).view(), &db).unwrap_err()),
        "amin"
    );
    assert_eq!(
        field(
            trim(
                &tone(100),
                &TrimConfig {
                    hop_length: 0,
                    ..Default::default()
                }
            )
            .unwrap_err()
        ),
        "hop_length"
    );
    assert!(matches!(
        Resampler::new(0, 16_000),
        Err(Error::ZeroSampleRate)
    ));
    assert!(matches!(
        resample(&tone(10), 16_000, 0),
        Err(Error::ZeroSampleRate)
    ));
}

#[test]
fn odd_rate_pairs_resample_to_the_librosa_length() {
    let y = tone(10_007);
    for (from, to) in [
        (8000, 16_000),
        (11_025, 16_000),
        (44_100, 44_099),
        (96_000, 16_000),
        (16_000, 7),
    ] {
        let out = resample(&y, from, to).unwrap();
        let want = (y.len() as f64 * (f64::from(to) / f64::from(from))).ceil() as usize;
        assert_eq!(out.len(), want, "{from} -> {to}");
        assert!(out.iter().all(|v| v.is_finite()));
    }
}

/// Resampler plans are bounded for any rate pair: pairs within `SAMPLE_RATES` plan (even
/// nearly coprime, far apart ones), hostile pairs are refused without allocating.
#[test]
fn resampler_cost_is_bounded_for_any_rates() {
    use ser_dsp::{Error, MAX_FFT_BLOCK, Resampler, SAMPLE_RATES, StreamingResampler};
    for (from, to) in [
        (767_999, 16_000),
        (16_000, 767_999),
        (1_009, 16_000),
        (44_101, 16_000),
    ] {
        assert!(SAMPLE_RATES.contains(&from) && SAMPLE_RATES.contains(&to));
        Resampler::new(from, to).unwrap();
    }
    for (from, to) in [
        (u32::MAX, 16_000),
        (16_001, 48_000_000),
        (1, 16_000),
        (1, 768_000),
    ] {
        let e = Resampler::new(from, to).unwrap_err();
        assert!(
            matches!(e, Error::ResamplerTooLarge { frames, limit, .. } if frames > limit && limit == MAX_FFT_BLOCK),
            "{from} -> {to}: {e:?}"
        );
        assert!(StreamingResampler::new(from, to).is_err());
    }
    // A feature configuration outside the range is refused at its constructor.
    // A fixed duration pads to its length whatever the input: at most 10 minutes.
    for d in [600.5f32, 86_400.0, f32::NAN] {
        let cfg = ser_dsp::LogMelConfig {
            duration_secs: Some(d),
            ..Default::default()
        };
        assert!(ser_dsp::LogMel::new(cfg).is_err(), "{d}");
    }
    for rate in [0u32, 999, 768_001, u32::MAX] {
        let cfg = ser_dsp::LogMelConfig {
            sample_rate: rate,
            ..Default::default()
        };
        assert!(ser_dsp::LogMel::new(cfg).is_err(), "{rate}");
    }
}

#[test]
fn mel_bands_that_cover_no_fft_bin_are_refused_by_the_pipeline() {
    // fmax far above Nyquist: most of the 128 bands lie beyond 8 kHz.
    let high = LogMelConfig {
        fmax: Some(1e9),
        ..Default::default()
    };
    match LogMel::new(high) {
        Err(Error::EmptyMelBands { empty, n_mels, .. }) => {
            assert_eq!(n_mels, 128);
            assert!(empty >= 100, "{empty} empty bands");
        }
        other => panic!("expected EmptyMelBands, got {other:?}"),
    }
    // One FFT bin (n_fft 1) leaves every band empty: an all-zero map.
    let tiny = LogMelConfig {
        n_fft: 1,
        ..Default::default()
    };
    let err = LogMel::new(tiny).unwrap_err();
    assert!(
        matches!(err, Error::EmptyMelBands { empty: 128, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("raise n_fft"), "{err}");
    // The defaults and fmax at Nyquist have no empty band.
    for fmax in [None, Some(8000.0)] {
        LogMel::new(LogMelConfig {
            fmax,
            ..Default::default()
        })
        .unwrap();
    }
    // The filterbank itself stays librosa's: it builds, and says which bands are empty.
    let fb = MelFilterbank::new(
        &MelConfig {
            sample_rate: 16_000,
            fmax: Some(16_000.0),
            ..Default::default()
        },
        2048,
    )
    .unwrap();
    let empty = fb.empty_bands();
    assert!(
        !empty.is_empty() && empty.iter().all(|&m| m > 64),
        "{empty:?}"
    );
    assert!(
        MelFilterbank::new(&MelConfig::default(), 2048)
            .unwrap()
            .empty_bands()
            .is_empty()
    );
}
