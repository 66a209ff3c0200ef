//! Pitch tracking by parabolic interpolation of spectral peaks and the tuning estimate built
//! on it: `librosa.piptrack`, `librosa.pitch_tuning` and `librosa.estimate_tuning`
//! (librosa 0.11), with librosa's float32 arithmetic where it has it.
//!
//! [`piptrack`] finds, in each frame of a magnitude spectrogram `S`, the bins `k` inside
//! `[fmin, fmax)` that are local maxima of `S` among the bins above `threshold · max(S[:, t])`,
//! and refines each by a parabola through bins `k - 1, k, k + 1`:
//!
//! ```text
//! a     = S[k+1] + S[k-1] - 2 S[k]        b = (S[k+1] - S[k-1]) / 2
//! shift = -b / a   (0 where |b| >= |a|)
//! pitch = (k + shift) · sr / n_fft
//! mag   = S[k] + 0.5 · gradient(S)[k] · shift
//! ```
//!
//! [`estimate_tuning`] keeps the peaks whose `mag` is at least the median of all peaks', and
//! [`pitch_tuning`] histograms their deviation from the equal-tempered scale (A440) in
//! fractions of a bin, returning the left edge of the fullest histogram bin (ties: the lowest).
//!
//! The deviation uses a float32 `log2`, as librosa; here it is the correctly rounded one
//! (`f64` rounded to `f32`), while numpy's SIMD `log2` is off by one ulp on ~1% of inputs. The
//! estimate can therefore differ from librosa's only when two histogram bins are within a
//! few peaks of each other (measured: equal on the golden clips).

use ndarray::{Array2, ArrayView2};

#[cfg(doc)]
use crate::error::Error;
use crate::error::{Result, invalid};

/// Parameters of [`piptrack`]; the defaults are librosa's.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct PiptrackConfig {
    /// Lowest frequency searched, in Hz (`fmin`, 150; negative values count as 0).
    pub fmin: f32,
    /// Frequency searched up to (excluded), in Hz (`fmax`, 4000; capped at Nyquist).
    pub fmax: f32,
    /// A peak must exceed this fraction of its frame's maximum (`threshold`, 0.1; librosa's
    /// `ref=None`, that is `ref=np.max`).
    pub threshold: f32,
}

impl Default for PiptrackConfig {
    fn default() -> Self {
        Self {
            fmin: 150.0,
            fmax: 4000.0,
            threshold: 0.1,
        }
    }
}

impl PiptrackConfig {
    /// Checks finite settings, `fmax > max(fmin, 0)` and `threshold >= 0`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if !self.fmin.is_finite() {
            return Err(invalid("fmin", self.fmin, "must be finite"));
        }
        if !(self.fmax.is_finite() && self.fmax > self.fmin.max(0.0)) {
            return Err(invalid("fmax", self.fmax, "must be finite and > fmin"));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(invalid(
                "threshold",
                self.threshold,
                "must be finite and >= 0",
            ));
        }
        Ok(())
    }
}

/// Parameters of [`estimate_tuning`]; the defaults are librosa's.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct TuningConfig {
    /// The peak picking (`piptrack`'s `fmin`, `fmax`, `threshold`).
    pub piptrack: PiptrackConfig,
    /// Width of a histogram bin, in fractions of a pitch bin (`resolution`, 0.01; 1e-6 to 1).
    pub resolution: f64,
    /// Pitch bins per octave (`bins_per_octave`, 12; 1 to 1200).
    pub bins_per_octave: usize,
}

impl Default for TuningConfig {
    fn default() -> Self {
        Self {
            piptrack: PiptrackConfig::default(),
            resolution: 0.01,
            bins_per_octave: 12,
        }
    }
}

fn check_histogram(resolution: f64, bins_per_octave: usize) -> Result<()> {
    if !(resolution.is_finite() && (1e-6..=1.0).contains(&resolution)) {
        return Err(invalid(
            "resolution",
            resolution,
            "must be between 1e-6 and 1",
        ));
    }
    if !(1..=1200).contains(&bins_per_octave) {
        return Err(invalid(
            "bins_per_octave",
            bins_per_octave,
            "must be between 1 and 1200",
        ));
    }
    Ok(())
}

/// Pitches and their magnitudes at the spectral peaks of a **magnitude** spectrogram `s`,
/// `(n_fft / 2 + 1, n_frames)`, as `librosa.piptrack(S=s, sr=sample_rate, fmin, fmax,
/// threshold)`: two arrays of `s`'s shape, zero except at the peaks (float32, as librosa's).
///
/// librosa computes `S = |stft(y)|` when given `y`: [`Stft::magnitude`](crate::Stft::magnitude).
///
/// ```
/// use ser_dsp::{PiptrackConfig, Stft, StftConfig, piptrack};
///
/// // 440 Hz: in every frame the one peak is within a few Hz of 440.
/// let y: Vec<f32> = (0..22_050)
///     .map(|n| (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 22_050.0).sin())
///     .collect();
/// let s = Stft::new(StftConfig::default())?.magnitude(&y)?;
/// let (pitches, mags) = piptrack(s.view(), 22_050, &PiptrackConfig::default())?;
/// let t = 20;
/// let k = (0..s.nrows()).max_by(|&a, &b| mags[[a, t]].total_cmp(&mags[[b, t]])).unwrap();
/// assert!((pitches[[k, t]] - 440.0).abs() < 2.0);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config; [`Error::ZeroSampleRate`] /
/// [`Error::SampleRateOutOfRange`] for a bad rate; [`Error::Empty`] for no frames,
/// [`Error::TooShort`] for fewer than two frequency rows, [`Error::NonFinite`] /
/// [`Error::NegativeValue`] for a NaN, infinite or negative value (librosa takes `|S|`).
pub fn piptrack(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    config: &PiptrackConfig,
) -> Result<(Array2<f32>, Array2<f32>)> {
    config.validate()?;
    crate::resample::check_sample_rate(sample_rate)?;
    crate::spectral::check_values("piptrack", s)?;
    let (n_bins, n_frames) = s.dim();
    let n_fft = 2 * (n_bins - 1);
    let sr = f64::from(sample_rate);
    let fmin = f64::from(config.fmin).max(0.0);
    let fmax = f64::from(config.fmax).min(sr / 2.0);
    // numpy's rfftfreq: k · (1 / (n · (1 / sr))).
    let step = 1.0 / (n_fft as f64 * (1.0 / sr));
    let in_band = |k: usize| {
        let f = k as f64 * step;
        fmin <= f && f < fmax
    };
    let mut pitches = Array2::<f32>::zeros((n_bins, n_frames));
    let mut mags = Array2::<f32>::zeros((n_bins, n_frames));
    let mut col = vec![0.0f32; n_bins];
    let mut masked = vec![0.0f32; n_bins];
    for t in 0..n_frames {
        col.iter_mut().zip(s.column(t)).for_each(|(o, v)| *o = *v);
        let peak = col.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let floor = config.threshold * peak;
        for (m, &v) in masked.iter_mut().zip(&col) {
            *m = if v > floor { v } else { 0.0 };
        }
        for k in 1..n_bins {
            if !in_band(k) || !is_local_max(&masked, k) {
                continue;
            }
            let (shift, avg) = if k + 1 < n_bins {
                (
                    parabolic_shift(col[k - 1], col[k], col[k + 1]),
                    (col[k + 1] - col[k - 1]) / 2.0,
                )
            } else {
                (0.0, col[k] - col[k - 1])
            };
            pitches[[k, t]] = ((k as f64 + f64::from(shift)) * sr / n_fft as f64) as f32;
            mags[[k, t]] = col[k] + 0.5 * avg * shift;
        }
    }
    Ok((pitches, mags))
}

/// librosa's `util.localmax` at `k >= 1`: `x[k] > x[k-1]` and `x[k] >= x[k+1]` (the last bin
/// needs only the first).
fn is_local_max(x: &[f32], k: usize) -> bool {
    x[k] > x[k - 1] && x.get(k + 1).is_none_or(|&next| x[k] >= next)
}

/// The vertex offset of the parabola through `(-1, xm)`, `(0, x0)`, `(1, xp)`, as librosa's
/// numba stencil computes it from float32 input: the sums of two neighbours in f32, the rest
/// in f64, rounded to f32; 0 when `|b| >= |a|` (the vertex is not between the neighbours).
fn parabolic_shift(xm: f32, x0: f32, xp: f32) -> f32 {
    let a = f64::from(xp + xm) - 2.0 * f64::from(x0);
    let b = f64::from(xp - xm) / 2.0;
    if b.abs() >= a.abs() {
        0.0
    } else {
        (-b / a) as f32
    }
}

/// The tuning deviation of a set of frequencies in Hz from A440, in fractions of a bin
/// (`bins_per_octave` bins per octave), as `librosa.pitch_tuning(frequencies, resolution=,
/// bins_per_octave=)`: the left edge of the fullest bin of a histogram of the deviations over
/// `[-0.5, 0.5]` in steps of `resolution`. Frequencies `<= 0` are ignored; with none left the
/// estimate is 0 (librosa warns).
///
/// ```
/// // 440 Hz · 2^(0.25 / 12): a quarter of a semitone sharp.
/// let f = 440.0 * 2f32.powf(0.25 / 12.0);
/// let t = ser_dsp::pitch_tuning(&[f, f, 2.0 * f], 0.01, 12)?;
/// assert!((t - 0.25).abs() < 0.011);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `resolution` outside `[1e-6, 1]` or `bins_per_octave`
/// outside `1..=1200`; [`Error::NonFinite`] for a NaN or infinite frequency.
pub fn pitch_tuning(frequencies: &[f32], resolution: f64, bins_per_octave: usize) -> Result<f64> {
    check_histogram(resolution, bins_per_octave)?;
    crate::error::check_finite("pitch_tuning", frequencies)?;
    let n_edges = (1.0 / resolution).ceil() as usize + 1;
    let edges = linspace(-0.5, 0.5, n_edges);
    let n_hist = n_edges - 1;
    let mut counts = vec![0usize; n_hist];
    let bpo = bins_per_octave as f32;
    // float32 as librosa: octs = log2(f / (440 / 16)), residual = (bpo · octs) mod 1.
    let base = (440.0f64 / 16.0) as f32;
    let mut any = false;
    for &f in frequencies.iter().filter(|&&f| f > 0.0) {
        any = true;
        let octs = (f64::from(f / base).log2()) as f32;
        let mut r = (bpo * octs) % 1.0;
        if r < 0.0 {
            r += 1.0;
        }
        if r >= 0.5 {
            r -= 1.0;
        }
        // numpy's histogram: [e_i, e_{i+1}) and the last bin closed, compared in f64.
        let r = f64::from(r);
        let i = edges.partition_point(|&e| e <= r);
        let bin = if i == 0 {
            continue;
        } else if i >= n_edges {
            if r == edges[n_edges - 1] {
                n_hist - 1
            } else {
                continue;
            }
        } else {
            i - 1
        };
        counts[bin] += 1;
    }
    if !any {
        return Ok(0.0);
    }
    // np.argmax: the first of the fullest.
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    Ok(edges[best])
}

/// The tuning deviation from A440 of a spectrogram, in fractions of a bin, as
/// `librosa.estimate_tuning(S=s, sr=sample_rate, ...)`: [`piptrack`] on `s`, the peaks whose
/// magnitude is at least the median peak magnitude, then [`pitch_tuning`] on their pitches.
///
/// `librosa.feature.chroma_stft` calls it on the **power** spectrogram when `tuning=None`
/// (what [`chroma_stft`](crate::chroma_stft) does with [`ChromaConfig::tuning`](
/// crate::ChromaConfig::tuning) `= None`); `librosa.estimate_tuning(y=y)` uses the magnitude
/// ([`Stft::magnitude`](crate::Stft::magnitude)).
///
/// ```
/// use ser_dsp::{Stft, StftConfig, TuningConfig, estimate_tuning};
///
/// // A tone a fifth of a semitone flat of A4.
/// let f = 440.0 * 2f32.powf(-0.2 / 12.0);
/// let y: Vec<f32> = (0..22_050)
///     .map(|n| (2.0 * std::f32::consts::PI * f * n as f32 / 22_050.0).sin())
///     .collect();
/// let s = Stft::new(StftConfig::default())?.magnitude(&y)?;
/// let tuning = estimate_tuning(s.view(), 22_050, &TuningConfig::default())?;
/// assert!((tuning + 0.2).abs() < 0.03, "{tuning}");
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// As [`piptrack`] and [`pitch_tuning`].
pub fn estimate_tuning(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    config: &TuningConfig,
) -> Result<f64> {
    check_histogram(config.resolution, config.bins_per_octave)?;
    let (pitches, mags) = piptrack(s, sample_rate, &config.piptrack)?;
    let peak_mags: Vec<f32> = pitches
        .iter()
        .zip(&mags)
        .filter(|(p, _)| **p > 0.0)
        .map(|(_, m)| *m)
        .collect();
    let threshold = median(peak_mags);
    let selected: Vec<f32> = pitches
        .iter()
        .zip(&mags)
        .filter(|(p, m)| **p > 0.0 && **m >= threshold)
        .map(|(p, _)| *p)
        .collect();
    pitch_tuning(&selected, config.resolution, config.bins_per_octave)
}

/// numpy's median of float32 values (0 for none): the middle value, or the float32 mean of
/// the two middle ones.
fn median(mut v: Vec<f32>) -> f32 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (_, &mut hi, _) = v.select_nth_unstable_by(n / 2, f32::total_cmp);
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..n / 2].iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    (lo + hi) / 2.0
}

/// numpy's `linspace(lo, hi, n)` (`n >= 2`): `lo + i · step`, the last exactly `hi`.
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = (hi - lo) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| lo + i as f64 * step).collect();
    if let Some(last) = v.last_mut() {
        *last = hi;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_numpys() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn parabola_vertex() {
        // y = -(x - 0.25)^2 sampled at -1, 0, 1.
        let f = |x: f32| -(x - 0.25) * (x - 0.25);
        assert!((parabolic_shift(f(-1.0), f(0.0), f(1.0)) - 0.25).abs() < 1e-6);
        assert_eq!(parabolic_shift(1.0, 1.0, 1.0), 0.0);
    }

    #[test]
    fn empty_and_bad_inputs() {
        assert_eq!(pitch_tuning(&[], 0.01, 12).unwrap(), 0.0);
        assert_eq!(pitch_tuning(&[-1.0, 0.0], 0.01, 12).unwrap(), 0.0);
        assert!(pitch_tuning(&[440.0], 0.0, 12).is_err());
        assert!(pitch_tuning(&[440.0], 0.01, 0).is_err());
        assert!(pitch_tuning(&[f32::NAN], 0.01, 12).is_err());
        let s = Array2::<f32>::ones((5, 3));
        let bad = PiptrackConfig {
            fmax: 100.0,
            fmin: 200.0,
            ..PiptrackConfig::default()
        };
        assert!(piptrack(s.view(), 16_000, &bad).is_err());
        // Silence: no peak, tuning 0.
        let z = Array2::<f32>::zeros((1025, 4));
        assert_eq!(
            estimate_tuning(z.view(), 22_050, &TuningConfig::default()).unwrap(),
            0.0
        );
    }
}
