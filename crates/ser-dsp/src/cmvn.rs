//! Per-utterance cepstral mean and variance normalisation (CMVN) of a feature map
//! `(n_bands, n_frames)`: each band (row) is centred on its mean over the frames and, unless
//! mean-only, divided by its standard deviation over the frames:
//!
//! ```text
//! out[b, t] = (x[b, t] - mean_t x[b, ·]) / max(std_t x[b, ·], eps)
//! ```
//!
//! with the population standard deviation (`ddof = 0`), i.e. numpy's
//! `(x - x.mean(axis=1, keepdims=True)) / np.maximum(x.std(axis=1, keepdims=True), eps)`.
//! The statistics and the division are computed in `f64` and the result rounded to `f32`.
//!
//! A band whose standard deviation is below `eps` (a constant band, such as a band at the dB
//! floor) is divided by `eps` instead: a constant band becomes all zeros, never NaN, and no
//! band is ever scaled up by more than `1 / eps`.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::error::{Error, Result, invalid};

/// Parameters of [`cmvn`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct CmvnConfig {
    /// Also divide each band by its standard deviation (true); false subtracts the mean only
    /// (Kaldi's `--norm-vars=false`, "CMN").
    pub variance: bool,
    /// Floor of the standard deviation a band is divided by (1e-10; finite and > 0).
    pub eps: f32,
}

impl Default for CmvnConfig {
    fn default() -> Self {
        Self {
            variance: true,
            eps: 1e-10,
        }
    }
}

impl CmvnConfig {
    /// Mean normalisation only (CMN).
    pub fn mean_only() -> Self {
        Self {
            variance: false,
            ..Self::default()
        }
    }

    /// Checks that `eps` is finite and > 0.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming `eps`.
    pub fn validate(&self) -> Result<()> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(invalid("eps", self.eps, "must be finite and > 0"));
        }
        Ok(())
    }
}

/// Normalises each band (row) of `x`, shape `(n_bands, n_frames)`, over its frames.
///
/// ```
/// use ser_dsp::{CmvnConfig, cmvn, ndarray::array};
/// let x = array![[1.0f32, 2.0, 3.0], [5.0, 5.0, 5.0]];
/// let z = cmvn(x.view(), &CmvnConfig::default())?;
/// let s = (2.0f32 / 3.0).sqrt(); // population std of 1, 2, 3
/// assert!((z[[0, 0]] + 1.0 / s).abs() < 1e-6 && z[[0, 1]] == 0.0);
/// assert_eq!(z.row(1).to_vec(), vec![0.0; 3]); // a constant band: zeros, not NaN
/// let m = cmvn(x.view(), &CmvnConfig::mean_only())?;
/// assert_eq!(m.row(0).to_vec(), vec![-1.0, 0.0, 1.0]);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad `eps`; [`Error::Empty`] for no bands or no frames;
/// [`Error::NonFinite`] for a NaN or infinite value (its row-major index).
pub fn cmvn(x: ArrayView2<'_, f32>, config: &CmvnConfig) -> Result<Array2<f32>> {
    let mut out = x.to_owned();
    cmvn_in_place(out.view_mut(), config)?;
    Ok(out)
}

/// [`cmvn`] in place (any layout).
///
/// # Errors
/// As [`cmvn`]; on error `x` is unchanged.
pub fn cmvn_in_place(mut x: ArrayViewMut2<'_, f32>, config: &CmvnConfig) -> Result<()> {
    config.validate()?;
    if x.is_empty() {
        return Err(Error::Empty { what: "cmvn" });
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "cmvn",
            index,
            value,
        });
    }
    let n = x.ncols() as f64;
    let eps = f64::from(config.eps);
    for mut row in x.axis_iter_mut(Axis(0)) {
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let scale = if config.variance {
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n;
            var.sqrt().max(eps)
        } else {
            1.0
        };
        row.mapv_inplace(|v| ((f64::from(v) - mean) / scale) as f32);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bands_get_zero_mean_and_unit_std() {
        let x = Array2::from_shape_fn((5, 200), |(b, t)| {
            (b as f32 + 1.0) * ((t as f32 * 0.3).sin() + 0.5 * b as f32) - 40.0
        });
        let z = cmvn(x.view(), &CmvnConfig::default()).unwrap();
        for row in z.rows() {
            let mean = row.mean().unwrap();
            let std = row.std(0.0);
            assert!(
                mean.abs() < 1e-5 && (std - 1.0).abs() < 1e-5,
                "{mean} {std}"
            );
        }
        // Non-contiguous views give the same numbers.
        let t = x.t().to_owned();
        let mut zt = t.clone();
        cmvn_in_place(zt.view_mut().reversed_axes(), &CmvnConfig::default()).unwrap();
        assert_eq!(zt.t(), z);
    }

    #[test]
    fn bad_input_is_an_error_and_changes_nothing() {
        let mut x = array![[1.0f32, 2.0], [3.0, f32::NAN]];
        let before = x.clone();
        assert!(matches!(
            cmvn_in_place(x.view_mut(), &CmvnConfig::default()),
            Err(Error::NonFinite { index: 3, .. })
        ));
        assert_eq!(format!("{x:?}"), format!("{before:?}"));
        let cfg = CmvnConfig {
            eps: 0.0,
            ..CmvnConfig::default()
        };
        assert!(matches!(
            cmvn(array![[1.0f32]].view(), &cfg),
            Err(Error::InvalidConfig { field: "eps", .. })
        ));
        assert!(matches!(
            cmvn(Array2::<f32>::zeros((3, 0)).view(), &CmvnConfig::default()),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn one_frame_is_all_zeros() {
        let z = cmvn(array![[3.0f32], [-7.5]].view(), &CmvnConfig::default()).unwrap();
        assert_eq!(z, array![[0.0f32], [0.0]]);
    }
}
