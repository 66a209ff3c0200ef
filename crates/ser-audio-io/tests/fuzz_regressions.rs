//! Inputs that `fuzz/` (cargo-fuzz, target `decode`) found to panic, kept as regression
//! tests. Test builds have overflow checks on, as the fuzzer's builds do, so these tests fail
//! the same way the fuzzer did if a fix is undone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use ser_audio_io::{DecodeErrorPolicy, Error, LoadOptions, WavDecoder, load_reader};

/// A 16-bit PCM WAV header declaring `channels` channels, then a few bytes of data.
fn wav_with_channels(channels: u16) -> Vec<u8> {
    let block_align = channels.wrapping_mul(2);
    let mut v = b"RIFF\x00\x01\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00".to_vec();
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&16_000u32.to_le_bytes());
    v.extend_from_slice(&(16_000u32 * u32::from(block_align)).to_le_bytes());
    v.extend_from_slice(&block_align.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data\x10\x00\x00\x00");
    v.extend_from_slice(&[0u8; 16]);
    v
}

fn all_options() -> Vec<LoadOptions> {
    let mut out = Vec::new();
    for policy in [
        DecodeErrorPolicy::Fail,
        DecodeErrorPolicy::ReturnPartial,
        DecodeErrorPolicy::SkipPacket,
    ] {
        for wav in [WavDecoder::Bulk, WavDecoder::Symphonia] {
            out.push(
                LoadOptions::default()
                    .with_on_decode_error(policy)
                    .with_wav_decoder(wav),
            );
        }
    }
    out
}

/// Symphonia 0.6 multiplied the channel count by the sample width in `u16` (panic: "attempt
/// to multiply with overflow" in symphonia-format-riff `wave/chunks.rs`). Found after 43 000
/// runs (30 s): a mutated WAV fixture declaring 65281 channels (the start of the fuzz input
/// below, selector byte removed).
#[test]
fn wav_with_65281_channels_is_an_invalid_header_not_a_panic() {
    let found: &[u8] = b"RIFF$w\x01\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\xff\xf2\xbb\x00\x00\
        \x00w\x01\x00\x02\x00\x10\x00data\x00w\x01\x00\x00\x00\x01\x00\x03\x00\x06\x00\x0b\x00";
    for bytes in [
        found.to_vec(),
        wav_with_channels(65281),
        wav_with_channels(u16::MAX),
    ] {
        for options in all_options() {
            let result = load_reader(Cursor::new(&bytes), None, &options);
            assert!(
                matches!(result, Err(Error::InvalidHeader { .. })),
                "{options:?}: {result:?}"
            );
        }
    }
}

/// The same overflow in Symphonia's PCM packet size (`common.rs`), reached through an AIFF
/// header declaring 65531 channels. Found after 485 000 runs (6 min; the fuzz input below,
/// selector byte removed, `SSND` data cut).
#[test]
fn aiff_with_65531_channels_is_an_invalid_header_not_a_panic() {
    let found: &[u8] = b"FORM\x00\x00>\xd0AIFFCOMT\x00\x00\x00\x1a\x00\x01\xe7+>\xb7\x00\x00\x00\x00\
        \x00\x00\x00cessad by SoXCOMM\x00\x00\x00\x12\xff\xfb\xff\xff\x1e@\x00\x10@\x0c\xfa\x00\x00\
        \xef\x02\x00\x00\x00SSND\x00\x00>\x88\x00\x00\x00\x00\x00\x00\x00\x00\x9b\x01\x13\n\xd1\x15";
    for options in all_options() {
        let result = load_reader(Cursor::new(found), None, &options);
        assert!(
            matches!(result, Err(Error::InvalidHeader { .. })),
            "{options:?}: {result:?}"
        );
    }
}

/// The AIFF header of the previous test behind 128 junk bytes (the fuzzer's were an MP3 frame
/// header and two ID3 tags). `check_head` only reads a header at the start, but Symphonia's
/// probe finds one anywhere in the first MiB and panicked as before; a panic while opening is
/// now an invalid header. Found after 60 000 runs (40 s) once the header check was in.
#[test]
fn aiff_header_behind_junk_is_an_invalid_header_not_a_panic() {
    let aiff: &[u8] =
        b"FORM\x00\x00>\xd0AIFFCOMM\x00\x00\x00\x12\xff\xfb\xff\xff\x1e@\x00\x10@\x0c\
        \xfa\x00\x00\xef\x02\x00\x00\x00SSND\x00\x00>\x88\x00\x00\x00\x00\x00\x00\x00\x00\x9b\x01";
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(aiff);
    for options in all_options() {
        let result = load_reader(Cursor::new(&bytes), None, &options);
        assert!(
            matches!(result, Err(Error::InvalidHeader { .. })),
            "{options:?}: {result:?}"
        );
    }
}

/// The limit only touches channel counts no real file has (Symphonia maps at most 32 WAV
/// channels): a 19-channel file (past the bulk reader's 18) still reaches Symphonia and gets
/// its own answer.
#[test]
fn wav_channel_limit_leaves_ordinary_counts_to_symphonia() {
    for channels in [1u16, 2, 19, 40, 16_383] {
        let bytes = wav_with_channels(channels);
        let result = load_reader(Cursor::new(&bytes), None, &LoadOptions::default());
        match result {
            Ok(audio) => assert_eq!(audio.sample_rate(), 16_000),
            Err(e) => assert!(!matches!(e, Error::ZeroChannels { .. }), "{e:?}"),
        }
    }
}
