//! [`Audio`]: mono `f32` samples with their sample rate, the value every crate of `ser` passes on.

use crate::error::{Error, Result};

/// A mono waveform: `f32` samples (nominally in `[-1, 1]`) and the sample rate in Hz.
///
/// The rate is validated (non-zero) at construction. Samples are stored as given:
/// non-finite values are *not* rejected here, but every `ser-dsp` operation that would
/// propagate them returns [`Error::NonFinite`] naming the first bad index.
///
/// ```
/// use ser_dsp::Audio;
/// let a = Audio::new(vec![0.0; 16_000], 16_000)?;
/// assert_eq!(a.duration_secs(), 1.0);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    samples: Vec<f32>,
    sample_rate: u32,
}

impl Audio {
    /// Wraps `samples` taken at `sample_rate` Hz.
    ///
    /// # Errors
    /// [`Error::ZeroSampleRate`] if `sample_rate` is 0.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Result<Self> {
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        Ok(Self {
            samples,
            sample_rate,
        })
    }

    /// The samples.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// The samples, mutably (the length cannot change through this).
    pub fn samples_mut(&mut self) -> &mut [f32] {
        &mut self.samples
    }

    /// Takes the samples out.
    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }

    /// The sample rate in Hz (never 0).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// Replaces the samples, keeping the rate.
    pub fn with_samples(self, samples: Vec<f32>) -> Self {
        Self {
            samples,
            sample_rate: self.sample_rate,
        }
    }
}
