//! Extracting features from many inputs at once, on all cores (with the `rayon` feature).

use crate::{Audio, Error, FeatureExtractor};

/// Why one input of a batch failed; the others are unaffected.
#[derive(Debug, thiserror::Error)]
pub enum BatchError<E: std::error::Error + 'static> {
    /// The loader failed on this input.
    #[error("input {index}: loading failed")]
    Load {
        /// The index of the input.
        index: usize,
        /// The loader's error.
        #[source]
        source: E,
    },
    /// The extractor failed on this input.
    #[error("input {index}: feature extraction failed")]
    Extract {
        /// The index of the input.
        index: usize,
        /// The extractor's error.
        #[source]
        source: Error,
    },
}

impl<E: std::error::Error + 'static> BatchError<E> {
    /// The index of the input that failed.
    pub fn index(&self) -> usize {
        match self {
            BatchError::Load { index, .. } | BatchError::Extract { index, .. } => *index,
        }
    }
}

/// Loads and featurizes every input, in parallel when the `rayon` feature is on (the
/// default), and returns one result per input **in input order**. A bad input gives its own
/// error and does not stop the others.
///
/// `load` turns an input (a path, a byte buffer, an in-memory clip...) into [`Audio`]; for
/// files use `ser_audio_io::load`.
///
/// ```
/// use ser_dsp::{Audio, LogMel, LogMelConfig, extract_batch};
/// let logmel = LogMel::new(LogMelConfig::default())?;
/// let inputs = vec![vec![0.5f32; 8000], vec![], vec![0.1f32; 20_000]];
/// let results = extract_batch(&logmel, &inputs, |y| Audio::new(y.clone(), 16_000));
/// assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
/// # Ok::<(), ser_dsp::Error>(())
/// ```
pub fn extract_batch<X, T, L, E>(
    extractor: &X,
    inputs: &[T],
    load: L,
) -> Vec<Result<X::Output, BatchError<E>>>
where
    X: FeatureExtractor + ?Sized,
    T: Sync,
    L: Fn(&T) -> Result<Audio, E> + Sync,
    E: std::error::Error + Send + 'static,
{
    let one = |(index, input): (usize, &T)| -> Result<X::Output, BatchError<E>> {
        let audio = load(input).map_err(|source| BatchError::Load { index, source })?;
        extractor
            .extract(&audio)
            .map_err(|source| BatchError::Extract { index, source })
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        inputs.par_iter().enumerate().map(one).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        inputs.iter().enumerate().map(one).collect()
    }
}
