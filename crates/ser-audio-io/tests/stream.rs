//! Chunked decoding ([`open_stream`], [`open_stream_reader`]) against [`load`], the oracle:
//! the chunks, concatenated, must equal `load`'s samples bit for bit for every fixture and
//! every WAV sample format, and every failure must be `load`'s error (with `partial: None`).

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

use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::{Fmt, Rng, all_fixtures, assert_bits_eq, fixture, wav, wav_declaring};
use ser_audio_io::{
    AudioStream, Error, LoadOptions, READER_PATH, Result, load, load_reader, open_stream,
    open_stream_reader,
};

/// The WAV files at the top of `fixtures/audio/` (speech, tones, noise, a stereo file).
const AUDIO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/audio/");

/// What a stream gave: its samples (the chunks concatenated) and how it ended.
struct Drained {
    samples: Vec<f32>,
    end: Result<()>,
}

/// Reads `stream` to its end or its first error, then checks that it is fused.
fn drain(mut stream: AudioStream) -> Drained {
    let mut samples = Vec::new();
    let end = loop {
        match stream.next_chunk() {
            Ok(Some(chunk)) => {
                assert!(
                    !chunk.is_empty(),
                    "{}: empty chunk",
                    stream.path().display()
                );
                samples.extend_from_slice(chunk);
                assert_eq!(stream.frames_decoded(), samples.len() as u64);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    for _ in 0..3 {
        assert!(matches!(stream.next_chunk(), Ok(None)), "not fused");
    }
    assert_eq!(stream.frames_decoded(), samples.len() as u64);
    Drained { samples, end }
}

/// Streams `path` (from the file and from its bytes) and compares with `load`.
fn assert_stream_equals_load(path: &Path, channels: usize) {
    let what = path.display().to_string();
    let reference = load(path).unwrap();
    let stream = open_stream(path).unwrap();
    assert_eq!(stream.path(), path);
    assert_eq!(stream.sample_rate(), reference.sample_rate(), "{what}");
    assert_eq!(stream.channels(), channels, "{what}");
    let drained = drain(stream);
    drained.end.unwrap();
    assert_bits_eq(&drained.samples, reference.samples(), &what);

    let hint = path.extension().and_then(|e| e.to_str());
    let bytes = std::fs::read(path).unwrap();
    let stream = open_stream_reader(Cursor::new(bytes), hint).unwrap();
    assert_eq!(stream.path(), Path::new(READER_PATH));
    let drained = drain(stream);
    drained.end.unwrap();
    assert_bits_eq(&drained.samples, reference.samples(), &what);
}

#[test]
fn stream_is_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug + 'static>() {}
    check::<AudioStream>();
}

#[cfg(all(
    feature = "wav",
    feature = "pcm",
    feature = "aiff",
    feature = "flac",
    feature = "ogg",
    feature = "vorbis",
    feature = "mp3"
))]
#[test]
fn every_format_fixture_streams_to_the_loaded_samples() {
    let names = all_fixtures();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let channels = if name.contains("stereo") { 2 } else { 1 };
        let path = fixture(&name);
        assert_stream_equals_load(&path, channels);
        let stream = open_stream(&path).unwrap();
        assert!(format!("{stream:?}").contains(&name), "{stream:?}");
        if name.ends_with(".flac") || name.ends_with(".wav") || name.ends_with(".aiff") {
            let expected = if channels == 2 { 4_000 } else { 8_000 };
            assert_eq!(stream.expected_frames(), Some(expected), "{name}");
        }
    }
}

#[cfg(all(feature = "wav", feature = "pcm"))]
#[test]
fn every_wav_fixture_streams_to_the_loaded_samples() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(AUDIO_DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "{paths:?}");
    let mut stereo = 0;
    for path in paths {
        let channels = hound::WavReader::open(&path).unwrap().spec().channels as usize;
        stereo += usize::from(channels == 2);
        assert_stream_equals_load(&path, channels);
    }
    assert!(stereo >= 1);
}

#[cfg(all(feature = "wav", feature = "pcm"))]
mod wav {
    use super::*;

    /// Random sample bytes of `bits` bits (`bits / 8` bytes each, little-endian).
    fn random_data(rng: &mut Rng, n_samples: usize, bits: u16) -> Vec<u8> {
        (0..n_samples * usize::from(bits / 8))
            .map(|_| rng.next_u64() as u8)
            .collect()
    }

    /// Float samples in [-1, 1) as bytes.
    fn float_data(rng: &mut Rng, n_samples: usize) -> Vec<u8> {
        (0..n_samples)
            .flat_map(|_| rng.signed_unit().to_le_bytes())
            .collect()
    }

    #[test]
    fn every_sample_format_and_channel_count_streams_to_the_loaded_samples() {
        let mut rng = Rng::new(11);
        let dir = tempfile::tempdir().unwrap();
        for channels in [1u16, 2, 3, 6] {
            // More frames than one packet (1152), and a count no packet size divides.
            let frames = 5_003;
            let n = frames * usize::from(channels);
            let cases = [
                (
                    "pcm8",
                    Fmt::pcm(channels, 8_000, 8),
                    random_data(&mut rng, n, 8),
                ),
                (
                    "pcm16",
                    Fmt::pcm(channels, 16_000, 16),
                    random_data(&mut rng, n, 16),
                ),
                (
                    "pcm24",
                    Fmt::pcm(channels, 22_050, 24),
                    random_data(&mut rng, n, 24),
                ),
                (
                    "pcm32",
                    Fmt::pcm(channels, 44_100, 32),
                    random_data(&mut rng, n, 32),
                ),
                (
                    "float32",
                    Fmt::float(channels, 48_000, 32),
                    float_data(&mut rng, n),
                ),
                (
                    "extensible24",
                    Fmt::extensible(channels, 16_000, 24, 24, 0, 1),
                    random_data(&mut rng, n, 24),
                ),
            ];
            for (what, fmt, data) in cases {
                let path = dir.path().join(format!("{what}_{channels}ch.wav"));
                std::fs::write(&path, wav(&fmt, &data)).unwrap();
                assert_stream_equals_load(&path, usize::from(channels));
                let stream = open_stream(&path).unwrap();
                assert_eq!(stream.expected_frames(), Some(frames as u64));
                assert_eq!(stream.sample_rate(), fmt.rate);
                assert_eq!(drain(stream).samples.len(), frames);
            }
        }
    }

    #[test]
    fn stereo_chunks_are_the_channel_mean() {
        // (L, R) = (i, -i / 2) in 16-bit codes.
        let data: Vec<u8> = (0..3_000i16)
            .flat_map(|i| {
                let mut frame = i.to_le_bytes().to_vec();
                frame.extend_from_slice(&(-i / 2).to_le_bytes());
                frame
            })
            .collect();
        let bytes = wav(&Fmt::pcm(2, 16_000, 16), &data);
        let stream = open_stream_reader(Cursor::new(bytes.clone()), None).unwrap();
        assert_eq!((stream.channels(), stream.sample_rate()), (2, 16_000));
        let drained = drain(stream);
        drained.end.unwrap();
        let expected: Vec<f32> = (0..3_000i16)
            .map(|i| (f32::from(i) / 32_768.0 + f32::from(-i / 2) / 32_768.0) / 2.0)
            .collect();
        assert_bits_eq(&drained.samples, &expected, "stereo");
        let loaded = load_reader(Cursor::new(bytes), None, &LoadOptions::default()).unwrap();
        assert_bits_eq(&drained.samples, loaded.samples(), "stereo vs load");
    }

    #[test]
    fn long_file_comes_in_bounded_chunks() {
        // Two minutes of 48 kHz stereo (11 MiB of samples decoded): every chunk is one packet.
        let frames = 48_000 * 120;
        let mut rng = Rng::new(3);
        let data = random_data(&mut rng, frames * 2, 16);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.wav");
        std::fs::write(&path, wav(&Fmt::pcm(2, 48_000, 16), &data)).unwrap();
        drop(data);

        let mut stream = open_stream(&path).unwrap();
        assert_eq!(stream.expected_frames(), Some(frames as u64));
        let (mut total, mut n_chunks, mut largest) = (0usize, 0usize, 0usize);
        while let Some(chunk) = stream.next_chunk().unwrap() {
            assert!(chunk.len() <= 1 << 20, "chunk of {} samples", chunk.len());
            total += chunk.len();
            n_chunks += 1;
            largest = largest.max(chunk.len());
        }
        assert_eq!(total, frames);
        assert_eq!(stream.frames_decoded(), frames as u64);
        // Symphonia's WAV packets hold at most 1152 frames.
        assert!(largest <= 1_152, "largest chunk {largest}");
        assert!(n_chunks >= frames / 1_152);
    }

    #[test]
    fn hostile_data_length_is_not_allocated() {
        // The header claims 4 GiB of data; 4 bytes are present.
        let bytes = wav_declaring(&Fmt::pcm(8, 8_000, 32), &[0; 4], u32::MAX - 64);
        let err = open_stream_reader(Cursor::new(bytes), None).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    got_frames: 0,
                    partial: None,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

mod errors {
    use super::*;

    fn stream_bytes(bytes: &[u8]) -> Result<AudioStream> {
        open_stream_reader(Cursor::new(bytes.to_vec()), None)
    }

    /// The error `load` gives for `bytes`, with the error a stream gives (at opening or at a
    /// chunk) and the samples it handed out before.
    fn both(bytes: &[u8]) -> (Error, Error, Vec<f32>) {
        let load_err =
            load_reader(Cursor::new(bytes.to_vec()), None, &LoadOptions::default()).unwrap_err();
        match stream_bytes(bytes) {
            Err(e) => (load_err, e, Vec::new()),
            Ok(stream) => {
                let drained = drain(stream);
                (load_err, drained.end.unwrap_err(), drained.samples)
            }
        }
    }

    /// 16-bit mono PCM codes as WAV data bytes.
    fn pcm16(codes: &[i16]) -> Vec<u8> {
        codes.iter().flat_map(|c| c.to_le_bytes()).collect()
    }

    #[test]
    fn missing_file_and_directory_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.wav");
        let err = open_stream(&path).unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { path: p, .. } if p == &path),
            "{err:?}"
        );
        let err = open_stream(dir.path()).unwrap_err();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::IsADirectory),
            "{err:?}"
        );
    }

    #[test]
    fn empty_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.wav");
        std::fs::write(&path, b"").unwrap();
        let err = open_stream(&path).unwrap_err();
        assert!(
            matches!(&err, Error::Empty { path: p } if p == &path),
            "{err:?}"
        );
        let err = stream_bytes(&[]).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }), "{err:?}");
        assert_eq!(err.path(), Some(Path::new(READER_PATH)));
    }

    #[test]
    fn garbage_is_not_audio() {
        let mut rng = Rng::new(7);
        let bytes: Vec<u8> = (0..4_096).map(|_| rng.next_u64() as u8).collect();
        let err = stream_bytes(&bytes).unwrap_err();
        assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
        assert!(err.to_string().starts_with("<reader>: "), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.wav");
        std::fs::write(&path, "this is a text file, whatever its extension says\n").unwrap();
        assert!(matches!(
            open_stream(&path),
            Err(Error::UnknownFormat { .. })
        ));
    }

    #[cfg(all(feature = "wav", feature = "pcm"))]
    #[test]
    fn wav_header_errors_are_loads() {
        let mut no_channels = Fmt::pcm(1, 16_000, 16);
        no_channels.channels = 0;
        let err = stream_bytes(&wav(&no_channels, &pcm16(&[1, 2]))).unwrap_err();
        assert!(matches!(err, Error::ZeroChannels { .. }), "{err:?}");
        let err = stream_bytes(&wav(&Fmt::pcm(1, 0, 16), &pcm16(&[1, 2]))).unwrap_err();
        assert!(matches!(err, Error::ZeroSampleRate { .. }), "{err:?}");
        // 12 bits per sample is not a valid plain-PCM width.
        let err = stream_bytes(&wav(&Fmt::pcm(1, 8_000, 12), &[0; 30])).unwrap_err();
        assert!(matches!(err, Error::InvalidHeader { .. }), "{err:?}");
        // IMA ADPCM: the container parses, the codec is not compiled in.
        let mut adpcm = Fmt::pcm(1, 8_000, 4);
        adpcm.tag = 0x11;
        adpcm.block_align = 256;
        adpcm.extension = vec![2, 0, 0xf9, 0x01];
        let err = stream_bytes(&wav(&adpcm, &[0; 256])).unwrap_err();
        assert!(
            matches!(&err, Error::UnsupportedCodec { codec, .. } if !codec.is_empty()),
            "{err:?}"
        );
        // Cut inside the header.
        let full = wav(&Fmt::pcm(1, 16_000, 16), &pcm16(&[1, 2, 3]));
        for cut in [13, 20, 30, 40] {
            let err = stream_bytes(&full[..cut]).unwrap_err();
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
        // A header without data is empty audio, not an error.
        let stream = stream_bytes(&wav(&Fmt::pcm(2, 16_000, 16), &[])).unwrap();
        assert_eq!((stream.channels(), stream.sample_rate()), (2, 16_000));
        let drained = drain(stream);
        drained.end.unwrap();
        assert!(drained.samples.is_empty());
    }

    #[cfg(all(feature = "wav", feature = "pcm"))]
    #[test]
    fn truncated_wav_hands_out_the_frames_present_then_fails() {
        let codes: Vec<i16> = (0..3_000).map(|i| i * 7).collect();
        let full = wav(&Fmt::pcm(1, 16_000, 16), &pcm16(&codes));
        // Cut 600 bytes (300 samples) and one odd byte off the end.
        let cut = &full[..full.len() - 601];
        let (load_err, err, samples) = both(cut);
        let Error::Truncated {
            expected_frames: Some(3_000),
            got_frames: 2_699,
            partial: None,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(err.to_string(), load_err.to_string());
        let expected: Vec<f32> = codes[..2_699]
            .iter()
            .map(|&c| f32::from(c) / 32_768.0)
            .collect();
        assert_bits_eq(&samples, &expected, "truncated");
        assert_bits_eq(
            &samples,
            load_err.partial().unwrap().samples(),
            "load's partial",
        );

        // On disk, the error names the file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.wav");
        std::fs::write(&path, cut).unwrap();
        let err = drain(open_stream(&path).unwrap()).end.unwrap_err();
        assert!(
            matches!(&err, Error::Truncated { path: p, .. } if p == &path),
            "{err:?}"
        );
    }

    #[cfg(feature = "flac")]
    #[test]
    fn truncated_flac_hands_out_the_whole_frames_then_fails() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.flac")).unwrap();
        let reference = load(fixture("sine440_16k_mono.flac")).unwrap();
        let (load_err, err, samples) = both(&bytes[..bytes.len() * 3 / 4]);
        let Error::Truncated {
            expected_frames: Some(8_000),
            got_frames,
            partial: None,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*got_frames as usize, samples.len());
        assert!(samples.len() < 8_000);
        assert_bits_eq(&samples, &reference.samples()[..samples.len()], "flac");
        assert_eq!(err.to_string(), load_err.to_string());
        assert_eq!(load_err.partial().unwrap().frames(), samples.len());
    }

    #[cfg(feature = "flac")]
    #[test]
    fn corrupt_flac_frame_fails_as_load_does() {
        let mut bytes = std::fs::read(fixture("sine440_16k_mono.flac")).unwrap();
        let reference = load(fixture("sine440_16k_mono.flac")).unwrap();
        let at = bytes.len() - 200;
        bytes[at] ^= 0x5a;
        let (load_err, err, samples) = both(&bytes);
        assert!(
            matches!(
                err,
                Error::Decode { partial: None, .. } | Error::Truncated { partial: None, .. }
            ),
            "{err:?}"
        );
        assert_eq!(
            std::mem::discriminant(&err),
            std::mem::discriminant(&load_err)
        );
        assert_eq!(err.to_string(), load_err.to_string());
        if let Error::Decode { frames_decoded, .. } = &err {
            assert_eq!(*frames_decoded as usize, samples.len());
        }
        assert_eq!(load_err.partial().unwrap().frames(), samples.len());
        assert_bits_eq(&samples, &reference.samples()[..samples.len()], "flac");
    }

    #[cfg(feature = "mp3")]
    #[test]
    fn truncated_mp3_fails_as_load_does() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.mp3")).unwrap();
        let (load_err, err, samples) = both(&bytes[..bytes.len() / 2]);
        assert!(
            matches!(
                err,
                Error::Truncated {
                    expected_frames: Some(8_000),
                    partial: None,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!samples.is_empty() && samples.len() < 8_000);
        assert_eq!(load_err.partial().unwrap().frames(), samples.len());
        assert_eq!(err.to_string(), load_err.to_string());
    }

    #[cfg(all(feature = "ogg", feature = "vorbis"))]
    #[test]
    fn truncated_ogg_fails_as_load_does() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.ogg")).unwrap();
        let (load_err, err, _) = both(&bytes[..bytes.len() - 10]);
        assert!(
            matches!(err, Error::Truncated { partial: None, .. }),
            "{err:?}"
        );
        assert_eq!(err.to_string(), load_err.to_string());
    }

    #[cfg(all(feature = "aiff", feature = "pcm"))]
    #[test]
    fn aiff_zero_channels_or_rate_and_truncation_are_loads() {
        let bytes = std::fs::read(fixture("sine440_16k_mono.aiff")).unwrap();
        let comm = bytes.windows(4).position(|w| w == b"COMM").unwrap();
        let mut no_channels = bytes.clone();
        no_channels[comm + 8..comm + 10].copy_from_slice(&[0, 0]);
        assert!(matches!(
            stream_bytes(&no_channels),
            Err(Error::ZeroChannels { .. })
        ));
        let mut no_rate = bytes.clone();
        no_rate[comm + 16..comm + 26].copy_from_slice(&[0; 10]);
        assert!(matches!(
            stream_bytes(&no_rate),
            Err(Error::ZeroSampleRate { .. })
        ));
        let (load_err, err, samples) = both(&bytes[..bytes.len() - 1_001]);
        assert!(
            matches!(err, Error::Truncated { partial: None, .. }),
            "{err:?}"
        );
        assert_eq!(err.to_string(), load_err.to_string());
        assert_eq!(load_err.partial().unwrap().frames(), samples.len());
    }
}
