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
//!
//! ```
//! use ser_dsp::{YinConfig, yin};
//!
//! // 0.5 s of a 220 Hz tone at 16 kHz.
//! let y: Vec<f32> = (0..8000)
//!     .map(|n| (2.0 * std::f32::consts::PI * 220.0 * n as f32 / 16_000.0).sin())
//!     .collect();
//! let f0 = yin(&y, 16_000, &YinConfig::new(65.0, 2000.0))?; // 2048-sample frames, hop 512
//! assert_eq!(f0.len(), 16);
//! assert!((f0[8] - 220.0).abs() < 0.5);
//! # Ok::<(), ser_dsp::Error>(())
//! ```

use ndarray::Array1;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

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
        // librosa.note_to_hz('C2'), librosa.note_to_hz('C7').
        Self::new(65.406_391_325_149_66, 2_093.004_522_404_789)
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
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        let sr = f64::from(sample_rate);
        if !(self.fmin.is_finite() && self.fmin > 0.0) {
            return Err(invalid("fmin", self.fmin, "must be finite and > 0"));
        }
        if !self.fmax.is_finite() || self.fmax > sr / 2.0 {
            return Err(invalid(
                "fmax",
                self.fmax,
                "must be finite and at most the Nyquist frequency",
            ));
        }
        if self.fmin >= self.fmax {
            return Err(invalid("fmin", self.fmin, "must be less than fmax"));
        }
        if self.frame_length < 3 || sr / self.fmin >= (self.frame_length - 1) as f64 {
            return Err(invalid(
                "frame_length",
                self.frame_length,
                "too short for fmin: sample_rate / fmin must be < frame_length - 1",
            ));
        }
        if self.hop() == 0 {
            return Err(invalid("hop_length", 0, "must be > 0"));
        }
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
        let padded = if self.center {
            n_samples + 2 * (self.frame_length / 2)
        } else {
            n_samples
        };
        let hop = self.hop();
        (padded >= self.frame_length && hop > 0).then(|| 1 + (padded - self.frame_length) / hop)
    }
}

/// The f0 of each frame of `y`, in Hz, as `librosa.yin(y, fmin=config.fmin,
/// fmax=config.fmax, sr=sample_rate, frame_length, hop_length, trough_threshold, center,
/// pad_mode='constant')`.
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
    let n = config.frame_length;
    let hop = config.hop();
    let pad = if config.center { n / 2 } else { 0 };
    // Validated: 2 <= min_period < max_period <= n - 1.
    let min_period = (sr / config.fmax).floor() as usize;
    let max_period = ((sr / config.fmin).ceil() as usize).min(n - 1);

    // librosa: scipy.fft.next_fast_len(2n - 1); any length >= 2n - 1 gives the same
    // linear autocorrelation.
    let n_fft = (2 * n - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n_fft);
    let inverse = planner.plan_fft_inverse(n_fft);
    let mut buf = vec![0.0f64; n_fft];
    let mut spec = vec![Complex::new(0.0f64, 0.0); n_fft / 2 + 1];
    let mut scratch_f = forward.make_scratch_vec();
    let mut scratch_i = inverse.make_scratch_vec();
    let mut energy = vec![0.0f64; n];
    let mut diff = vec![0.0f64; max_period + 1];
    let n_lags = max_period - min_period + 1;
    let mut cmnd = vec![0.0f64; n_lags];
    // librosa's util.tiny of its f32 frames.
    let tiny = f64::from(f32::MIN_POSITIVE);

    let mut out = Vec::with_capacity(n_frames);
    for t in 0..n_frames {
        // Frame t covers padded[t·hop .. t·hop + n], i.e. y[t·hop - pad ..], zeros outside.
        let start = t * hop;
        buf.fill(0.0);
        let mut acc = 0.0f64;
        for (i, (b, e)) in buf[..n].iter_mut().zip(energy.iter_mut()).enumerate() {
            let v = (start + i)
                .checked_sub(pad)
                .and_then(|j| y.get(j))
                .map_or(0.0, |v| f64::from(*v));
            *b = v;
            acc += v * v;
            *e = acc;
        }
        forward.process_with_scratch(&mut buf, &mut spec, &mut scratch_f)?;
        for c in spec.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        inverse.process_with_scratch(&mut spec, &mut buf, &mut scratch_i)?;
        let scale = 1.0 / n_fft as f64;
        let acf0 = buf[0] * scale;

        // d(k) = 2 (acf(0) - acf(k)) - Σ_{m<k} y(m)², k = 1 ..= max_period.
        diff[0] = 0.0;
        for k in 1..=max_period {
            diff[k] = 2.0 * (acf0 - buf[k] * scale) - energy[k - 1];
        }
        // d'(k) = d(k) / (Σ_{j=1..=k} d(j) / k), for k = min_period ..= max_period.
        let mut cum = 0.0f64;
        for k in 1..=max_period {
            cum += diff[k];
            if k >= min_period {
                cmnd[k - min_period] = diff[k] / (cum / k as f64 + tiny);
            }
        }

        let idx = pick_period(&cmnd, config.trough_threshold);
        let period = (min_period + idx) as f64 + parabolic_shift(&cmnd, idx);
        out.push((sr / period) as f32);
    }
    Ok(Array1::from(out))
}

/// The first local minimum below `threshold` (librosa's `localmin`, with the first lag a
/// trough when below the second), else the first global minimum.
fn pick_period(x: &[f64], threshold: f64) -> usize {
    let last = x.len() - 1;
    let is_trough = |i: usize| -> bool {
        if i == 0 {
            x[0] < x[1]
        } else if i == last {
            x[last] < x[last - 1]
        } else {
            x[i] < x[i - 1] && x[i] <= x[i + 1]
        }
    };
    if let Some(i) = (0..=last).find(|&i| is_trough(i) && x[i] < threshold) {
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

/// librosa's `_parabolic_interpolation` at `i`: the offset of the vertex of the parabola
/// through `i - 1, i, i + 1`, or 0 at the ends or when it lies a bin or more away.
fn parabolic_shift(x: &[f64], i: usize) -> f64 {
    if i == 0 || i + 1 >= x.len() {
        return 0.0;
    }
    let a = x[i + 1] + x[i - 1] - 2.0 * x[i];
    let b = (x[i + 1] - x[i - 1]) / 2.0;
    if b.abs() >= a.abs() { 0.0 } else { -b / a }
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
