//! Mel scale, mel filterbank and mel spectrogram, as `librosa.filters.mel` and
//! `librosa.feature.melspectrogram` (librosa 0.11).
//!
//! Filter `m` is a triangle on the FFT bin frequencies between mel points `m`, `m + 1` and
//! `m + 2` of `n_mels + 2` points equally spaced on the mel scale from `fmin` to `fmax`:
//!
//! ```text
//! W[m, f] = max(0, min((hz[f] - mel_f[m]) / (mel_f[m+1] - mel_f[m]),
//!                      (mel_f[m+2] - hz[f]) / (mel_f[m+2] - mel_f[m+1])))
//! Slaney norm: W[m, :] *= 2 / (mel_f[m+2] - mel_f[m])
//! ```
//!
//! Weights are computed in `f64` and stored as the [`Sample`] type: `f32` as librosa's
//! default `dtype` (`MelFilterbank`, `MelSpectrogram`), `f64` as its `dtype=np.float64`
//! (`MelFilterbank<f64>`, `MelSpectrogram<f64>`, for `f64` input; see [`crate::sample`]).
//! The filterbank is kept
//! sparse (each band's non-zero span), so projecting a spectrum costs about `2 * n_bins`
//! multiply-adds instead of `n_mels * n_bins`.

mod streaming;

pub use streaming::StreamingMelSpectrogram;

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result, invalid};
use crate::sample::Sample;
use crate::stft::{Precision, Stft, StftConfig, StftScratch, spectrum_power};

/// The mel scale formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above
    /// (librosa's default, `htk=False`).
    #[default]
    Slaney,
    /// HTK: `2595 log10(1 + f / 700)` (`htk=True`).
    Htk,
}

/// Normalisation of the mel filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum MelNorm {
    /// Divide each triangle by its width in Hz (constant energy per band), librosa's default
    /// (`norm="slaney"`).
    #[default]
    Slaney,
    /// Peak 1 triangles (`norm=None`).
    None,
}

/// Hz to mels on the given scale (`librosa.hz_to_mel`).
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = 6.4f64.ln() / 27.0;
            if hz >= min_log_hz {
                min_log_mel + (hz / min_log_hz).ln() / logstep
            } else {
                hz / f_sp
            }
        }
    }
}

/// Mels to Hz on the given scale (`librosa.mel_to_hz`).
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney => {
            let f_sp = 200.0 / 3.0;
            let min_log_hz = 1000.0;
            let min_log_mel = min_log_hz / f_sp;
            let logstep = 6.4f64.ln() / 27.0;
            if mel >= min_log_mel {
                min_log_hz * (logstep * (mel - min_log_mel)).exp()
            } else {
                f_sp * mel
            }
        }
    }
}

/// `n` frequencies in Hz equally spaced on the mel scale from `fmin` to `fmax`
/// (`librosa.mel_frequencies`).
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, scale: MelScale) -> Vec<f64> {
    let (lo, hi) = (hz_to_mel(fmin, scale), hz_to_mel(fmax, scale));
    linspace(lo, hi, n)
        .into_iter()
        .map(|m| mel_to_hz(m, scale))
        .collect()
}

/// The centre frequency in Hz of each of the `n_fft / 2 + 1` FFT bins
/// (`librosa.fft_frequencies`).
pub fn fft_frequencies(sample_rate: u32, n_fft: usize) -> Vec<f64> {
    let step = f64::from(sample_rate) / n_fft as f64;
    (0..=n_fft / 2).map(|k| k as f64 * step).collect()
}

/// numpy's `linspace(lo, hi, n)` (endpoint included, same formula).
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![lo],
        _ => {
            let step = (hi - lo) / (n - 1) as f64;
            let mut v: Vec<f64> = (0..n).map(|i| lo + i as f64 * step).collect();
            v[n - 1] = hi;
            v
        }
    }
}

/// Parameters of a [`MelFilterbank`]; defaults are `librosa.filters.mel`'s, with the
/// research pipeline's 16 kHz.
///
/// The FFT length is not here: it belongs to the STFT ([`StftConfig::n_fft`]) and is passed
/// to [`MelFilterbank::new`] beside this config, as librosa's `filters.mel(sr=, n_fft=, ...)`
/// takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct MelConfig {
    /// Sample rate of the signal in Hz (`sr`, 16000).
    pub sample_rate: u32,
    /// Number of mel bands (128).
    pub n_mels: usize,
    /// Lowest frequency in Hz (0).
    pub fmin: f32,
    /// Highest frequency in Hz (`None`: `sample_rate / 2`).
    pub fmax: Option<f32>,
    /// Mel scale formula (`htk`; Slaney).
    pub scale: MelScale,
    /// Filter normalisation (`norm`; Slaney).
    pub norm: MelNorm,
}

impl Default for MelConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            scale: MelScale::Slaney,
            norm: MelNorm::Slaney,
        }
    }
}

/// One filter's non-zero span.
#[derive(Debug, Clone)]
struct Band<S> {
    start: usize,
    weights: Vec<S>,
}

impl<S: Sample> Band<S> {
    /// The non-zero span of a dense filter row.
    fn from_dense(dense: &[S]) -> Self {
        let zero = S::zero();
        let start = dense.iter().position(|&w| w != zero).unwrap_or(0);
        let end = dense
            .iter()
            .rposition(|&w| w != zero)
            .map_or(start, |e| e + 1);
        Self {
            start,
            weights: dense[start..end].to_vec(),
        }
    }
}

/// A mel filterbank of shape `(n_mels, n_fft / 2 + 1)`, stored sparse, with weights of the
/// [`Sample`] type `S` (`f32` from [`MelFilterbank::new`], `f64` from
/// `MelFilterbank::<f64>::build`, as librosa's `dtype=np.float64`).
///
/// ```
/// use ser_dsp::{MelConfig, MelFilterbank};
/// let fb = MelFilterbank::new(&MelConfig { fmax: Some(8000.0), ..MelConfig::default() }, 2048)?;
/// assert_eq!(fb.to_array().dim(), (128, 1025));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MelFilterbank<S = f32> {
    n_bins: usize,
    bands: Vec<Band<S>>,
}

impl MelFilterbank {
    /// Builds the filterbank for an FFT of `n_fft` samples (`n_fft / 2 + 1` bins), with
    /// `f32` weights (librosa's default `dtype`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero rate, `n_fft` or `n_mels`, a negative or non-finite
    /// `fmin`, or `fmax <= fmin`. (As librosa, `fmax` above Nyquist is allowed; some bands
    /// may then be empty.)
    pub fn new(config: &MelConfig, n_fft: usize) -> Result<Self> {
        Self::build(config, n_fft)
    }
}

impl<S: Sample> MelFilterbank<S> {
    /// Builds the filterbank with weights of type `S`: `MelFilterbank::<f64>::build` is
    /// `librosa.filters.mel(..., dtype=np.float64)` ([`MelFilterbank::new`] is the `f32` one).
    ///
    /// ```
    /// use ser_dsp::{MelConfig, MelFilterbank};
    /// let fb = MelFilterbank::<f64>::build(&MelConfig::default(), 512)?;
    /// let w: ndarray::Array2<f64> = fb.to_array();
    /// assert_eq!(w.dim(), (128, 257));
    /// # Ok::<(), ser_dsp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`MelFilterbank::new`].
    pub fn build(config: &MelConfig, n_fft: usize) -> Result<Self> {
        let MelConfig {
            sample_rate,
            n_mels,
            fmin,
            fmax,
            scale,
            norm,
        } = *config;
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        if n_fft == 0 {
            return Err(invalid("n_fft", n_fft.to_string(), "must be positive"));
        }
        if n_mels == 0 || n_mels > 1 << 16 {
            return Err(invalid(
                "n_mels",
                n_mels.to_string(),
                "must be in 1..=65536",
            ));
        }
        if n_fft > crate::stft::MAX_N_FFT {
            return Err(invalid("n_fft", n_fft.to_string(), "must be at most 2^24"));
        }
        let fmax = fmax.map_or(f64::from(sample_rate) / 2.0, f64::from);
        let fmin = f64::from(fmin);
        if !(fmin.is_finite() && fmin >= 0.0) {
            return Err(invalid("fmin", fmin.to_string(), "must be finite and >= 0"));
        }
        if !(fmax.is_finite() && fmax > fmin) {
            return Err(invalid(
                "fmax",
                fmax.to_string(),
                "must be finite and > fmin",
            ));
        }
        let fftfreqs = fft_frequencies(sample_rate, n_fft);
        let mel_f = mel_frequencies(n_mels + 2, fmin, fmax, scale);
        let n_bins = fftfreqs.len();
        let mut bands = Vec::with_capacity(n_mels);
        let mut dense = vec![S::zero(); n_bins];
        for m in 0..n_mels {
            let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
            let (d0, d1) = (f1 - f0, f2 - f1);
            let enorm = match norm {
                MelNorm::Slaney => 2.0 / (f2 - f0),
                MelNorm::None => 1.0,
            };
            for (w, &hz) in dense.iter_mut().zip(&fftfreqs) {
                let lower = -(f0 - hz) / d0;
                let upper = (f2 - hz) / d1;
                // The triangle in librosa's dtype, then scaled by the norm: float32 rounds
                // the triangle first, float64 does all in f64.
                let tri = S::from_f64_lossy(lower.min(upper).max(0.0));
                *w = match norm {
                    MelNorm::Slaney => S::from_f64_lossy(tri.widen() * enorm),
                    MelNorm::None => tri,
                };
            }
            bands.push(Band::from_dense(&dense));
        }
        Ok(Self { n_bins, bands })
    }

    /// The range of FFT bins that some filter covers (`lo..hi`).
    pub(crate) fn support(&self) -> (usize, usize) {
        let bands = &self.bands;
        let lo = bands.iter().map(|b| b.start).min().unwrap_or(0);
        let hi = bands
            .iter()
            .map(|b| b.start + b.weights.len())
            .max()
            .unwrap_or(0);
        (lo.min(hi), hi)
    }

    /// The number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.bands.len()
    }

    /// The bands whose filter covers no FFT bin, so that they are zero whatever the input:
    /// what librosa warns about as "Empty filters detected in mel frequency basis". This
    /// happens when `fmax` lies above the Nyquist frequency or the bands are narrower than
    /// the FFT's bin spacing (too many bands for `n_fft`).
    pub fn empty_bands(&self) -> Vec<usize> {
        self.bands
            .iter()
            .enumerate()
            .filter(|(_, b)| b.weights.iter().all(|&w| w == S::zero()))
            .map(|(m, _)| m)
            .collect()
    }

    /// The number of FFT bins each filter spans (`n_fft / 2 + 1`).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// The dense weight matrix, shape `(n_mels, n_fft / 2 + 1)`, equal to
    /// `librosa.filters.mel` (with `dtype=np.float64` for `MelFilterbank<f64>`).
    pub fn to_array(&self) -> Array2<S> {
        let mut out = Array2::zeros((self.n_mels(), self.n_bins));
        for (m, band) in self.bands.iter().enumerate() {
            for (k, &w) in band.weights.iter().enumerate() {
                out[[m, band.start + k]] = w;
            }
        }
        out
    }

    /// Projects one spectrum column (`n_bins` values) onto the mel bands (`n_mels` values).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the lengths are not `n_bins` and `n_mels`.
    pub fn apply_column(&self, spectrum: &[S], out: &mut [S]) -> Result<()> {
        if spectrum.len() != self.n_bins || out.len() != self.n_mels() {
            return Err(Error::ShapeMismatch {
                what: "mel projection",
                expected: vec![self.n_bins, self.n_mels()],
                got: vec![spectrum.len(), out.len()],
            });
        }
        self.project(spectrum, out);
        Ok(())
    }

    pub(crate) fn project(&self, spectrum: &[S], out: &mut [S]) {
        for (o, band) in out.iter_mut().zip(&self.bands) {
            let s = &spectrum[band.start..band.start + band.weights.len()];
            *o = S::dot(s, &band.weights);
        }
    }

    /// Projects a spectrogram `(n_bins, n_frames)` to `(n_mels, n_frames)`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the spectrogram does not have `n_bins` rows.
    pub fn apply(&self, spectrogram: ArrayView2<'_, S>) -> Result<Array2<S>> {
        if spectrogram.nrows() != self.n_bins {
            return Err(Error::ShapeMismatch {
                what: "mel projection",
                expected: vec![self.n_bins, spectrogram.ncols()],
                got: vec![spectrogram.nrows(), spectrogram.ncols()],
            });
        }
        let mut out = Array2::zeros((self.n_mels(), spectrogram.ncols()));
        // Row-wise: out[m, :] += w * S[f, :] over each band's bins, contiguous rows either way.
        for (band, mut row) in self.bands.iter().zip(out.rows_mut()) {
            for (k, &w) in band.weights.iter().enumerate() {
                row.scaled_add(w, &spectrogram.row(band.start + k));
            }
        }
        Ok(out)
    }
}

/// Parameters of a [`MelSpectrogram`]: the STFT, the filterbank and the exponent, as
/// `librosa.feature.melspectrogram`'s; the defaults are librosa's with a 16 kHz rate.
///
/// Each setting has one home: the FFT length and the hop are in [`MelSpectrogramConfig::stft`],
/// the sample rate and the bands in [`MelSpectrogramConfig::mel`].
///
/// ```
/// use ser_dsp::{MelSpectrogram, MelSpectrogramConfig};
/// let mut config = MelSpectrogramConfig::default();
/// config.stft.hop_length = Some(160);
/// config.mel.fmax = Some(8000.0);
/// assert_eq!(MelSpectrogram::new(config)?.n_frames(16_000), 101);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct MelSpectrogramConfig {
    /// The STFT: FFT length, hop, window, centring and precision (librosa's defaults, but
    /// [`Precision::F32`]: mel bands hide its rounding; see [`Precision`]). With serde, a
    /// missing `stft` object takes this default, while a missing field inside it takes
    /// [`StftConfig::default`]'s (`precision` then is `f64`).
    pub stft: StftConfig,
    /// The filterbank: sample rate, bands and frequency range (see [`MelConfig`]).
    pub mel: MelConfig,
    /// Exponent of the magnitude (2: power).
    pub power: f32,
}

impl Default for MelSpectrogramConfig {
    fn default() -> Self {
        Self {
            stft: StftConfig::default().with_precision(Precision::F32),
            mel: MelConfig::default(),
            power: 2.0,
        }
    }
}

/// A mel spectrogram extractor: STFT, `|X|^power`, mel projection, computed frame by frame
/// (the linear spectrogram is never stored).
///
/// `MelSpectrogram` (= `MelSpectrogram<f32>`, from [`MelSpectrogram::new`]) takes and gives
/// `f32`; `MelSpectrogram<f64>` (from [`MelSpectrogram::plan`]) takes and gives `f64`, with
/// an `f64` STFT and librosa's float64 weights, as
/// `librosa.feature.melspectrogram(y=y.astype(np.float64), ..., dtype=np.float64)`.
///
/// ```
/// use ser_dsp::{MelSpectrogram, MelSpectrogramConfig};
/// let mel = MelSpectrogram::new(MelSpectrogramConfig::default())?;
/// let y = vec![0.1f32; 16_000];
/// assert_eq!(mel.compute(&y)?.dim(), (128, 32));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MelSpectrogram<S = f32> {
    config: MelSpectrogramConfig,
    stft: Stft<S>,
    filterbank: MelFilterbank<S>,
}

impl MelSpectrogram {
    /// Plans the STFT and builds the filterbank, for `f32` samples.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] from [`Stft::new`] or [`MelFilterbank::new`], or for a
    /// non-finite or non-positive `power`.
    pub fn new(config: MelSpectrogramConfig) -> Result<Self> {
        Self::plan(config)
    }
}

impl<S: Sample> MelSpectrogram<S> {
    /// Plans the STFT and builds the filterbank for samples of type `S`:
    /// `MelSpectrogram::<f64>::plan(config)` for `f64` ([`MelSpectrogram::new`] is the `f32`
    /// one). `f64` input is always transformed in `f64`, whatever `config.stft.precision`.
    ///
    /// ```
    /// use ser_dsp::{MelSpectrogram, MelSpectrogramConfig};
    /// let mel = MelSpectrogram::<f64>::plan(MelSpectrogramConfig::default())?;
    /// let y = vec![0.1f64; 16_000];
    /// let m: ndarray::Array2<f64> = mel.compute(&y)?;
    /// assert_eq!(m.dim(), (128, 32));
    /// # Ok::<(), ser_dsp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`MelSpectrogram::new`].
    pub fn plan(config: MelSpectrogramConfig) -> Result<Self> {
        if !(config.power.is_finite() && config.power > 0.0) {
            return Err(invalid(
                "power",
                config.power.to_string(),
                "must be finite and > 0",
            ));
        }
        Ok(Self {
            config,
            stft: Stft::plan(config.stft)?,
            filterbank: MelFilterbank::build(&config.mel, config.stft.n_fft)?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MelSpectrogramConfig {
        &self.config
    }

    /// The STFT used.
    pub fn stft(&self) -> &Stft<S> {
        &self.stft
    }

    /// The filterbank used.
    pub fn filterbank(&self) -> &MelFilterbank<S> {
        &self.filterbank
    }

    /// The number of frames for `n_samples` input samples.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        self.stft.n_frames(n_samples)
    }

    /// The mel spectrogram of `y`, shape `(n_mels, n_frames)`.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn compute(&self, y: &[S]) -> Result<Array2<S>> {
        let mut out = Array2::zeros((self.filterbank.n_mels(), self.n_frames(y.len())));
        let mut scratch = self.stft.make_scratch();
        self.compute_into(y, &mut scratch, &mut out)?;
        Ok(out)
    }

    /// Writes the mel spectrogram of `y` into `out`, which must have shape
    /// `(n_mels, n_frames(y.len()))`, using `scratch` (from `self.stft().make_scratch()`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for a wrong `out`, else as [`Stft::for_each_frame`].
    pub fn compute_into(
        &self,
        y: &[S],
        scratch: &mut StftScratch,
        out: &mut Array2<S>,
    ) -> Result<()> {
        let expected = (self.filterbank.n_mels(), self.n_frames(y.len()));
        if out.dim() != expected {
            return Err(Error::ShapeMismatch {
                what: "mel spectrogram output",
                expected: vec![expected.0, expected.1],
                got: out.shape().to_vec(),
            });
        }
        let mut power = vec![S::zero(); self.stft.n_bins()];
        let mut mel = vec![S::zero(); self.filterbank.n_mels()];
        let p = S::from_f64_lossy(f64::from(self.config.power));
        // Only the bins that some band covers are needed.
        let (lo, hi) = self.filterbank.support();
        self.stft.for_each_frame_sparse(y, scratch, |t, s| {
            let mut col = out.column_mut(t);
            match s {
                Some(s) => {
                    spectrum_power(&s[lo..hi], p, &mut power[lo..hi]);
                    self.filterbank.project(&power, &mut mel);
                    col.iter_mut().zip(&mel).for_each(|(o, v)| *o = *v);
                }
                None => col.fill(S::zero()),
            }
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips() {
        for hz in [0.0, 300.0, 999.0, 1000.0, 4000.0, 11025.0] {
            for scale in [MelScale::Slaney, MelScale::Htk] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!(
                    (back - hz).abs() < 1e-9 * hz.max(1.0),
                    "{hz} {scale:?} {back}"
                );
            }
        }
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
    }

    /// The nested defaults are the flat ones they replaced: librosa's STFT in `f32`, 16 kHz
    /// Slaney bands, power 2; a bare STFT keeps librosa's `f64`.
    #[test]
    fn nested_defaults_keep_their_values() {
        use crate::stft::PadMode;
        use crate::window::Window;

        let cfg = MelSpectrogramConfig::default();
        assert_eq!(
            cfg.stft,
            StftConfig {
                n_fft: 2048,
                hop_length: None,
                win_length: None,
                window: Window::Hann,
                center: true,
                pad_mode: PadMode::Constant,
                precision: Precision::F32,
            }
        );
        assert_eq!(StftConfig::default().precision, Precision::F64);
        assert_eq!(
            cfg.mel,
            MelConfig {
                sample_rate: 16_000,
                n_mels: 128,
                fmin: 0.0,
                fmax: None,
                scale: MelScale::Slaney,
                norm: MelNorm::Slaney,
            }
        );
        assert_eq!(cfg.power, 2.0);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn nested_config_round_trips_through_json() {
        let mut cfg = MelSpectrogramConfig::default();
        cfg.stft.hop_length = Some(160);
        cfg.mel.fmax = Some(7600.0);
        let json = serde_json::to_string(&cfg).unwrap();
        let back: MelSpectrogramConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        let empty: MelSpectrogramConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, MelSpectrogramConfig::default());
    }

    #[test]
    fn fmax_below_fmin_is_rejected() {
        let cfg = MelConfig {
            fmin: 4000.0,
            fmax: Some(100.0),
            ..MelConfig::default()
        };
        assert!(matches!(
            MelFilterbank::new(&cfg, 2048),
            Err(Error::InvalidConfig { field: "fmax", .. })
        ));
    }
}
