//! How the loaders decode: [`LoadOptions`] (what to do with damaged packets, how much to
//! reserve from a header, which WAV reader) and the channel handling shared by the decoders.

#[cfg(doc)]
use crate::error::Error;

/// The default of [`LoadOptions::max_reserved_samples`]: 2^28 samples (1 GiB of `f32`), about
/// 93 minutes of mono 48 kHz audio or 4.6 hours at 16 kHz.
pub const DEFAULT_MAX_RESERVED_SAMPLES: usize = 1 << 28;

/// What to do when a packet fails to decode, or the data ends before the header's frame count.
///
/// Whatever the policy, errors before the first packet (unknown format, malformed header,
/// unsupported codec, ...) and genuine I/O errors always fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DecodeErrorPolicy {
    /// Stop and return the error ([`Error::Decode`], [`Error::Truncated`] or
    /// [`Error::SpecChanged`]); the audio decoded so far travels in the error, see
    /// [`Error::partial`]. The default: a damaged file is never mistaken for a whole one.
    #[default]
    Fail,
    /// Stop at the first error and return the audio decoded so far as `Ok`.
    ReturnPartial,
    /// Skip each packet that fails to decode (or whose sample rate or channel count differs
    /// from the first packet's) and go on; the audio has a gap where each skipped packet was.
    /// Errors of the container itself cannot be skipped (Symphonia cannot resume after them)
    /// and, like truncation, return the audio decoded so far as `Ok`.
    SkipPacket,
}

/// Options for the loaders. `LoadOptions::default()` is what [`load`](crate::load) uses.
///
/// ```
/// use ser_audio_io::{DecodeErrorPolicy, LoadOptions};
/// let lenient = LoadOptions::default().with_on_decode_error(DecodeErrorPolicy::SkipPacket);
/// assert_eq!(lenient.on_decode_error, DecodeErrorPolicy::SkipPacket);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// What to do with packets that fail to decode and truncated data (default:
    /// [`DecodeErrorPolicy::Fail`]).
    pub on_decode_error: DecodeErrorPolicy,
    /// The most output samples reserved up front from the header's frame count (default:
    /// [`DEFAULT_MAX_RESERVED_SAMPLES`]). Larger outputs grow normally past it.
    pub max_reserved_samples: usize,
    /// Which reader decodes plain PCM and float WAV files (default: [`WavDecoder::Bulk`]). The
    /// result is the same either way; [`WavDecoder::Symphonia`] is slower and serves as the
    /// reference the bulk reader is tested against.
    pub wav_decoder: WavDecoder,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            on_decode_error: DecodeErrorPolicy::Fail,
            max_reserved_samples: DEFAULT_MAX_RESERVED_SAMPLES,
            wav_decoder: WavDecoder::Bulk,
        }
    }
}

impl LoadOptions {
    /// Sets [`LoadOptions::on_decode_error`].
    pub fn with_on_decode_error(mut self, policy: DecodeErrorPolicy) -> Self {
        self.on_decode_error = policy;
        self
    }

    /// Sets [`LoadOptions::max_reserved_samples`].
    pub fn with_max_reserved_samples(mut self, max_reserved_samples: usize) -> Self {
        self.max_reserved_samples = max_reserved_samples;
        self
    }

    /// Sets [`LoadOptions::wav_decoder`].
    pub fn with_wav_decoder(mut self, wav_decoder: WavDecoder) -> Self {
        self.wav_decoder = wav_decoder;
        self
    }
}

/// Which reader decodes plain WAV files, see [`LoadOptions::wav_decoder`].
///
/// Both give the same samples and the same errors; the choice only changes the speed.
///
/// ```
/// use ser_audio_io::{LoadOptions, WavDecoder};
/// let reference = LoadOptions::default().with_wav_decoder(WavDecoder::Symphonia);
/// assert_eq!(reference.wav_decoder, WavDecoder::Symphonia);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WavDecoder {
    /// hound parses the header and the data chunk is read in bulk, for whole WAV files of
    /// 8/16/24/32-bit integer PCM or 32-bit float (also as `WAVE_FORMAT_EXTENSIBLE`) with an
    /// ordinary header; every other WAV file goes to Symphonia. About six times faster than
    /// Symphonia on 3 s of 48 kHz 16-bit mono. The default. Needs the `wav` and `pcm` features
    /// (without them WAV files are not read at all).
    #[default]
    Bulk,
    /// Every WAV file is decoded by Symphonia.
    Symphonia,
}

/// Mono downmix or channels kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mix {
    Mono,
    Keep,
}
