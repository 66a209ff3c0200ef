//! Arbitrary bytes through what `features` and `predict` do with a file: decode (any
//! format, sniffed), the research log-mel, and the chunked decoder to its end. Nothing may
//! panic, and under libFuzzer's `-malloc_limit_mb` and `-rss_limit_mb` (see
//! `fuzz/README.md`) no input may allocate past the bound of `docs/architecture.md`.
#![no_main]

use std::io::Cursor;
use std::sync::{LazyLock, Once};

use libfuzzer_sys::fuzz_target;
use ser_dsp::{LogMel, LogMelConfig};

static LOGMEL: LazyLock<Option<LogMel>> = LazyLock::new(|| LogMel::new(LogMelConfig::default()).ok());

static DEFAULT_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // As in `decode`: the library catches a Symphonia panic while opening a file; only a
    // panic that escapes it aborts.
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
    let options = ser_audio_io::LoadOptions::default();
    if let Ok(audio) = ser_audio_io::load_reader(Cursor::new(data.to_vec()), None, &options)
        && let Some(logmel) = LOGMEL.as_ref()
    {
        let _ = logmel.extract(&audio);
    }
    // The chunked decoder `predict` uses, to the end.
    if let Ok(mut stream) = ser_audio_io::open_stream_reader(Cursor::new(data.to_vec()), None) {
        while let Ok(Some(_)) = stream.next_chunk() {}
    }
});
