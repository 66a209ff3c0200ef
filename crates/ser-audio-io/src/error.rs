//! The one error type of `ser-audio-io`.
//!
//! Every variant that concerns a file names it in `path`. Sources that are not files
//! (see [`load_reader`](crate::load_reader)) are named [`READER_PATH`] (`"<reader>"`).

use std::path::{Path, PathBuf};

use crate::multichannel::MultiChannelAudio;

/// The name given to a source that is not a file, in [`Error`] variants and messages.
pub const READER_PATH: &str = "<reader>";

/// Symphonia's error type, kept as the `source` of decoding errors.
pub type SymphoniaError = symphonia::core::errors::Error;

/// Everything that can go wrong while loading or saving audio.
///
/// Loading errors come in the order a file is examined: it must exist ([`Error::NotFound`]),
/// hold bytes ([`Error::Empty`]), be a container we know ([`Error::UnknownFormat`],
/// [`Error::InvalidHeader`], [`Error::Truncated`]), hold an audio track
/// ([`Error::NoAudioTrack`]) with channels and a sample rate ([`Error::ZeroChannels`],
/// [`Error::ZeroSampleRate`]) in a codec we can decode ([`Error::UnsupportedCodec`]), and then
/// decode to its end ([`Error::Decode`], [`Error::Truncated`], [`Error::SpecChanged`]). The three
/// mid-stream variants carry the audio decoded before the failure, see [`Error::partial`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
    /// Reading, writing, creating or renaming a file failed for another reason (permissions,
    /// a directory where a file was expected, a full disk, ...).
    #[error("{}: I/O error", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
    /// The file holds zero bytes.
    #[error("{}: the file is empty (0 bytes)", path.display())]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
    /// The bytes are not a container format this build can read (not audio, or a format whose
    /// Cargo feature is off).
    #[error("{}: not a recognised audio file", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Symphonia's reason.
        #[source]
        source: SymphoniaError,
    },
    /// The container was recognised but its header is malformed.
    #[error("{}: malformed header", path.display())]
    InvalidHeader {
        /// The file.
        path: PathBuf,
        /// Symphonia's reason.
        #[source]
        source: SymphoniaError,
    },
    /// The container holds no audio track.
    #[error("{}: no audio track", path.display())]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
    },
    /// The header declares zero audio channels, or none at all.
    #[error("{}: the header declares 0 audio channels", path.display())]
    ZeroChannels {
        /// The file.
        path: PathBuf,
    },
    /// The header declares a sample rate of 0 Hz, or none at all.
    #[error("{}: the header declares a sample rate of 0 Hz", path.display())]
    ZeroSampleRate {
        /// The file.
        path: PathBuf,
    },
    /// The header (or a packet) declares a sample rate outside
    /// [`ser_dsp::SAMPLE_RATES`] (1 kHz to 768 kHz): refused before anything is sized from
    /// it.
    #[error("{}: the header declares a sample rate of {rate} Hz, outside the supported 1000 to 768000 Hz", path.display())]
    SampleRateOutOfRange {
        /// The file.
        path: PathBuf,
        /// The declared rate, in Hz.
        rate: u32,
    },
    /// The audio track uses a codec this build cannot decode (for example AAC without the `aac`
    /// feature, or ADPCM).
    #[error("{}: unsupported codec {codec}", path.display())]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// Symphonia's identifier of the codec, as text.
        codec: String,
        /// Symphonia's reason.
        #[source]
        source: SymphoniaError,
    },
    /// A packet failed to decode, or the container failed mid-stream, and
    /// [`DecodeErrorPolicy::Fail`](crate::DecodeErrorPolicy::Fail) was in force.
    #[error("{}: decoding failed after {frames_decoded} frames", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The number of frames decoded before the failure.
        frames_decoded: u64,
        /// The audio decoded before the failure (mono for the mono loaders); `None` only when
        /// the sample rate was not known yet.
        partial: Option<Box<MultiChannelAudio>>,
        /// Symphonia's reason.
        #[source]
        source: SymphoniaError,
    },
    /// The file is cut short: it ends inside its header, or holds fewer frames than its header
    /// declares (the data ends early, or the container dropped a damaged stretch), or ends
    /// inside a page or chunk. Reported only with
    /// [`DecodeErrorPolicy::Fail`](crate::DecodeErrorPolicy::Fail) once decoding has started;
    /// a file cut inside its header is always an error.
    #[error("{}: truncated, {}", path.display(), describe_truncation(*expected_frames, *got_frames))]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The number of frames the header declares, if it declares one.
        expected_frames: Option<u64>,
        /// The number of frames present (decodable).
        got_frames: u64,
        /// The frames present (mono for the mono loaders); `None` when the file ends before
        /// its sample rate or channel count.
        partial: Option<Box<MultiChannelAudio>>,
    },
    /// The sample rate or the channel count changed in the middle of the stream, and
    /// [`DecodeErrorPolicy::Fail`](crate::DecodeErrorPolicy::Fail) was in force.
    #[error(
        "{}: the stream changed from {channels} channels at {sample_rate} Hz to {new_channels} \
         channels at {new_sample_rate} Hz after {frames_decoded} frames",
        path.display()
    )]
    SpecChanged {
        /// The file.
        path: PathBuf,
        /// The channel count of the first frames.
        channels: usize,
        /// The sample rate of the first frames, in Hz.
        sample_rate: u32,
        /// The channel count found later.
        new_channels: usize,
        /// The sample rate found later, in Hz.
        new_sample_rate: u32,
        /// The number of frames decoded before the change.
        frames_decoded: u64,
        /// The audio decoded before the change (mono for the mono loaders).
        partial: Option<Box<MultiChannelAudio>>,
    },
    /// The destination exists and overwriting was not allowed
    /// ([`Overwrite::Refuse`](crate::Overwrite::Refuse)).
    #[error("{}: the file already exists (pass Overwrite::Replace to replace it)", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A sample to be written is NaN or infinite.
    #[error("{}: sample {index} is not finite ({value}); nothing was written", path.display())]
    NonFinite {
        /// The destination.
        path: PathBuf,
        /// The index of the first non-finite sample (interleaved index for multichannel audio).
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// hound failed while encoding the WAV file (for example more than 4 GiB of data).
    #[error("{}: WAV encoding failed", path.display())]
    Encode {
        /// The destination.
        path: PathBuf,
        /// hound's reason.
        #[source]
        source: hound::Error,
    },
    /// Interleaved samples and a channel count that do not fit together.
    #[error(
        "invalid multichannel audio: {n_samples} samples, {channels} channels, {sample_rate} Hz \
         ({reason})"
    )]
    InvalidLayout {
        /// The number of samples given.
        n_samples: usize,
        /// The channel count given.
        channels: usize,
        /// The sample rate given, in Hz.
        sample_rate: u32,
        /// What is wrong.
        reason: &'static str,
    },
}

/// `Result` with [`enum@Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The file the error is about, if any ([`READER_PATH`] for readers).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::NotFound { path, .. }
            | Self::Io { path, .. }
            | Self::Empty { path }
            | Self::UnknownFormat { path, .. }
            | Self::InvalidHeader { path, .. }
            | Self::NoAudioTrack { path }
            | Self::ZeroChannels { path }
            | Self::ZeroSampleRate { path }
            | Self::SampleRateOutOfRange { path, .. }
            | Self::UnsupportedCodec { path, .. }
            | Self::Decode { path, .. }
            | Self::Truncated { path, .. }
            | Self::SpecChanged { path, .. }
            | Self::AlreadyExists { path }
            | Self::NonFinite { path, .. }
            | Self::Encode { path, .. } => Some(path),
            Self::InvalidLayout { .. } => None,
        }
    }

    /// The audio decoded before a mid-stream failure ([`Error::Decode`], [`Error::Truncated`],
    /// [`Error::SpecChanged`]), if any.
    ///
    /// The mono loaders ([`load`](crate::load), [`load_with`](crate::load_with),
    /// [`load_reader`](crate::load_reader)) put the mono downmix here (one channel); use
    /// [`MultiChannelAudio::into_mono`] to get an [`Audio`](ser_dsp::Audio).
    pub fn partial(&self) -> Option<&MultiChannelAudio> {
        match self {
            Self::Decode { partial, .. }
            | Self::Truncated { partial, .. }
            | Self::SpecChanged { partial, .. } => partial.as_deref(),
            _ => None,
        }
    }

    /// Takes the audio decoded before a mid-stream failure out of the error, see
    /// [`Error::partial`].
    pub fn into_partial(self) -> Option<MultiChannelAudio> {
        match self {
            Self::Decode { partial, .. }
            | Self::Truncated { partial, .. }
            | Self::SpecChanged { partial, .. } => partial.map(|p| *p),
            _ => None,
        }
    }
}

/// The end of the [`Error::Truncated`] message.
fn describe_truncation(expected_frames: Option<u64>, got_frames: u64) -> String {
    match expected_frames {
        Some(expected) => {
            format!("the header declares {expected} frames but the data ends after {got_frames}")
        }
        None if got_frames == 0 => "the file ends before any audio".to_owned(),
        None => format!("the data ends after {got_frames} frames"),
    }
}
