//! Audio loading and saving for `ser`: decode WAV, FLAC, MP3, OGG/Vorbis and AIFF to `f32`
//! samples exactly as `librosa.load(path, sr=None)` does, and write WAV files atomically.
//! Plain WAV files are read by [hound](https://docs.rs/hound)'s header parser and a bulk
//! reader, everything else by [Symphonia](https://github.com/pdeljanov/Symphonia); WAV files
//! are written by hound.
//!
//! ```
//! # #[cfg(all(feature = "wav", feature = "pcm"))] {
//! use ser_audio_io::{WavFormat, load, save_wav};
//! use ser_dsp::Audio;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("tone.wav");
//!
//! // 0.1 s of a 440 Hz tone at 16 kHz.
//! let samples: Vec<f32> = (0..1_600)
//!     .map(|n| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 16_000.0).sin())
//!     .collect();
//! let audio = Audio::new(samples, 16_000)?;
//! save_wav(&path, &audio, WavFormat::Float32)?;
//!
//! let loaded = load(&path)?;
//! assert_eq!(loaded, audio); // 32-bit float round-trips exactly
//!
//! // Nothing is overwritten without asking.
//! let again = save_wav(&path, &audio, WavFormat::Pcm16);
//! assert!(matches!(again, Err(ser_audio_io::Error::AlreadyExists { .. })));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//!
//! * [`load`], [`load_with`] and [`load_reader`] return mono [`Audio`] (the channel mean, as
//!   `librosa.to_mono`) at the file's own sample rate; [`load_multichannel`] and
//!   [`load_reader_multichannel`] keep the channels in a [`MultiChannelAudio`].
//! * [`open_stream`] and [`open_stream_reader`] decode in chunks instead: an [`AudioStream`]
//!   hands out the same mono samples one decoded packet at a time, so an hour-long file is
//!   processed in memory bounded by one packet. See the [`stream`] module.
//! * Plain WAV (8/16/24/32-bit PCM or 32-bit float, recognised by its bytes) skips Symphonia's
//!   per-sample PCM decoder: hound parses the header and the data chunk is converted in bulk,
//!   several times faster, to the same samples; any WAV file the bulk reader is not certain
//!   about goes to Symphonia, so errors and policies are unchanged ([`WavDecoder`]).
//! * Integer samples become `f32` by the power-of-two division libsndfile uses (`int16 / 32768`,
//!   `int24 / 2^23`, `int32 / 2^31`, `(u8 - 128) / 128`), so a 16-bit WAV decodes to
//!   `soundfile.read(path, dtype='float32')` bit for bit. See the [`decode`] module for
//!   the table and the policies on truncation, decode errors and memory reservation.
//! * [`save_wav`], [`save_wav_with`] and [`save_wav_multichannel`] write 16/24/32-bit integer or
//!   32-bit float WAV through a temporary file and a rename, refuse to overwrite unless asked
//!   ([`Overwrite::Replace`]), clip integer formats and reject NaN. See the [`save`]
//!   module.
//! * Every failure is a typed [`enum@Error`] naming the file and the cause, with the source
//!   error kept.
//!
//! # Cargo features
//!
//! The features mirror Symphonia's and are forwarded to it. Symphonia enables only
//! royalty-free formats by default; **this crate also enables `mp3` by default**, because
//! the speech corpora `ser` reads ship MP3 files, which must load out of the box.
//!
//! | Feature | Formats / codecs | Default |
//! |---|---|---|
//! | `wav` | RIFF WAVE container (PCM, IEEE float, `WAVE_FORMAT_EXTENSIBLE`); with `pcm`, also the bulk WAV reader | yes |
//! | `aiff` | AIFF / AIFF-C container | yes |
//! | `pcm` | PCM codec (8/16/24/32-bit integer, 32/64-bit float, A-law, µ-law), needed by `wav` and `aiff` | yes |
//! | `flac` | FLAC container and codec | yes |
//! | `ogg` | Ogg container | yes |
//! | `vorbis` | Vorbis codec | yes |
//! | `mp3` | MPEG-1/2 Layer III (with ID3v1/ID3v2 tag support) | **yes** (not in Symphonia's defaults) |
//! | `aac` | AAC-LC codec (ADTS `.aac`; `.m4a` also needs `isomp4`) | no |
//! | `isomp4` | ISO/MP4 container (`.m4a`, `.mp4`) | no |
//! | `all-codecs` | every Symphonia codec (adds ADPCM, ALAC, MP1, MP2, AAC) | no |
//!
//! Saving WAV files needs no feature.
//!
//! # Crates
//!
//! The [README](https://github.com/ser-rs/ser/tree/main/crates/ser-audio-io) has a longer
//! example. [`Audio`] comes from `ser-dsp`; `symphonia` and `hound` are re-exported because their error
//! types appear as sources in [`enum@Error`].

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod decode;
pub mod error;
pub mod multichannel;
pub mod options;
pub mod save;
mod sniff;
pub mod stream;
#[cfg(all(feature = "wav", feature = "pcm"))]
mod wav;

pub use decode::{load, load_multichannel, load_reader, load_reader_multichannel, load_with};
pub use error::{Error, READER_PATH, Result, SymphoniaError};
pub use multichannel::MultiChannelAudio;
pub use options::{DEFAULT_MAX_RESERVED_SAMPLES, DecodeErrorPolicy, LoadOptions, WavDecoder};
pub use save::{Overwrite, SaveOptions, WavFormat, save_wav, save_wav_multichannel, save_wav_with};
pub use ser_dsp::Audio;
pub use stream::{AudioStream, open_stream, open_stream_reader};

pub use hound;
pub use symphonia;

/// The README example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "wav", feature = "pcm"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
