//! Decibel conversion, as `librosa.power_to_db` and `librosa.amplitude_to_db` (0.11):
//!
//! ```text
//! dB = 10 log10(max(amin, S)) - 10 log10(max(amin, ref))
//! dB = max(dB, max(dB) - top_db)        (if top_db is set)
//! ```
//!
//! [`power_to_db`] takes `f32` or `f64` ([`Sample`]) and returns the input's type. The `f64`
//! path is librosa's on float64 input: `f64` logs (`log10`), with the config's `f32` settings
//! read as the decimals they print as (`amin = 1e-10f32` is `1e-10`, not `1.0000000133e-10`).

use std::any::Any;

use ndarray::{Array, ArrayView, Dimension};

use crate::error::{Error, Result, invalid};
use crate::sample::Sample;

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

/// Converts a power spectrogram (any shape, `f32` or `f64`) to dB, of the input's type.
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
pub fn power_to_db<S: Sample, D: Dimension>(
    s: ArrayView<'_, S, D>,
    config: &DbConfig,
) -> Result<Array<S, D>> {
    let mut values: Vec<S> = s.iter().copied().collect();
    let any: &mut dyn Any = &mut values;
    if let Some(v) = any.downcast_mut::<Vec<f32>>() {
        power_to_db_in_place(v, config)?;
    } else if let Some(v) = any.downcast_mut::<Vec<f64>>() {
        power_to_db_f64_in_place(v, config)?;
    }
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

/// The `f64` path of [`power_to_db`], in place: librosa's arithmetic on float64 input.
fn power_to_db_f64_in_place(s: &mut [f64], config: &DbConfig) -> Result<()> {
    config.validate()?;
    <f64 as crate::sample::sealed::Sealed>::check_finite("power_to_db", s)?;
    if let Some((index, &value)) = s.iter().enumerate().find(|(_, v)| **v < 0.0) {
        return Err(Error::NegativePower {
            index,
            value: value as f32,
        });
    }
    let amin = f32_decimal(config.amin);
    let peak = s.iter().fold(0.0f64, |m, &v| m.max(v));
    let reference = match config.reference {
        Ref::Max => peak,
        Ref::Value(v) => f32_decimal(v).abs(),
    };
    let offset = 10.0 * reference.max(amin).log10();
    let floor_db = match config.top_db {
        None => f64::NEG_INFINITY,
        Some(top_db) => 10.0 * peak.max(amin).log10() - offset - f32_decimal(top_db),
    };
    for v in s.iter_mut() {
        let db = 10.0 * v.max(amin).log10() - offset;
        *v = db.max(floor_db);
    }
    Ok(())
}

/// An `f32` setting as the decimal it prints as (`1e-10f32` → `1e-10`): what the caller
/// wrote, for the `f64` path.
fn f32_decimal(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
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
