//! Seeded, composable augmentations for speech emotion recognition (work in progress).
#![deny(missing_docs)]

pub mod compose;
pub mod error;
pub mod plan;
pub mod record;
pub mod spec;
pub mod stretch;
pub mod wave;

pub use compose::*;
pub use plan::*;
pub use spec::*;
pub use stretch::*;
pub use wave::*;

pub use error::{Error, Result};
pub use rand;
pub use rand_chacha::ChaCha8Rng;
pub use record::{Applied, Record};
pub use ser_dsp::{Audio, ndarray};

use rand::Rng;

/// A spectrogram, `(n_mels or n_bins, n_frames)`, as `ser-dsp` makes them.
pub type Spectrogram = ndarray::Array2<f32>;

/// A randomised (or fixed) transform of `T`. Every random draw comes from the `rng` the
/// caller passes, so one seed reproduces everything; what was drawn is appended to `record`.
///
/// `Transform<Audio>` is the waveform transform trait ([`WaveformTransform`]),
/// `Transform<Spectrogram>` the spectrogram one ([`SpectrogramTransform`]); the
/// combinators work for both.
pub trait Transform<T>: Send + Sync + std::fmt::Debug {
    /// The transform's name in records, e.g. `"time_stretch"`.
    fn name(&self) -> &'static str;

    /// Applies the transform to `x` (which is not changed), drawing from `rng`.
    ///
    /// # Errors
    /// Bad data: empty or non-finite input, or a DSP failure.
    fn apply(&self, x: &T, rng: &mut dyn Rng, record: &mut Record) -> Result<T>;
}

/// Waveform transforms: [`Transform`] over [`Audio`].
pub trait WaveformTransform: Transform<Audio> {}
impl<T: Transform<Audio> + ?Sized> WaveformTransform for T {}

/// Spectrogram transforms: [`Transform`] over [`Spectrogram`].
pub trait SpectrogramTransform: Transform<Spectrogram> {}
impl<T: Transform<Spectrogram> + ?Sized> SpectrogramTransform for T {}

impl<X, T: Transform<X> + ?Sized> Transform<X> for Box<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn apply(&self, x: &X, rng: &mut dyn Rng, record: &mut Record) -> Result<X> {
        (**self).apply(x, rng, record)
    }
}

impl<X, T: Transform<X> + ?Sized> Transform<X> for std::sync::Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn apply(&self, x: &X, rng: &mut dyn Rng, record: &mut Record) -> Result<X> {
        (**self).apply(x, rng, record)
    }
}
