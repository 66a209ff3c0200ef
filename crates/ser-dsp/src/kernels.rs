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

/// `min y` of finite values (`+inf` for an empty slice).
pub(crate) fn min(y: &[f32]) -> f32 {
    let mut acc = [f32::INFINITY; LANES];
    let chunks = y.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = if v < *a { v } else { *a };
        }
    }
    rest.iter()
        .chain(acc.iter())
        .fold(f32::INFINITY, |m, &v| if v < m { v } else { m })
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

/// `sum a[i] * b[i]` over the shorter length.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for ((s, p), q) in acc.iter_mut().zip(x).zip(y) {
            *s += p * q;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(p, q)| p * q).sum();
    acc.iter().sum::<f32>() + tail
}

/// `log2(x)` for finite `x > 0` (normal or subnormal), branch-free so that loops over it
/// vectorise. Relative error below 1e-7 (a few ulp): `x = m 2^e` with `m` in
/// `[sqrt(1/2), sqrt(2))`, then `ln m = 2 atanh(s)`, `s = (m - 1) / (m + 1)`, `|s| < 0.172`,
/// by its series to `s^9` (truncation error < 4e-10).
#[inline]
pub(crate) fn log2_fast(x: f32) -> f32 {
    // Subnormals: scale into the normal range first (exact).
    let tiny = x < f32::MIN_POSITIVE;
    let x = if tiny { x * 16_777_216.0 } else { x }; // 2^24
    let bits = x.to_bits();
    // Exponent relative to the mantissa in [sqrt(1/2), sqrt(2)).
    let adjusted = bits.wrapping_sub(0x3f35_04f3); // bits of sqrt(1/2)
    let e = (adjusted as i32) >> 23;
    let m = f32::from_bits(bits.wrapping_sub((e as u32) << 23));
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let poly = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    let ln_m = 2.0 * s * poly;
    let e = e as f32 - if tiny { 24.0 } else { 0.0 };
    e + ln_m * std::f32::consts::LOG2_E
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_fast_is_within_a_few_ulp() {
        let mut worst = 0.0f64;
        let mut x = 1e-38f32;
        while x < 1e38 {
            for k in 0..97 {
                let v = x * (1.0 + k as f32 / 97.0);
                let want = f64::from(v).log2();
                let got = f64::from(log2_fast(v));
                let err = (got - want).abs() / want.abs().max(1.0);
                worst = worst.max(err);
            }
            x *= 3.7;
        }
        assert!(worst < 2e-7, "worst relative error {worst}");
        assert_eq!(log2_fast(1.0), 0.0);
        assert!((log2_fast(1e-45) - f64::from(1e-45f32).log2() as f32).abs() < 1e-4);
    }

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
        let d: f64 = y.iter().zip(&p).map(|(a, b)| f64::from(a * b)).sum();
        assert!((f64::from(dot(&y, &p)) - d).abs() < 1e-3);
    }
}
