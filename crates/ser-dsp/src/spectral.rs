//! Frame descriptors, as `librosa.feature` (0.11): [`rms`] and [`zero_crossing_rate`] on
//! a waveform, and [`spectral_centroid`], [`spectral_bandwidth`], [`spectral_rolloff`],
//! [`spectral_flatness`] and [`spectral_contrast`] on a magnitude spectrogram.
//!
//! librosa's spectral functions accept `y` and compute `S = |stft(y)|` (power 1, `n_fft =
//! 2048`, `hop_length = 512`, Hann, `center=True`, zero padding); here they take that `S`,
//! `(n_fft / 2 + 1, n_frames)`, which [`Stft::magnitude`](crate::Stft::magnitude) with
//! [`StftConfig::default()`](crate::StftConfig) computes. As in librosa, `n_fft` is inferred
//! from the number of rows (`2 · (rows - 1)`) and bin `k` lies at `k · sample_rate / n_fft`
//! Hz.
//!
//! Every function returns one value per frame (librosa's `(1, n_frames)` row as an
//! [`Array1`]), except [`spectral_contrast`], `(n_bands + 1, n_frames)`. Arithmetic is in
//! `f64`, the output rounded to `f32`.
//!
//! ```
//! use ser_dsp::{FrameConfig, Stft, StftConfig, rms, spectral_centroid};
//!
//! // 0.5 s of a 1 kHz tone at 16 kHz.
//! let y: Vec<f32> = (0..8000)
//!     .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16_000.0).sin())
//!     .collect();
//! let s = Stft::new(StftConfig::default())?.magnitude(&y)?; // (1025, 16)
//! let centroid = spectral_centroid(s.view(), 16_000)?;
//! assert!((centroid[8] - 1000.0).abs() < 20.0);
//! let level = rms(&y, &FrameConfig::default())?;
//! assert!((level[8] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3);
//! # Ok::<(), ser_dsp::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result, invalid};

/// Framing of [`rms`] and [`zero_crossing_rate`]; the defaults are librosa's
/// (`frame_length = 2048`, `hop_length = 512`, `center = True`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct FrameConfig {
    /// Samples per frame (`frame_length`, > 0).
    pub frame_length: usize,
    /// Samples between frame starts (`hop_length`, > 0).
    pub hop_length: usize,
    /// Pad `frame_length / 2` samples on both sides so that frame `t` is centred on sample
    /// `t · hop_length` (`center`). [`rms`] pads with zeros (librosa's `pad_mode='constant'`),
    /// [`zero_crossing_rate`] repeats the edge samples (librosa's fixed `'edge'`).
    pub center: bool,
}

impl Default for FrameConfig {
    fn default() -> Self {
        Self {
            frame_length: 2048,
            hop_length: 512,
            center: true,
        }
    }
}

impl FrameConfig {
    /// A config with the given `frame_length` and `hop_length`, centred.
    pub fn new(frame_length: usize, hop_length: usize) -> Self {
        Self {
            frame_length,
            hop_length,
            center: true,
        }
    }

    /// Sets `center`.
    pub fn with_center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Checks `frame_length > 0` and `hop_length > 0`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.frame_length == 0 {
            return Err(invalid("frame_length", 0, "must be > 0"));
        }
        if self.hop_length == 0 {
            return Err(invalid("hop_length", 0, "must be > 0"));
        }
        Ok(())
    }

    /// The number of frames for `n_samples` samples (`1 + (padded - frame_length) /
    /// hop_length`), or `None` when the (padded) input is shorter than one frame.
    pub fn n_frames(&self, n_samples: usize) -> Option<usize> {
        let padded = self.padded_len(n_samples);
        (padded >= self.frame_length && self.hop_length > 0)
            .then(|| 1 + (padded - self.frame_length) / self.hop_length)
    }

    fn padded_len(&self, n_samples: usize) -> usize {
        if self.center {
            n_samples + 2 * (self.frame_length / 2)
        } else {
            n_samples
        }
    }

    /// Validates the config and the waveform; returns the number of frames.
    fn check(&self, what: &'static str, y: &[f32]) -> Result<usize> {
        self.validate()?;
        crate::error::check_non_empty(what, y)?;
        crate::error::check_finite(what, y)?;
        self.n_frames(y.len()).ok_or(Error::TooShort {
            what,
            needed: self.frame_length,
            got: y.len(),
        })
    }
}

/// Root-mean-square level of each frame of a waveform, as `librosa.feature.rms(y=y,
/// frame_length, hop_length, center)` (zero padding when centred, librosa 0.11's default
/// `pad_mode='constant'`).
///
/// # Errors
/// [`Error::InvalidConfig`], [`Error::Empty`], [`Error::NonFinite`], and
/// [`Error::TooShort`] when `center` is off and `y` is shorter than a frame.
pub fn rms(y: &[f32], config: &FrameConfig) -> Result<Array1<f32>> {
    let n_frames = config.check("rms", y)?;
    let pad = if config.center {
        config.frame_length / 2
    } else {
        0
    };
    // Prefix sums of squares over the unpadded signal; zeros outside it add nothing.
    let mut cum = Vec::with_capacity(y.len() + 1);
    let mut acc = 0.0f64;
    cum.push(acc);
    for v in y {
        acc += f64::from(*v) * f64::from(*v);
        cum.push(acc);
    }
    let n = y.len();
    let out = (0..n_frames).map(|t| {
        // Frame t covers padded[t·hop .. t·hop + frame_length], i.e. y[start - pad ..].
        let start = t * config.hop_length;
        let lo = start.saturating_sub(pad).min(n);
        let hi = (start + config.frame_length).saturating_sub(pad).min(n);
        // Direct sums for short frames would be as cheap; prefix sums are O(1) per frame,
        // their rounding is below f32's precision for clips of a few minutes.
        let energy = (cum[hi] - cum[lo]).max(0.0);
        (energy / config.frame_length as f64).sqrt() as f32
    });
    Ok(out.collect())
}

/// The fraction of zero crossings in each frame of a waveform, as
/// `librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center)`.
///
/// As librosa: samples within `±1e-10` count as zero, zero counts as positive, a crossing is
/// a sign change between a sample and the previous one *in the same frame* (the first
/// sample of a frame never counts), and the count is divided by `frame_length`. Centring
/// repeats the edge samples.
///
/// # Errors
/// As [`rms`].
pub fn zero_crossing_rate(y: &[f32], config: &FrameConfig) -> Result<Array1<f32>> {
    const THRESHOLD: f32 = 1e-10;
    let n_frames = config.check("zero_crossing_rate", y)?;
    let pad = if config.center {
        config.frame_length / 2
    } else {
        0
    };
    let n = y.len();
    let negative = |i: usize| -> bool {
        // Padded index i -> sample, edge-repeated.
        let v = y[i.saturating_sub(pad).min(n - 1)];
        v < -THRESHOLD
    };
    let out = (0..n_frames).map(|t| {
        let start = t * config.hop_length;
        let mut crossings = 0usize;
        let mut prev = negative(start);
        for i in start + 1..start + config.frame_length {
            let cur = negative(i);
            crossings += usize::from(cur != prev);
            prev = cur;
        }
        (crossings as f64 / config.frame_length as f64) as f32
    });
    Ok(out.collect())
}

/// The weighted mean frequency of each frame, in Hz, as
/// `librosa.feature.spectral_centroid(S=s, sr=sample_rate)`: `Σ_k f_k S[k, t] / Σ_k S[k, t]`
/// (0 for an all-zero frame).
///
/// # Errors
/// See [the shared checks](self#errors).
pub fn spectral_centroid(s: ArrayView2<'_, f32>, sample_rate: u32) -> Result<Array1<f32>> {
    let freq = check_spectrogram("spectral_centroid", s, sample_rate)?;
    Ok(centroids(s, &freq).iter().map(|c| *c as f32).collect())
}

fn centroids(s: ArrayView2<'_, f32>, freq: &[f64]) -> Vec<f64> {
    // Row by row: rows are contiguous, and every frame's sums advance together.
    let n_frames = s.ncols();
    let (mut num, mut den) = (vec![0.0f64; n_frames], vec![0.0f64; n_frames]);
    for (row, f) in s.rows().into_iter().zip(freq) {
        for ((n, d), v) in num.iter_mut().zip(den.iter_mut()).zip(row) {
            let v = f64::from(*v);
            *n += f * v;
            *d += v;
        }
    }
    num.iter()
        .zip(&den)
        .map(|(n, d)| {
            // librosa's normalize leaves a column summing below f32's tiny unscaled: 0.
            if *d < f64::from(f32::MIN_POSITIVE) {
                0.0
            } else {
                n / d
            }
        })
        .collect()
}

/// Per-frame sums of `S` (f64).
fn column_sums(s: ArrayView2<'_, f32>) -> Vec<f64> {
    let mut sums = vec![0.0f64; s.ncols()];
    for row in s.rows() {
        for (acc, v) in sums.iter_mut().zip(row) {
            *acc += f64::from(*v);
        }
    }
    sums
}

/// Parameters of [`spectral_bandwidth`]; the defaults are librosa's (`p = 2`, `norm = True`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct BandwidthConfig {
    /// The order of the deviation (`p`, finite and > 0).
    pub p: f32,
    /// Normalise each frame to sum 1 before weighting (`norm`).
    pub norm: bool,
}

impl Default for BandwidthConfig {
    fn default() -> Self {
        Self { p: 2.0, norm: true }
    }
}

/// The `p`-th order spread of each frame around its centroid, in Hz, as
/// `librosa.feature.spectral_bandwidth(S=s, sr=sample_rate, p=p, norm=norm)`:
/// `(Σ_k S[k, t] |f_k - centroid_t|^p)^(1/p)`, `S` normalised per frame when `norm`.
///
/// # Errors
/// [`Error::InvalidConfig`] for `p` not finite and > 0; otherwise see
/// [the shared checks](self#errors).
pub fn spectral_bandwidth(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    config: &BandwidthConfig,
) -> Result<Array1<f32>> {
    if !(config.p.is_finite() && config.p > 0.0) {
        return Err(invalid("p", config.p, "must be finite and > 0"));
    }
    let freq = check_spectrogram("spectral_bandwidth", s, sample_rate)?;
    let p = f64::from(config.p);
    let centroid = centroids(s, &freq);
    let scale: Vec<f64> = column_sums(s)
        .into_iter()
        .map(|total| {
            if !config.norm || total < f64::from(f32::MIN_POSITIVE) {
                1.0
            } else {
                1.0 / total
            }
        })
        .collect();
    let mut acc = vec![0.0f64; s.ncols()];
    for (row, f) in s.rows().into_iter().zip(&freq) {
        let cells = acc.iter_mut().zip(row).zip(&centroid);
        // p = 2 and p = 1 (the usual ones) without powf.
        if config.p == 2.0 {
            for ((a, v), c) in cells {
                *a += f64::from(*v) * (f - c) * (f - c);
            }
        } else if config.p == 1.0 {
            for ((a, v), c) in cells {
                *a += f64::from(*v) * (f - c).abs();
            }
        } else {
            for ((a, v), c) in cells {
                *a += f64::from(*v) * (f - c).abs().powf(p);
            }
        }
    }
    let out = acc.iter().zip(&scale).map(|(a, k)| {
        let sum = a * k;
        (if config.p == 2.0 {
            sum.sqrt()
        } else if config.p == 1.0 {
            sum
        } else {
            sum.powf(1.0 / p)
        }) as f32
    });
    Ok(out.collect())
}

/// The frequency below which `roll_percent` of each frame's magnitude lies, in Hz, as
/// `librosa.feature.spectral_rolloff(S=s, sr=sample_rate, roll_percent=roll_percent)`
/// (librosa's default `roll_percent` is 0.85): the centre of the first bin whose cumulative
/// sum reaches `roll_percent` of the total.
///
/// The cumulative sum is accumulated in `f32`, bin by bin, as numpy's `cumsum` does on a
/// `float32` spectrogram, so that the same `S` picks the same bin.
///
/// # Errors
/// [`Error::InvalidConfig`] for `roll_percent` outside `(0, 1)`; otherwise see
/// [the shared checks](self#errors).
pub fn spectral_rolloff(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    roll_percent: f32,
) -> Result<Array1<f32>> {
    if !(roll_percent > 0.0 && roll_percent < 1.0) {
        return Err(invalid("roll_percent", roll_percent, "must lie in (0, 1)"));
    }
    let freq = check_spectrogram("spectral_rolloff", s, sample_rate)?;
    let mut cum = vec![0.0f32; freq.len()];
    let out = s.columns().into_iter().map(|col| {
        let mut acc = 0.0f32;
        for (c, v) in cum.iter_mut().zip(col.iter()) {
            acc += v;
            *c = acc;
        }
        // NumPy 2 (NEP 50): a Python float times a float32 total is a float32 product.
        let threshold = roll_percent * acc;
        let k = cum.iter().position(|c| *c >= threshold).unwrap_or(0);
        freq[k] as f32
    });
    Ok(out.collect())
}

/// Parameters of [`spectral_flatness`]; the defaults are librosa's (`amin = 1e-10`,
/// `power = 2`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct FlatnessConfig {
    /// Floor applied to `S^power` before the logarithm (`amin`, > 0).
    pub amin: f32,
    /// The exponent applied to the magnitude (`power`, finite and > 0; 2 is power).
    pub power: f32,
}

impl Default for FlatnessConfig {
    fn default() -> Self {
        Self {
            amin: 1e-10,
            power: 2.0,
        }
    }
}

/// Geometric over arithmetic mean of each frame of `max(amin, S^power)`, as
/// `librosa.feature.spectral_flatness(S=s, amin=amin, power=power)`: near 1 for white
/// noise (and for silence), near 0 for a tone.
///
/// # Errors
/// [`Error::InvalidConfig`] for `amin` or `power` not finite and > 0; otherwise see
/// [the shared checks](self#errors) (the sample rate is not needed).
pub fn spectral_flatness(s: ArrayView2<'_, f32>, config: &FlatnessConfig) -> Result<Array1<f32>> {
    if !(config.amin.is_finite() && config.amin > 0.0) {
        return Err(invalid("amin", config.amin, "must be finite and > 0"));
    }
    if !(config.power.is_finite() && config.power > 0.0) {
        return Err(invalid("power", config.power, "must be finite and > 0"));
    }
    check_values("spectral_flatness", s)?;
    let (amin, power) = (config.amin, config.power);
    // As librosa, in f32: max(amin, S^power) and its logarithm (a vectorised log2 within a
    // few ulp of libm's); the sums over bins in f64.
    let n_frames = s.ncols();
    let (mut log_sum, mut sum) = (vec![0.0f64; n_frames], vec![0.0f64; n_frames]);
    let mut x = vec![0.0f32; n_frames];
    let data = contiguous(s);
    for row in data.chunks_exact(n_frames) {
        // One loop per exponent, so that each vectorises.
        let pairs = x.iter_mut().zip(row);
        if power == 2.0 {
            pairs.for_each(|(xi, v)| *xi = (v * v).max(amin));
        } else if power == 1.0 {
            pairs.for_each(|(xi, v)| *xi = v.max(amin));
        } else {
            pairs.for_each(|(xi, v)| *xi = v.powf(power).max(amin));
        }
        for (l, xi) in log_sum.iter_mut().zip(&x) {
            *l += f64::from(crate::kernels::log2_fast(*xi));
        }
        for (a, xi) in sum.iter_mut().zip(&x) {
            *a += f64::from(*xi);
        }
    }
    let n = s.nrows() as f64;
    let out = log_sum
        .iter()
        .zip(&sum)
        .map(|(l, a)| ((l / n * std::f64::consts::LN_2).exp() / (a / n)) as f32);
    Ok(out.collect())
}

/// Parameters of [`spectral_contrast`]; the defaults are librosa's (`fmin = 200`,
/// `n_bands = 6`, `quantile = 0.02`, `linear = False`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct ContrastConfig {
    /// Upper edge of the first band in Hz (`fmin`, > 0); band `k ≥ 1` spans
    /// `[fmin · 2^(k-1), fmin · 2^k]`, the last one reaches the Nyquist frequency.
    pub fmin: f32,
    /// Number of octave bands above the first (`n_bands`, ≥ 1).
    pub n_bands: usize,
    /// Fraction of each band's bins averaged for its peak and its valley (`quantile`, in
    /// `(0, 1)`).
    pub quantile: f32,
    /// `Linear` returns `peak - valley`; `Db` (librosa's default) the difference of
    /// `power_to_db` of each.
    pub scale: ContrastScale,
}

/// How [`spectral_contrast`] compares peak and valley (librosa's `linear` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ContrastScale {
    /// `power_to_db(peak) - power_to_db(valley)` (`linear=False`, the default; librosa
    /// applies `power_to_db` with its defaults `ref=1, amin=1e-10, top_db=80` to the
    /// magnitudes as given).
    #[default]
    Db,
    /// `peak - valley` (`linear=True`).
    Linear,
}

impl Default for ContrastConfig {
    fn default() -> Self {
        Self {
            fmin: 200.0,
            n_bands: 6,
            quantile: 0.02,
            scale: ContrastScale::Db,
        }
    }
}

/// Octave-band spectral contrast, `(n_bands + 1, n_frames)`, as
/// `librosa.feature.spectral_contrast(S=s, sr=sample_rate, fmin, n_bands, quantile,
/// linear)`: for each band, the mean of the top `quantile` of its bins (peak) against the
/// mean of the bottom `quantile` (valley).
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config, for a band edge at or above the Nyquist
/// frequency, or for a band that holds no FFT bin (librosa fails on both); otherwise see
/// [the shared checks](self#errors).
pub fn spectral_contrast(
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
    config: &ContrastConfig,
) -> Result<Array2<f32>> {
    if !(config.fmin.is_finite() && config.fmin > 0.0) {
        return Err(invalid("fmin", config.fmin, "must be finite and > 0"));
    }
    if config.n_bands == 0 || config.n_bands > 64 {
        return Err(invalid(
            "n_bands",
            config.n_bands,
            "must be between 1 and 64",
        ));
    }
    if !(config.quantile > 0.0 && config.quantile < 1.0) {
        return Err(invalid("quantile", config.quantile, "must lie in (0, 1)"));
    }
    let freq = check_spectrogram("spectral_contrast", s, sample_rate)?;
    let n_bins = freq.len();
    // librosa multiplies a float64 quantile; widening the f32 through its shortest decimal
    // text gives that float64 (0.02, not 0.0199999995...), so rint(0.02 * 75) is 2 as there.
    let quantile: f64 = config
        .quantile
        .to_string()
        .parse()
        .unwrap_or(f64::from(config.quantile));
    // Band edges: 0, fmin, 2 fmin, ..., fmin 2^n_bands.
    let fmin = f64::from(config.fmin);
    let mut octa = vec![0.0f64];
    octa.extend((0..=config.n_bands).map(|k| fmin * 2f64.powi(k as i32)));
    if octa[..octa.len() - 1]
        .iter()
        .any(|f| *f >= 0.5 * f64::from(sample_rate))
    {
        return Err(invalid(
            "fmin",
            config.fmin,
            "a band edge (fmin · 2^(n_bands-1)) exceeds the Nyquist frequency; reduce fmin or n_bands",
        ));
    }
    // Rows of each band, and how many of its sorted values make the peak and the valley.
    let mut bands = Vec::with_capacity(config.n_bands + 1);
    for k in 0..=config.n_bands {
        let (lo, hi) = (octa[k], octa[k + 1]);
        let first = freq.iter().position(|f| *f >= lo && *f <= hi);
        let last = freq.iter().rposition(|f| *f >= lo && *f <= hi);
        let (Some(mut a), Some(mut b)) = (first, last) else {
            return Err(invalid(
                "n_bands",
                config.n_bands as f32,
                "a band holds no FFT bin; raise n_fft or fmin",
            ));
        };
        if k > 0 {
            a = a.saturating_sub(1);
        }
        if k == config.n_bands {
            b = n_bins - 1;
        }
        let count = b - a + 1;
        // The band's last bin is shared with the next band, which keeps it.
        let end = if k < config.n_bands { b } else { b + 1 };
        let take = ((quantile * count as f64).round_ties_even() as usize).max(1);
        if end <= a {
            return Err(invalid(
                "n_bands",
                config.n_bands as f32,
                "a band holds no FFT bin; raise n_fft or fmin",
            ));
        }
        bands.push((a, end, take.min(end - a)));
    }
    let n_frames = s.ncols();
    let mut peak = Array2::<f64>::zeros((bands.len(), n_frames));
    let mut valley = Array2::<f64>::zeros((bands.len(), n_frames));
    // Frames as contiguous rows; the `take` smallest and largest values of each band by
    // selection (their order does not change a mean beyond rounding), not a full sort.
    let frames = s.t().as_standard_layout().into_owned();
    let mut buf = Vec::with_capacity(n_bins);
    let mean = |vals: &[f32]| vals.iter().map(|v| f64::from(*v)).sum::<f64>() / vals.len() as f64;
    for (t, col) in frames.rows().into_iter().enumerate() {
        for (k, &(a, end, take)) in bands.iter().enumerate() {
            buf.clear();
            buf.extend(col.iter().skip(a).take(end - a).copied());
            let len = buf.len();
            buf.select_nth_unstable_by(take - 1, f32::total_cmp);
            valley[[k, t]] = mean(&buf[..take]);
            buf.select_nth_unstable_by(len - take, f32::total_cmp);
            peak[[k, t]] = mean(&buf[len - take..]);
        }
    }
    let out = match config.scale {
        ContrastScale::Linear => &peak - &valley,
        ContrastScale::Db => {
            db_librosa_defaults(&mut peak);
            db_librosa_defaults(&mut valley);
            &peak - &valley
        }
    };
    Ok(out.mapv(|v| v as f32))
}

/// `librosa.power_to_db(x)` with its defaults (`ref=1, amin=1e-10, top_db=80`), in f64.
fn db_librosa_defaults(x: &mut Array2<f64>) {
    x.mapv_inplace(|v| 10.0 * v.max(1e-10).log10());
    let floor = x.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v)) - 80.0;
    x.mapv_inplace(|v| v.max(floor));
}

/// `s` as one row-major slice (borrowed when it already is one).
pub(crate) fn contiguous<'a>(s: ArrayView2<'a, f32>) -> std::borrow::Cow<'a, [f32]> {
    match s.to_slice() {
        Some(data) => std::borrow::Cow::Borrowed(data),
        None => std::borrow::Cow::Owned(s.iter().copied().collect()),
    }
}

/// The checks every spectral function makes on `S` and the rate; returns the bin
/// frequencies in Hz.
///
/// # Errors
/// [`Error::ZeroSampleRate`] or [`Error::SampleRateOutOfRange`] for a bad rate;
/// [`Error::Empty`] for a spectrogram without frames; [`Error::TooShort`] for fewer than two
/// frequency rows; [`Error::NonFinite`] for a NaN or infinite value and
/// [`Error::NegativeValue`] for a negative one (librosa raises on these too).
fn check_spectrogram(
    what: &'static str,
    s: ArrayView2<'_, f32>,
    sample_rate: u32,
) -> Result<Vec<f64>> {
    crate::resample::check_sample_rate(sample_rate)?;
    check_values(what, s)?;
    let n_fft = 2 * (s.nrows() - 1);
    Ok(crate::mel::fft_frequencies(sample_rate, n_fft))
}

pub(crate) fn check_values(what: &'static str, s: ArrayView2<'_, f32>) -> Result<()> {
    if s.ncols() == 0 || s.nrows() == 0 {
        return Err(Error::Empty { what });
    }
    if s.nrows() < 2 {
        return Err(Error::TooShort {
            what,
            needed: 2,
            got: s.nrows(),
        });
    }
    for (index, &value) in s.iter().enumerate() {
        if !value.is_finite() {
            return Err(Error::NonFinite { what, index, value });
        }
        if value < 0.0 {
            return Err(Error::NegativeValue { what, index, value });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_follow_librosa() {
        let c = FrameConfig::default();
        assert_eq!(c.n_frames(48_000), Some(94));
        assert_eq!(c.n_frames(1), Some(1));
        let c = c.with_center(false);
        assert_eq!(c.n_frames(2047), None);
        assert_eq!(c.n_frames(2048), Some(1));
    }

    #[test]
    fn zcr_of_an_alternating_signal_is_nearly_one() {
        let y: Vec<f32> = (0..4096)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let z = zero_crossing_rate(&y, &FrameConfig::default().with_center(false)).unwrap();
        assert!((z[0] - 2047.0 / 2048.0).abs() < 1e-7);
    }

    #[test]
    fn flatness_of_a_flat_spectrum_is_one() {
        let s = Array2::<f32>::from_elem((9, 3), 0.25);
        let f = spectral_flatness(s.view(), &FlatnessConfig::default()).unwrap();
        assert!(f.iter().all(|v| (v - 1.0).abs() < 1e-6));
    }
}
