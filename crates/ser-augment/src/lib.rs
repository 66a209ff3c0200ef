//! Seeded, composable augmentations for speech emotion recognition: librosa's
//! `time_stretch` and `pitch_shift` (phase vocoder), Gaussian noise at an amplitude or an SNR,
//! gain, time shifts, and on spectrograms random time shifts, noise, SpecAugment masks and vocal-tract-length
//! perturbation ([`MelWarp`]).
//!
//! ```
//! use ser_augment::{Audio, Transform, TimeStretch, PitchShift, Compose, augment_seeded};
//!
//! let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.1).sin() * 0.5).collect();
//! let audio = Audio::new(y, 16_000)?;
//!
//! // Fixed: librosa.effects.time_stretch(y, rate=1.25) -> round(len / rate) samples.
//! let (faster, _) = augment_seeded(&TimeStretch::fixed(1.25)?, &audio, 0)?;
//! assert_eq!(faster.len(), 12_800);
//!
//! // Random and reproducible: the research ranges, every draw from one seed.
//! let pipeline = Compose::new().then(TimeStretch::research()).then(PitchShift::research());
//! let (a, record) = augment_seeded(&pipeline, &audio, 42)?;
//! let (b, _) = augment_seeded(&pipeline, &audio, 42)?;
//! assert_eq!(a, b); // bit for bit
//! println!("{record}"); // time_stretch(rate=...) -> pitch_shift(n_steps=...)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every transform implements [`Transform`] (for [`Audio`], i.e. [`WaveformTransform`], or
//! for [`Spectrogram`], i.e. [`SpectrogramTransform`]); [`Compose`], [`OneOf`] and [`SomeOf`]
//! combine them with per-transform probabilities as audiomentations does, and a [`Record`]
//! lists what was applied with the drawn parameters (printable, serde). Randomness comes
//! only from the `&mut dyn Rng` the caller passes; [`augment_seeded`] uses a portable
//! [`ChaCha8Rng`]. Which training items get augmented, and with which seed, is decided by
//! `ser_datasets::OversamplingPlan`.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod compose;
pub mod error;
pub mod record;
pub mod spec;
pub mod stretch;
pub mod vtlp;
pub mod wave;

pub use compose::*;
pub use spec::*;
pub use stretch::*;
pub use vtlp::MelWarp;
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

/// The crate README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
