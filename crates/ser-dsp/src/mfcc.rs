//! Mel-frequency cepstral coefficients, as `librosa.feature.mfcc` (0.11): the DCT-II
//! (orthonormal) of the dB mel spectrogram along the mel axis, optionally liftered.
//!
//! ```text
//! M[k, t] = s_k sum_m S_dB[m, t] cos(π k (2m + 1) / (2 n_mels)),  s_0 = √(1/n_mels), s_k = √(2/n_mels)
//! lifter L > 0:  M[k, t] *= 1 + (L / 2) sin(π (k + 1) / L)
//! ```

use ndarray::{Array2, ArrayView2};

use crate::db::{DbConfig, power_to_db_array_in_place};
use crate::error::{Error, Result, invalid};
use crate::mel::{MelSpectrogram, MelSpectrogramConfig};

/// Parameters of [`Mfcc`]; defaults are librosa's (20 coefficients, no liftering, dB with
/// `ref = 1.0, top_db = 80`, the mel defaults of [`MelSpectrogramConfig`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct MfccConfig {
    /// Number of coefficients kept (`n_mfcc`, 20).
    pub n_mfcc: usize,
    /// Liftering coefficient (`lifter`, 0 = none).
    pub lifter: f32,
    /// The mel spectrogram.
    pub mel: MelSpectrogramConfig,
    /// The dB conversion before the DCT.
    pub db: DbConfig,
}

impl Default for MfccConfig {
    fn default() -> Self {
        Self {
            n_mfcc: 20,
            lifter: 0.0,
            mel: MelSpectrogramConfig::default(),
            db: DbConfig::default(),
        }
    }
}

/// An MFCC extractor: mel spectrogram, dB, DCT-II (ortho), lifter.
///
/// ```
/// use ser_dsp::{Mfcc, MfccConfig};
/// let mfcc = Mfcc::new(MfccConfig::default())?;
/// let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.05).sin()).collect();
/// assert_eq!(mfcc.compute(&y)?.dim(), (20, 32));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mfcc {
    config: MfccConfig,
    mel: MelSpectrogram,
    /// `(n_mfcc, n_mels)` DCT-II basis with the ortho scaling and the lifter folded in.
    basis: Array2<f64>,
}

impl Mfcc {
    /// Builds the extractor.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `n_mfcc` of 0 or above `n_mels`, a negative or non-finite
    /// lifter, or a bad mel or dB config.
    pub fn new(config: MfccConfig) -> Result<Self> {
        let n_mels = config.mel.mel.n_mels;
        if config.n_mfcc == 0 || config.n_mfcc > n_mels {
            return Err(invalid("n_mfcc", config.n_mfcc, "must be in 1..=n_mels"));
        }
        if !(config.lifter.is_finite() && config.lifter >= 0.0) {
            return Err(invalid("lifter", config.lifter, "must be finite and >= 0"));
        }
        config.db.validate()?;
        let basis = dct_basis(config.n_mfcc, n_mels, config.lifter);
        Ok(Self {
            config,
            mel: MelSpectrogram::new(config.mel)?,
            basis,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MfccConfig {
        &self.config
    }

    /// The MFCCs of `y`, shape `(n_mfcc, n_frames)`.
    ///
    /// # Errors
    /// As [`MelSpectrogram::compute`].
    pub fn compute(&self, y: &[f32]) -> Result<Array2<f32>> {
        let mut mel = self.mel.compute(y)?;
        power_to_db_array_in_place(&mut mel, &self.config.db)?;
        self.from_db(mel.view())
    }

    /// The MFCCs of an already computed dB mel spectrogram `(n_mels, n_frames)`
    /// (librosa's `mfcc(S=...)`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the row count is not `n_mels`.
    pub fn from_db(&self, s_db: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        if s_db.nrows() != self.basis.ncols() {
            return Err(Error::ShapeMismatch {
                what: "mfcc input",
                expected: vec![self.basis.ncols(), s_db.ncols()],
                got: s_db.shape().to_vec(),
            });
        }
        // Accumulate in f64: the sums reach hundreds of dB, where f32 keeps only ~1e-5.
        let s64 = s_db.mapv(f64::from);
        Ok(self.basis.dot(&s64).mapv(|v| v as f32))
    }
}

/// The first `n_out` rows of the orthonormal DCT-II matrix of size `n`, times the lifter.
fn dct_basis(n_out: usize, n: usize, lifter: f32) -> Array2<f64> {
    let nf = n as f64;
    let lifter = f64::from(lifter);
    Array2::from_shape_fn((n_out, n), |(k, m)| {
        let scale = if k == 0 {
            (1.0 / nf).sqrt()
        } else {
            (2.0 / nf).sqrt()
        };
        let c = (std::f64::consts::PI * k as f64 * (2 * m + 1) as f64 / (2.0 * nf)).cos();
        let lift = if lifter > 0.0 {
            1.0 + (lifter / 2.0) * (std::f64::consts::PI * (k + 1) as f64 / lifter).sin()
        } else {
            1.0
        };
        scale * c * lift
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_basis_is_orthonormal() {
        let b = dct_basis(16, 16, 0.0);
        let g = b.dot(&b.t());
        for ((i, j), v) in g.indexed_iter() {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-5, "{i},{j}: {v}");
        }
    }
}
