//! Chromagrams from a power spectrogram, as `librosa.feature.chroma_stft(S=S, sr, tuning)`
//! and its filterbank `librosa.filters.chroma(sr, n_fft, n_chroma, tuning)` (librosa 0.11,
//! with that function's fixed defaults `ctroct = 5`, `octwidth = 2`, `norm = 2`,
//! `base_c = True`).
//!
//! Each FFT bin `k ≥ 1` sits at `n_chroma · log2(f_k / (A440 / 16))` chroma bins, `A440 =
//! 440 · 2^(tuning / n_chroma)`; every chroma class takes a Gaussian bump around it (half as
//! wide as the bin's spacing, at least one chroma bin), the columns are scaled to unit L2
//! norm, weighted by a Gaussian over octaves centred on octave 5 (≈ 523 Hz, two octaves
//! wide), and the rows rotated so that row 0 is C.
//!
//! librosa estimates `tuning` from the spectrogram when it is not given (`tuning=None`, its
//! default): [`ChromaConfig::tuning`] `= None` does the same ([`estimate_tuning`] on the power
//! spectrogram, through [`piptrack`](crate::piptrack)). The default here stays a given
//! `Some(0.0)` (A = 440 Hz), which needs no estimate.

use ndarray::{Array2, ArrayView2};

#[cfg(doc)]
use crate::error::Error;
use crate::error::{Result, invalid};
use crate::tuning::{TuningConfig, estimate_tuning};

/// How [`chroma_stft`] scales each frame (librosa's `norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ChromaNorm {
    /// Divide by the frame's largest value (`norm=np.inf`, the default); all-zero frames
    /// stay zero.
    #[default]
    Max,
    /// No scaling (`norm=None`).
    None,
}

/// Parameters of [`chroma_stft`] and [`chroma_filterbank`]; the defaults are librosa's, with
/// `tuning = Some(0.0)` in place of its estimate (`None`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct ChromaConfig {
    /// Chroma bins per octave (`n_chroma`, 1 to 1200; 12 by default).
    pub n_chroma: usize,
    /// Deviation from A440 in fractions of a chroma bin (`tuning`, finite, within ±0.5 for
    /// a meaningful value); `None` estimates it from the spectrogram as librosa's
    /// `tuning=None` ([`estimate_tuning`] with `bins_per_octave = n_chroma`; only
    /// [`chroma_stft`] can, [`chroma_filterbank`] needs a value).
    pub tuning: Option<f32>,
    /// Per-frame scaling (`norm`).
    pub norm: ChromaNorm,
}

impl Default for ChromaConfig {
    fn default() -> Self {
        Self {
            n_chroma: 12,
            tuning: Some(0.0),
            norm: ChromaNorm::Max,
        }
    }
}

impl ChromaConfig {
    /// Checks `1 <= n_chroma <= 1200` and a finite `tuning` (when given).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.n_chroma == 0 || self.n_chroma > 1200 {
            return Err(invalid(
                "n_chroma",
                self.n_chroma,
                "must be between 1 and 1200",
            ));
        }
        if let Some(tuning) = self.tuning {
            if !tuning.is_finite() {
                return Err(invalid("tuning", tuning, "must be finite"));
            }
        }
        Ok(())
    }
}

/// The chroma filterbank, `(n_chroma, n_fft / 2 + 1)`, as `librosa.filters.chroma(sr=
/// sample_rate, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning)` (float32).
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config, `tuning = None` (there is no spectrogram to
/// estimate it from) or `n_fft < 2` (or above 2^24); [`Error::ZeroSampleRate`] /
/// [`Error::SampleRateOutOfRange`] for a bad rate.
pub fn chroma_filterbank(
    sample_rate: u32,
    n_fft: usize,
    config: &ChromaConfig,
) -> Result<Array2<f32>> {
    config.validate()?;
    let Some(tuning) = config.tuning else {
        return Err(invalid(
            "tuning",
            "None",
            "must be given for a filterbank (chroma_stft estimates it from the spectrogram)",
        ));
    };
    filterbank(sample_rate, n_fft, config, f64::from(tuning))
}

/// [`chroma_filterbank`] with the tuning in `f64` (an estimate is an `f64` histogram edge,
/// passed on unrounded as librosa does).
fn filterbank(
    sample_rate: u32,
    n_fft: usize,
    config: &ChromaConfig,
    tuning: f64,
) -> Result<Array2<f32>> {
    config.validate()?;
    crate::resample::check_sample_rate(sample_rate)?;
    if !(2..=1 << 24).contains(&n_fft) {
        return Err(invalid("n_fft", n_fft, "must be between 2 and 2^24"));
    }
    let nc = config.n_chroma as f64;
    let a440 = 440.0 * 2f64.powf(tuning / nc);
    let step = f64::from(sample_rate) / n_fft as f64;
    // Bins 1 .. n_fft (numpy's linspace(0, sr, n_fft, endpoint=False)[1:]), in chroma bins;
    // bin 0 is placed 1.5 octaves below bin 1.
    let mut frqbins = Vec::with_capacity(n_fft);
    frqbins.push(0.0);
    frqbins.extend((1..n_fft).map(|k| nc * (k as f64 * step / (a440 / 16.0)).log2()));
    frqbins[0] = frqbins[1] - 1.5 * nc;
    let binwidth: Vec<f64> = (0..n_fft)
        .map(|i| {
            if i + 1 < n_fft {
                (frqbins[i + 1] - frqbins[i]).max(1.0)
            } else {
                1.0
            }
        })
        .collect();
    let half = (nc / 2.0).round_ties_even();
    let n_bins = n_fft / 2 + 1;
    let mut wts = Array2::<f64>::zeros((config.n_chroma, n_bins));
    for (i, (&fb, &bw)) in frqbins.iter().zip(&binwidth).take(n_bins).enumerate() {
        let mut col: Vec<f64> = (0..config.n_chroma)
            .map(|c| {
                let d = (fb - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
                (-0.5 * (2.0 * d / bw).powi(2)).exp()
            })
            .collect();
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        let octave = (-0.5 * ((fb / nc - 5.0) / 2.0).powi(2)).exp();
        let scale = if norm < f64::MIN_POSITIVE {
            octave
        } else {
            octave / norm
        };
        col.iter_mut().for_each(|v| *v *= scale);
        // base_c: rotate so that row 0 is C (np.roll by -3 · (n_chroma / 12)).
        let shift = 3 * (config.n_chroma / 12);
        for (c, v) in col.iter().enumerate() {
            let row = (c + config.n_chroma - shift % config.n_chroma) % config.n_chroma;
            wts[[row, i]] = *v;
        }
    }
    Ok(wts.mapv(|v| v as f32))
}

/// A chromagram, `(n_chroma, n_frames)`, from a **power** spectrogram `(n_fft / 2 + 1,
/// n_frames)`, as `librosa.feature.chroma_stft(S=s, sr=sample_rate, tuning=tuning,
/// n_chroma=n_chroma, norm=…)` (librosa computes `S = |stft(y)|²` when given `y`:
/// [`Stft::power`](crate::Stft::power)). With `tuning = None` the tuning is estimated from
/// `s` first, as librosa's `tuning=None`: `estimate_tuning(S=s, sr=sample_rate,
/// bins_per_octave=n_chroma)` ([`estimate_tuning`]).
///
/// ```
/// use ser_dsp::{ChromaConfig, Stft, StftConfig, chroma_stft};
///
/// // A4 = 440 Hz: chroma class A (row 9, C = 0) is the strongest.
/// let y: Vec<f32> = (0..22_050)
///     .map(|n| (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 22_050.0).sin())
///     .collect();
/// let s = Stft::new(StftConfig::default())?.power(&y)?;
/// let chroma = chroma_stft(s.view(), 22_050, &ChromaConfig::default())?;
/// assert_eq!(chroma.dim(), (12, 44));
/// assert_eq!(chroma[[9, 20]], 1.0);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// As [`chroma_filterbank`] (but `tuning = None` is estimated) and [`estimate_tuning`];
/// [`Error::Empty`] for no frames, [`Error::TooShort`] for fewer than two frequency rows, [`Error::NonFinite`] / [`Error::NegativeValue`] for a NaN,
/// infinite or negative value.
pub fn chroma_stft(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    config: &ChromaConfig,
) -> Result<Array2<f32>> {
    config.validate()?;
    crate::spectral::check_values("chroma_stft", s)?;
    let n_fft = 2 * (s.nrows() - 1);
    let tuning = match config.tuning {
        Some(t) => f64::from(t),
        None => estimate_tuning(
            s,
            sample_rate,
            &TuningConfig {
                bins_per_octave: config.n_chroma,
                ..TuningConfig::default()
            },
        )?,
    };
    let fb = filterbank(sample_rate, n_fft, config, tuning)?;
    // raw[c, t] = Σ_k fb[c, k] S[k, t], over contiguous rows of S, f64 sums.
    let n_frames = s.ncols();
    let data = crate::spectral::contiguous(s);
    let mut raw = Array2::<f64>::zeros((config.n_chroma, n_frames));
    let mut row64 = vec![0.0f64; n_frames];
    for (k, row) in data.chunks_exact(n_frames).enumerate() {
        for (r, v) in row64.iter_mut().zip(row) {
            *r = f64::from(*v);
        }
        for (c, mut out) in raw.rows_mut().into_iter().enumerate() {
            let w = f64::from(fb[[c, k]]);
            if let Some(out) = out.as_slice_mut() {
                for (o, v) in out.iter_mut().zip(&row64) {
                    *o += w * v;
                }
            }
        }
    }
    if config.norm == ChromaNorm::Max {
        for mut col in raw.columns_mut() {
            let peak = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if peak >= f64::from(f32::MIN_POSITIVE) {
                col.mapv_inplace(|v| v / peak);
            }
        }
    }
    Ok(raw.mapv(|v| v as f32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn bad_configs_are_errors() {
        let s = Array2::<f32>::ones((1025, 3));
        for cfg in [
            ChromaConfig {
                n_chroma: 0,
                ..ChromaConfig::default()
            },
            ChromaConfig {
                tuning: Some(f32::NAN),
                ..ChromaConfig::default()
            },
        ] {
            assert!(matches!(
                chroma_stft(s.view(), 22_050, &cfg),
                Err(Error::InvalidConfig { .. })
            ));
        }
    }
}
