//! Decoding the committed fixtures of every default format (`fixtures/audio/formats/`): a
//! 0.5 s, 16 kHz, 440 Hz sine at amplitude 0.5 (mono) and a 0.25 s 440 Hz / 880 Hz pair
//! (stereo). Lossless formats must equal the WAV sample for sample; lossy ones are checked for
//! length, rate, level and pitch, and against a few values printed by soundfile (libsndfile
//! 1.2.2 with mpg123 and libvorbis):
//!
//! ```python
//! import soundfile as sf
//! for f in ['sine440_16k_mono.mp3', 'sine440_16k_mono.ogg']:
//!     d, sr = sf.read(f, dtype='float32')
//!     print(f, d.shape, sr, [float(d[i]) for i in (0, 1, 100, 4000, 7999)])
//! # sine440_16k_mono.mp3 (8000,) 16000
//! #   [0.006565995514392853, 0.0845150500535965, -0.49983519315719604,
//! #    -0.001915067434310913, -0.08250882476568222]
//! # sine440_16k_mono.ogg (8000,) 16000
//! #   [0.009521493688225746, 0.0854138433933258, -0.49548250436782837,
//! #    0.0014767944812774658, -0.08552753180265427]
//! ```

// Helpers outside `#[test]` functions are test code too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Some helpers and imports serve only the feature-gated tests.
#![cfg_attr(
    not(all(
        feature = "wav",
        feature = "pcm",
        feature = "aiff",
        feature = "flac",
        feature = "ogg",
        feature = "vorbis",
        feature = "mp3"
    )),
    allow(unused_imports, dead_code)
)]

mod common;

use common::fixture;
use ser_audio_io::{LoadOptions, load, load_multichannel};

/// Root mean square, in f64.
fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// The power of `x` at `freq` Hz (Goertzel), normalised by the length.
fn power_at(x: &[f32], freq: f64, rate: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / rate;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        re += f64::from(v) * (w * n as f64).cos();
        im -= f64::from(v) * (w * n as f64).sin();
    }
    (re * re + im * im) / (x.len() as f64 * x.len() as f64)
}

/// Checks a decoded mono 440 Hz tone: rate, length, level and pitch.
fn check_tone(samples: &[f32], rate: u32, expected_len: usize) {
    assert_eq!(rate, 16_000);
    assert_eq!(samples.len(), expected_len);
    // 0.5 / sqrt(2) = 0.35355.
    let level = rms(samples);
    assert!((level - 0.353_553).abs() < 0.01, "rms {level}");
    let p440 = power_at(samples, 440.0, 16_000.0);
    for other in [220.0, 880.0, 1_000.0, 3_000.0] {
        let p = power_at(samples, other, 16_000.0);
        assert!(p440 > 1_000.0 * p, "440 Hz: {p440:e}, {other} Hz: {p:e}");
    }
}

#[cfg(all(feature = "wav", feature = "pcm"))]
#[test]
fn wav_fixture_is_the_tone() {
    let audio = load(fixture("sine440_16k_mono.wav")).unwrap();
    check_tone(audio.samples(), audio.sample_rate(), 8_000);
    // sox wrote 16-bit codes: every sample is a multiple of 2^-15.
    assert!(
        audio
            .samples()
            .iter()
            .all(|&x| (x * 32_768.0).fract() == 0.0)
    );
    // soundfile: [0.008392333984375, 0.084503173828125, 0.170166015625]
    assert_eq!(
        &audio.samples()[..3],
        &[0.008_392_334, 0.084_503_174, 0.170_166_02]
    );
}

#[cfg(all(feature = "flac", feature = "wav", feature = "pcm"))]
#[test]
fn flac_equals_wav_sample_for_sample() {
    let wav = load(fixture("sine440_16k_mono.wav")).unwrap();
    assert_eq!(load(fixture("sine440_16k_mono.flac")).unwrap(), wav);
    let options = LoadOptions::default();
    let wav2 = load_multichannel(fixture("sine440_880_16k_stereo.wav"), &options).unwrap();
    let flac2 = load_multichannel(fixture("sine440_880_16k_stereo.flac"), &options).unwrap();
    assert_eq!(flac2, wav2);
}

#[cfg(all(feature = "aiff", feature = "wav", feature = "pcm"))]
#[test]
fn aiff_equals_wav_sample_for_sample() {
    let wav = load(fixture("sine440_16k_mono.wav")).unwrap();
    assert_eq!(load(fixture("sine440_16k_mono.aiff")).unwrap(), wav);
}

#[cfg(all(feature = "ogg", feature = "vorbis"))]
#[test]
fn ogg_vorbis_is_the_tone_and_matches_soundfile() {
    let audio = load(fixture("sine440_16k_mono.ogg")).unwrap();
    check_tone(audio.samples(), audio.sample_rate(), 8_000);
    let reference = [
        (0, 0.009_521_493_688_225_746),
        (1, 0.085_413_843_393_325_8),
        (100, -0.495_482_504_367_828_37),
        (4_000, 0.001_476_794_481_277_465_8),
        (7_999, -0.085_527_531_802_654_27),
    ];
    for (i, expected) in reference {
        let got = f64::from(audio.samples()[i]);
        assert!(
            (got - expected).abs() < 2e-6,
            "sample {i}: {got} vs {expected}"
        );
    }
}

#[cfg(feature = "mp3")]
#[test]
fn mp3_is_the_tone_gapless_and_matches_soundfile() {
    let audio = load(fixture("sine440_16k_mono.mp3")).unwrap();
    // The LAME tag's encoder delay and padding are trimmed: exactly the 8000 input samples.
    check_tone(audio.samples(), audio.sample_rate(), 8_000);
    let reference = [
        (0, 0.006_565_995_514_392_853),
        (1, 0.084_515_050_053_596_5),
        (100, -0.499_835_193_157_196_04),
        (4_000, -0.001_915_067_434_310_913),
        (7_999, -0.082_508_824_765_682_22),
    ];
    for (i, expected) in reference {
        let got = f64::from(audio.samples()[i]);
        assert!(
            (got - expected).abs() < 2e-6,
            "sample {i}: {got} vs {expected}"
        );
    }
}

#[cfg(feature = "mp3")]
#[test]
fn mp3_stereo_keeps_two_channels() {
    let audio = load_multichannel(
        fixture("sine440_880_16k_stereo.mp3"),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (audio.channels(), audio.frames(), audio.sample_rate()),
        (2, 4_000, 16_000)
    );
    let left = audio.channel(0).unwrap();
    let right = audio.channel(1).unwrap();
    let (l, r) = (left.samples(), right.samples());
    assert!(power_at(l, 440.0, 16_000.0) > 100.0 * power_at(l, 880.0, 16_000.0));
    assert!(power_at(r, 880.0, 16_000.0) > 100.0 * power_at(r, 440.0, 16_000.0));
}

#[cfg(all(feature = "wav", feature = "pcm"))]
#[test]
fn stereo_wav_downmix_is_the_channel_mean() {
    let options = LoadOptions::default();
    let stereo = load_multichannel(fixture("sine440_880_16k_stereo.wav"), &options).unwrap();
    assert_eq!((stereo.channels(), stereo.frames()), (2, 4_000));
    let mono = load(fixture("sine440_880_16k_stereo.wav")).unwrap();
    assert_eq!(mono.len(), 4_000);
    for (m, f) in mono.samples().iter().zip(stereo.iter_frames()) {
        assert_eq!(m.to_bits(), ((f[0] + f[1]) / 2.0).to_bits());
    }
}

#[test]
fn every_fixture_loads_with_the_default_features() {
    for name in common::all_fixtures() {
        let enabled = match name.rsplit('.').next() {
            Some("wav") => cfg!(all(feature = "wav", feature = "pcm")),
            Some("aiff") => cfg!(all(feature = "aiff", feature = "pcm")),
            Some("flac") => cfg!(feature = "flac"),
            Some("ogg") => cfg!(all(feature = "ogg", feature = "vorbis")),
            Some("mp3") => cfg!(feature = "mp3"),
            other => panic!("unexpected fixture {name} ({other:?})"),
        };
        let result = load(fixture(&name));
        if enabled {
            let audio = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(audio.sample_rate(), 16_000, "{name}");
            assert!(audio.len() >= 4_000, "{name}");
        } else {
            assert!(result.is_err(), "{name} loaded without its feature");
        }
    }
}
