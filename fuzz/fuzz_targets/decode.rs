//! Arbitrary bytes through `ser_audio_io::load_reader`: every result is `Ok` or a typed
//! error; no panic, no unbounded allocation (run with `-malloc_limit_mb=512`).
//!
//! The first byte picks the options (error policy, WAV reader, extension hint), the rest is
//! the file.
#![no_main]

use std::io::Cursor;
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use ser_audio_io::{DecodeErrorPolicy, LoadOptions, WavDecoder};

const HINTS: [Option<&str>; 8] = [
    None,
    Some("wav"),
    Some("flac"),
    Some("mp3"),
    Some("ogg"),
    Some("aiff"),
    Some("m4a"),
    Some(""),
];

static DEFAULT_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys installs a panic hook that aborts at once, even for a panic the library
    // catches (ser-audio-io turns a Symphonia panic while opening a file into
    // `Error::InvalidHeader`). Put the default hook back: a panic that escapes the library
    // still aborts (libfuzzer-sys checks every input with `catch_unwind`).
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let policy = match selector & 0b11 {
        0 => DecodeErrorPolicy::Fail,
        1 => DecodeErrorPolicy::ReturnPartial,
        _ => DecodeErrorPolicy::SkipPacket,
    };
    let wav = if selector & 0b100 == 0 {
        WavDecoder::Bulk
    } else {
        WavDecoder::Symphonia
    };
    let hint = HINTS[usize::from(selector >> 5)];
    // Bounded up-front reservation: a header claiming 2^40 frames must not reserve them.
    let options = LoadOptions::default()
        .with_on_decode_error(policy)
        .with_wav_decoder(wav)
        .with_max_reserved_samples(1 << 20);
    // Samples are not checked for NaN: a float WAV may store NaN, and `Audio` keeps samples
    // as stored (ser-dsp rejects them later with a typed error).
    if let Ok(audio) = ser_audio_io::load_reader(Cursor::new(bytes), hint, &options) {
        assert!(audio.sample_rate() > 0);
    }
});
