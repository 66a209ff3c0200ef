//! Small loops written so that the compiler vectorises them (several independent
//! accumulators instead of one serial chain).

const LANES: usize = 8;

/// Whether every sample is finite (no NaN, no infinity).
pub(crate) fn all_finite(y: &[f32]) -> bool {
    // x * 0 is 0 for finite x and NaN otherwise; NaN survives the sums.
    let mut acc = [0.0f32; LANES];
    let chunks = y.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * 0.0;
        }
    }
    let tail: f32 = rest.iter().map(|v| v * 0.0).sum();
    acc.iter().sum::<f32>() + tail == 0.0
}

/// `max |y|` (0 for an empty slice). Assumes finite input.
pub(crate) fn max_abs(y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = y.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            let x = v.abs();
            *a = if x > *a { x } else { *a };
        }
    }
    rest.iter()
        .chain(acc.iter())
        .fold(0.0f32, |m, v| if v.abs() > m { v.abs() } else { m })
}

/// `max y` of non-negative finite values (0 for an empty slice).
pub(crate) fn max_non_negative(y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = y.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = if v > *a { v } else { *a };
        }
    }
    rest.iter()
        .chain(acc.iter())
        .fold(0.0f32, |m, &v| if v > m { v } else { m })
}

/// `sum y²`, accumulated in `f64`.
pub(crate) fn sum_squares(y: &[f32]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = y.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            let x = f64::from(v);
            *a += x * x;
        }
    }
    let tail: f64 = rest.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_the_obvious_loops() {
        let y: Vec<f32> = (0..1003)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        assert!(all_finite(&y));
        let mut bad = y.clone();
        bad[1001] = f32::INFINITY;
        assert!(!all_finite(&bad));
        bad[1001] = f32::NAN;
        assert!(!all_finite(&bad));
        assert_eq!(max_abs(&y), y.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        let sq: f64 = y.iter().map(|v| f64::from(*v).powi(2)).sum();
        assert!((sum_squares(&y) - sq).abs() < 1e-9);
        let p: Vec<f32> = y.iter().map(|v| v.abs()).collect();
        assert_eq!(max_non_negative(&p), max_abs(&y));
        assert_eq!(max_abs(&[]), 0.0);
    }
}
