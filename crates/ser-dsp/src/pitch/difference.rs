//! The cumulative mean normalised difference function of each frame (librosa's
//! `_cumulative_mean_normalized_difference`), its troughs (`util.localmin` with the first
//! lag a trough when below the second) and the parabolic refinement of a trough
//! (`_parabolic_interpolation`): what YIN and pYIN share.
//!
//! The autocorrelation is computed as librosa's (FFT of the zero-padded frame, its power
//! spectrum, inverse FFT), in `f64`; librosa computes it in `f32`.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

use crate::error::Result;

/// Frames a signal and computes each frame's normalised difference over the lags
/// `min_period ..= max_period`, reusing its FFT plans and buffers.
pub(super) struct Difference {
    frame_length: usize,
    hop: usize,
    /// Zeros before the signal (`frame_length / 2` when centred, else 0).
    pad: usize,
    min_period: usize,
    max_period: usize,
    n_fft: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    buf: Vec<f64>,
    spec: Vec<Complex<f64>>,
    scratch_f: Vec<Complex<f64>>,
    scratch_i: Vec<Complex<f64>>,
    energy: Vec<f64>,
    diff: Vec<f64>,
}

impl Difference {
    /// Plans for frames of `frame_length` samples every `hop`, `pad` zeros before the
    /// signal, lags `min_period ..= max_period` (`2 <= min_period < max_period <
    /// frame_length`, as `check_periods` returns them).
    pub(super) fn new(
        frame_length: usize,
        hop: usize,
        pad: usize,
        min_period: usize,
        max_period: usize,
    ) -> Self {
        // librosa: scipy.fft.next_fast_len(2n - 1); any length >= 2n - 1 gives the same
        // linear autocorrelation.
        let n_fft = (2 * frame_length - 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        Self {
            frame_length,
            hop,
            pad,
            min_period,
            max_period,
            n_fft,
            buf: vec![0.0; n_fft],
            spec: vec![Complex::new(0.0, 0.0); n_fft / 2 + 1],
            scratch_f: forward.make_scratch_vec(),
            scratch_i: inverse.make_scratch_vec(),
            forward,
            inverse,
            energy: vec![0.0; frame_length],
            diff: vec![0.0; max_period + 1],
        }
    }

    /// The number of lags, `max_period - min_period + 1`: the length of a frame's output.
    pub(super) fn n_lags(&self) -> usize {
        self.max_period - self.min_period + 1
    }

    /// Writes frame `t` of `y` into `out` (`n_lags` values): `d'(k) = d(k) / (Σ_{j=1..=k}
    /// d(j) / k + tiny)` for `k = min_period ..= max_period`, where `d(k) = 2 (acf(0) -
    /// acf(k)) - Σ_{m<k} y(m)²`.
    ///
    /// # Errors
    /// [`crate::Error::Fft`], which the planned buffer sizes rule out.
    pub(super) fn frame(&mut self, y: &[f32], t: usize, out: &mut [f64]) -> Result<()> {
        let n = self.frame_length;
        // Frame t covers padded[t·hop .. t·hop + n], i.e. y[t·hop - pad ..], zeros outside.
        let start = t * self.hop;
        self.buf.fill(0.0);
        let mut acc = 0.0f64;
        for (i, (b, e)) in self.buf[..n]
            .iter_mut()
            .zip(self.energy.iter_mut())
            .enumerate()
        {
            let v = (start + i)
                .checked_sub(self.pad)
                .and_then(|j| y.get(j))
                .map_or(0.0, |v| f64::from(*v));
            *b = v;
            acc += v * v;
            *e = acc;
        }
        self.forward
            .process_with_scratch(&mut self.buf, &mut self.spec, &mut self.scratch_f)?;
        for c in self.spec.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        self.inverse
            .process_with_scratch(&mut self.spec, &mut self.buf, &mut self.scratch_i)?;
        let scale = 1.0 / self.n_fft as f64;
        let acf0 = self.buf[0] * scale;

        let diff = &mut self.diff;
        diff[0] = 0.0;
        for (k, d) in diff.iter_mut().enumerate().skip(1) {
            *d = 2.0 * (acf0 - self.buf[k] * scale) - self.energy[k - 1];
        }
        // librosa's util.tiny of its f32 frames.
        let tiny = f64::from(f32::MIN_POSITIVE);
        let mut cum = 0.0f64;
        for k in 1..=self.max_period {
            cum += diff[k];
            if k >= self.min_period {
                out[k - self.min_period] = diff[k] / (cum / k as f64 + tiny);
            }
        }
        Ok(())
    }
}

/// Whether lag `i` of `x` (at least 2 values) is a trough as YIN and pYIN see it:
/// `x[i] < x[i - 1] && x[i] <= x[i + 1]` inside (librosa's `localmin`), `x[0] < x[1]` at
/// the start and `x[last] < x[last - 1]` at the end.
pub(super) fn is_trough(x: &[f64], i: usize) -> bool {
    let last = x.len() - 1;
    if i == 0 {
        x[0] < x[1]
    } else if i == last {
        x[last] < x[last - 1]
    } else {
        x[i] < x[i - 1] && x[i] <= x[i + 1]
    }
}

/// librosa's `_parabolic_interpolation` at `i`: the offset of the vertex of the parabola
/// through `i - 1, i, i + 1`, or 0 at the ends or when it lies a bin or more away.
pub(super) fn parabolic_shift(x: &[f64], i: usize) -> f64 {
    if i == 0 || i + 1 >= x.len() {
        return 0.0;
    }
    let a = x[i + 1] + x[i - 1] - 2.0 * x[i];
    let b = (x[i + 1] - x[i - 1]) / 2.0;
    if b.abs() >= a.abs() { 0.0 } else { -b / a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn troughs_follow_librosa_localmin_and_edges() {
        let x = [0.5, 0.6, 0.2, 0.2, 0.3, 0.1];
        let t: Vec<bool> = (0..x.len()).map(|i| is_trough(&x, i)).collect();
        // x[0] < x[1]; 0.2 < 0.6 and 0.2 <= 0.2; the second 0.2 is not < its left; last < left.
        assert_eq!(t, [true, false, true, false, false, true]);
    }

    #[test]
    fn parabolic_shift_finds_the_vertex() {
        // y = (x - 2.25)^2 at 1, 2, 3: vertex 0.25 to the right of 2.
        let x = [1.5625, 0.0625, 0.5625];
        assert!((parabolic_shift(&x, 1) - 0.25).abs() < 1e-12);
        assert_eq!(parabolic_shift(&x, 0), 0.0);
        assert_eq!(parabolic_shift(&x, 2), 0.0);
    }
}
