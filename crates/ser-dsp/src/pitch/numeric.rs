//! The arithmetic of numpy and scipy that pYIN's numbers depend on: numpy's pairwise
//! summation (`np.sum` of a contiguous array, whose rounding decides ties in Viterbi), the
//! regularized incomplete beta function (scipy's `stats.beta.cdf`) and `ln Γ`.

/// `np.sum` of `n` values `f(0), …, f(n - 1)` with numpy's pairwise algorithm
/// (`pairwise_sum` in numpy's `loops_utils.h`: blocks of at most 128 values summed with 8
/// interleaved accumulators, larger ranges split in two at a multiple of 8), so that the
/// rounding is numpy's. Ranges `zero(lo, hi)` says are all zeros are skipped: their sum is
/// exactly 0 and adding 0 changes nothing.
pub(super) fn pairwise_sum(
    n: usize,
    f: &impl Fn(usize) -> f64,
    zero: &impl Fn(usize, usize) -> bool,
) -> f64 {
    pairwise(0, n, f, zero)
}

fn pairwise(
    lo: usize,
    n: usize,
    f: &impl Fn(usize) -> f64,
    zero: &impl Fn(usize, usize) -> bool,
) -> f64 {
    if n == 0 || zero(lo, lo + n) {
        return 0.0;
    }
    if n < 8 {
        // numpy: res = 0.; res += a[i] (the -0.0 start of newer numpy only differs for
        // all-(-0.0) input, which sums to the same comparison value).
        let mut res = 0.0;
        for i in lo..lo + n {
            res += f(i);
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        for (j, r) in r.iter_mut().enumerate() {
            *r = f(lo + j);
        }
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, r) in r.iter_mut().enumerate() {
                *r += f(lo + i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += f(lo + i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(lo, n2, f, zero) + pairwise(lo + n2, n - n2, f, zero)
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error about 1e-15).
pub(super) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function `I_x(a, b)`, i.e. scipy's
/// `stats.beta.cdf(x, a, b)`, for `a, b > 0` (0 below 0, 1 above 1). The continued fraction
/// of Numerical Recipes (`betacf`, modified Lentz) on the side of `x` where it converges
/// fast; agrees with scipy to about 1e-14 (see the tests).
pub(super) fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    // x^a (1 - x)^b / B(a, b), in logs.
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of `I_x(a, b)` (Numerical Recipes' `betacf`), to full `f64`
/// precision or 10 000 terms (ample: it needs `O(sqrt(max(a, b)))`).
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = f64::EPSILON;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= EPS {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_is_numpys_order() {
        // 1 + 1e-16 * 200: numpy's blocks keep the small terms together.
        let f = |i: usize| if i == 0 { 1.0 } else { 1e-16 };
        let never = |_: usize, _: usize| false;
        let got = pairwise_sum(201, &f, &never);
        // Split at 96: [0, 96) gives 1 + sum of 95 smalls in 8 lanes; [96, 201) 105 smalls.
        let lanes: f64 = {
            let mut r = [0.0f64; 8];
            r[0] = 1.0;
            for v in r.iter_mut().skip(1) {
                *v = 1e-16;
            }
            for _ in 1..12 {
                for v in r.iter_mut() {
                    *v += 1e-16;
                }
            }
            ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        };
        let right: f64 = {
            let mut r = [1e-16f64; 8];
            for _ in 1..13 {
                for v in r.iter_mut() {
                    *v += 1e-16;
                }
            }
            let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            s += 1e-16;
            s
        };
        assert_eq!(got, lanes + right);
        // Skipping known-zero ranges changes nothing.
        let g = |i: usize| {
            if (50..70).contains(&i) {
                i as f64 * 0.1
            } else {
                0.0
            }
        };
        let inside = |lo: usize, hi: usize| hi <= 50 || lo >= 70;
        assert_eq!(
            pairwise_sum(300, &g, &inside),
            pairwise_sum(300, &g, &never)
        );
    }

    #[test]
    fn ln_gamma_of_integers_and_halves() {
        let mut fact = 1.0f64;
        for n in 1..30 {
            // Γ(n) = (n - 1)!
            let want = fact.ln();
            assert!(
                (ln_gamma(n as f64) - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{n}"
            );
            fact *= n as f64;
        }
        let sqrt_pi_ln = 0.5 * std::f64::consts::PI.ln();
        assert!((ln_gamma(0.5) - sqrt_pi_ln).abs() < 1e-14);
    }

    #[test]
    fn beta_cdf_matches_scipy() {
        // scipy.stats.beta.cdf on pYIN's threshold grid for six (a, b), stored by
        // fixtures/scripts/make_golden_pyin.py.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/golden/ser-dsp/pyin/index.json"
        );
        let index: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let sets = index["beta_cdf"].as_array().unwrap();
        assert!(sets.len() >= 5);
        let mut worst = 0.0f64;
        for set in sets {
            let (a, b) = (set["a"].as_f64().unwrap(), set["b"].as_f64().unwrap());
            let xs = set["x"].as_array().unwrap();
            for (x, want) in xs.iter().zip(set["cdf"].as_array().unwrap()) {
                let (x, want) = (x.as_f64().unwrap(), want.as_f64().unwrap());
                let err = (beta_cdf(x, a, b) - want).abs();
                assert!(err <= 1e-13, "beta({a}, {b}).cdf({x}): off by {err:e}");
                worst = worst.max(err);
            }
        }
        println!("beta cdf: max abs error {worst:.1e} against scipy");
    }

    #[test]
    fn beta_cdf_closed_forms() {
        // I_x(1, 1) = x; I_x(2, 18) = 1 - (1 - x)^18 (1 + 18 x) (binomial sum).
        for i in 0..=100 {
            let x = f64::from(i) * 0.01;
            assert!((beta_cdf(x, 1.0, 1.0) - x).abs() < 1e-15);
            let want = 1.0 - (1.0 - x).powi(18) * (1.0 + 18.0 * x);
            assert!((beta_cdf(x, 2.0, 18.0) - want).abs() < 1e-14, "{x}");
        }
        // I_x(1/2, 1/2) = 2 asin(sqrt x) / π.
        for x in [0.01f64, 0.3, 0.5, 0.77, 0.999] {
            let want = 2.0 * x.sqrt().asin() / std::f64::consts::PI;
            assert!((beta_cdf(x, 0.5, 0.5) - want).abs() < 1e-14, "{x}");
        }
    }
}
