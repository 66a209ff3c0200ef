//! Arbitrary bytes through what `features` does: decode (any format, sniffed), then the
//! research log-mel. Neither may panic, and with libFuzzer's `-malloc_limit_mb` and
//! `-rss_limit_mb` (see `fuzz/README.md`) no input may make them allocate more than the
//! bound of `docs/architecture.md`.
#![no_main]

use std::io::Cursor;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ser_dsp::{LogMel, LogMelConfig};

static LOGMEL: LazyLock<Option<LogMel>> = LazyLock::new(|| LogMel::new(LogMelConfig::default()).ok());

fuzz_target!(|data: &[u8]| {
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
