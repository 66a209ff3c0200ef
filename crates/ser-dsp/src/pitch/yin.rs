//! Fundamental frequency (f0) estimation with YIN, as `librosa.yin` (0.11): [`yin`] with a
//! [`YinConfig`].
//!
//! Each frame of `frame_length` samples gives one f0 in Hz: the cumulative mean normalised
//! difference function (de Cheveigné and Kawahara, 2002, eq. 8) is computed over the periods
//! `floor(sr / fmax) ..= min(ceil(sr / fmin), frame_length - 1)`; the first local minimum
//! below `trough_threshold` is the period, or the global minimum when there is none; a
//! parabola through it and its neighbours refines it. The autocorrelation is computed as
//! librosa's (FFT of the zero-padded frame, its power spectrum, inverse FFT), in `f64`;
//! librosa computes it in `f32`, hence f0 differences of up to about `6e-5` relative
//! (see `tests/yin.rs`). Unvoiced frames get an f0 too, as in librosa: YIN never says "none".

use ndarray::Array1;

use super::difference::{Difference, is_trough, parabolic_shift};
use crate::error::{Error, Result, invalid};

/// Parameters of [`yin`]; the defaults are librosa's (`frame_length = 2048`, `hop_length =
/// frame_length / 4`, `trough_threshold = 0.1`, `center = True`, zero padding) with `fmin`
/// and `fmax` at the notes librosa recommends, C2 (65.41 Hz) and C7 (2093.0 Hz).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct YinConfig {
    /// The lowest f0 searched, in Hz (`fmin`, > 0, and `sample_rate / fmin < frame_length -
    /// 1`: one period must fit in a frame).
    pub fmin: f64,
    /// The highest f0 searched, in Hz (`fmax`, > `fmin`, at most the Nyquist frequency).
    pub fmax: f64,
    /// Samples per frame (`frame_length`).
    pub frame_length: usize,
    /// Samples between frame starts (`hop_length`, > 0); `None` is `frame_length / 4`.
    pub hop_length: Option<usize>,
    /// The absolute threshold on the normalised difference below which a local minimum is
    /// taken as the period (`trough_threshold`, finite, > 0).
    pub trough_threshold: f64,
    /// Pad `frame_length / 2` zeros on both sides so that frame `t` is centred on sample
    /// `t · hop_length` (`center`, with librosa's default `pad_mode='constant'`).
    pub center: bool,
}

impl Default for YinConfig {
    fn default() -> Self {
        Self::new(super::C2_HZ, super::C7_HZ)
    }
}

impl YinConfig {
    /// librosa's defaults with the given `fmin` and `fmax` (Hz).
    pub fn new(fmin: f64, fmax: f64) -> Self {
        Self {
            fmin,
            fmax,
            frame_length: 2048,
            hop_length: None,
            trough_threshold: 0.1,
            center: true,
        }
    }

    /// Sets `frame_length` and `hop_length`.
    pub fn with_frames(mut self, frame_length: usize, hop_length: Option<usize>) -> Self {
        self.frame_length = frame_length;
        self.hop_length = hop_length;
        self
    }

    /// The hop in samples: `hop_length`, or `frame_length / 4` when `None`.
    pub fn hop(&self) -> usize {
        self.hop_length.unwrap_or(self.frame_length / 4)
    }

    /// Checks the config against `sample_rate` as librosa does: `0 < fmin < fmax <=
    /// sample_rate / 2`, `sample_rate / fmin < frame_length - 1`, a hop > 0 and a finite
    /// threshold > 0.
    ///
    /// # Errors
    /// [`Error::ZeroSampleRate`], or [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self, sample_rate: u32) -> Result<()> {
        super::check_periods(
            sample_rate,
            self.fmin,
            self.fmax,
            self.frame_length,
            self.hop(),
        )?;
        if !(self.trough_threshold.is_finite() && self.trough_threshold > 0.0) {
            return Err(invalid(
                "trough_threshold",
                self.trough_threshold,
                "must be finite and > 0",
            ));
        }
        Ok(())
    }

    /// The number of frames for `n_samples` samples, or `None` when the (padded) input is
    /// shorter than one frame.
    pub fn n_frames(&self, n_samples: usize) -> Option<usize> {
        super::n_frames(n_samples, self.frame_length, self.hop(), self.center)
    }
}

/// The f0 of each frame of `y`, in Hz, as `librosa.yin(y, fmin=config.fmin,
/// fmax=config.fmax, sr=sample_rate, frame_length, hop_length, trough_threshold, center,
/// pad_mode='constant')`.
///
/// ```
/// use ser_dsp::{YinConfig, yin};
///
/// // 0.5 s of a 220 Hz tone at 16 kHz.
/// let y: Vec<f32> = (0..8000)
///     .map(|n| (2.0 * std::f32::consts::PI * 220.0 * n as f32 / 16_000.0).sin())
///     .collect();
/// let f0 = yin(&y, 16_000, &YinConfig::new(65.0, 2000.0))?; // 2048-sample frames, hop 512
/// assert_eq!(f0.len(), 16);
/// assert!((f0[8] - 220.0).abs() < 0.5);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] (see [`YinConfig::validate`]), [`Error::ZeroSampleRate`],
/// [`Error::Empty`], [`Error::NonFinite`], and [`Error::TooShort`] when `center` is off and
/// `y` is shorter than a frame.
pub fn yin(y: &[f32], sample_rate: u32, config: &YinConfig) -> Result<Array1<f32>> {
    const WHAT: &str = "yin";
    config.validate(sample_rate)?;
    crate::error::check_non_empty(WHAT, y)?;
    crate::error::check_finite(WHAT, y)?;
    let n_frames = config.n_frames(y.len()).ok_or(Error::TooShort {
        what: WHAT,
        needed: config.frame_length,
        got: y.len(),
    })?;
    let sr = f64::from(sample_rate);
    let (min_period, max_period) = super::check_periods(
        sample_rate,
        config.fmin,
        config.fmax,
        config.frame_length,
        config.hop(),
    )?;
    let pad = if config.center {
        config.frame_length / 2
    } else {
        0
    };
    let mut difference = Difference::new(
        config.frame_length,
        config.hop(),
        pad,
        min_period,
        max_period,
    );
    let mut cmnd = vec![0.0f64; difference.n_lags()];
    let mut out = Vec::with_capacity(n_frames);
    for t in 0..n_frames {
        difference.frame(y, t, &mut cmnd)?;
        let idx = pick_period(&cmnd, config.trough_threshold);
        let period = (min_period + idx) as f64 + parabolic_shift(&cmnd, idx);
        out.push((sr / period) as f32);
    }
    Ok(Array1::from(out))
}

/// The first local minimum below `threshold` (librosa's `localmin`, with the first lag a
/// trough when below the second), else the first global minimum.
fn pick_period(x: &[f64], threshold: f64) -> usize {
    if let Some(i) = (0..x.len()).find(|&i| is_trough(x, i) && x[i] < threshold) {
        return i;
    }
    let mut best = 0;
    for (i, v) in x.iter().enumerate() {
        if *v < x[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_gives_sr_over_min_period_like_librosa() {
        let f0 = yin(&[0.0; 4000], 16_000, &YinConfig::new(100.0, 1000.0)).unwrap();
        assert!(f0.iter().all(|v| *v == 1000.0));
    }

    #[test]
    fn picks_first_trough_below_threshold() {
        assert_eq!(pick_period(&[0.5, 0.05, 0.2, 0.01, 0.3], 0.1), 1);
        assert_eq!(pick_period(&[0.5, 0.4, 0.2, 0.3, 0.35], 0.1), 2);
        assert_eq!(pick_period(&[0.05, 0.4, 0.2], 0.1), 0);
    }
}
