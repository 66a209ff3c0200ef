//! The one error type of `ser-dsp`.

/// Everything that can go wrong in `ser-dsp`.
///
/// Construction errors ([`Error::InvalidConfig`]) come from `XxxConfig -> new()`;
/// the processing functions only fail on bad *data* (empty, non-finite or too short input,
/// wrong shapes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range.
    #[error("invalid {field} = {value}: {reason}")]
    InvalidConfig {
        /// The config field (librosa's parameter name).
        field: &'static str,
        /// The rejected value, as text.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The input holds no samples where some are needed.
    #[error("{what}: the input is empty")]
    Empty {
        /// The operation that needed samples.
        what: &'static str,
    },
    /// The input holds a NaN or an infinity.
    #[error("{what}: sample {index} is not finite ({value})")]
    NonFinite {
        /// The operation that found it.
        what: &'static str,
        /// The index of the first non-finite sample.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// A power spectrogram holds a negative value.
    #[error("power_to_db: value {index} is negative ({value}); expected a power spectrogram")]
    NegativePower {
        /// The index (in memory order) of the first negative value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A magnitude (or power) spectrogram holds a negative value (librosa's spectral
    /// descriptors raise on these too).
    #[error("{what}: value {index} is negative ({value}); expected a non-negative spectrogram")]
    NegativeValue {
        /// The operation that found it.
        what: &'static str,
        /// The index (in row-major order) of the first negative value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The input is all zeros where sound is required.
    #[error("{what}: the input is silent (all {n_samples} samples are zero)")]
    Silent {
        /// The operation.
        what: &'static str,
        /// The number of samples.
        n_samples: usize,
    },
    /// The input is shorter than the operation needs.
    #[error("{what}: needs at least {needed} samples, got {got}")]
    TooShort {
        /// The operation.
        what: &'static str,
        /// The minimum length, in samples.
        needed: usize,
        /// The given length, in samples.
        got: usize,
    },
    /// An array has the wrong shape.
    #[error("{what}: shape mismatch, expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation.
        what: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// The given shape.
        got: Vec<usize>,
    },
    /// The sample rate is zero.
    #[error("the sample rate must be positive, got 0 Hz")]
    ZeroSampleRate,
    /// A sample rate outside [`SAMPLE_RATES`](crate::SAMPLE_RATES) (1 kHz to 768 kHz).
    #[error("sample rate {rate} Hz is outside the supported range of 1000 to 768000 Hz")]
    SampleRateOutOfRange {
        /// The rate given, in Hz.
        rate: u32,
    },
    /// The rate pair would need an FFT block longer than the resampler allows (rates that
    /// share few factors, far apart; every pair within [`SAMPLE_RATES`](crate::SAMPLE_RATES)
    /// fits).
    #[error(
        "resampling from {from} Hz to {to} Hz would need FFT blocks of {frames} samples (the limit is {limit})"
    )]
    ResamplerTooLarge {
        /// Input rate in Hz.
        from: u32,
        /// Output rate in Hz.
        to: u32,
        /// The longer of the two FFT blocks, in samples.
        frames: usize,
        /// The limit, [`MAX_FFT_BLOCK`](crate::resample::MAX_FFT_BLOCK).
        limit: usize,
    },
    /// Some mel filters cover no FFT bin, so their bands would always be zero (librosa
    /// warns "Empty filters detected in mel frequency basis" and goes on).
    #[error(
        "{empty} of {n_mels} mel bands would be empty (band {first} first): no FFT bin falls \
         under their filters at n_fft = {n_fft}, {sample_rate} Hz, fmax = {fmax} Hz; raise \
         n_fft, lower n_mels, or keep fmax at or below the Nyquist frequency"
    )]
    EmptyMelBands {
        /// How many bands are empty.
        empty: usize,
        /// The number of bands.
        n_mels: usize,
        /// The index of the first empty band.
        first: usize,
        /// The FFT size.
        n_fft: usize,
        /// The sample rate in Hz.
        sample_rate: u32,
        /// The upper edge of the filters in Hz.
        fmax: f32,
    },
    /// rubato refused the rate pair.
    #[error("cannot build a resampler from {from} Hz to {to} Hz")]
    ResamplerConstruction {
        /// Input rate in Hz.
        from: u32,
        /// Output rate in Hz.
        to: u32,
        /// rubato's reason.
        #[source]
        source: rubato::ResamplerConstructionError,
    },
    /// The FFT refused its buffers (an internal invariant; report it if you see it).
    #[error("FFT failed")]
    Fft(#[from] realfft::FftError),
    /// rubato failed while processing.
    #[error("resampling failed")]
    Resample(#[from] rubato::ResampleError),
}

/// `Result` with [`enum@Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns the first non-finite sample as an error.
pub(crate) fn check_finite(what: &'static str, y: &[f32]) -> Result<()> {
    if crate::kernels::all_finite(y) {
        return Ok(());
    }
    match y.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite {
            what,
            index,
            value: y[index],
        }),
    }
}

/// [`Error::InvalidConfig`] for `field` = `value`, the one way every config check builds it.
pub(crate) fn invalid(field: &'static str, value: impl ToString, reason: &'static str) -> Error {
    Error::InvalidConfig {
        field,
        value: value.to_string(),
        reason,
    }
}

/// Errors on an empty input.
pub(crate) fn check_non_empty(what: &'static str, y: &[f32]) -> Result<()> {
    if y.is_empty() {
        Err(Error::Empty { what })
    } else {
        Ok(())
    }
}
