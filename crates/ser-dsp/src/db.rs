//! Decibel conversion, as `librosa.power_to_db` and `librosa.amplitude_to_db` (0.11):
//!
//! ```text
//! dB = 10 log10(max(amin, S)) - 10 log10(max(amin, ref))
//! dB = max(dB, max(dB) - top_db)        (if top_db is set)
//! ```

use ndarray::{Array, ArrayView, Dimension};

use crate::error::{Error, Result, invalid};

/// The reference power that maps to 0 dB.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Ref {
    /// The input's maximum (librosa's `ref=np.max`): the loudest bin is 0 dB.
    Max,
    /// A fixed value (librosa's default is `ref=1.0`); its absolute value is used.
    Value(f32),
}

impl Default for Ref {
    fn default() -> Self {
        Ref::Value(1.0)
    }
}

/// Parameters of [`power_to_db`]; defaults are librosa's (`ref=1.0, amin=1e-10, top_db=80`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct DbConfig {
    /// Reference for 0 dB (`ref`).
    pub reference: Ref,
    /// Floor applied to the input and the reference (`amin`, > 0).
    pub amin: f32,
    /// Dynamic range kept below the maximum, in dB (`top_db`; `None` keeps all).
    pub top_db: Option<f32>,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            reference: Ref::Value(1.0),
            amin: 1e-10,
            top_db: Some(80.0),
        }
    }
}

impl DbConfig {
    /// The research pipeline's setting: `ref = max`, `top_db = 80`.
    pub fn research() -> Self {
        Self {
            reference: Ref::Max,
            ..Self::default()
        }
    }

    /// Checks `amin > 0`, `top_db >= 0` and a finite reference.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.amin.is_finite() && self.amin > 0.0) {
            return Err(invalid("amin", self.amin, "must be finite and > 0"));
        }
        if let Some(t) = self.top_db {
            if !(t.is_finite() && t >= 0.0) {
                return Err(invalid("top_db", t, "must be finite and >= 0"));
            }
        }
        if let Ref::Value(r) = self.reference {
            if !r.is_finite() {
                return Err(invalid("ref", r, "must be finite"));
            }
        }
        Ok(())
    }
}

/// Converts a power spectrogram (any shape) to dB.
///
/// ```
/// use ser_dsp::{DbConfig, power_to_db};
/// let s = ndarray::arr1(&[1.0f32, 0.01, 0.0]);
/// let db = power_to_db(s.view(), &DbConfig::research())?;
/// assert_eq!(db.to_vec(), vec![0.0, -20.0, -80.0]);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config, [`Error::NonFinite`] for a NaN or infinite value,
/// [`Error::NegativePower`] for a negative one.
pub fn power_to_db<D: Dimension>(
    s: ArrayView<'_, f32, D>,
    config: &DbConfig,
) -> Result<Array<f32, D>> {
    let mut values: Vec<f32> = s.iter().copied().collect();
    power_to_db_in_place(&mut values, config)?;
    Array::from_shape_vec(s.raw_dim(), values).map_err(|_| Error::ShapeMismatch {
        what: "power_to_db",
        expected: s.shape().to_vec(),
        got: vec![s.len()],
    })
}

/// [`power_to_db`] on a flat buffer, in place.
///
/// # Errors
/// As [`power_to_db`].
pub fn power_to_db_in_place(s: &mut [f32], config: &DbConfig) -> Result<()> {
    config.validate()?;
    crate::error::check_finite("power_to_db", s)?;
    if crate::kernels::min(s) < 0.0 {
        if let Some((index, &value)) = s.iter().enumerate().find(|(_, v)| **v < 0.0) {
            return Err(Error::NegativePower { index, value });
        }
    }
    let amin = config.amin;
    let peak = crate::kernels::max_non_negative(s);
    let reference = match config.reference {
        Ref::Max => peak,
        Ref::Value(v) => v.abs(),
    };
    let offset = db10(reference.max(amin));
    let floor_db = match config.top_db {
        None => f32::NEG_INFINITY,
        Some(top_db) => db10(peak.max(amin)) - offset - top_db,
    };
    // Branch-free so that it vectorises.
    for v in s.iter_mut() {
        let db = db10(v.max(amin)) - offset;
        *v = if db > floor_db { db } else { floor_db };
    }
    Ok(())
}

/// [`power_to_db`] on an owned array, in place (any layout).
///
/// # Errors
/// As [`power_to_db`]; on error the array is unchanged.
pub fn power_to_db_array_in_place<D: Dimension>(
    s: &mut Array<f32, D>,
    config: &DbConfig,
) -> Result<()> {
    if let Some(flat) = s.as_slice_memory_order_mut() {
        return power_to_db_in_place(flat, config);
    }
    let converted = power_to_db(s.view(), config)?;
    s.assign(&converted);
    Ok(())
}

/// Converts an amplitude spectrogram to dB: `power_to_db(S², ref², amin², top_db)`, as
/// `librosa.amplitude_to_db` (whose default `amin` is `1e-5`).
///
/// # Errors
/// As [`power_to_db`].
pub fn amplitude_to_db<D: Dimension>(
    s: ArrayView<'_, f32, D>,
    config: &DbConfig,
) -> Result<Array<f32, D>> {
    let squared = s.mapv(|v| v.abs() * v.abs());
    let cfg = DbConfig {
        reference: match config.reference {
            Ref::Max => Ref::Max,
            Ref::Value(r) => Ref::Value(r * r),
        },
        amin: config.amin * config.amin,
        top_db: config.top_db,
    };
    power_to_db(squared.view(), &cfg)
}

/// `10 log10(x)` for `x > 0`, computed as `10 log10(2) log2(x)` with a vectorisable `log2`
/// (within a few ulp of libm's; ~1e-5 dB at -80 dB).
#[inline]
fn db10(x: f32) -> f32 {
    const TEN_LOG10_2: f32 = 3.010_3;
    TEN_LOG10_2 * crate::kernels::log2_fast(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    #[test]
    fn ref_max_puts_the_peak_at_zero_and_clips_the_floor() {
        let s = arr1(&[1.0f32, 0.1, 1e-3, 1e-12, 0.0]);
        let db = power_to_db(
            s.view(),
            &DbConfig {
                top_db: Some(25.0),
                ..DbConfig::research()
            },
        )
        .unwrap();
        let want = [0.0, -10.0, -25.0, -25.0, -25.0];
        for (a, b) in db.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn all_zero_input_is_zero_db_with_ref_max() {
        let s = arr1(&[0.0f32; 4]);
        let db = power_to_db(s.view(), &DbConfig::research()).unwrap();
        assert!(db.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn nan_and_negative_are_errors() {
        let s = arr1(&[1.0f32, f32::NAN]);
        assert!(matches!(
            power_to_db(s.view(), &DbConfig::default()),
            Err(Error::NonFinite { index: 1, .. })
        ));
        let s = arr1(&[1.0f32, -1.0]);
        assert!(matches!(
            power_to_db(s.view(), &DbConfig::default()),
            Err(Error::NegativePower { .. })
        ));
    }
}
