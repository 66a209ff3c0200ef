//! Short-time Fourier transform and its inverse, with `librosa.stft` / `librosa.istft`
//! semantics (librosa 0.11).
//!
//! Frame `t` covers samples `t * hop_length - p .. t * hop_length - p + n_fft` of the input,
//! where `p = n_fft / 2` when `center` is set (the signal is padded by `p` on both sides,
//! with zeros or by reflection) and `p = 0` otherwise. Each frame is multiplied by the window
//! (`win_length` samples, centred in `n_fft`) and transformed with a real FFT
//! ([`realfft`]), giving `n_fft / 2 + 1` bins:
//!
//! ```text
//! X[f, t] = sum_n w[n] x[t * hop + n - p] exp(-2πi f n / n_fft)
//! n_frames = 1 + (len + 2p - n_fft) / hop
//! ```
//!
//! The padded signal is never materialised: frames are read straight from the input, so the
//! streaming forms ([`Stft::for_each_frame`]) need no buffer beyond one frame and the output.
//!
//! The inverse ([`Stft::inverse`], and its streaming form [`Stft::inverse_with`]) is in the
//! `istft` submodule.

mod istft;
mod streaming;

pub use istft::IstftScratch;
pub use streaming::StreamingStft;

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use ndarray::Array2;
use realfft::num_complex::{Complex, Complex32, Complex64};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{Error, Result, invalid};
use crate::sample::Sample;
use crate::window::Window;

/// The largest FFT length accepted (2^24 samples, 350 s at 48 kHz): larger ones are a
/// configuration mistake, not a spectrogram.
pub const MAX_N_FFT: usize = 1 << 24;

/// How `center` pads the signal's edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PadMode {
    /// Zeros, librosa's default since 0.10 (`pad_mode="constant"`).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (`numpy.pad(mode="reflect")`).
    Reflect,
}

/// The arithmetic precision of the forward transform.
///
/// librosa multiplies `float32` frames by a `float64` window and transforms in `float64`
/// (numpy's FFT), then stores `complex64`. [`Precision::F64`] does the same; its bins agree
/// with librosa to ~1e-7 relative even 120 dB below the peak. [`Precision::F32`] is about
/// twice as fast; its rounding error is ~1e-7 of each frame's energy, which is invisible in
/// mel bands and dB (measured: 1.4e-5 relative on mel spectrograms, 8e-4 dB on log-mels) but
/// reaches 0.5% on STFT bins 120 dB below the loudest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Precision {
    /// `f32` window product and FFT.
    F32,
    /// `f64` window product and FFT, as librosa (the default of [`StftConfig`]).
    #[default]
    F64,
}

/// Parameters of an [`Stft`]; the defaults are `librosa.stft`'s.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct StftConfig {
    /// FFT length in samples (2048).
    pub n_fft: usize,
    /// Hop between frames in samples (`None`: `win_length / 4`).
    pub hop_length: Option<usize>,
    /// Window length in samples, at most `n_fft` (`None`: `n_fft`).
    pub win_length: Option<usize>,
    /// Window function (Hann).
    pub window: Window,
    /// Pad the signal by `n_fft / 2` on both sides so that frame `t` is centred on sample
    /// `t * hop_length` (true).
    pub center: bool,
    /// Padding used when `center` is set (zeros).
    pub pad_mode: PadMode,
    /// Arithmetic of the forward FFT (`f64`, as librosa).
    pub precision: Precision,
}

impl Default for StftConfig {
    fn default() -> Self {
        Self {
            n_fft: 2048,
            hop_length: None,
            win_length: None,
            window: Window::Hann,
            center: true,
            pad_mode: PadMode::Constant,
            precision: Precision::F64,
        }
    }
}

impl StftConfig {
    /// The default config with this FFT length.
    pub fn new(n_fft: usize) -> Self {
        Self {
            n_fft,
            ..Self::default()
        }
    }
    /// Sets the hop length.
    pub fn with_hop_length(mut self, hop_length: usize) -> Self {
        self.hop_length = Some(hop_length);
        self
    }
    /// Sets the window length.
    pub fn with_win_length(mut self, win_length: usize) -> Self {
        self.win_length = Some(win_length);
        self
    }
    /// Sets the window.
    pub fn with_window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }
    /// Sets `center`.
    pub fn with_center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }
    /// Sets the padding mode.
    pub fn with_pad_mode(mut self, pad_mode: PadMode) -> Self {
        self.pad_mode = pad_mode;
        self
    }
    /// Sets the precision.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }
    /// The window length after defaults.
    pub fn resolved_win_length(&self) -> usize {
        self.win_length.unwrap_or(self.n_fft)
    }
    /// The hop length after defaults.
    pub fn resolved_hop_length(&self) -> usize {
        self.hop_length.unwrap_or(self.resolved_win_length() / 4)
    }
}

/// A planned STFT: window and FFT plans are made once, frames are transformed many times.
///
/// The type parameter is the [`Sample`] type of input and output: `Stft` (= `Stft<f32>`,
/// from [`Stft::new`]) takes `f32` and gives `f32` and [`Complex32`]; `Stft<f64>` (from
/// [`Stft::plan`]) takes `f64` and gives `f64` and [`Complex64`], computed in `f64` whatever
/// [`StftConfig::precision`] says (see [`crate::sample`]). Both run the same code. The
/// inverse and the streaming form are `f32` only.
///
/// ```
/// use ser_dsp::{Stft, StftConfig};
/// let stft = Stft::new(StftConfig::new(512).with_hop_length(128))?;
/// let y: Vec<f32> = (0..4000).map(|n| (n as f32 * 0.1).sin()).collect();
/// let power = stft.power(&y)?; // (n_fft / 2 + 1, n_frames)
/// assert_eq!(power.dim(), (257, 1 + 4000 / 128));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Clone)]
pub struct Stft<S = f32> {
    config: StftConfig,
    hop: usize,
    window: Vec<f32>,
    window64: Vec<f64>,
    /// The squared window, summed by the inverse's overlap-add.
    window_sq: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    /// The `f64` plan: made at once with [`Precision::F64`], else on the first `f64` input.
    forward64: OnceLock<Arc<dyn RealToComplex<f64>>>,
    /// Whether `f32` input is transformed in `f64` ([`Precision::F64`]).
    wide: bool,
    inverse: Arc<dyn ComplexToReal<f32>>,
    sample: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for Stft<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Reusable per-thread buffers of an [`Stft`], so that the hot path does not allocate.
#[derive(Debug, Clone)]
pub struct StftScratch {
    frame: Vec<f32>,
    spectrum: Vec<Complex32>,
    fft: Vec<Complex32>,
    frame64: Vec<f64>,
    spectrum64: Vec<Complex64>,
    fft64: Vec<Complex64>,
    /// The spectrum handed to `f64` callers.
    out64: Vec<Complex64>,
}

impl Stft {
    /// Plans the transform for `f32` samples.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `n_fft`, the hop or the window length is 0, or the window
    /// is longer than `n_fft`.
    pub fn new(config: StftConfig) -> Result<Self> {
        Self::plan(config)
    }
}

impl<S: Sample> Stft<S> {
    /// Plans the transform for samples of type `S`: `Stft::<f64>::plan(config)` for `f64`
    /// ([`Stft::new`] is `Stft::<f32>::plan`).
    ///
    /// ```
    /// use ser_dsp::{Stft, StftConfig};
    /// let stft = Stft::<f64>::plan(StftConfig::new(512).with_hop_length(128))?;
    /// let y: Vec<f64> = (0..4000).map(|n| (n as f64 * 0.1).sin()).collect();
    /// let power: ndarray::Array2<f64> = stft.power(&y)?;
    /// assert_eq!(power.dim(), (257, 1 + 4000 / 128));
    /// # Ok::<(), ser_dsp::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Stft::new`].
    pub fn plan(config: StftConfig) -> Result<Self> {
        let n_fft = config.n_fft;
        if n_fft == 0 || n_fft > MAX_N_FFT {
            return Err(invalid("n_fft", n_fft, "must be in 1..=2^24"));
        }
        let win_length = config.resolved_win_length();
        if win_length == 0 || win_length > n_fft {
            return Err(invalid("win_length", win_length, "must be in 1..=n_fft"));
        }
        let hop = config.resolved_hop_length();
        if hop == 0 {
            return Err(invalid("hop_length", hop, "must be positive"));
        }
        let window64 = config.window.padded_f64(win_length, n_fft);
        let window: Vec<f32> = window64.iter().map(|&v| v as f32).collect();
        let window_sq = window.iter().map(|w| w * w).collect();
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        let wide = config.precision == Precision::F64;
        let forward64 = OnceLock::new();
        if wide {
            let _ = forward64.set(RealFftPlanner::<f64>::new().plan_fft_forward(n_fft));
        }
        Ok(Self {
            config,
            hop,
            window,
            window64,
            window_sq,
            forward,
            forward64,
            wide,
            inverse,
            sample: PhantomData,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StftConfig {
        &self.config
    }

    /// The FFT length.
    pub fn n_fft(&self) -> usize {
        self.config.n_fft
    }

    /// The hop length in samples.
    pub fn hop_length(&self) -> usize {
        self.hop
    }

    /// The number of frequency bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.config.n_fft / 2 + 1
    }

    /// The window, zero-padded to `n_fft`.
    pub fn window(&self) -> &[f32] {
        &self.window
    }

    fn pad(&self) -> usize {
        if self.config.center {
            self.config.n_fft / 2
        } else {
            0
        }
    }

    /// The number of frames for an input of `n_samples` samples (0 if it is too short:
    /// without `center`, shorter than `n_fft`).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let padded = n_samples + 2 * self.pad();
        if n_samples == 0 || padded < self.config.n_fft {
            0
        } else {
            1 + (padded - self.config.n_fft) / self.hop
        }
    }

    /// The `f64` FFT plan (planned on first use unless the precision is `f64`).
    pub(crate) fn forward64(&self) -> &Arc<dyn RealToComplex<f64>> {
        self.forward64
            .get_or_init(|| RealFftPlanner::<f64>::new().plan_fft_forward(self.config.n_fft))
    }

    /// Whether `f32` input is transformed in `f64`.
    pub(crate) fn is_wide(&self) -> bool {
        self.wide
    }

    /// Fresh scratch buffers for this transform (those of `f64` input are added on its first
    /// use when the precision is `f32`).
    pub fn make_scratch(&self) -> StftScratch {
        let mut scratch = StftScratch {
            frame: Vec::new(),
            spectrum: self.forward.make_output_vec(),
            fft: Vec::new(),
            frame64: Vec::new(),
            spectrum64: Vec::new(),
            fft64: Vec::new(),
            out64: Vec::new(),
        };
        if self.wide {
            self.grow_scratch64(&mut scratch);
        } else {
            scratch.frame = self.forward.make_input_vec();
            scratch.fft = self.forward.make_scratch_vec();
        }
        scratch
    }

    /// Sizes the `f64` buffers of `scratch` (a no-op once they are).
    fn grow_scratch64(&self, scratch: &mut StftScratch) {
        let f = self.forward64();
        let zero = Complex64::new(0.0, 0.0);
        scratch.frame64.resize(f.len(), 0.0);
        scratch.spectrum64.resize(f.complex_len(), zero);
        scratch.fft64.resize(f.get_scratch_len(), zero);
    }

    fn check_input(&self, y: &[S]) -> Result<usize> {
        if y.is_empty() {
            return Err(Error::Empty { what: "stft" });
        }
        S::check_finite("stft", y)?;
        let n = self.n_frames(y.len());
        if n == 0 {
            return Err(Error::TooShort {
                what: "stft",
                needed: self.config.n_fft,
                got: y.len(),
            });
        }
        Ok(n)
    }

    /// Writes frame `t` of `y` (padded as configured), windowed, into `frame`: each sample is
    /// converted to the frame's type (exactly: `f32` to `f32` or `f64`, `f64` to `f64`), then
    /// multiplied by the window.
    fn fill_frame<X: Sample, T: Sample>(&self, y: &[X], window: &[T], t: usize, frame: &mut [T]) {
        let n_fft = self.config.n_fft;
        let len = y.len() as isize;
        let start = (t * self.hop) as isize - self.pad() as isize;
        // The part of the frame that lies inside the signal.
        let lo = (-start).clamp(0, n_fft as isize) as usize;
        let hi = (len - start).clamp(0, n_fft as isize) as usize;
        if lo < hi {
            let src = &y[(start + lo as isize) as usize..(start + hi as isize) as usize];
            for ((o, &x), &w) in frame[lo..hi].iter_mut().zip(src).zip(&window[lo..hi]) {
                *o = T::from_f64_lossy(x.widen()) * w;
            }
        }
        let outside = (0..lo.min(n_fft)).chain(hi.max(lo)..n_fft);
        match self.config.pad_mode {
            PadMode::Constant => {
                for i in outside {
                    frame[i] = T::default();
                }
            }
            PadMode::Reflect => {
                for i in outside {
                    let x = y[reflect_index(start + i as isize, y.len())];
                    frame[i] = T::from_f64_lossy(x.widen()) * window[i];
                }
            }
        }
    }

    /// A test telling which frames read only zeros (always false with reflect padding).
    fn zero_frame_test(&self, y: &[S]) -> impl Fn(usize) -> bool + use<S> {
        let n_fft = self.config.n_fft as isize;
        let (hop, pad) = (self.hop as isize, self.pad() as isize);
        let bounds = match self.config.pad_mode {
            PadMode::Reflect => None,
            PadMode::Constant => first_last_nonzero(y),
        };
        move |t| {
            let start = t as isize * hop - pad;
            match bounds {
                None => false,
                Some((first, last)) => start + n_fft <= first as isize || start > last as isize,
            }
        }
    }

    /// Runs the transform frame by frame: `f(t, spectrum)` is called for every frame `t` in
    /// order with its `n_fft / 2 + 1` complex bins ([`Complex32`] for `Stft<f32>`,
    /// [`Complex64`] for `Stft<f64>`). Nothing but `scratch` is allocated.
    ///
    /// Returns the number of frames.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::NonFinite`], or [`Error::TooShort`] (no frame fits).
    pub fn for_each_frame<F>(&self, y: &[S], scratch: &mut StftScratch, mut f: F) -> Result<usize>
    where
        F: FnMut(usize, &[Complex<S>]),
    {
        let mut zeros = Vec::new();
        self.for_each_frame_sparse(y, scratch, |t, bins| match bins {
            Some(bins) => f(t, bins),
            None => {
                zeros.resize(self.n_bins(), Complex::new(S::zero(), S::zero()));
                f(t, &zeros);
            }
        })
    }

    /// As [`Stft::for_each_frame`], but a frame that reads only zeros (inside a zero-padded
    /// head or tail of the input) is passed as `None` instead of being transformed: its
    /// spectrum is all zeros, and a caller that accumulates can skip it.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn for_each_frame_sparse<F>(
        &self,
        y: &[S],
        scratch: &mut StftScratch,
        mut f: F,
    ) -> Result<usize>
    where
        F: FnMut(usize, Option<&[Complex<S>]>),
    {
        let n_frames = self.check_input(y)?;
        let zero_frame = self.zero_frame_test(y);
        // f64 input, or f32 input at f64 precision, is transformed in f64.
        let wide = S::IS_F64 || self.wide;
        if wide {
            self.grow_scratch64(scratch);
        } else if scratch.frame.len() != self.config.n_fft {
            scratch.frame = self.forward.make_input_vec();
            scratch.fft = self.forward.make_scratch_vec();
        }
        // The spectrum handed out: `scratch.spectrum` for f32, `scratch.out64` for f64, taken
        // out of the scratch for the loop and put back after it.
        let mut spectrum = take_spectrum::<S>(scratch);
        spectrum.resize(self.n_bins(), Complex::new(S::zero(), S::zero()));
        let result = (|| {
            for t in 0..n_frames {
                if zero_frame(t) {
                    f(t, None);
                    continue;
                }
                if wide {
                    self.fill_frame(y, &self.window64, t, &mut scratch.frame64);
                    let forward = self.forward64();
                    match S::as_c64_mut(&mut spectrum) {
                        Some(out) => forward.process_with_scratch(
                            &mut scratch.frame64,
                            out,
                            &mut scratch.fft64,
                        )?,
                        None => {
                            forward.process_with_scratch(
                                &mut scratch.frame64,
                                &mut scratch.spectrum64,
                                &mut scratch.fft64,
                            )?;
                            for (o, c) in spectrum.iter_mut().zip(&scratch.spectrum64) {
                                *o = Complex::new(S::from_f64_lossy(c.re), S::from_f64_lossy(c.im));
                            }
                        }
                    }
                } else {
                    // Only f32 input reaches here (f64 is always wide).
                    self.fill_frame(y, &self.window, t, &mut scratch.frame);
                    if let Some(out) = S::as_c32_mut(&mut spectrum) {
                        self.forward.process_with_scratch(
                            &mut scratch.frame,
                            out,
                            &mut scratch.fft,
                        )?;
                    }
                }
                f(t, Some(&spectrum));
            }
            Ok(n_frames)
        })();
        put_spectrum::<S>(scratch, spectrum);
        result
    }

    /// The complex STFT, shape `(n_fft / 2 + 1, n_frames)`: [`Complex32`] for `Stft<f32>`,
    /// [`Complex64`] for `Stft<f64>`.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn complex(&self, y: &[S]) -> Result<Array2<Complex<S>>> {
        let mut out = Array2::zeros((self.n_bins(), self.n_frames(y.len())));
        let mut scratch = self.make_scratch();
        self.for_each_frame(y, &mut scratch, |t, s| {
            out.column_mut(t)
                .iter_mut()
                .zip(s)
                .for_each(|(o, v)| *o = *v);
        })?;
        Ok(out)
    }

    /// `|X|^power`, shape `(n_fft / 2 + 1, n_frames)`, of the sample type: `power = 1` is
    /// the magnitude, `power = 2` the power spectrogram.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn spectrogram(&self, y: &[S], power: f32) -> Result<Array2<S>> {
        let mut out = Array2::zeros((self.n_bins(), self.n_frames(y.len())));
        let mut scratch = self.make_scratch();
        let mut col = vec![S::zero(); self.n_bins()];
        let power = S::from_f64_lossy(f64::from(power));
        self.for_each_frame(y, &mut scratch, |t, s| {
            spectrum_power(s, power, &mut col);
            out.column_mut(t)
                .iter_mut()
                .zip(&col)
                .for_each(|(o, v)| *o = *v);
        })?;
        Ok(out)
    }

    /// The magnitude spectrogram `|X|`, of the sample type.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn magnitude(&self, y: &[S]) -> Result<Array2<S>> {
        self.spectrogram(y, 1.0)
    }

    /// The power spectrogram `|X|^2`, of the sample type.
    ///
    /// # Errors
    /// As [`Stft::for_each_frame`].
    pub fn power(&self, y: &[S]) -> Result<Array2<S>> {
        self.spectrogram(y, 2.0)
    }
}

/// The scratch's spectrum buffer of type `S`, taken out (`spectrum` for `f32`, `out64` for
/// `f64`).
fn take_spectrum<S: Sample>(scratch: &mut StftScratch) -> Vec<Complex<S>> {
    let buf: &mut dyn Any = if S::IS_F64 {
        &mut scratch.out64
    } else {
        &mut scratch.spectrum
    };
    buf.downcast_mut::<Vec<Complex<S>>>()
        .map(std::mem::take)
        .unwrap_or_default()
}

/// Puts back what [`take_spectrum`] took.
fn put_spectrum<S: Sample>(scratch: &mut StftScratch, spectrum: Vec<Complex<S>>) {
    let buf: &mut dyn Any = if S::IS_F64 {
        &mut scratch.out64
    } else {
        &mut scratch.spectrum
    };
    if let Some(slot) = buf.downcast_mut::<Vec<Complex<S>>>() {
        *slot = spectrum;
    }
}

/// Writes `|s|^power` of each bin into `out` (`re² + im²` exactly for `power = 2`).
pub(crate) fn spectrum_power<S: Sample>(s: &[Complex<S>], power: S, out: &mut [S]) {
    let two = S::one() + S::one();
    if power == two {
        out.iter_mut()
            .zip(s)
            .for_each(|(o, c)| *o = c.re * c.re + c.im * c.im);
    } else if power == S::one() {
        out.iter_mut().zip(s).for_each(|(o, c)| *o = c.norm());
    } else {
        out.iter_mut()
            .zip(s)
            .for_each(|(o, c)| *o = c.norm().powf(power));
    }
}

/// The indices of the first and last non-zero samples, or `None` when all are zero (and then
/// nothing is skipped: an all-zero input is rare and cheap to transform anyway).
fn first_last_nonzero<S: Sample>(y: &[S]) -> Option<(usize, usize)> {
    const BLOCK: usize = 64;
    let zero = S::zero();
    let first_block = y.chunks(BLOCK).position(|c| c.iter().any(|v| *v != zero))?;
    let first = first_block * BLOCK + y[first_block * BLOCK..].iter().position(|v| *v != zero)?;
    let last = y.iter().rposition(|v| *v != zero)?;
    Some((first, last))
}

/// The index that `numpy.pad(mode="reflect")` reads for position `i` of a signal of `len`
/// samples (the edge sample is not repeated; the pattern has period `2 (len - 1)`).
fn reflect_index(i: isize, len: usize) -> usize {
    if len <= 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let m = i.rem_euclid(period);
    (if m >= len as isize { period - m } else { m }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_numpy() {
        // np.pad([0,1,2,3], 5, mode="reflect") -> [3 2 1 2 1 | 0 1 2 3 | 2 1 0 1 2]
        let idx: Vec<usize> = (-5..9).map(|i| reflect_index(i, 4)).collect();
        assert_eq!(idx, vec![1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
    }

    #[test]
    fn frame_count_matches_librosa() {
        let stft = Stft::new(StftConfig::default()).unwrap();
        assert_eq!(stft.n_frames(48_000), 94);
        let no_center = Stft::new(
            StftConfig::new(1024)
                .with_hop_length(256)
                .with_center(false),
        )
        .unwrap();
        assert_eq!(no_center.n_frames(1023), 0);
        assert_eq!(no_center.n_frames(1024 + 256 * 3 + 10), 4);
    }

    #[test]
    fn zero_hop_is_a_config_error() {
        assert!(matches!(
            Stft::new(StftConfig::new(8).with_win_length(2)),
            Err(Error::InvalidConfig {
                field: "hop_length",
                ..
            })
        ));
    }
}
