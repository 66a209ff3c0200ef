//! Delta features, as `librosa.feature.delta(data, width, order, axis=-1, mode='interp')`
//! (librosa 0.11), which is `scipy.signal.savgol_filter(data, width, polyorder=order,
//! deriv=order, mode='interp')` along the frames.
//!
//! For every frame `t` a polynomial of degree `order` is fitted by least squares to the
//! `width` frames centred on `t`, and its `order`-th derivative is the output. Because the
//! degree equals the derivative, that derivative is a constant: `order!` times the leading
//! coefficient, a fixed linear combination of the window (the Savitzky–Golay weights, for
//! `order = 1` simply `k / Σk²`, `k = -width/2 ..= width/2`). With `mode='interp'` the first
//! and last `width/2` frames take the fit of the first and last full window, so they repeat
//! the value of the nearest interior frame.
//!
//! Arithmetic is in `f64` (as scipy's), the output rounded to `f32`.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result, invalid};

/// Parameters of [`delta`]; the defaults are librosa's (`width = 9`, `order = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct DeltaConfig {
    /// Number of frames in each fit (`width`): odd, at least 3, at most the number of frames.
    pub width: usize,
    /// The derivative (`order`): 1 for delta, 2 for delta-delta; at least 1, below `width`.
    pub order: usize,
}

impl Default for DeltaConfig {
    fn default() -> Self {
        Self { width: 9, order: 1 }
    }
}

impl DeltaConfig {
    /// A config with librosa's `width = 9` and the given `order`.
    pub fn new(order: usize) -> Self {
        Self {
            order,
            ..Self::default()
        }
    }

    /// Sets `width`.
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Checks an odd `width >= 3` and `1 <= order < width` (librosa's and scipy's rules).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.width < 3 || self.width.is_multiple_of(2) {
            return Err(invalid("width", self.width, "must be an odd integer >= 3"));
        }
        if self.order == 0 {
            return Err(invalid("order", self.order, "must be a positive integer"));
        }
        if self.order >= self.width {
            return Err(invalid("order", self.order, "must be less than width"));
        }
        Ok(())
    }

    /// The Savitzky–Golay weights: `out[t] = Σ_k weights[k] · x[t - width/2 + k]`.
    fn weights(&self) -> Vec<f64> {
        let half = (self.width / 2) as f64;
        // Positions scaled to [-1, 1] keep the monomials well conditioned.
        let u: Vec<f64> = (0..self.width).map(|k| (k as f64 - half) / half).collect();
        // Monic orthogonal polynomials q_0 .. q_order on these points (modified Gram-Schmidt).
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(self.order + 1);
        for j in 0..=self.order {
            let mut q: Vec<f64> = u.iter().map(|x| x.powi(j as i32)).collect();
            for b in &basis {
                let proj = dot(&q, b) / dot(b, b);
                for (qi, bi) in q.iter_mut().zip(b) {
                    *qi -= proj * bi;
                }
            }
            basis.push(q);
        }
        // The fit's leading coefficient (in u) is <x, q_order> / <q_order, q_order>; its
        // order-th derivative in frames is order! / half^order times that.
        let q = &basis[self.order];
        let factorial: f64 = (1..=self.order).map(|i| i as f64).product();
        let scale = factorial / (dot(q, q) * half.powi(self.order as i32));
        q.iter().map(|v| v * scale).collect()
    }
}

/// Delta (`order = 1`) or higher-order (`order = 2`: delta-delta) features along the frames,
/// as `librosa.feature.delta(data, width, order)` with its defaults `axis=-1, mode='interp'`.
///
/// `data` is `(n_features, n_frames)` (an MFCC or log-mel matrix); the output has the same
/// shape.
///
/// ```
/// use ser_dsp::{DeltaConfig, delta, ndarray::Array2};
///
/// // One feature rising by 2 per frame: its delta is 2 everywhere, its delta-delta 0.
/// let x = Array2::from_shape_fn((1, 20), |(_, t)| 2.0 * t as f32);
/// let d1 = delta(x.view(), &DeltaConfig::default())?;
/// assert!(d1.iter().all(|v| (v - 2.0).abs() < 1e-5));
/// let d2 = delta(x.view(), &DeltaConfig::new(2))?;
/// assert!(d2.iter().all(|v| v.abs() < 1e-5));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config; [`Error::Empty`] when `data` has no row or no
/// frame; [`Error::TooShort`] when `width` exceeds the number of frames (librosa raises
/// too); [`Error::NonFinite`] for a NaN or infinite value (index in row-major order).
pub fn delta(data: ArrayView2<'_, f32>, config: &DeltaConfig) -> Result<Array2<f32>> {
    config.validate()?;
    let (n_rows, n_frames) = data.dim();
    if n_rows == 0 || n_frames == 0 {
        return Err(Error::Empty { what: "delta" });
    }
    if config.width > n_frames {
        return Err(Error::TooShort {
            what: "delta (frames, width)",
            needed: config.width,
            got: n_frames,
        });
    }
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "delta",
            index,
            value,
        });
    }
    let weights = config.weights();
    let half = config.width / 2;
    let mut out = Array2::<f32>::zeros((n_rows, n_frames));
    let mut row_buf = vec![0.0f64; n_frames];
    for (row, mut out_row) in data.rows().into_iter().zip(out.rows_mut()) {
        for (b, v) in row_buf.iter_mut().zip(row.iter()) {
            *b = f64::from(*v);
        }
        for t in half..n_frames - half {
            let window = &row_buf[t - half..t + half + 1];
            let v: f64 = window.iter().zip(&weights).map(|(x, w)| x * w).sum();
            out_row[t] = v as f32;
        }
        // mode='interp': the edges repeat the fit of the first and last full window.
        let first = out_row[half];
        let last = out_row[n_frames - 1 - half];
        for t in 0..half {
            out_row[t] = first;
            out_row[n_frames - 1 - t] = last;
        }
    }
    Ok(out)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_order_weights_are_k_over_sum_k2() {
        let w = DeltaConfig::default().weights();
        for (k, v) in w.iter().enumerate() {
            let want = (k as f64 - 4.0) / 60.0;
            assert!((v - want).abs() < 1e-15, "{k}: {v} vs {want}");
        }
    }

    #[test]
    fn second_order_of_a_parabola_is_its_second_derivative() {
        let x = Array2::from_shape_fn((1, 15), |(_, t)| 0.5 * (t as f32).powi(2) - 3.0);
        let d = delta(x.view(), &DeltaConfig::new(2).with_width(5)).unwrap();
        assert!(d.iter().all(|v| (v - 1.0).abs() < 1e-4), "{d}");
    }

    #[test]
    fn bad_configs_are_errors() {
        let x = Array2::<f32>::zeros((2, 20));
        for (width, order) in [(2, 1), (8, 1), (1, 1), (9, 0), (3, 3)] {
            let cfg = DeltaConfig { width, order };
            assert!(
                matches!(delta(x.view(), &cfg), Err(Error::InvalidConfig { .. })),
                "{cfg:?}"
            );
        }
    }
}
