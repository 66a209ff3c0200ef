//! pYIN's hidden Markov model decoded as `librosa.sequence.viterbi` decodes it, without
//! its dense `O(S²)` step.
//!
//! The states are `n` voiced pitch bins followed by `n` unvoiced ones. librosa's transition
//! matrix is `np.kron(transition_loop(2, 1 - switch_prob), transition_local(n, width,
//! window='triangle', wrap=False))`: a pitch moves at most `width / 2` bins per frame, in
//! either voicing. Its log, `log(A + tiny)`, is `log(tiny)` (about -708.4) everywhere
//! outside that band, and librosa's dense Viterbi can take such a transition when every
//! state in the band is worse still. So each step here takes, for every target state,
//! the best of (a) its band, read from tables of `log(A + tiny)`, and (b) the best state
//! outside the band plus `log(tiny)`, read from prefix and suffix maxima: `O(S · width)`
//! instead of `O(S²)`. Ties go to the lowest state index, as `np.argmax`; the sums are
//! the same `f64` additions as librosa's, so the path is librosa's.

use super::numeric::pairwise_sum;
use crate::error::{Result, invalid};

/// The largest number of states: librosa stores them as `uint16`.
pub(super) const MAX_STATES: usize = 1 << 16;

/// The largest band table, in entries (two tables of `f64`: 256 MiB at this size).
pub(super) const MAX_BAND_ENTRIES: usize = 1 << 24;

/// `log(A + tiny)` of librosa's transition matrix, kept in its band.
pub(super) struct Transition {
    /// Pitch bins; there are `2 n` states.
    n: usize,
    /// Half the band: `A[i, j]` can be non-zero only for `|i - j| <= h` (within a block).
    h: usize,
    /// `log(stay · T[i, j] + tiny)` for target bin `j`, source `i = j - h ..= j + h`, at
    /// `j · (2h + 1) + (i + h - j)` (entries with `i` outside `0..n` unused).
    same: Vec<f64>,
    /// `log(switch · T[i, j] + tiny)`, laid out as `same`.
    switch: Vec<f64>,
}

impl Transition {
    /// librosa's matrix for `n` pitch bins, a `transition_local` window of `width` bins and
    /// `switch_prob`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] when `n < 2` or `width > n` (librosa raises on
    /// both), `2 n` exceeds [`MAX_STATES`] or the band exceeds [`MAX_BAND_ENTRIES`].
    pub(super) fn new(n: usize, width: usize, switch_prob: f64) -> Result<Self> {
        if n < 2 {
            return Err(invalid(
                "resolution",
                n,
                "gives fewer than 2 pitch bins between fmin and fmax",
            ));
        }
        if 2 * n > MAX_STATES {
            return Err(invalid(
                "resolution",
                n,
                "gives more than 32768 pitch bins between fmin and fmax",
            ));
        }
        if width == 0 || width > n {
            return Err(invalid(
                "max_transition_rate",
                width,
                "gives a transition window (bins) wider than the pitch grid, or empty; \
                 librosa raises too",
            ));
        }
        let h = width / 2;
        let stride = 2 * h + 1;
        if n.saturating_mul(stride) > MAX_BAND_ENTRIES {
            return Err(invalid(
                "max_transition_rate",
                width,
                "with this resolution, the transition band would exceed 2^24 entries",
            ));
        }
        let tri = triangle(width);
        let lpad = (n - width) / 2;
        // Row i of transition_local before normalisation: the window padded to n, rolled by
        // n / 2 + i + 1, zero outside [i - width / 2, i + width / 2].
        let row = |i: usize, k: usize| -> f64 {
            let lo = i.saturating_sub(h);
            let hi = (i + h + 1).min(n);
            if k < lo || k >= hi {
                return 0.0;
            }
            let shift = (n / 2 + i + 1) % n;
            let m = (k + n - shift) % n;
            if m >= lpad && m < lpad + width {
                tri[m - lpad]
            } else {
                0.0
            }
        };
        // transition /= transition.sum(axis=1, keepdims=True), numpy's summation order.
        let sums: Vec<f64> = (0..n)
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(h), (i + h + 1).min(n));
                pairwise_sum(n, &|k| row(i, k), &|a, b| b <= lo || a >= hi)
            })
            .collect();
        // transition_loop(2, 1 - switch_prob): diagonal p, off-diagonal (1 - p) / 1.
        let stay = 1.0 - switch_prob;
        let leave = 1.0 - stay;
        let tiny = f64::MIN_POSITIVE;
        let mut same = vec![0.0; n * stride];
        let mut switch = vec![0.0; n * stride];
        for j in 0..n {
            let (lo, hi) = (j.saturating_sub(h), (j + h).min(n - 1));
            for (i, sum) in sums.iter().enumerate().take(hi + 1).skip(lo) {
                let t = row(i, j) / sum;
                let at = j * stride + i + h - j;
                same[at] = (stay * t + tiny).ln();
                switch[at] = (leave * t + tiny).ln();
            }
        }
        Ok(Self { n, h, same, switch })
    }

    /// The number of states, `2 n`.
    pub(super) fn n_states(&self) -> usize {
        2 * self.n
    }

    /// The most likely state path over `n_frames` frames (at least 1), as librosa's
    /// `viterbi(prob, transition, p_init=uniform)`. `log_prob(t, out)` writes
    /// `log(prob[:, t] + tiny)` of frame `t` into `out` (`2 n` values).
    pub(super) fn decode(
        &self,
        n_frames: usize,
        mut log_prob: impl FnMut(usize, &mut [f64]),
    ) -> Vec<usize> {
        let (n, h) = (self.n, self.h);
        let s = 2 * n;
        let stride = 2 * h + 1;
        let log_tiny = (0.0 + f64::MIN_POSITIVE).ln();
        let log_init = (1.0 / s as f64 + f64::MIN_POSITIVE).ln();
        let mut lp = vec![0.0f64; s];
        let mut prev = vec![0.0f64; s];
        let mut cur = vec![0.0f64; s];
        // Out-of-band candidates, value + log(tiny): best over [0, k) and over [k, n) of
        // each block, with the lowest index among equals.
        let mut outside = vec![0.0f64; s];
        let mut pre = vec![(f64::NEG_INFINITY, 0usize); 2 * (n + 1)];
        let mut suf = vec![(f64::NEG_INFINITY, 0usize); 2 * (n + 1)];
        let mut ptr = vec![0u16; n_frames.saturating_sub(1) * s];

        log_prob(0, &mut lp);
        for (v, l) in prev.iter_mut().zip(&lp) {
            *v = l + log_init;
        }
        for t in 1..n_frames {
            log_prob(t, &mut lp);
            for (o, v) in outside.iter_mut().zip(&prev) {
                *o = v + log_tiny;
            }
            for b in 0..2 {
                let base = b * (n + 1);
                pre[base] = (f64::NEG_INFINITY, 0);
                for k in 0..n {
                    let i = b * n + k;
                    let best = pre[base + k];
                    pre[base + k + 1] = if outside[i] > best.0 {
                        (outside[i], i)
                    } else {
                        best
                    };
                }
                suf[base + n] = (f64::NEG_INFINITY, 0);
                for k in (0..n).rev() {
                    let i = b * n + k;
                    let best = suf[base + k + 1];
                    // >=: among equals the lower index wins.
                    suf[base + k] = if outside[i] >= best.0 {
                        (outside[i], i)
                    } else {
                        best
                    };
                }
            }
            let ptr_t = &mut ptr[(t - 1) * s..t * s];
            for tb in 0..2 {
                for j in 0..n {
                    let (lo, hi) = (j.saturating_sub(h), (j + h).min(n - 1));
                    let mut best = (f64::NEG_INFINITY, 0usize);
                    let mut take = |c: (f64, usize)| {
                        if c.0 > best.0 {
                            best = c;
                        }
                    };
                    for sb in 0..2 {
                        let table = if sb == tb { &self.same } else { &self.switch };
                        take(pre[sb * (n + 1) + lo]);
                        let row = &table[j * stride + lo + h - j..=j * stride + hi + h - j];
                        let src = &prev[sb * n + lo..=sb * n + hi];
                        let (value, k) = band_best(src, row);
                        take((value, sb * n + lo + k));
                        take(suf[sb * (n + 1) + hi + 1]);
                    }
                    let target = tb * n + j;
                    cur[target] = lp[target] + best.0;
                    // < 2^16 states (checked in new).
                    ptr_t[target] = best.1 as u16;
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        let mut state = 0;
        for (i, v) in prev.iter().enumerate() {
            if *v > prev[state] {
                state = i;
            }
        }
        let mut states = vec![0usize; n_frames];
        if let Some(last) = states.last_mut() {
            *last = state;
        }
        for t in (0..n_frames.saturating_sub(1)).rev() {
            state = usize::from(ptr[t * s + state]);
            states[t] = state;
        }
        states
    }
}

/// The largest `src[k] + row[k]` and its first `k` (as `np.argmax`), over eight
/// independent lanes that each keep their first maximum (which the compiler vectorises);
/// the first `k` overall is the lowest among the lanes that reach the maximum.
fn band_best(src: &[f64], row: &[f64]) -> (f64, usize) {
    const L: usize = 8;
    let mut best = [f64::NEG_INFINITY; L];
    let mut at = [0usize; L];
    let (s8, r8) = (src.chunks_exact(L), row.chunks_exact(L));
    let (s_rest, r_rest) = (s8.remainder(), r8.remainder());
    for (c, (s, r)) in s8.zip(r8).enumerate() {
        for l in 0..L {
            let v = s[l] + r[l];
            if v > best[l] {
                best[l] = v;
                at[l] = c * L + l;
            }
        }
    }
    let base = src.len() - s_rest.len();
    for (l, (v, a)) in s_rest.iter().zip(r_rest).enumerate() {
        let v = v + a;
        if v > best[l] {
            best[l] = v;
            at[l] = base + l;
        }
    }
    let mut out = (f64::NEG_INFINITY, usize::MAX);
    for (v, k) in best.iter().zip(at) {
        if *v > out.0 || (*v == out.0 && k < out.1) {
            out = (*v, k);
        }
    }
    (out.0, if out.1 == usize::MAX { 0 } else { out.1 })
}

/// `scipy.signal.windows.triang(m, sym=True)` (librosa's `get_window('triangle', m,
/// fftbins=False)`).
fn triangle(m: usize) -> Vec<f64> {
    if m <= 1 {
        return vec![1.0; m];
    }
    let half: Vec<f64> = (1..=m.div_ceil(2))
        .map(|k| {
            let k = k as f64;
            if m.is_multiple_of(2) {
                (2.0 * k - 1.0) / m as f64
            } else {
                2.0 * k / (m as f64 + 1.0)
            }
        })
        .collect();
    let mirrored = if m.is_multiple_of(2) {
        &half[..]
    } else {
        &half[..half.len() - 1]
    };
    half.iter().chain(mirrored.iter().rev()).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense matrix `log(kron(loop, local) + tiny)` rebuilt from the band tables, with
    /// `log(tiny)` outside.
    fn dense(tr: &Transition) -> Vec<Vec<f64>> {
        let (n, h) = (tr.n, tr.h);
        let log_tiny = f64::MIN_POSITIVE.ln();
        let mut a = vec![vec![log_tiny; 2 * n]; 2 * n];
        for j in 0..n {
            for i in j.saturating_sub(h)..=(j + h).min(n - 1) {
                let at = j * (2 * h + 1) + i + h - j;
                for sb in 0..2 {
                    for tb in 0..2 {
                        a[sb * n + i][tb * n + j] =
                            if sb == tb { tr.same[at] } else { tr.switch[at] };
                    }
                }
            }
        }
        a
    }

    /// librosa's `_viterbi`, dense, as written there.
    fn dense_viterbi(a: &[Vec<f64>], lp: &[Vec<f64>]) -> Vec<usize> {
        let s = a.len();
        let log_init = (1.0 / s as f64 + f64::MIN_POSITIVE).ln();
        let mut value: Vec<f64> = lp[0].iter().map(|l| l + log_init).collect();
        let mut ptrs = vec![];
        for frame in &lp[1..] {
            let mut next = vec![0.0; s];
            let mut ptr = vec![0; s];
            for j in 0..s {
                let mut best = 0;
                for k in 0..s {
                    if value[k] + a[k][j] > value[best] + a[best][j] {
                        best = k;
                    }
                }
                ptr[j] = best;
                next[j] = frame[j] + (value[best] + a[best][j]);
            }
            value = next;
            ptrs.push(ptr);
        }
        let mut state = 0;
        for i in 0..s {
            if value[i] > value[state] {
                state = i;
            }
        }
        let mut states = vec![state];
        for ptr in ptrs.iter().rev() {
            state = ptr[state];
            states.push(state);
        }
        states.reverse();
        states
    }

    #[test]
    fn triangle_is_scipys() {
        assert_eq!(triangle(1), [1.0]);
        assert_eq!(triangle(3), [0.5, 1.0, 0.5]);
        assert_eq!(triangle(4), [0.25, 0.75, 0.75, 0.25]);
        assert_eq!(
            triangle(5),
            [1.0 / 3.0, 2.0 / 3.0, 1.0, 2.0 / 3.0, 1.0 / 3.0]
        );
    }

    #[test]
    fn local_transition_rows_are_librosas() {
        // librosa.sequence.transition_local(10, 5) rows 0, 1 and 4, and (10, 4) rows 0 and 9.
        let tr = Transition::new(10, 5, 0.0).unwrap();
        let a = dense(&tr);
        let t = |i: usize, j: usize| a[i][j].exp();
        let close = |x: f64, y: f64| (x - y).abs() < 1e-15;
        assert!(close(t(0, 0), 0.5) && close(t(0, 1), 1.0 / 3.0) && close(t(0, 2), 1.0 / 6.0));
        assert!(close(t(1, 0), 0.25) && close(t(1, 3), 0.125));
        assert!(close(t(4, 2), 1.0 / 9.0) && close(t(4, 4), 1.0 / 3.0));
        assert!(t(4, 7) < 1e-300 && t(0, 3) < 1e-300);
        let tr = Transition::new(10, 4, 0.0).unwrap();
        let a = dense(&tr);
        let t = |i: usize, j: usize| a[i][j].exp();
        assert!(
            close(t(0, 0), 3.0 / 7.0) && close(t(0, 1), 3.0 / 7.0) && close(t(0, 2), 1.0 / 7.0)
        );
        assert!(close(t(9, 8), 0.25) && close(t(9, 9), 0.75) && t(9, 7) < 1e-300);
        for i in 0..10 {
            let sum: f64 = (0..10).map(|j| t(i, j)).sum();
            assert!(close(sum, 1.0), "row {i}");
        }
    }

    #[test]
    fn banded_viterbi_equals_the_dense_one() {
        // A deterministic pseudo-random mix of sparse voiced observations, uniform unvoiced
        // ones, frames with certain voicing (log(tiny) unvoiced) and jumps wider than the
        // band, where the dense decoder takes a log(tiny) transition.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let log_tiny = f64::MIN_POSITIVE.ln();
        let mut jumps = 0;
        for (n, width, switch) in [(12, 5, 0.01), (20, 7, 0.3), (9, 4, 0.01), (16, 1, 0.05)] {
            let tr = Transition::new(n, width, switch).unwrap();
            let a = dense(&tr);
            let n_frames = 40;
            let lp: Vec<Vec<f64>> = (0..n_frames)
                .map(|t| {
                    let mut f = vec![log_tiny; 2 * n];
                    // Certain pitch at one end, then at the other: only a jump connects them.
                    if t % 13 == 6 || t % 13 == 7 {
                        f[if t % 13 == 6 { 0 } else { n - 1 }] = (1.0 + f64::MIN_POSITIVE).ln();
                        return f;
                    }
                    let certain = t % 7 == 3;
                    let mut voiced = 0.0;
                    for _ in 0..3 {
                        if rnd() < 0.6 {
                            let bin = if t % 11 == 5 {
                                n - 1
                            } else {
                                (rnd() * n as f64) as usize
                            };
                            let p = if certain { 1.0 } else { 0.3 * rnd() };
                            f[bin] = (p + f64::MIN_POSITIVE).ln();
                            voiced += p;
                        }
                    }
                    let un = if certain {
                        0.0
                    } else {
                        (1.0 - voiced.min(1.0)) / n as f64
                    };
                    for v in &mut f[n..] {
                        *v = (un + f64::MIN_POSITIVE).ln();
                    }
                    f
                })
                .collect();
            let got = tr.decode(n_frames, |t, out| out.copy_from_slice(&lp[t]));
            let want = dense_viterbi(&a, &lp);
            assert_eq!(got, want, "n {n}, width {width}");
            // Steps the band does not allow, taken at log(tiny) by the dense decoder.
            jumps += want
                .windows(2)
                .filter(|w| (w[0] % n).abs_diff(w[1] % n) > width / 2)
                .count();
        }
        assert!(
            jumps > 0,
            "no path left the band: the test misses that case"
        );
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(Transition::new(1, 1, 0.01).is_err());
        assert!(Transition::new(10, 11, 0.01).is_err());
        assert!(Transition::new(10, 0, 0.01).is_err());
        assert!(Transition::new(40_000, 3, 0.01).is_err());
    }
}
