//! WAV decoding: every sample format, converted exactly as libsndfile (`soundfile.read(...,
//! dtype='float32')`, hence librosa) does.
#![cfg(all(feature = "wav", feature = "pcm"))]
// Helpers outside `#[test]` functions are test code too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Cursor, Seek, SeekFrom};
use std::path::Path;

use common::{Fmt, Rng, assert_bits_eq, wav};
use ser_audio_io::{LoadOptions, load, load_multichannel, load_reader, load_reader_multichannel};

/// Writes a WAV file with hound.
fn write_with_hound<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, samples: &[S]) {
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
}

fn int_spec(channels: u16, bits: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: 16_000,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    }
}

#[test]
fn wav_int16_every_code_is_code_over_32768() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all16.wav");
    let codes: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    write_with_hound(&path, int_spec(1, 16), &codes);

    let audio = load(&path).unwrap();
    assert_eq!(audio.sample_rate(), 16_000);
    let expected: Vec<f32> = codes.iter().map(|&c| f32::from(c) / 32_768.0).collect();
    assert_bits_eq(audio.samples(), &expected, "wav");
    assert_eq!(audio.samples()[0], -1.0);
    assert_eq!(audio.samples()[65_535], 32_767.0 / 32_768.0);
}

#[test]
fn wav_uint8_every_code_is_u_minus_128_over_128() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all8.wav");
    // hound stores 8-bit samples unsigned: the byte is `code + 128`.
    let codes: Vec<i8> = (i8::MIN..=i8::MAX).collect();
    write_with_hound(&path, int_spec(1, 8), &codes);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        bytes[bytes.len() - 256],
        0,
        "the first stored byte is u = 0"
    );

    let audio = load(&path).unwrap();
    let expected: Vec<f32> = (0u8..=255)
        .map(|u| (f32::from(u) - 128.0) / 128.0)
        .collect();
    assert_bits_eq(audio.samples(), &expected, "wav");
}

#[test]
fn wav_int24_codes_are_code_over_2_pow_23() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s24.wav");
    let mut rng = Rng::new(24);
    let mut codes = vec![-(1 << 23), -(1 << 23) + 1, -1, 0, 1, (1 << 23) - 1];
    codes.extend((0..5_000).map(|_| (rng.next_u64() as i32) >> 8));
    write_with_hound(&path, int_spec(1, 24), &codes);

    let audio = load(&path).unwrap();
    let expected: Vec<f32> = codes.iter().map(|&c| c as f32 / 8_388_608.0).collect();
    assert_bits_eq(audio.samples(), &expected, "wav");
    assert_eq!(audio.samples()[0], -1.0);
}

#[test]
fn wav_int32_codes_are_code_over_2_pow_31_rounded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s32.wav");
    let mut rng = Rng::new(32);
    let mut codes = vec![i32::MIN, i32::MIN + 1, -1, 0, 1, 0x0123_4567, i32::MAX];
    codes.extend((0..5_000).map(|_| rng.next_u64() as i32));
    write_with_hound(&path, int_spec(1, 32), &codes);

    let audio = load(&path).unwrap();
    // libsndfile: (float) code * (1.0f / 0x80000000); the same as one rounding of code / 2^31.
    let expected: Vec<f32> = codes
        .iter()
        .map(|&c| c as f32 * (1.0 / 2_147_483_648.0))
        .collect();
    let via_f64: Vec<f32> = codes
        .iter()
        .map(|&c| (f64::from(c) / 2_147_483_648.0) as f32)
        .collect();
    assert_bits_eq(&expected, &via_f64, "wav");
    assert_bits_eq(audio.samples(), &expected, "wav");
    assert_eq!(audio.samples()[6], 1.0, "i32::MAX rounds to 1.0 in f32");
}

#[test]
fn wav_float32_is_passed_through_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f32.wav");
    let mut rng = Rng::new(3);
    let mut values = vec![
        0.0f32,
        -0.0,
        1.0,
        -1.0,
        1.5,
        -7.25,
        f32::MIN_POSITIVE / 4.0,
        1e-30,
    ];
    values.extend((0..1_000).map(|_| rng.signed_unit()));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    write_with_hound(&path, spec, &values);

    let audio = load(&path).unwrap();
    assert_eq!(audio.sample_rate(), 22_050);
    assert_bits_eq(audio.samples(), &values, "wav");
}

#[test]
fn wav_float64_hand_built_rounds_to_nearest_f32() {
    let values = [0.1f64, -0.3, 1.0 / 3.0, 2.5, -1.0, 1e-40, 0.0];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes = wav(&Fmt::float(1, 8_000, 64), &data);

    let audio = load_reader(Cursor::new(bytes), Some("wav"), &LoadOptions::default()).unwrap();
    assert_eq!(audio.sample_rate(), 8_000);
    let expected: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    assert_bits_eq(audio.samples(), &expected, "wav");
}

#[test]
fn wav_extensible_pcm16_stereo_keeps_and_averages_channels() {
    let frames: [[i16; 2]; 4] = [[100, -100], [32_767, 32_767], [-32_768, 0], [1, 2]];
    let data: Vec<u8> = frames
        .iter()
        .flatten()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    // Front left | front right.
    let bytes = wav(&Fmt::extensible(2, 44_100, 16, 16, 0b11, 1), &data);

    let multi = load_reader_multichannel(Cursor::new(bytes.clone()), None, &LoadOptions::default())
        .unwrap();
    assert_eq!(
        (multi.channels(), multi.frames(), multi.sample_rate()),
        (2, 4, 44_100)
    );
    let expected: Vec<f32> = frames
        .iter()
        .flatten()
        .map(|&s| f32::from(s) / 32_768.0)
        .collect();
    assert_bits_eq(multi.samples(), &expected, "wav");

    let mono = load_reader(Cursor::new(bytes), None, &LoadOptions::default()).unwrap();
    let expected_mono: Vec<f32> = frames
        .iter()
        .map(|[l, r]| (f32::from(*l) / 32_768.0 + f32::from(*r) / 32_768.0) / 2.0)
        .collect();
    assert_bits_eq(mono.samples(), &expected_mono, "wav");
}

#[test]
fn wav_extensible_24_valid_bits_in_32_bit_container_is_read_as_int32() {
    // Valid bits are the most significant ones; soundfile reads the container as int32.
    let codes: [i32; 4] = [-(1 << 23), -5, 77, (1 << 23) - 1];
    let data: Vec<u8> = codes.iter().flat_map(|c| (c << 8).to_le_bytes()).collect();
    let bytes = wav(&Fmt::extensible(1, 16_000, 32, 24, 0b100, 1), &data);

    let audio = load_reader(Cursor::new(bytes), None, &LoadOptions::default()).unwrap();
    let expected: Vec<f32> = codes.iter().map(|&c| c as f32 / 8_388_608.0).collect();
    assert_bits_eq(audio.samples(), &expected, "wav");
}

#[test]
fn wav_extensible_float32_is_passed_through() {
    let values = [0.25f32, -0.5, 3.0, -0.0];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes = wav(&Fmt::extensible(1, 48_000, 32, 32, 0b100, 3), &data);

    let audio = load_reader(Cursor::new(bytes), None, &LoadOptions::default()).unwrap();
    assert_eq!(audio.sample_rate(), 48_000);
    assert_bits_eq(audio.samples(), &values, "wav");
}

#[test]
fn wav_stereo_downmix_is_librosa_to_mono() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let mut rng = Rng::new(2);
    let codes: Vec<i16> = (0..20_000).map(|_| rng.next_u64() as i16).collect();
    write_with_hound(&path, int_spec(2, 16), &codes);

    let mono = load(&path).unwrap();
    let expected: Vec<f32> = codes
        .chunks_exact(2)
        .map(|f| (f32::from(f[0]) / 32_768.0 + f32::from(f[1]) / 32_768.0) / 2.0)
        .collect();
    assert_bits_eq(mono.samples(), &expected, "wav");

    let multi = load_multichannel(&path, &LoadOptions::default()).unwrap();
    assert_eq!(multi.channels(), 2);
    assert_eq!(multi.frames(), 10_000);
    assert_eq!(multi.to_mono(), mono);
}

#[test]
fn wav_three_channels_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.wav");
    let codes: Vec<i16> = (0..300).map(|i| (i % 3) * 1_000 + i / 3).collect();
    write_with_hound(&path, int_spec(3, 16), &codes);

    let multi = load_multichannel(&path, &LoadOptions::default()).unwrap();
    assert_eq!((multi.channels(), multi.frames()), (3, 100));
    let second = multi.channel(1).unwrap();
    let expected: Vec<f32> = (0..100)
        .map(|i| f32::from(1_000 + i as i16) / 32_768.0)
        .collect();
    assert_bits_eq(second.samples(), &expected, "wav");
    // The mean divides by 3 (not multiply by 1/3), as numpy does.
    let mono = load(&path).unwrap();
    let f = multi.frame(7).unwrap();
    assert_eq!(
        mono.samples()[7].to_bits(),
        ((f[0] + f[1] + f[2]) / 3.0).to_bits()
    );
}

#[test]
fn wav_without_frames_loads_as_empty_audio() {
    let bytes = wav(&Fmt::pcm(1, 16_000, 16), &[]);
    let audio = load_reader(Cursor::new(bytes), None, &LoadOptions::default()).unwrap();
    assert!(audio.is_empty());
    assert_eq!(audio.sample_rate(), 16_000);
}

#[test]
fn load_reader_starts_at_the_current_position() {
    let data: Vec<u8> = [1000i16, -2000, 3000]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let mut bytes = b"some unrelated prefix".to_vec();
    let start = bytes.len() as u64;
    bytes.extend(wav(&Fmt::pcm(1, 16_000, 16), &data));
    let mut cursor = Cursor::new(bytes);
    cursor.seek(SeekFrom::Start(start)).unwrap();

    let audio = load_reader(cursor, None, &LoadOptions::default()).unwrap();
    assert_eq!(
        audio.samples(),
        &[1000.0 / 32_768.0, -2000.0 / 32_768.0, 3000.0 / 32_768.0]
    );
}

#[test]
fn load_reader_and_load_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.wav");
    write_with_hound(&path, int_spec(1, 16), &[1i16, 2, 3, -4]);
    let file = std::fs::File::open(&path).unwrap();
    let from_reader = load_reader(file, Some("wav"), &LoadOptions::default()).unwrap();
    assert_eq!(from_reader, load(&path).unwrap());
}
