//! Saving WAV files: formats, clipping, NaN, atomicity and the overwrite policy.
#![cfg(all(feature = "wav", feature = "pcm"))]
// Helpers outside `#[test]` functions are test code too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ser_audio_io::{
    Error, LoadOptions, MultiChannelAudio, Overwrite, SaveOptions, WavFormat, load,
    load_multichannel, save_wav, save_wav_multichannel, save_wav_with,
};
use ser_dsp::Audio;

/// The file names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn spec_of(path: &Path) -> hound::WavSpec {
    hound::WavReader::open(path).unwrap().spec()
}

#[test]
fn float32_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.wav");
    let audio = Audio::new(vec![0.0, -0.0, 0.123_456_79, -1.5, 3.0, 1e-38], 44_100).unwrap();
    save_wav(&path, &audio, WavFormat::Float32).unwrap();
    let spec = spec_of(&path);
    assert_eq!(
        (spec.bits_per_sample, spec.sample_format),
        (32, hound::SampleFormat::Float)
    );
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.sample_rate(), 44_100);
    let bits = |a: &Audio| a.samples().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&loaded), bits(&audio));
    assert_eq!(entries(dir.path()), ["f.wav"]);
}

#[test]
fn integer_formats_round_trip_their_own_codes() {
    for (format, bits) in [
        (WavFormat::Pcm16, 16),
        (WavFormat::Pcm24, 24),
        (WavFormat::Pcm32, 32),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.wav");
        let full_scale = f64::from(1u32 << (bits - 1));
        let codes = [
            -full_scale,
            -12_345.0,
            -1.0,
            0.0,
            1.0,
            4_321.0,
            full_scale - 1.0,
        ];
        let samples: Vec<f32> = codes.iter().map(|&c| (c / full_scale) as f32).collect();
        let audio = Audio::new(samples, 16_000).unwrap();
        save_wav(&path, &audio, format).unwrap();
        let spec = spec_of(&path);
        assert_eq!(
            (spec.bits_per_sample, spec.sample_format),
            (bits, hound::SampleFormat::Int)
        );
        // Loading what we wrote gives back the same values (a lossless round trip).
        assert_eq!(load(&path).unwrap(), audio, "{format:?}");
    }
}

#[test]
fn pcm16_of_a_loaded_pcm16_file_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("orig.wav");
    let copy = dir.path().join("copy.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&original, spec).unwrap();
    for code in (i16::MIN..=i16::MAX).step_by(7) {
        writer.write_sample(code).unwrap();
    }
    writer.finalize().unwrap();
    save_wav(&copy, &load(&original).unwrap(), WavFormat::Pcm16).unwrap();
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&original).unwrap()
    );
}

#[test]
fn integer_formats_clip_out_of_range_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.wav");
    let audio = Audio::new(vec![1.0, 1.5, -1.0, -7.0, f32::MAX, f32::MIN], 16_000).unwrap();
    save_wav(&path, &audio, WavFormat::Pcm16).unwrap();
    let codes: Vec<i16> = hound::WavReader::open(&path)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(codes, [32_767, 32_767, -32_768, -32_768, 32_767, -32_768]);
}

#[test]
fn non_finite_samples_are_rejected_and_nothing_is_written() {
    for (bad, format) in [
        (f32::NAN, WavFormat::Pcm16),
        (f32::INFINITY, WavFormat::Float32),
        (f32::NEG_INFINITY, WavFormat::Pcm24),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nan.wav");
        let audio = Audio::new(vec![0.0, 0.5, bad, 0.1], 16_000).unwrap();
        let err = save_wav(&path, &audio, format).unwrap_err();
        let Error::NonFinite {
            path: p,
            index,
            value,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((p.as_path(), *index), (path.as_path(), 2));
        assert_eq!(value.to_bits(), bad.to_bits());
        assert!(
            entries(dir.path()).is_empty(),
            "left {:?}",
            entries(dir.path())
        );
    }
}

#[test]
fn existing_file_is_not_overwritten_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.wav");
    std::fs::write(&path, b"precious").unwrap();
    let audio = Audio::new(vec![0.25; 10], 16_000).unwrap();

    let err = save_wav(&path, &audio, WavFormat::Pcm16).unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { path: p } if p == &path),
        "{err:?}"
    );
    let err = save_wav_with(&path, &audio, &SaveOptions::default()).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    assert_eq!(entries(dir.path()), ["keep.wav"]);
}

#[test]
fn replace_overwrites_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.wav");
    let first = Audio::new(vec![0.25; 10], 16_000).unwrap();
    let second = Audio::new(vec![-0.5; 20], 8_000).unwrap();
    let replace = SaveOptions::new(WavFormat::Float32).with_overwrite(Overwrite::Replace);
    save_wav_with(&path, &first, &replace).unwrap();
    save_wav_with(&path, &second, &replace).unwrap();
    assert_eq!(load(&path).unwrap(), second);
    assert_eq!(entries(dir.path()), ["out.wav"]);
}

#[test]
fn missing_directory_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/out.wav");
    let audio = Audio::new(vec![0.0; 4], 16_000).unwrap();
    let err = save_wav(&path, &audio, WavFormat::Pcm16).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path: p, .. } if p == &path),
        "{err:?}"
    );
}

#[test]
fn multichannel_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let samples: Vec<f32> = (0..200).map(|i| (i as f32 - 100.0) / 128.0).collect();
    let audio = MultiChannelAudio::new(samples, 2, 22_050).unwrap();
    save_wav_multichannel(&path, &audio, &SaveOptions::new(WavFormat::Pcm24)).unwrap();
    let spec = spec_of(&path);
    assert_eq!((spec.channels, spec.sample_rate), (2, 22_050));
    let loaded = load_multichannel(&path, &LoadOptions::default()).unwrap();
    assert_eq!(loaded, audio);
    assert_eq!(load(&path).unwrap(), audio.to_mono());
}

#[test]
fn empty_audio_writes_a_valid_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    let audio = Audio::new(vec![], 16_000).unwrap();
    save_wav(&path, &audio, WavFormat::Pcm16).unwrap();
    let loaded = load(&path).unwrap();
    assert!(loaded.is_empty());
    assert_eq!(loaded.sample_rate(), 16_000);
}

#[cfg(unix)]
#[test]
fn saved_files_are_not_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("perm.wav");
    save_wav(
        &path,
        &Audio::new(vec![0.0; 4], 16_000).unwrap(),
        WavFormat::Pcm16,
    )
    .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // A temporary file would be 0o600; a saved file follows the umask like `File::create`.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let expected = std::fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, expected);
}
