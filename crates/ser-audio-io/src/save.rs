//! Writing WAV files with hound, atomically.
//!
//! # Policies
//!
//! * **Atomic.** The file is written to a temporary file in the destination's directory, flushed
//!   to disk, then renamed over the destination. A failure at any step removes the temporary
//!   file: the destination is either untouched or complete, never partial.
//! * **No silent overwrite.** An existing destination is replaced only with
//!   [`Overwrite::Replace`]; otherwise the save fails with [`Error::AlreadyExists`] (checked
//!   first, and again atomically at the rename, so a file created meanwhile is not replaced).
//! * **Non-finite samples** (NaN, ±∞) are rejected with [`Error::NonFinite`] before anything is
//!   written, whatever the format.
//! * **Integer formats clip.** A sample `x` is written as `round(x * 2^(bits-1))` (ties to even,
//!   as `lrintf`), clipped to the integer range: `x ≥ 1.0` becomes the largest code (`32767` for
//!   16 bits) and `x ≤ -1.0` the smallest (`-32768`). Scaling by `2^(bits-1)` mirrors the
//!   loader, so audio loaded from an integer file is written back unchanged (a lossless round
//!   trip). libsndfile instead scales by `2^(bits-1) - 1` by default, so its files can differ
//!   from ours by one code.
//! * **Float32** stores the samples unchanged.

use std::path::Path;

use ser_core::fs::{WriteError, write_atomic};
use ser_dsp::Audio;

use crate::error::{Error, Result};
use crate::multichannel::MultiChannelAudio;

/// The sample format of a written WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WavFormat {
    /// 16-bit signed integer PCM, clipped (soundfile's default WAV subtype `PCM_16`).
    #[default]
    Pcm16,
    /// 24-bit signed integer PCM, clipped.
    Pcm24,
    /// 32-bit signed integer PCM, clipped.
    Pcm32,
    /// 32-bit IEEE float, unchanged (WAVE_FORMAT_IEEE_FLOAT).
    Float32,
}

impl WavFormat {
    /// The bits per sample.
    pub fn bits_per_sample(self) -> u16 {
        match self {
            Self::Pcm16 => 16,
            Self::Pcm24 => 24,
            Self::Pcm32 | Self::Float32 => 32,
        }
    }
}

/// Whether an existing destination file may be replaced: the one policy of every `ser`
/// crate ([`ser_core::Overwrite`]); [`Overwrite::Refuse`] fails with
/// [`Error::AlreadyExists`].
pub use ser_core::Overwrite;

/// Options for [`save_wav_with`] and [`save_wav_multichannel`].
///
/// ```
/// use ser_audio_io::{Overwrite, SaveOptions, WavFormat};
/// let options = SaveOptions::new(WavFormat::Float32).with_overwrite(Overwrite::Replace);
/// assert_eq!(options.format, WavFormat::Float32);
/// assert_eq!(SaveOptions::default().overwrite, Overwrite::Refuse);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct SaveOptions {
    /// The sample format (default: [`WavFormat::Pcm16`]).
    pub format: WavFormat,
    /// Whether an existing file may be replaced (default: [`Overwrite::Refuse`]).
    pub overwrite: Overwrite,
}

impl SaveOptions {
    /// Options writing `format` and refusing to overwrite.
    pub fn new(format: WavFormat) -> Self {
        Self {
            format,
            overwrite: Overwrite::Refuse,
        }
    }

    /// Sets [`SaveOptions::format`].
    pub fn with_format(mut self, format: WavFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets [`SaveOptions::overwrite`].
    pub fn with_overwrite(mut self, overwrite: Overwrite) -> Self {
        self.overwrite = overwrite;
        self
    }
}

/// Writes mono audio to a new WAV file at `path`, atomically; an existing file is never
/// replaced (use [`save_wav_with`] and [`Overwrite::Replace`] for that).
///
/// Integer formats clip samples outside `[-1, 1]`; see the [module policies](self).
///
/// # Errors
/// [`Error::NonFinite`] for a NaN or infinite sample, [`Error::AlreadyExists`] if `path`
/// exists, [`Error::Encode`] if hound fails (more than 4 GiB of data), [`Error::Io`] for the
/// temporary file, the flush or the rename. Nothing is left at `path` on error.
pub fn save_wav(path: impl AsRef<Path>, audio: &Audio, format: WavFormat) -> Result<()> {
    save_wav_with(path, audio, &SaveOptions::new(format))
}

/// Writes mono audio to a WAV file at `path`, atomically, as `options` say.
///
/// # Errors
/// As [`save_wav`]; [`Error::AlreadyExists`] only with [`Overwrite::Refuse`].
pub fn save_wav_with(path: impl AsRef<Path>, audio: &Audio, options: &SaveOptions) -> Result<()> {
    write_wav(
        path.as_ref(),
        audio.samples(),
        1,
        audio.sample_rate(),
        options,
    )
}

/// Writes multichannel audio (interleaved) to a WAV file at `path`, atomically, as `options`
/// say.
///
/// # Errors
/// As [`save_wav_with`], plus [`Error::InvalidLayout`] for more than 65535 channels.
pub fn save_wav_multichannel(
    path: impl AsRef<Path>,
    audio: &MultiChannelAudio,
    options: &SaveOptions,
) -> Result<()> {
    write_wav(
        path.as_ref(),
        audio.samples(),
        audio.channels(),
        audio.sample_rate(),
        options,
    )
}

fn write_wav(
    path: &Path,
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    options: &SaveOptions,
) -> Result<()> {
    if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
        let value = samples.get(index).copied().unwrap_or(f32::NAN);
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            index,
            value,
        });
    }
    let Ok(n_channels) = u16::try_from(channels) else {
        return Err(Error::InvalidLayout {
            n_samples: samples.len(),
            channels,
            sample_rate,
            reason: "WAV files hold at most 65535 channels",
        });
    };
    let encode_error = |source: hound::Error| Error::Encode {
        path: path.to_path_buf(),
        source,
    };
    let spec = hound::WavSpec {
        channels: n_channels,
        sample_rate,
        bits_per_sample: options.format.bits_per_sample(),
        sample_format: match options.format {
            WavFormat::Float32 => hound::SampleFormat::Float,
            WavFormat::Pcm16 | WavFormat::Pcm24 | WavFormat::Pcm32 => hound::SampleFormat::Int,
        },
    };
    let written = write_atomic(path, options.overwrite, |sink| {
        let mut writer = hound::WavWriter::new(sink, spec)?;
        match options.format {
            WavFormat::Pcm16 => {
                for &x in samples {
                    writer.write_sample(to_i16(x))?;
                }
            }
            WavFormat::Pcm24 => {
                for &x in samples {
                    writer.write_sample(to_int_bits(x, 24))?;
                }
            }
            WavFormat::Pcm32 => {
                for &x in samples {
                    writer.write_sample(to_int_bits(x, 32))?;
                }
            }
            WavFormat::Float32 => {
                for &x in samples {
                    writer.write_sample(x)?;
                }
            }
        }
        writer.finalize()
    });
    written.map_err(|e| match e {
        WriteError::Exists { path } => Error::AlreadyExists { path },
        WriteError::Io { path, source } => Error::Io { path, source },
        WriteError::Write(source) => encode_error(source),
    })
}

/// `x` as a 16-bit code: `round(x * 32768)`, ties to even, clipped to `i16`.
fn to_i16(x: f32) -> i16 {
    // In range after the clamp, so the cast is exact.
    (f64::from(x) * 32_768.0)
        .round_ties_even()
        .clamp(-32_768.0, 32_767.0) as i16
}

/// `x` as a `bits`-bit code (24 or 32) in an `i32`: `round(x * 2^(bits-1))`, ties to even,
/// clipped to the `bits`-bit range.
fn to_int_bits(x: f32, bits: u32) -> i32 {
    let full_scale = f64::from(1u32 << (bits - 1));
    // In range after the clamp, so the cast is exact.
    (f64::from(x) * full_scale)
        .round_ties_even()
        .clamp(-full_scale, full_scale - 1.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_i16_clips_and_rounds_ties_to_even() {
        assert_eq!(to_i16(0.0), 0);
        assert_eq!(to_i16(1.0), 32_767);
        assert_eq!(to_i16(-1.0), -32_768);
        assert_eq!(to_i16(7.5), 32_767);
        assert_eq!(to_i16(-7.5), -32_768);
        assert_eq!(to_i16(0.5 / 32_768.0), 0);
        assert_eq!(to_i16(1.5 / 32_768.0), 2);
        assert_eq!(to_i16(-1.5 / 32_768.0), -2);
        for code in [-32_768i16, -1234, -1, 0, 1, 4321, 32_767] {
            assert_eq!(to_i16(f32::from(code) / 32_768.0), code);
        }
    }

    #[test]
    fn to_int_bits_round_trips_and_clips() {
        for code in [-(1i32 << 23), -77, 0, 99, (1 << 23) - 1] {
            assert_eq!(to_int_bits(code as f32 / 8_388_608.0, 24), code);
        }
        assert_eq!(to_int_bits(2.0, 24), (1 << 23) - 1);
        assert_eq!(to_int_bits(-2.0, 24), -(1 << 23));
        assert_eq!(to_int_bits(1.0, 32), i32::MAX);
        assert_eq!(to_int_bits(-1.0, 32), i32::MIN);
        assert_eq!(to_int_bits(0.25, 32), 1 << 29);
    }

    #[test]
    fn bits_per_sample_match_formats() {
        assert_eq!(WavFormat::Pcm16.bits_per_sample(), 16);
        assert_eq!(WavFormat::Pcm24.bits_per_sample(), 24);
        assert_eq!(WavFormat::Pcm32.bits_per_sample(), 32);
        assert_eq!(WavFormat::Float32.bits_per_sample(), 32);
    }
}
