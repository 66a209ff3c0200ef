//! Leading and trailing silence removal, as `librosa.effects.trim` (0.11).
//!
//! The signal is cut into centred frames (`frame_length`, `hop_length`, zero padding of
//! `frame_length / 2`); a frame is *non-silent* when its mean square, in dB relative to the
//! loudest frame's, is above `-top_db`:
//!
//! ```text
//! mse[t] = mean(y[t*hop - fl/2 .. t*hop + fl/2]²)
//! non_silent[t] = 10 log10(max(1e-10, mse[t])) - 10 log10(max(1e-10, max(mse))) > -top_db
//! kept = [first * hop, min(len, (last + 1) * hop))
//! ```
//!
//! As in librosa, an all-zero input is *not* trimmed (every frame is 0 dB relative to a
//! zero reference), and a signal with no non-silent frame gives the empty interval `0..0`.

use std::ops::Range;

use crate::error::{Error, Result, check_finite, invalid};
use crate::kernels::sum_squares;

/// Parameters of [`trim`]; defaults are `librosa.effects.trim`'s (`top_db = 60`,
/// frames of 2048 with hop 512, reference = the loudest frame).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct TrimConfig {
    /// Threshold below the reference, in dB, under which a frame is silence (60).
    pub top_db: f32,
    /// Frame length in samples (2048).
    pub frame_length: usize,
    /// Hop length in samples (512).
    pub hop_length: usize,
}

impl Default for TrimConfig {
    fn default() -> Self {
        Self {
            top_db: 60.0,
            frame_length: 2048,
            hop_length: 512,
        }
    }
}

impl TrimConfig {
    /// The default config with this threshold.
    pub fn with_top_db(top_db: f32) -> Self {
        Self {
            top_db,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.top_db.is_finite() && self.top_db >= 0.0) {
            return Err(invalid("top_db", self.top_db, "must be finite and >= 0"));
        }
        if self.frame_length == 0 || self.hop_length == 0 {
            return Err(Error::InvalidConfig {
                field: if self.frame_length == 0 {
                    "frame_length"
                } else {
                    "hop_length"
                },
                value: "0".into(),
                reason: "must be positive",
            });
        }
        Ok(())
    }
}

/// The interval of `y` to keep, in samples (`librosa.effects.trim(...)[1]`).
///
/// ```
/// use ser_dsp::{TrimConfig, trim};
/// let mut y = vec![0.0f32; 16_000];
/// y[6000..10_000].iter_mut().enumerate().for_each(|(i, v)| *v = (i as f32 * 0.3).sin());
/// let kept = trim(&y, &TrimConfig::with_top_db(20.0))?;
/// assert!(kept.start <= 6000 && kept.end >= 10_000);
/// assert!(kept.len() < 8000);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config, [`Error::NonFinite`] for a NaN or infinite
/// sample. Empty input gives `0..0`.
pub fn trim(y: &[f32], config: &TrimConfig) -> Result<Range<usize>> {
    config.validate()?;
    check_finite("trim", y)?;
    if y.is_empty() {
        return Ok(0..0);
    }
    let mse = frame_mean_squares(y, config.frame_length, config.hop_length);
    let amin = 1e-10f64;
    let peak = mse.iter().copied().fold(0.0f64, f64::max);
    let ref_db = 10.0 * peak.max(amin).log10();
    let threshold = -f64::from(config.top_db);
    let loud = |m: f64| 10.0 * m.max(amin).log10() - ref_db > threshold;
    let Some(first) = mse.iter().position(|&m| loud(m)) else {
        return Ok(0..0);
    };
    let last = mse.iter().rposition(|&m| loud(m)).unwrap_or(first);
    let start = first * config.hop_length;
    let end = y.len().min((last + 1) * config.hop_length);
    Ok(start.min(end)..end)
}

/// The trimmed part of `y` (a sub-slice; nothing is copied).
///
/// # Errors
/// As [`trim`].
pub fn trim_slice<'a>(y: &'a [f32], config: &TrimConfig) -> Result<&'a [f32]> {
    let r = trim(y, config)?;
    Ok(&y[r])
}

/// Mean square of each centred, zero-padded frame (`librosa.feature.rms(...)²`), in `f64`.
pub(crate) fn frame_mean_squares(y: &[f32], frame_length: usize, hop: usize) -> Vec<f64> {
    let pad = frame_length / 2;
    let n = y.len();
    let n_frames = 1 + (n + 2 * pad).saturating_sub(frame_length) / hop;
    let inv = 1.0 / frame_length as f64;
    if pad.is_multiple_of(hop) && frame_length.is_multiple_of(hop) {
        // Frames are whole numbers of hop-sized blocks: sum each block once.
        let blocks: Vec<f64> = y.chunks(hop).map(sum_squares).collect();
        let per_frame = frame_length / hop;
        let lead = pad / hop;
        (0..n_frames)
            .map(|t| {
                let lo = t.saturating_sub(lead);
                let hi = (t + per_frame).saturating_sub(lead).min(blocks.len());
                blocks.get(lo..hi).map_or(0.0, |b| b.iter().sum::<f64>()) * inv
            })
            .collect()
    } else {
        (0..n_frames)
            .map(|t| {
                let lo = (t * hop).saturating_sub(pad).min(n);
                let hi = (t * hop + frame_length).saturating_sub(pad).min(n);
                sum_squares(&y[lo..hi]) * inv
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_direct_frame_sums_agree() {
        let y: Vec<f32> = (0..5000)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let fast = frame_mean_squares(&y, 2048, 512);
        // 2048 / 2 = 1024 is not a multiple of 384, so this takes the direct path.
        let direct: Vec<f64> = {
            let pad = 1024usize;
            (0..fast.len())
                .map(|t| {
                    let lo = (t * 512).saturating_sub(pad).min(y.len());
                    let hi = (t * 512 + 2048).saturating_sub(pad).min(y.len());
                    y[lo..hi].iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / 2048.0
                })
                .collect()
        };
        for (a, b) in fast.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(frame_mean_squares(&y, 2048, 384).len(), 1 + 5000 / 384);
    }

    #[test]
    fn all_zero_input_is_kept_whole() {
        assert_eq!(trim(&[0.0; 3000], &TrimConfig::default()).unwrap(), 0..3000);
    }
}
