//! Decoding hostile bytes never panics: every fixture cut at many points, with random bytes
//! flipped, and random bytes behind each container's magic number, under every
//! [`DecodeErrorPolicy`]. Each result must be `Ok` with valid audio, or a typed error.

// Helpers outside `#[test]` functions are test code too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Cursor;

use common::{Rng, all_fixtures, fixture};
use ser_audio_io::{DecodeErrorPolicy, Error, LoadOptions, load_reader, load_reader_multichannel};

const POLICIES: [DecodeErrorPolicy; 3] = [
    DecodeErrorPolicy::Fail,
    DecodeErrorPolicy::ReturnPartial,
    DecodeErrorPolicy::SkipPacket,
];

/// Decodes `bytes` every way and checks the invariants of whatever comes back.
fn decode_all_ways(bytes: &[u8], what: &str) {
    for policy in POLICIES {
        let options = LoadOptions::default().with_on_decode_error(policy);
        match load_reader(Cursor::new(bytes), None, &options) {
            Ok(audio) => assert!(audio.sample_rate() > 0, "{what}"),
            Err(err) => check_error(&err, what),
        }
    }
    let options = LoadOptions::default();
    match load_reader_multichannel(Cursor::new(bytes), Some("wav"), &options) {
        Ok(audio) => {
            assert!(audio.channels() > 0 && audio.sample_rate() > 0, "{what}");
            assert_eq!(
                audio.samples().len(),
                audio.frames() * audio.channels(),
                "{what}"
            );
        }
        Err(err) => check_error(&err, what),
    }
}

fn check_error(err: &Error, what: &str) {
    // Display and the source chain work for every error.
    let _ = err.to_string();
    let _ = std::error::Error::source(err);
    assert!(err.path().is_some(), "{what}: {err:?}");
    if let Some(partial) = err.partial() {
        assert!(
            partial.channels() > 0 && partial.sample_rate() > 0,
            "{what}"
        );
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    for name in all_fixtures() {
        let bytes = std::fs::read(fixture(&name)).unwrap();
        // Every cut inside the first 300 bytes (headers), then about 150 cuts over the rest.
        let step = (bytes.len() / 150).max(1);
        let cuts = (0..300.min(bytes.len())).chain((300..bytes.len()).step_by(step));
        for cut in cuts {
            decode_all_ways(&bytes[..cut], &format!("{name} cut at {cut}"));
        }
    }
}

#[test]
fn fixtures_with_flipped_bytes_never_panic() {
    let mut rng = Rng::new(0x5eed);
    for name in all_fixtures() {
        let bytes = std::fs::read(fixture(&name)).unwrap();
        for trial in 0..60 {
            let mut damaged = bytes.clone();
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                // Half of the flips hit the first 256 bytes, where the headers are.
                let limit = if rng.below(2) == 0 {
                    damaged.len().min(256)
                } else {
                    damaged.len()
                };
                let at = rng.below(limit);
                damaged[at] ^= 1 << rng.below(8);
                if rng.below(4) == 0 {
                    damaged[at] = rng.next_u64() as u8;
                }
            }
            decode_all_ways(&damaged, &format!("{name} trial {trial}"));
        }
    }
}

#[test]
fn random_bytes_behind_magic_numbers_never_panic() {
    let mut rng = Rng::new(42);
    let magics: [&[u8]; 8] = [
        b"RIFF\xff\xff\xff\xffWAVEfmt ",
        b"RIFF\x24\x00\x00\x00WAVE",
        b"FORM\x00\x00\x10\x00AIFFCOMM",
        b"FORM\x00\x00\x10\x00AIFC",
        b"fLaC\x00\x00\x00\x22",
        b"OggS\x00\x02",
        b"ID3\x04\x00\x00\x00\x00\x01\x00",
        b"\xff\xfb\x90\x64",
    ];
    for magic in magics {
        for len in [0usize, 1, 7, 64, 500, 5_000] {
            for _ in 0..8 {
                let mut bytes = magic.to_vec();
                bytes.extend((0..len).map(|_| rng.next_u64() as u8));
                decode_all_ways(&bytes, &format!("{magic:?} + {len} random bytes"));
            }
        }
    }
}

/// A header's sample rate outside 1 kHz..=768 kHz is refused, naming the file, before
/// anything is sized from it (a 0xFFFFFFFF Hz header once made the resampler plan 6.9 GB).
#[test]
fn sample_rates_outside_the_supported_range_are_refused() {
    let data: Vec<u8> = (0..32_000u32)
        .flat_map(|i| ((i % 200) as i16 * 50).to_le_bytes())
        .collect();
    for rate in [1u32, 999, 768_001, 2_160_000_000, u32::MAX] {
        let bytes = common::wav(&common::Fmt::pcm(1, rate, 16), &data);
        for options in [
            LoadOptions::default(),
            LoadOptions::default().with_wav_decoder(ser_audio_io::WavDecoder::Symphonia),
        ] {
            let err = load_reader(Cursor::new(bytes.clone()), Some("wav"), &options).unwrap_err();
            assert!(
                matches!(err, Error::SampleRateOutOfRange { rate: r, .. } if r == rate),
                "{rate} Hz: {err:?}"
            );
            assert!(err.to_string().contains(&rate.to_string()));
        }
        let err = ser_audio_io::open_stream_reader(Cursor::new(bytes), Some("wav")).unwrap_err();
        assert!(
            matches!(err, Error::SampleRateOutOfRange { .. }),
            "{rate} Hz stream: {err:?}"
        );
    }
    for rate in [1_000u32, 8_000, 768_000] {
        let bytes = common::wav(&common::Fmt::pcm(1, rate, 16), &data);
        let audio = load_reader(Cursor::new(bytes), Some("wav"), &LoadOptions::default()).unwrap();
        assert_eq!(audio.sample_rate(), rate);
    }
}
