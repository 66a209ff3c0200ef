//! Analysis windows, periodic ("DFT-even") as `scipy.signal.get_window(window, n, fftbins=True)`,
//! which is what librosa's STFT uses.
//!
//! | [`Window`] | w\[n\], n = 0..N-1, periodic (denominator N) |
//! |---|---|
//! | `Hann` | 0.5 - 0.5 cos(2πn/N) |
//! | `Hamming` | 0.54 - 0.46 cos(2πn/N) |
//! | `Blackman` | 0.42 - 0.5 cos(2πn/N) + 0.08 cos(4πn/N) |
//! | `Rectangular` | 1 (scipy's `boxcar`) |
//!
//! Values are computed in `f64` and rounded once to `f32`.

use std::f64::consts::PI;

/// A window function for the STFT and ISTFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Window {
    /// Hann (raised cosine), librosa's default.
    #[default]
    Hann,
    /// Hamming.
    Hamming,
    /// Blackman (the classic three-term one).
    Blackman,
    /// Rectangular, scipy's `boxcar`: all ones.
    #[cfg_attr(feature = "serde", serde(alias = "boxcar"))]
    Rectangular,
}

impl Window {
    /// The periodic window of `len` samples, as `f64` (an empty vector for `len == 0`,
    /// `[1.0]` for `len == 1`, as scipy).
    pub fn coefficients_f64(self, len: usize) -> Vec<f64> {
        if len <= 1 {
            return vec![1.0; len];
        }
        let n = len as f64;
        (0..len)
            .map(|i| {
                let x = 2.0 * PI * i as f64 / n;
                match self {
                    Window::Hann => 0.5 - 0.5 * x.cos(),
                    Window::Hamming => 0.54 - 0.46 * x.cos(),
                    Window::Blackman => 0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos(),
                    Window::Rectangular => 1.0,
                }
            })
            .collect()
    }

    /// The periodic window of `len` samples, as `f32`.
    pub fn coefficients(self, len: usize) -> Vec<f32> {
        self.coefficients_f64(len)
            .into_iter()
            .map(|v| v as f32)
            .collect()
    }

    /// The window of `win_length` samples centred in `n_fft` zeros, as `librosa.util.pad_center`
    /// (left padding `(n_fft - win_length) / 2`, rounded down). `win_length` must not exceed
    /// `n_fft`; a longer one is cut to `n_fft` around its centre.
    pub fn padded_f64(self, win_length: usize, n_fft: usize) -> Vec<f64> {
        let w = self.coefficients_f64(win_length);
        let mut out = vec![0.0; n_fft];
        if win_length <= n_fft {
            let left = (n_fft - win_length) / 2;
            out[left..left + win_length].copy_from_slice(&w);
        } else {
            let skip = (win_length - n_fft) / 2;
            out.copy_from_slice(&w[skip..skip + n_fft]);
        }
        out
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Window::Hann => "hann",
            Window::Hamming => "hamming",
            Window::Blackman => "blackman",
            Window::Rectangular => "boxcar",
        })
    }
}

impl std::str::FromStr for Window {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "hann" | "hanning" => Ok(Window::Hann),
            "hamming" => Ok(Window::Hamming),
            "blackman" => Ok(Window::Blackman),
            "boxcar" | "rectangular" | "ones" => Ok(Window::Rectangular),
            _ => Err(crate::error::invalid(
                "window",
                s,
                "expected hann, hamming, blackman or boxcar",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hann_is_periodic_and_peaks_at_the_centre() {
        let w = Window::Hann.coefficients_f64(8);
        assert_eq!(w[0], 0.0);
        assert!((w[4] - 1.0).abs() < 1e-15);
        assert!((w[1] - w[7]).abs() < 1e-15);
    }

    #[test]
    fn padded_window_is_centred() {
        let w = Window::Rectangular.padded_f64(3, 8);
        assert_eq!(w, vec![0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
    }
}
