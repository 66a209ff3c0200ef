//! Every failure is a typed error naming the file and the cause.

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

use std::error::Error as _;
use std::io::Cursor;
use std::path::Path;

use common::{Fmt, Rng, fixture, wav, wav_declaring};
use ser_audio_io::{
    DecodeErrorPolicy, Error, LoadOptions, READER_PATH, load, load_multichannel, load_reader,
    load_with,
};

fn lenient(policy: DecodeErrorPolicy) -> LoadOptions {
    LoadOptions::default().with_on_decode_error(policy)
}

fn from_bytes(bytes: &[u8], policy: DecodeErrorPolicy) -> ser_audio_io::Result<ser_dsp::Audio> {
    load_reader(Cursor::new(bytes.to_vec()), None, &lenient(policy))
}

/// 16-bit mono PCM codes as WAV data bytes.
fn pcm16(codes: &[i16]) -> Vec<u8> {
    codes.iter().flat_map(|c| c.to_le_bytes()).collect()
}

#[test]
fn error_is_send_sync_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Error>();
}

#[test]
fn missing_file_is_not_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.wav");
    let err = load(&path).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(err.to_string().contains("nope.wav"), "{err}");
    let io = err
        .source()
        .unwrap()
        .downcast_ref::<std::io::Error>()
        .unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::IsADirectory),
        "{err:?}"
    );
}

#[test]
fn zero_byte_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"").unwrap();
    let err = load(&path).unwrap_err();
    assert!(
        matches!(&err, Error::Empty { path: p } if p == &path),
        "{err:?}"
    );
    assert!(matches!(
        from_bytes(&[], DecodeErrorPolicy::Fail),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn random_bytes_are_not_audio() {
    let mut rng = Rng::new(7);
    let bytes: Vec<u8> = (0..4_096).map(|_| rng.next_u64() as u8).collect();
    let err = from_bytes(&bytes, DecodeErrorPolicy::Fail).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
    assert_eq!(err.path(), Some(Path::new(READER_PATH)));
    assert!(err.to_string().starts_with("<reader>: "), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wav");
    std::fs::write(&path, "this is a text file, whatever its extension says\n").unwrap();
    assert!(matches!(load(&path), Err(Error::UnknownFormat { .. })));
}

#[cfg(all(feature = "wav", feature = "pcm"))]
mod wav_errors {
    use super::*;

    #[test]
    fn zero_channels_is_typed() {
        let mut fmt = Fmt::pcm(1, 16_000, 16);
        fmt.channels = 0;
        let err = from_bytes(&wav(&fmt, &pcm16(&[1, 2])), DecodeErrorPolicy::Fail).unwrap_err();
        assert!(matches!(err, Error::ZeroChannels { .. }), "{err:?}");
    }

    #[test]
    fn zero_sample_rate_is_typed() {
        let fmt = Fmt::pcm(1, 0, 16);
        let err = from_bytes(&wav(&fmt, &pcm16(&[1, 2])), DecodeErrorPolicy::Fail).unwrap_err();
        assert!(matches!(err, Error::ZeroSampleRate { .. }), "{err:?}");
        let fmt = Fmt::float(2, 0, 32);
        let err = from_bytes(&wav(&fmt, &[0; 16]), DecodeErrorPolicy::Fail).unwrap_err();
        assert!(matches!(err, Error::ZeroSampleRate { .. }), "{err:?}");
    }

    #[test]
    fn truncated_mid_data_fails_with_the_partial_audio() {
        let codes: Vec<i16> = (0..1_000).map(|i| i * 7).collect();
        let full = wav(&Fmt::pcm(1, 16_000, 16), &pcm16(&codes));
        // Cut 600 bytes (300 samples) and one odd byte off the end.
        let cut = &full[..full.len() - 601];
        let err = from_bytes(cut, DecodeErrorPolicy::Fail).unwrap_err();
        let Error::Truncated {
            expected_frames,
            got_frames,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((*expected_frames, *got_frames), (Some(1_000), 699));
        assert!(err.to_string().contains("1000 frames"), "{err}");
        let partial = err.into_partial().unwrap().into_mono();
        let expected: Vec<f32> = codes[..699]
            .iter()
            .map(|&c| f32::from(c) / 32_768.0)
            .collect();
        assert_eq!(partial.samples(), expected.as_slice());

        for policy in [
            DecodeErrorPolicy::ReturnPartial,
            DecodeErrorPolicy::SkipPacket,
        ] {
            let audio = from_bytes(cut, policy).unwrap();
            assert_eq!(audio.samples(), expected.as_slice());
        }
    }

    #[test]
    fn truncated_file_on_disk_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.wav");
        let full = wav(&Fmt::pcm(2, 8_000, 16), &pcm16(&[5; 400]));
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        let err = load_multichannel(&path, &LoadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Truncated { path: p, .. } if p == &path),
            "{err:?}"
        );
        let partial = err.partial().unwrap();
        assert_eq!(partial.channels(), 2);
        assert_eq!(partial.sample_rate(), 8_000);
        assert!(partial.frames() > 0);
        let audio = load_with(&path, &lenient(DecodeErrorPolicy::ReturnPartial)).unwrap();
        assert_eq!(audio.len(), partial.frames());
    }

    #[test]
    fn file_cut_inside_its_header_is_truncated_without_audio() {
        let full = wav(&Fmt::pcm(1, 16_000, 16), &pcm16(&[1, 2, 3]));
        for cut in [13, 20, 30, 40] {
            for policy in [DecodeErrorPolicy::Fail, DecodeErrorPolicy::ReturnPartial] {
                let err = from_bytes(&full[..cut], policy).unwrap_err();
                assert!(
                    matches!(
                        err,
                        Error::Truncated {
                            expected_frames: None,
                            got_frames: 0,
                            partial: None,
                            ..
                        }
                    ),
                    "cut {cut}: {err:?}"
                );
            }
        }
    }

    #[test]
    fn hostile_data_length_does_not_allocate_without_bound() {
        // The header claims 4 GiB of data; 4 bytes are present.
        let bytes = wav_declaring(&Fmt::pcm(8, 8_000, 32), &[0; 4], u32::MAX - 64);
        let err = from_bytes(&bytes, DecodeErrorPolicy::Fail).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { got_frames: 0, .. }),
            "{err:?}"
        );
        // A tiny cap is honoured too.
        let options = lenient(DecodeErrorPolicy::ReturnPartial).with_max_reserved_samples(16);
        let audio = load_reader(Cursor::new(bytes), None, &options).unwrap();
        assert!(audio.is_empty());
    }

    #[test]
    fn unsupported_codec_names_the_codec() {
        // IMA ADPCM: the container parses, the codec is not compiled in (no `adpcm` feature).
        let mut fmt = Fmt::pcm(1, 8_000, 4);
        fmt.tag = 0x11;
        fmt.block_align = 256;
        fmt.extension = vec![2, 0, 0xf9, 0x01]; // cbSize = 2, 505 samples per block
        let err = from_bytes(&wav(&fmt, &[0; 256]), DecodeErrorPolicy::Fail).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedCodec { codec, .. } if !codec.is_empty()),
            "{err:?}"
        );
        assert!(err.source().is_some());
    }

    #[test]
    fn malformed_header_is_invalid_header() {
        // 12 bits per sample is not a valid plain-PCM width.
        let fmt = Fmt::pcm(1, 8_000, 12);
        let err = from_bytes(&wav(&fmt, &[0; 30]), DecodeErrorPolicy::Fail).unwrap_err();
        assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
    }
}

#[cfg(all(feature = "aiff", feature = "pcm"))]
#[test]
fn aiff_zero_channels_or_rate_is_typed() {
    let bytes = std::fs::read(fixture("sine440_16k_mono.aiff")).unwrap();
    let comm = bytes.windows(4).position(|w| w == b"COMM").unwrap();
    let mut no_channels = bytes.clone();
    no_channels[comm + 8..comm + 10].copy_from_slice(&[0, 0]);
    assert!(matches!(
        from_bytes(&no_channels, DecodeErrorPolicy::Fail),
        Err(Error::ZeroChannels { .. })
    ));
    let mut no_rate = bytes;
    no_rate[comm + 16..comm + 26].copy_from_slice(&[0; 10]);
    assert!(matches!(
        from_bytes(&no_rate, DecodeErrorPolicy::Fail),
        Err(Error::ZeroSampleRate { .. })
    ));
}

#[cfg(feature = "flac")]
mod flac_errors {
    use super::*;

    #[test]
    fn flac_cut_midway_is_truncated_with_the_whole_frames() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.flac")).unwrap();
        let reference = load(fixture("sine440_16k_mono.flac")).unwrap();
        let cut = &bytes[..bytes.len() * 3 / 4];
        let err = from_bytes(cut, DecodeErrorPolicy::Fail).unwrap_err();
        let Error::Truncated {
            expected_frames: Some(8_000),
            got_frames,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        let got = *got_frames as usize;
        assert!(got < 8_000);
        let partial = err.into_partial().unwrap().into_mono();
        assert_eq!(partial.samples(), &reference.samples()[..got]);
        let audio = from_bytes(cut, DecodeErrorPolicy::ReturnPartial).unwrap();
        assert_eq!(audio.samples(), &reference.samples()[..got]);
    }

    #[test]
    fn flac_corrupt_frame_follows_the_policy() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.flac")).unwrap();
        let reference = load(fixture("sine440_16k_mono.flac")).unwrap();
        let mut corrupt = bytes.clone();
        let at = corrupt.len() - 200;
        corrupt[at] ^= 0x5a;
        for policy in [
            DecodeErrorPolicy::Fail,
            DecodeErrorPolicy::ReturnPartial,
            DecodeErrorPolicy::SkipPacket,
        ] {
            let result = from_bytes(&corrupt, policy);
            match (policy, result) {
                (
                    DecodeErrorPolicy::Fail,
                    Err(err @ (Error::Decode { .. } | Error::Truncated { .. })),
                ) => {
                    let partial = err.into_partial().unwrap().into_mono();
                    assert_eq!(partial.samples(), &reference.samples()[..partial.len()]);
                }
                (DecodeErrorPolicy::Fail, other) => panic!("{other:?}"),
                (_, Ok(audio)) => {
                    assert!(audio.len() < reference.len());
                    assert_eq!(audio.samples()[..4_096], reference.samples()[..4_096]);
                }
                (_, Err(err)) => panic!("{err:?}"),
            }
        }
    }
}

#[cfg(feature = "mp3")]
#[test]
fn mp3_cut_midway_is_truncated_with_the_partial_audio() {
    let bytes = std::fs::read(fixture("sine440_16k_mono.mp3")).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let err = from_bytes(cut, DecodeErrorPolicy::Fail).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected_frames: Some(8_000),
                ..
            }
        ),
        "{err:?}"
    );
    let got = err.partial().unwrap().frames();
    assert!(got > 0 && got < 8_000);
    assert_eq!(
        from_bytes(cut, DecodeErrorPolicy::ReturnPartial)
            .unwrap()
            .len(),
        got
    );
}

#[cfg(all(feature = "ogg", feature = "vorbis"))]
#[test]
fn ogg_cut_before_its_audio_is_truncated() {
    let bytes = std::fs::read(fixture("sine440_16k_mono.ogg")).unwrap();
    let err = from_bytes(&bytes[..bytes.len() - 10], DecodeErrorPolicy::Fail).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
}
