//! The sample types that the STFT and the mel spectrogram accept: [`f32`] and [`f64`].
//!
//! As rubato's `Sample` and realfft's `FftNum`, [`Sample`] is a small trait implemented for
//! the two float types, and sealed. The planned transforms carry it as a type parameter that
//! defaults to `f32`, so that `Stft`, `MelFilterbank` and `MelSpectrogram` are the `f32` types
//! they always were, and `Stft<f64>`, `MelFilterbank<f64>`, `MelSpectrogram<f64>` take and give
//! `f64`; [`power_to_db`] takes either. One code path serves both types:
//!
//! - `f32`: the arithmetic is exactly what it was before the trait existed (the FFT runs in the
//!   precision of [`StftConfig::precision`], the mel weights are librosa's float32 ones).
//! - `f64`: the FFT always runs in `f64` (whatever the configured precision), the mel weights
//!   are librosa's float64 ones, so results agree with librosa on `float64` input
//!   (`librosa.stft(y.astype(np.float64))`, `librosa.feature.melspectrogram(...,
//!   dtype=np.float64)`) to ~1e-13 relative (see `docs/parity.md`).
//!
//! ```
//! use ser_dsp::{MelSpectrogram, MelSpectrogramConfig, Stft, StftConfig};
//! let y: Vec<f64> = (0..4000).map(|n| (n as f64 * 0.1).sin()).collect();
//! let stft = Stft::<f64>::plan(StftConfig::new(512).with_hop_length(128))?;
//! let power: ndarray::Array2<f64> = stft.power(&y)?;
//! assert_eq!(power.dim(), (257, 1 + 4000 / 128));
//! let mel = MelSpectrogram::<f64>::plan(MelSpectrogramConfig::default())?;
//! assert_eq!(mel.compute(&y)?.dim(), (128, 8));
//! # Ok::<(), ser_dsp::Error>(())
//! ```
//!
//! [`StftConfig::precision`]: crate::StftConfig::precision
//! [`power_to_db`]: crate::power_to_db

use realfft::num_complex::{Complex, Complex32, Complex64};
use realfft::num_traits::Float;

use crate::error::{Error, Result};

/// A sample type of the STFT and the mel spectrogram: [`f32`] or [`f64`] (sealed).
pub trait Sample:
    sealed::Sealed
    + Float
    + Default
    + std::fmt::Debug
    + std::fmt::Display
    + Send
    + Sync
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + 'static
{
}

impl Sample for f32 {}
impl Sample for f64 {}

pub(crate) mod sealed {
    use super::{Complex, Complex32, Complex64, Error, Result};

    /// The crate-internal operations behind [`Sample`](super::Sample); not nameable outside.
    pub trait Sealed: Sized {
        /// True for `f64`.
        const IS_F64: bool;
        /// `v` rounded to this type (exact for `f64`).
        fn from_f64_lossy(v: f64) -> Self;
        /// The value as `f64` (exact).
        fn widen(self) -> f64;
        /// `Σ a[i] b[i]` (for `f32`, the crate's vectorised kernel, as before).
        fn dot(a: &[Self], b: &[Self]) -> Self;
        /// [`Error::NonFinite`] for the first NaN or infinity.
        fn check_finite(what: &'static str, y: &[Self]) -> Result<()>;
        /// The buffer seen as `Complex32`, if that is its type.
        fn as_c32_mut(v: &mut [Complex<Self>]) -> Option<&mut [Complex32]>;
        /// The buffer seen as `Complex64`, if that is its type.
        fn as_c64_mut(v: &mut [Complex<Self>]) -> Option<&mut [Complex64]>;
    }

    impl Sealed for f32 {
        const IS_F64: bool = false;
        #[inline]
        fn from_f64_lossy(v: f64) -> Self {
            v as f32
        }
        #[inline]
        fn widen(self) -> f64 {
            f64::from(self)
        }
        fn dot(a: &[Self], b: &[Self]) -> Self {
            crate::kernels::dot(a, b)
        }
        fn check_finite(what: &'static str, y: &[Self]) -> Result<()> {
            crate::error::check_finite(what, y)
        }
        fn as_c32_mut(v: &mut [Complex<Self>]) -> Option<&mut [Complex32]> {
            Some(v)
        }
        fn as_c64_mut(_: &mut [Complex<Self>]) -> Option<&mut [Complex64]> {
            None
        }
    }

    impl Sealed for f64 {
        const IS_F64: bool = true;
        #[inline]
        fn from_f64_lossy(v: f64) -> Self {
            v
        }
        #[inline]
        fn widen(self) -> f64 {
            self
        }
        fn dot(a: &[Self], b: &[Self]) -> Self {
            a.iter().zip(b).map(|(x, y)| x * y).sum()
        }
        fn check_finite(what: &'static str, y: &[Self]) -> Result<()> {
            match y.iter().position(|v| !v.is_finite()) {
                None => Ok(()),
                Some(index) => Err(Error::NonFinite {
                    what,
                    index,
                    value: y[index] as f32,
                }),
            }
        }
        fn as_c32_mut(_: &mut [Complex<Self>]) -> Option<&mut [Complex32]> {
            None
        }
        fn as_c64_mut(v: &mut [Complex<Self>]) -> Option<&mut [Complex64]> {
            Some(v)
        }
    }
}
