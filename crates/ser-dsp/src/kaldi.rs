//! Kaldi-compatible log mel filterbank features, as `torchaudio.compliance.kaldi.fbank`
//! (torchaudio 2.11), which reproduces Kaldi's `compute-fbank-feats`.
//!
//! ```
//! use ser_dsp::{KaldiFbank, KaldiFbankConfig, kaldi_fbank};
//!
//! // One second of a 440 Hz tone at 16 kHz, in Kaldi's 16-bit scale.
//! let y: Vec<f32> = (0..16_000)
//!     .map(|n| 10_000.0 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 16_000.0).sin())
//!     .collect();
//! let fbank = kaldi_fbank(&y, &KaldiFbankConfig::default())?;
//! assert_eq!(fbank.dim(), (98, 23)); // (n_frames, num_mel_bins): Kaldi's order, not librosa's
//!
//! // 80 bins with a VTLN warp, planned once and reused.
//! let config = KaldiFbankConfig { num_mel_bins: 80, vtln_warp: 0.9, ..Default::default() };
//! let planned = KaldiFbank::new(config)?;
//! assert_eq!(planned.compute(&y)?.dim(), (98, 80));
//! # Ok::<(), ser_dsp::Error>(())
//! ```
//!
//! Per frame (`frame_length` ms every `frame_shift` ms): optional dither, removal of the
//! frame's mean, the frame's log energy (before the next steps when `raw_energy`),
//! pre-emphasis *within the frame* (`x[j] -= coef * x[j-1]`, `x[0] -= coef * x[0]`), the
//! window (Povey's by default: a symmetric Hann to the power 0.85), zero padding to a power
//! of two, the power spectrum, Kaldi's triangular mel filters (mel = 1127 ln(1 + f/700),
//! from `low_freq` to `high_freq`, equal-area in mel, no normalisation, the Nyquist bin left
//! out), and `ln(max(x, f32::EPSILON))`.
//!
//! # How this differs from librosa's log-mel
//!
//! The output is `(n_frames, n_bins)` (Kaldi's and torchaudio's order), natural log of power,
//! no `center` padding (frames start at sample 0 when `snip_edges`), and it depends on the
//! input's scale: Kaldi reads 16-bit WAV files as integers (-32768..32767), torchaudio takes
//! the waveform as given. To get Kaldi's numbers from `[-1, 1]` audio, multiply by 32768 first
//! (as most Kaldi-trained front ends, e.g. speaker-embedding models, expect). Scale matters
//! beyond an offset only for the energy column: its floor `energy_floor` (1.0, i.e. a log
//! energy floor of 0) is absolute.
//!
//! # Defaults
//!
//! [`KaldiFbankConfig::default()`] is torchaudio's `fbank` defaults, which differ from
//! Kaldi's own in two places: `dither` is 0.0 (Kaldi: 1.0) and `energy_floor` is 1.0 (Kaldi:
//! 0.0). With `dither = 0` the features are deterministic and equal torchaudio's; with
//! dither, the noise comes from a seeded generator of this crate ([`KaldiFbankConfig::dither_seed`]),
//! so it is reproducible but not torchaudio's (whose noise is `torch.randn`'s).
//!
//! Not taken over from torchaudio: `channel` (pass one channel's samples) and `min_duration`
//! (check the length yourself).

use std::sync::Arc;

use ndarray::Array2;
use realfft::num_complex::Complex32;
use realfft::{RealFftPlanner, RealToComplex};

use crate::emphasis::preemphasis_in_place;
use crate::error::{Error, Result, check_finite, check_non_empty, invalid};

/// The largest padded frame (FFT size) accepted: 2^20 samples (65 s at 16 kHz; Kaldi frames
/// are tens of milliseconds).
pub const KALDI_MAX_PADDED_WINDOW: usize = 1 << 20;

/// The most mel bins accepted (Kaldi setups use 23 to 128).
pub const KALDI_MAX_MEL_BINS: usize = 4096;

/// Kaldi's floor on every power and energy before the log: `f32::EPSILON`
/// (`std::numeric_limits<float>::epsilon()`).
const EPSILON: f32 = f32::EPSILON;

/// A window of Kaldi's feature extraction (torchaudio's `window_type`). All are symmetric
/// (denominator `N - 1`), unlike [`Window`](crate::Window)'s periodic STFT windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum KaldiWindow {
    /// Povey's window, Kaldi's default: the symmetric Hann window to the power 0.85.
    #[default]
    Povey,
    /// Symmetric Hann, `0.5 - 0.5 cos(2πn/(N-1))`.
    Hanning,
    /// Symmetric Hamming, `0.54 - 0.46 cos(2πn/(N-1))`.
    Hamming,
    /// All ones.
    Rectangular,
    /// Kaldi's generalised Blackman window,
    /// `c - 0.5 cos(2πn/(N-1)) + (0.5 - c) cos(4πn/(N-1))` with `c` = `blackman_coeff`.
    Blackman,
}

impl KaldiWindow {
    /// The window of `len` samples, as `f32` (computed in `f64`, rounded once).
    pub fn coefficients(self, len: usize, blackman_coeff: f64) -> Vec<f32> {
        let denom = len.saturating_sub(1).max(1) as f64;
        (0..len)
            .map(|i| {
                let a = 2.0 * std::f64::consts::PI * i as f64 / denom;
                let hann = 0.5 - 0.5 * a.cos();
                let w = match self {
                    KaldiWindow::Povey => hann.powf(0.85),
                    KaldiWindow::Hanning => hann,
                    KaldiWindow::Hamming => 0.54 - 0.46 * a.cos(),
                    KaldiWindow::Rectangular => 1.0,
                    KaldiWindow::Blackman => {
                        blackman_coeff - 0.5 * a.cos() + (0.5 - blackman_coeff) * (2.0 * a).cos()
                    }
                };
                w as f32
            })
            .collect()
    }
}

impl std::fmt::Display for KaldiWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KaldiWindow::Povey => "povey",
            KaldiWindow::Hanning => "hanning",
            KaldiWindow::Hamming => "hamming",
            KaldiWindow::Rectangular => "rectangular",
            KaldiWindow::Blackman => "blackman",
        })
    }
}

impl std::str::FromStr for KaldiWindow {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "povey" => Ok(KaldiWindow::Povey),
            "hanning" | "hann" => Ok(KaldiWindow::Hanning),
            "hamming" => Ok(KaldiWindow::Hamming),
            "rectangular" => Ok(KaldiWindow::Rectangular),
            "blackman" => Ok(KaldiWindow::Blackman),
            _ => Err(invalid(
                "window_type",
                s,
                "expected povey, hanning, hamming, rectangular or blackman",
            )),
        }
    }
}

/// The options of [`kaldi_fbank`] and [`KaldiFbank`], named and defaulted as
/// `torchaudio.compliance.kaldi.fbank`'s arguments (Kaldi's `--option-names` with
/// underscores). Times are in milliseconds, frequencies in Hz.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct KaldiFbankConfig {
    /// The waveform's sample rate in Hz (16000).
    pub sample_frequency: f64,
    /// Frame length in ms (25).
    pub frame_length: f64,
    /// Frame shift in ms (10).
    pub frame_shift: f64,
    /// Standard deviation of the Gaussian noise added to every frame sample (0.0, as
    /// torchaudio; Kaldi's own default is 1.0). Seeded by [`dither_seed`](Self::dither_seed).
    pub dither: f32,
    /// Seed of the dither noise (used only when `dither > 0`; the same seed and input give the
    /// same features).
    pub dither_seed: u64,
    /// Pre-emphasis coefficient within each frame, in `[0, 1]` (0.97).
    pub preemphasis_coefficient: f32,
    /// Subtract each frame's mean before the energy and the pre-emphasis (true).
    pub remove_dc_offset: bool,
    /// The window (Povey's).
    pub window_type: KaldiWindow,
    /// The constant of the generalised Blackman window (0.42).
    pub blackman_coeff: f64,
    /// Zero-pad each frame to the next power of two before the FFT (true); if false the frame
    /// length in samples must be even.
    pub round_to_power_of_two: bool,
    /// Only frames that fit in the signal (true); if false, `(n + shift/2) / shift` frames over
    /// the signal mirrored at both ends (Kaldi's end handling).
    pub snip_edges: bool,
    /// The number of triangular mel bins (23); more than 3.
    pub num_mel_bins: usize,
    /// Lower edge of the mel bins in Hz (20).
    pub low_freq: f64,
    /// Upper edge of the mel bins in Hz; zero or negative is an offset from the Nyquist
    /// frequency (0.0: the Nyquist frequency).
    pub high_freq: f64,
    /// The natural log of the mel energies (true); false: the energies themselves.
    pub use_log_fbank: bool,
    /// Power spectrum (true); false: magnitude.
    pub use_power: bool,
    /// Add the frame's log energy as an extra column (false): first, or last with
    /// [`htk_compat`](Self::htk_compat).
    pub use_energy: bool,
    /// Take the energy before pre-emphasis and windowing (true).
    pub raw_energy: bool,
    /// Absolute floor on the energy before its log; 0 for none (1.0, as torchaudio; Kaldi's
    /// default is 0.0).
    pub energy_floor: f32,
    /// Put the energy column last instead of first (false).
    pub htk_compat: bool,
    /// Subtract each column's mean over the frames (false).
    pub subtract_mean: bool,
    /// VTLN warp factor (1.0: no warping). Values below 1 stretch the spectrum up (as for a
    /// longer vocal tract), above 1 compress it.
    pub vtln_warp: f64,
    /// Lower inflection point of the piecewise-linear VTLN warp in Hz (100).
    pub vtln_low: f64,
    /// Upper inflection point of the VTLN warp in Hz; negative is an offset from the Nyquist
    /// frequency (-500).
    pub vtln_high: f64,
}

impl Default for KaldiFbankConfig {
    fn default() -> Self {
        Self {
            sample_frequency: 16_000.0,
            frame_length: 25.0,
            frame_shift: 10.0,
            dither: 0.0,
            dither_seed: 0,
            preemphasis_coefficient: 0.97,
            remove_dc_offset: true,
            window_type: KaldiWindow::Povey,
            blackman_coeff: 0.42,
            round_to_power_of_two: true,
            snip_edges: true,
            num_mel_bins: 23,
            low_freq: 20.0,
            high_freq: 0.0,
            use_log_fbank: true,
            use_power: true,
            use_energy: false,
            raw_energy: true,
            energy_floor: 1.0,
            htk_compat: false,
            subtract_mean: false,
            vtln_warp: 1.0,
            vtln_low: 100.0,
            vtln_high: -500.0,
        }
    }
}

/// Kaldi's mel scale, `1127 ln(1 + f / 700)`.
pub fn kaldi_mel_scale(freq: f64) -> f64 {
    1127.0 * (1.0 + freq / 700.0).ln()
}

/// The inverse of [`kaldi_mel_scale`], `700 (exp(mel / 1127) - 1)`.
pub fn kaldi_inverse_mel_scale(mel: f64) -> f64 {
    700.0 * ((mel / 1127.0).exp() - 1.0)
}

/// Kaldi's VTLN warp of a frequency, as `torchaudio.compliance.kaldi.vtln_warp_freq`: the
/// piecewise-linear map `F` with `F(low_freq) = low_freq`, `F(high_freq) = high_freq`,
/// `F(f) = f / warp_factor` between the inflection points
/// `l = vtln_low * max(1, warp_factor)` and `h = vtln_high * min(1, warp_factor)`;
/// frequencies outside `[low_freq, high_freq]` are returned unchanged.
///
/// ```
/// use ser_dsp::vtln_warp_freq;
/// let f = vtln_warp_freq(100.0, 7500.0, 20.0, 8000.0, 0.9, 1000.0)?;
/// assert!((f - 1000.0 / 0.9).abs() < 1e-9);
/// assert_eq!(vtln_warp_freq(100.0, 7500.0, 20.0, 8000.0, 0.9, 8000.0)?, 8000.0);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] unless `low_freq < vtln_low * max(1, w)`,
/// `vtln_high * min(1, w) < high_freq`, `w > 0` and everything is finite.
pub fn vtln_warp_freq(
    vtln_low: f64,
    vtln_high: f64,
    low_freq: f64,
    high_freq: f64,
    warp_factor: f64,
    freq: f64,
) -> Result<f64> {
    let w = Warp::new(vtln_low, vtln_high, low_freq, high_freq, warp_factor)?;
    Ok(w.apply(freq))
}

/// The VTLN warp's constants, checked once.
#[derive(Debug, Clone, Copy)]
struct Warp {
    low_freq: f64,
    high_freq: f64,
    l: f64,
    h: f64,
    scale: f64,
    scale_left: f64,
    scale_right: f64,
}

impl Warp {
    fn new(
        vtln_low: f64,
        vtln_high: f64,
        low_freq: f64,
        high_freq: f64,
        warp_factor: f64,
    ) -> Result<Self> {
        for (field, v) in [
            ("vtln_low", vtln_low),
            ("vtln_high", vtln_high),
            ("low_freq", low_freq),
            ("high_freq", high_freq),
        ] {
            if !v.is_finite() {
                return Err(invalid(field, v, "must be finite"));
            }
        }
        if !(warp_factor.is_finite() && warp_factor > 0.0) {
            return Err(invalid("vtln_warp", warp_factor, "must be finite and > 0"));
        }
        let l = vtln_low * warp_factor.max(1.0);
        let h = vtln_high * warp_factor.min(1.0);
        if l <= low_freq {
            return Err(invalid(
                "vtln_low",
                vtln_low,
                "vtln_low * max(1, vtln_warp) must be above low_freq",
            ));
        }
        if !(h < high_freq && h > l) {
            return Err(invalid(
                "vtln_high",
                vtln_high,
                "vtln_high * min(1, vtln_warp) must be below high_freq and above the lower inflection point",
            ));
        }
        let scale = 1.0 / warp_factor;
        let (fl, fh) = (scale * l, scale * h);
        Ok(Self {
            low_freq,
            high_freq,
            l,
            h,
            scale,
            scale_left: (fl - low_freq) / (l - low_freq),
            scale_right: (high_freq - fh) / (high_freq - h),
        })
    }

    /// torchaudio's order of cases: outside `[low, high]` unchanged; below `l` the left
    /// piece; below `h` the middle; else the right.
    fn apply(&self, freq: f64) -> f64 {
        if freq < self.low_freq || freq > self.high_freq {
            freq
        } else if freq < self.l {
            self.low_freq + self.scale_left * (freq - self.low_freq)
        } else if freq < self.h {
            self.scale * freq
        } else {
            self.high_freq + self.scale_right * (freq - self.high_freq)
        }
    }

    fn apply_mel(&self, mel: f64) -> f64 {
        kaldi_mel_scale(self.apply(kaldi_inverse_mel_scale(mel)))
    }
}

/// One mel filter: its weights on FFT bins `start..start + weights.len()`.
#[derive(Debug, Clone)]
struct Filter {
    start: usize,
    weights: Vec<f32>,
}

/// Kaldi's mel filterbank over the first `padded / 2` FFT bins (the Nyquist bin has weight
/// zero), as torchaudio's `get_mel_banks`, stored sparsely: memory is linear in the FFT size
/// even for many bins.
fn mel_banks(
    num_bins: usize,
    padded: usize,
    sample_freq: f64,
    low_freq: f64,
    high_freq: f64,
    warp: Option<&Warp>,
) -> (Vec<Filter>, Vec<f64>) {
    let num_fft_bins = padded / 2;
    let fft_bin_width = sample_freq / padded as f64;
    let mel_low = kaldi_mel_scale(low_freq);
    let mel_high = kaldi_mel_scale(high_freq);
    let delta = (mel_high - mel_low) / (num_bins + 1) as f64;
    let warp_mel = |m: f64| warp.map_or(m, |w| w.apply_mel(m));
    let mut filters = Vec::with_capacity(num_bins);
    let mut centers = Vec::with_capacity(num_bins);
    for b in 0..num_bins {
        let left = warp_mel(mel_low + b as f64 * delta);
        let center = warp_mel(mel_low + (b as f64 + 1.0) * delta);
        let right = warp_mel(mel_low + (b as f64 + 2.0) * delta);
        centers.push(kaldi_inverse_mel_scale(center));
        // The FFT bins whose mel lies strictly inside (left, right); one bin of margin on
        // each side of the estimate, then the exact test below.
        let lo_hz = kaldi_inverse_mel_scale(left) / fft_bin_width;
        let hi_hz = kaldi_inverse_mel_scale(right) / fft_bin_width;
        let first = (lo_hz.floor().max(1.0) as usize - 1).min(num_fft_bins);
        let last = ((hi_hz.ceil().max(0.0) as usize).saturating_add(1)).min(num_fft_bins);
        let mut start = None;
        let mut weights = Vec::new();
        for k in first..last {
            let mel = kaldi_mel_scale(fft_bin_width * k as f64);
            let w = if mel > left && mel <= center {
                (mel - left) / (center - left)
            } else if mel > center && mel < right {
                (right - mel) / (right - center)
            } else {
                0.0
            };
            if w > 0.0 {
                let s = *start.get_or_insert(k);
                weights.resize(k - s, 0.0);
                weights.push(w as f32);
            }
        }
        filters.push(Filter {
            start: start.unwrap_or(0),
            weights,
        });
    }
    (filters, centers)
}

/// Kaldi-compatible filterbank features, planned once (window, filters, FFT) for one
/// [`KaldiFbankConfig`]; `Send + Sync`, so one can serve many threads.
#[derive(Clone)]
pub struct KaldiFbank {
    config: KaldiFbankConfig,
    window_size: usize,
    window_shift: usize,
    padded: usize,
    window: Vec<f32>,
    filters: Vec<Filter>,
    centers: Vec<f64>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for KaldiFbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KaldiFbank")
            .field("config", &self.config)
            .field("window_size", &self.window_size)
            .field("window_shift", &self.window_shift)
            .field("padded_window_size", &self.padded)
            .finish_non_exhaustive()
    }
}

impl KaldiFbank {
    /// Checks `config` and plans the extraction.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for what torchaudio asserts on (a frame shorter than 2
    /// samples, a non-positive shift, an odd FFT size, a pre-emphasis coefficient outside
    /// `[0, 1]`, 3 or fewer mel bins, `low_freq`/`high_freq` outside `[0, Nyquist]` or out of
    /// order, VTLN cut-offs out of order when warping) and for non-finite or negative values,
    /// FFT sizes above [`KALDI_MAX_PADDED_WINDOW`] and more than [`KALDI_MAX_MEL_BINS`] bins.
    pub fn new(config: KaldiFbankConfig) -> Result<Self> {
        let c = &config;
        if !(c.sample_frequency.is_finite() && c.sample_frequency > 0.0) {
            return Err(invalid(
                "sample_frequency",
                c.sample_frequency,
                "must be finite and > 0",
            ));
        }
        for (field, v) in [
            ("frame_length", c.frame_length),
            ("frame_shift", c.frame_shift),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(field, v, "must be finite and > 0 (milliseconds)"));
            }
        }
        // Python's int() of the product, as torchaudio.
        let size = c.sample_frequency * c.frame_length * 0.001;
        let shift = c.sample_frequency * c.frame_shift * 0.001;
        if size > KALDI_MAX_PADDED_WINDOW as f64 {
            return Err(invalid(
                "frame_length",
                c.frame_length,
                "the frame would exceed KALDI_MAX_PADDED_WINDOW samples",
            ));
        }
        if shift > KALDI_MAX_PADDED_WINDOW as f64 {
            return Err(invalid(
                "frame_shift",
                c.frame_shift,
                "the shift would exceed KALDI_MAX_PADDED_WINDOW samples",
            ));
        }
        let window_size = size as usize;
        let window_shift = shift as usize;
        if window_size < 2 {
            return Err(invalid(
                "frame_length",
                c.frame_length,
                "must give at least 2 samples per frame",
            ));
        }
        if window_shift == 0 {
            return Err(invalid(
                "frame_shift",
                c.frame_shift,
                "must give at least 1 sample of shift",
            ));
        }
        let padded = if c.round_to_power_of_two {
            window_size.next_power_of_two()
        } else {
            window_size
        };
        if padded > KALDI_MAX_PADDED_WINDOW {
            return Err(invalid(
                "frame_length",
                c.frame_length,
                "the padded frame would exceed KALDI_MAX_PADDED_WINDOW samples",
            ));
        }
        if padded % 2 != 0 {
            return Err(invalid(
                "frame_length",
                c.frame_length,
                "the frame must have an even number of samples when round_to_power_of_two is false",
            ));
        }
        if !(0.0..=1.0).contains(&c.preemphasis_coefficient) {
            return Err(invalid(
                "preemphasis_coefficient",
                c.preemphasis_coefficient,
                "must be in [0, 1]",
            ));
        }
        if !(c.dither.is_finite() && c.dither >= 0.0) {
            return Err(invalid("dither", c.dither, "must be finite and >= 0"));
        }
        if !(c.energy_floor.is_finite() && c.energy_floor >= 0.0) {
            return Err(invalid(
                "energy_floor",
                c.energy_floor,
                "must be finite and >= 0",
            ));
        }
        if !c.blackman_coeff.is_finite() {
            return Err(invalid(
                "blackman_coeff",
                c.blackman_coeff,
                "must be finite",
            ));
        }
        if c.num_mel_bins <= 3 {
            return Err(invalid(
                "num_mel_bins",
                c.num_mel_bins,
                "must be more than 3",
            ));
        }
        if c.num_mel_bins > KALDI_MAX_MEL_BINS {
            return Err(invalid(
                "num_mel_bins",
                c.num_mel_bins,
                "must be at most KALDI_MAX_MEL_BINS",
            ));
        }
        let nyquist = 0.5 * c.sample_frequency;
        if !c.low_freq.is_finite() || !(0.0..nyquist).contains(&c.low_freq) {
            return Err(invalid("low_freq", c.low_freq, "must be in [0, Nyquist)"));
        }
        let high_freq = if c.high_freq <= 0.0 {
            c.high_freq + nyquist
        } else {
            c.high_freq
        };
        if !(high_freq.is_finite() && high_freq > 0.0 && high_freq <= nyquist) {
            return Err(invalid(
                "high_freq",
                c.high_freq,
                "must resolve to (0, Nyquist] (zero or negative: an offset from Nyquist)",
            ));
        }
        if c.low_freq >= high_freq {
            return Err(invalid(
                "high_freq",
                c.high_freq,
                "must resolve to above low_freq",
            ));
        }
        if !(c.vtln_warp.is_finite() && c.vtln_warp > 0.0) {
            return Err(invalid("vtln_warp", c.vtln_warp, "must be finite and > 0"));
        }
        let warp = if c.vtln_warp == 1.0 {
            None
        } else {
            let vtln_high = if c.vtln_high < 0.0 {
                c.vtln_high + nyquist
            } else {
                c.vtln_high
            };
            // torchaudio's assertion in get_mel_banks, then vtln_warp_freq's own.
            if !(c.low_freq < c.vtln_low && c.vtln_low < high_freq) {
                return Err(invalid(
                    "vtln_low",
                    c.vtln_low,
                    "must be between low_freq and high_freq when warping",
                ));
            }
            if !(0.0 < vtln_high && vtln_high < high_freq && c.vtln_low < vtln_high) {
                return Err(invalid(
                    "vtln_high",
                    c.vtln_high,
                    "must resolve to between vtln_low and high_freq when warping (negative: an offset from Nyquist)",
                ));
            }
            Some(Warp::new(
                c.vtln_low,
                vtln_high,
                c.low_freq,
                high_freq,
                c.vtln_warp,
            )?)
        };
        let (filters, centers) = mel_banks(
            c.num_mel_bins,
            padded,
            c.sample_frequency,
            c.low_freq,
            high_freq,
            warp.as_ref(),
        );
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(padded);
        let window = c.window_type.coefficients(window_size, c.blackman_coeff);
        Ok(Self {
            config,
            window_size,
            window_shift,
            padded,
            window,
            filters,
            centers,
            fft,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &KaldiFbankConfig {
        &self.config
    }

    /// Samples per frame (400 for 25 ms at 16 kHz).
    pub fn window_size(&self) -> usize {
        self.window_size
    }

    /// Samples between frame starts (160 for 10 ms at 16 kHz).
    pub fn window_shift(&self) -> usize {
        self.window_shift
    }

    /// The FFT size: the frame zero-padded to a power of two (512 for 400 samples).
    pub fn padded_window_size(&self) -> usize {
        self.padded
    }

    /// Columns of the output: `num_mel_bins`, plus one with `use_energy`.
    pub fn n_columns(&self) -> usize {
        self.config.num_mel_bins + usize::from(self.config.use_energy)
    }

    /// The centre frequency of each mel bin in Hz (after the VTLN warp).
    pub fn center_frequencies(&self) -> &[f64] {
        &self.centers
    }

    /// The mel filterbank as a dense `(num_mel_bins, padded_window_size / 2 + 1)` matrix
    /// (torchaudio's `get_mel_banks` with the zero Nyquist column appended).
    pub fn filterbank(&self) -> Array2<f32> {
        let mut m = Array2::zeros((self.filters.len(), self.padded / 2 + 1));
        for (b, f) in self.filters.iter().enumerate() {
            for (i, w) in f.weights.iter().enumerate() {
                m[[b, f.start + i]] = *w;
            }
        }
        m
    }

    /// The number of frames for `n_samples` samples (at least `window_size` of them).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        if self.config.snip_edges {
            if n_samples < self.window_size {
                0
            } else {
                1 + (n_samples - self.window_size) / self.window_shift
            }
        } else {
            (n_samples + self.window_shift / 2) / self.window_shift
        }
    }

    /// The features of `y` (one channel, at `sample_frequency`), as
    /// `torchaudio.compliance.kaldi.fbank(y[None], **config)`: `(n_frames, n_columns)`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::NonFinite`], or [`Error::TooShort`] when `y` is shorter
    /// than one frame (torchaudio asserts this for both `snip_edges` settings).
    pub fn compute(&self, y: &[f32]) -> Result<Array2<f32>> {
        const WHAT: &str = "kaldi_fbank";
        check_non_empty(WHAT, y)?;
        check_finite(WHAT, y)?;
        if y.len() < self.window_size {
            return Err(Error::TooShort {
                what: WHAT,
                needed: self.window_size,
                got: y.len(),
            });
        }
        let c = &self.config;
        let n_frames = self.n_frames(y.len());
        let n_bins = c.num_mel_bins;
        let energy_col = match (c.use_energy, c.htk_compat) {
            (false, _) => None,
            (true, false) => Some(0),
            (true, true) => Some(n_bins),
        };
        let first_bin = usize::from(energy_col == Some(0));
        let mut out = Array2::<f32>::zeros((n_frames, self.n_columns()));

        let ws = self.window_size;
        let mut frame = vec![0.0f32; self.padded];
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f32; self.padded / 2 + 1];
        let mut rng = Gaussian::new(c.dither_seed);
        let log_floor = (c.energy_floor != 0.0).then(|| c.energy_floor.ln());
        let log_energy = |sum: f64| {
            let e = (sum as f32).max(EPSILON).ln();
            log_floor.map_or(e, |f| e.max(f))
        };
        // Frame t starts at padded-signal index t * shift; `offset` maps it to y's index
        // (negative: the mirrored left edge, past the end: the mirrored right edge).
        let offset: isize = if c.snip_edges {
            0
        } else {
            (ws / 2) as isize - (self.window_shift / 2) as isize
        };
        let n = y.len() as isize;
        for (t, mut row) in out.rows_mut().into_iter().enumerate() {
            let start = (t * self.window_shift) as isize - offset;
            if start >= 0 && start + ws as isize <= n {
                let s = start as usize;
                frame[..ws].copy_from_slice(&y[s..s + ws]);
            } else {
                for (j, v) in frame[..ws].iter_mut().enumerate() {
                    let o = start + j as isize;
                    let i = if o < 0 {
                        -o - 1
                    } else if o < n {
                        o
                    } else {
                        2 * n - 1 - o
                    };
                    *v = y[i.clamp(0, n - 1) as usize];
                }
            }
            frame[ws..].fill(0.0);
            let x = &mut frame[..ws];
            if c.dither != 0.0 {
                x.iter_mut().for_each(|v| *v += rng.next() * c.dither);
            }
            if c.remove_dc_offset {
                let mean = (x.iter().map(|&v| f64::from(v)).sum::<f64>() / ws as f64) as f32;
                x.iter_mut().for_each(|v| *v -= mean);
            }
            let mut energy = None;
            if c.raw_energy {
                energy = Some(log_energy(crate::kernels::sum_squares(x)));
            }
            if c.preemphasis_coefficient != 0.0 {
                let coef = c.preemphasis_coefficient;
                // x[0] -= coef * x[0] (torchaudio's replicate padding), then the usual filter.
                let zi = -coef * x[0];
                preemphasis_in_place(x, coef, Some(zi))?;
            }
            x.iter_mut().zip(&self.window).for_each(|(v, w)| *v *= w);
            let energy = match energy {
                Some(e) => e,
                None => log_energy(crate::kernels::sum_squares(x)),
            };
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)?;
            spectrum_power(&spectrum, c.use_power, &mut power);
            for (b, f) in self.filters.iter().enumerate() {
                let p = &power[f.start..f.start + f.weights.len()];
                let e = p
                    .iter()
                    .zip(&f.weights)
                    .map(|(&a, &w)| f64::from(a) * f64::from(w))
                    .sum::<f64>() as f32;
                row[first_bin + b] = if c.use_log_fbank {
                    e.max(EPSILON).ln()
                } else {
                    e
                };
            }
            if let Some(col) = energy_col {
                row[col] = energy;
            }
        }
        if c.subtract_mean && n_frames > 0 {
            for mut col in out.columns_mut() {
                let mean =
                    (col.iter().map(|&v| f64::from(v)).sum::<f64>() / n_frames as f64) as f32;
                col.iter_mut().for_each(|v| *v -= mean);
            }
        }
        Ok(out)
    }
}

/// `|X|²` (exactly `re² + im²`) or `|X|` per bin.
fn spectrum_power(s: &[Complex32], use_power: bool, out: &mut [f32]) {
    crate::stft::spectrum_power(s, if use_power { 2.0 } else { 1.0 }, out);
}

/// Standard normal samples from a seeded SplitMix64 stream (Box-Muller), for dither.
#[derive(Debug, Clone)]
struct Gaussian {
    state: u64,
    spare: Option<f32>,
}

impl Gaussian {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f32 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some((r * a.sin()) as f32);
        (r * a.cos()) as f32
    }
}

/// Kaldi filterbank features of `y` in one call: [`KaldiFbank::new`] then
/// [`KaldiFbank::compute`]. Equal to `torchaudio.compliance.kaldi.fbank(y[None], ...)` with the
/// same options; plan a [`KaldiFbank`] once to process many inputs.
///
/// # Errors
/// As [`KaldiFbank::new`] and [`KaldiFbank::compute`].
pub fn kaldi_fbank(y: &[f32], config: &KaldiFbankConfig) -> Result<Array2<f32>> {
    KaldiFbank::new(config.clone())?.compute(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn povey_window_is_hann_to_the_085() {
        let w = KaldiWindow::Povey.coefficients(5, 0.42);
        assert_eq!(w[0], 0.0);
        assert_eq!(w[4], 0.0);
        assert!((w[2] - 1.0).abs() < 1e-7);
        assert!((w[1] - 0.5f32.powf(0.85)).abs() < 1e-6);
    }

    #[test]
    fn warp_is_continuous_and_fixes_the_edges() {
        let w = Warp::new(100.0, 7500.0, 20.0, 8000.0, 1.1).unwrap();
        assert_eq!(w.apply(20.0), 20.0);
        assert!((w.apply(8000.0) - 8000.0).abs() < 1e-9);
        for f in [w.l, w.h] {
            let (a, b) = (w.apply(f - 1e-9), w.apply(f + 1e-9));
            assert!((a - b).abs() < 1e-6, "{f}: {a} vs {b}");
        }
        let mut prev = 0.0;
        for i in 0..=800 {
            let f = 20.0 + i as f64 * 9.975;
            let g = w.apply(f);
            assert!(g >= prev);
            prev = g;
        }
    }

    #[test]
    fn sparse_filters_equal_the_dense_definition() {
        for warp in [
            None,
            Some(Warp::new(100.0, 7500.0, 20.0, 8000.0, 0.9).unwrap()),
        ] {
            let (filters, _) = mel_banks(40, 512, 16_000.0, 20.0, 8000.0, warp.as_ref());
            let mel_low = kaldi_mel_scale(20.0);
            let delta = (kaldi_mel_scale(8000.0) - mel_low) / 41.0;
            let wm = |m: f64| warp.as_ref().map_or(m, |w| w.apply_mel(m));
            for (b, f) in filters.iter().enumerate() {
                let (l, c, r) = (
                    wm(mel_low + b as f64 * delta),
                    wm(mel_low + (b + 1) as f64 * delta),
                    wm(mel_low + (b + 2) as f64 * delta),
                );
                for k in 0..256usize {
                    let mel = kaldi_mel_scale(31.25 * k as f64);
                    let want = if mel > l && mel <= c {
                        (mel - l) / (c - l)
                    } else if mel > c && mel < r {
                        (r - mel) / (r - c)
                    } else {
                        0.0
                    } as f32;
                    let got = k
                        .checked_sub(f.start)
                        .and_then(|i| f.weights.get(i))
                        .copied()
                        .unwrap_or(0.0);
                    assert_eq!(got, want, "bin {b}, fft bin {k}");
                }
            }
        }
    }

    #[test]
    fn dither_is_seeded() {
        let y: Vec<f32> = (0..4000).map(|n| (n as f32 * 0.05).sin() * 100.0).collect();
        let cfg = KaldiFbankConfig {
            dither: 1.0,
            dither_seed: 7,
            ..Default::default()
        };
        let a = kaldi_fbank(&y, &cfg).unwrap();
        assert_eq!(a, kaldi_fbank(&y, &cfg).unwrap());
        let plain = kaldi_fbank(&y, &KaldiFbankConfig::default()).unwrap();
        assert_ne!(a, plain);
        // Unit-variance noise barely moves the band that holds the tone (amplitude 100) and
        // lifts the nearly empty ones.
        for (da, p) in a.rows().into_iter().zip(plain.rows()) {
            let top = (0..p.len()).max_by(|&i, &j| p[i].total_cmp(&p[j])).unwrap();
            assert!((da[top] - p[top]).abs() < 0.01, "{} vs {}", da[top], p[top]);
            let low = (0..p.len()).min_by(|&i, &j| p[i].total_cmp(&p[j])).unwrap();
            assert!(da[low] > p[low]);
        }
    }
}
