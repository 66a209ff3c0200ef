//! Pre-emphasis and its inverse, as `librosa.effects.preemphasis` and
//! `librosa.effects.deemphasis` (0.11):
//!
//! ```text
//! preemphasis:  out[n] = y[n] - coef * y[n-1]          out[0] = y[0] + zi
//! deemphasis:   out[n] = y[n] + coef * out[n-1]        out[0] = y[0] + zi
//! ```
//!
//! `zi` is the filter state before the first sample (scipy's `lfilter` `zi`), and each
//! function returns the state after the last one (`zf`) so that a long signal can be filtered
//! in blocks: pass block k's `zf` as block k+1's `zi`.
//!
//! The default state (`zi = None`) is librosa's, quirks included:
//! * pre-emphasis takes `zi = 2 y[0] - y[1]`, so `out[0] = 3 y[0] - y[1]` (the state is the
//!   linear extrapolation of the signal, not multiplied by `-coef`);
//! * de-emphasis starts from a zero state, then subtracts
//!   `((2 - coef) y[0] - y[1]) / (3 - coef) * coef^n` from `out[n]`, which inverts the
//!   pre-emphasis above; its returned state is the zero-state filter's, before that
//!   correction (as librosa's `return_zf=True`).
//!
//! Both need at least two samples when `zi` is `None`. The arithmetic is scipy's and
//! librosa's, in their types (`f32`; the correction in `f64`), so the outputs are librosa's
//! bit for bit on the golden cases (`fixtures/golden/ser-dsp/presets`).

use crate::error::{Error, Result, check_finite, check_non_empty, invalid};

/// librosa's default pre-emphasis coefficient (0.97, HTK's).
pub const PREEMPHASIS_COEF: f32 = 0.97;

fn check(what: &'static str, y: &[f32], coef: f32, zi: Option<f32>) -> Result<()> {
    if !coef.is_finite() {
        return Err(invalid("coef", coef, "must be finite"));
    }
    if let Some(z) = zi {
        if !z.is_finite() {
            return Err(invalid("zi", z, "must be finite"));
        }
    }
    check_non_empty(what, y)?;
    check_finite(what, y)?;
    if zi.is_none() && y.len() < 2 {
        return Err(Error::TooShort {
            what,
            needed: 2,
            got: y.len(),
        });
    }
    Ok(())
}

/// Pre-emphasises `y`: `out[n] = y[n] - coef * y[n-1]`, as
/// `librosa.effects.preemphasis(y, coef=coef, zi=zi)`.
///
/// ```
/// use ser_dsp::{PREEMPHASIS_COEF, deemphasis, preemphasis};
/// let y = [0.1f32, 0.2, 0.3, 0.25, -0.1];
/// let e = preemphasis(&y, PREEMPHASIS_COEF, None)?;
/// assert_eq!(e[0], y[0] + (2.0 * y[0] - y[1])); // librosa's default state: zi = 2 y[0] - y[1]
/// assert_eq!(e[2], y[2] - 0.97 * y[1]);
/// // deemphasis with its default state inverts it.
/// let back = deemphasis(&e, PREEMPHASIS_COEF, None)?;
/// assert!(back.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-6));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a non-finite `coef` or `zi`; [`Error::Empty`],
/// [`Error::NonFinite`], or [`Error::TooShort`] for fewer than 2 samples with `zi = None`.
pub fn preemphasis(y: &[f32], coef: f32, zi: Option<f32>) -> Result<Vec<f32>> {
    let mut out = y.to_vec();
    preemphasis_in_place(&mut out, coef, zi)?;
    Ok(out)
}

/// [`preemphasis`] in place; returns the final filter state `zf = -coef * y[last]` (librosa's
/// `return_zf=True`), to pass as the next block's `zi`.
///
/// # Errors
/// As [`preemphasis`]; on error `y` is unchanged.
pub fn preemphasis_in_place(y: &mut [f32], coef: f32, zi: Option<f32>) -> Result<f32> {
    check("preemphasis", y, coef, zi)?;
    let zi = zi.unwrap_or_else(|| 2.0 * y[0] - y[1]);
    // scipy's lfilter with b = [1, -coef]: out = z + x; z = x * (-coef).
    let minus_coef = -coef;
    let mut z = zi;
    for v in y.iter_mut() {
        let x = *v;
        *v = z + x;
        z = x * minus_coef;
    }
    Ok(z)
}

/// De-emphasises `y` (the inverse of [`preemphasis`]): `out[n] = y[n] + coef * out[n-1]`, as
/// `librosa.effects.deemphasis(y, coef=coef, zi=zi)`.
///
/// # Errors
/// As [`preemphasis`].
pub fn deemphasis(y: &[f32], coef: f32, zi: Option<f32>) -> Result<Vec<f32>> {
    let mut out = y.to_vec();
    deemphasis_in_place(&mut out, coef, zi)?;
    Ok(out)
}

/// [`deemphasis`] in place; returns the final filter state `coef * out[last]` (librosa's
/// `return_zf=True`; for `zi = None`, of the output before the correction, as librosa).
///
/// # Errors
/// As [`preemphasis`]; on error `y` is unchanged.
pub fn deemphasis_in_place(y: &mut [f32], coef: f32, zi: Option<f32>) -> Result<f32> {
    check("deemphasis", y, coef, zi)?;
    // librosa's correction term, in its types: `coef` is a Python float there, so it is
    // taken as the decimal the f32 prints as (0.97 → 0.97_f64, not 0.9700000286…); the
    // constant is computed in f32, `coef^n` in f64.
    let coef64 = coef.to_string().parse::<f64>().unwrap_or(f64::from(coef));
    let correction = zi.is_none().then(|| {
        let c = (((2.0 - coef64) as f32) * y[0] - y[1]) / ((3.0 - coef64) as f32);
        f64::from(c)
    });
    // scipy's lfilter with a = [1, -coef]: out = z + x; z = out * coef.
    let mut z = zi.unwrap_or(0.0);
    for v in y.iter_mut() {
        let out = z + *v;
        *v = out;
        z = out * coef;
    }
    if let Some(c) = correction {
        for (n, v) in y.iter_mut().enumerate() {
            *v = (f64::from(*v) - c * coef64.powf(n as f64)) as f32;
        }
    }
    Ok(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_with_carried_state_equal_the_whole() {
        let y: Vec<f32> = (0..1000).map(|n| (n as f32 * 0.037).sin() * 0.4).collect();
        let whole = preemphasis(&y, 0.97, None).unwrap();
        let mut a = y[..400].to_vec();
        let mut b = y[400..].to_vec();
        let zf = preemphasis_in_place(&mut a, 0.97, None).unwrap();
        preemphasis_in_place(&mut b, 0.97, Some(zf)).unwrap();
        a.extend(b);
        assert_eq!(a, whole);
    }

    #[test]
    fn deemphasis_inverts_preemphasis() {
        let y: Vec<f32> = (0..2000)
            .map(|n| ((n * 7919) % 211) as f32 / 211.0 - 0.5)
            .collect();
        for coef in [0.0, 0.5, 0.97] {
            let back = deemphasis(&preemphasis(&y, coef, None).unwrap(), coef, None).unwrap();
            let e = back
                .iter()
                .zip(&y)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(e < 1e-4, "coef {coef}: {e}");
        }
    }

    #[test]
    fn bad_input_is_an_error_and_changes_nothing() {
        assert!(matches!(
            preemphasis(&[0.5], 0.97, None),
            Err(Error::TooShort { needed: 2, .. })
        ));
        assert_eq!(preemphasis(&[0.5], 0.97, Some(0.0)).unwrap(), vec![0.5]);
        assert!(matches!(
            deemphasis(&[], 0.97, Some(0.0)),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            preemphasis(&[0.1, 0.2], f32::NAN, None),
            Err(Error::InvalidConfig { field: "coef", .. })
        ));
        assert!(matches!(
            deemphasis(&[0.1, 0.2], 0.9, Some(f32::INFINITY)),
            Err(Error::InvalidConfig { field: "zi", .. })
        ));
        let mut y = [0.1f32, f32::NAN, 0.3];
        assert!(matches!(
            deemphasis_in_place(&mut y, 0.97, None),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert_eq!(y[0], 0.1);
    }
}
