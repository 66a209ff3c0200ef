//! The one error type of `ser-augment`.

/// Everything that can go wrong in `ser-augment`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of range (rejected when the transform is built).
    #[error("{transform}: invalid {param} = {value}: {reason}")]
    InvalidParameter {
        /// The transform, e.g. `"time_stretch"`.
        transform: &'static str,
        /// The parameter name.
        param: &'static str,
        /// The rejected value, as text.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The input has no samples (or no frames) where some are needed.
    #[error("{transform}: the input is empty")]
    Empty {
        /// The transform.
        transform: &'static str,
    },
    /// The input holds a NaN or an infinity, or is finite but so large that the output would
    /// hold one (`index` and `value` are then the output's).
    #[error("{transform}: value {index} is not finite ({value})")]
    NonFinite {
        /// The transform.
        transform: &'static str,
        /// Index (in memory order) of the first non-finite value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A DSP step (STFT, resampling) failed.
    #[error("{transform}: signal processing failed")]
    Dsp {
        /// The transform.
        transform: &'static str,
        /// The `ser-dsp` error.
        #[source]
        source: ser_dsp::Error,
    },
}

/// `Result` with [`enum@Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors on the first non-finite value.
pub(crate) fn check_finite(transform: &'static str, y: &[f32]) -> Result<()> {
    match y.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite {
            transform,
            index,
            value: y[index],
        }),
    }
}
