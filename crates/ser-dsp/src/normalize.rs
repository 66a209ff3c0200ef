//! Peak normalisation: `y / max|y|`, as the research pipeline (`librosa.util.normalize`
//! with `norm=np.inf` divides the same way).

use crate::error::{Result, check_finite};

/// Divides `y` by its peak absolute value, in place, and returns that peak.
///
/// All-zero (or empty) input is left as it is (zeros, never NaN) and the returned peak is 0.
///
/// ```
/// let mut y = vec![0.25f32, -0.5, 0.1];
/// assert_eq!(ser_dsp::peak_normalize(&mut y)?, 0.5);
/// assert_eq!(y, vec![0.5, -1.0, 0.2]);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`crate::Error::NonFinite`] if a sample is NaN or infinite (nothing is changed then).
pub fn peak_normalize(y: &mut [f32]) -> Result<f32> {
    check_finite("peak_normalize", y)?;
    let peak = crate::kernels::max_abs(y);
    if peak > 0.0 {
        y.iter_mut().for_each(|v| *v /= peak);
    }
    Ok(peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_stay_zeros() {
        let mut y = vec![0.0f32; 5];
        assert_eq!(peak_normalize(&mut y).unwrap(), 0.0);
        assert!(y.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn nan_is_an_error_and_leaves_input() {
        let mut y = vec![0.5f32, f32::NAN];
        assert!(peak_normalize(&mut y).is_err());
        assert_eq!(y[0], 0.5);
    }
}
