//! Vocal-tract-length perturbation on a mel spectrogram (Jaitly and Hinton, 2013,
//! "Vocal Tract Length Perturbation (VTLP) improves speech recognition").
//!
//! A longer or shorter vocal tract moves every formant by about the same factor, which is
//! much of what tells one speaker from another. VTLP draws a factor `α` per item and maps
//! each frequency `f` to `f' = α·f` up to a boundary, then linearly down to the Nyquist
//! frequency so the band edges stay put (the warp of Kaldi's VTLN and of the paper):
//!
//! ```text
//! b = f_hi · min(α, 1) / α
//! f' = α·f                                          for f ≤ b
//! f' = f_max − (f_max − α·b)·(f_max − f)/(f_max − b)  above it
//! ```
//!
//! [`MelWarp`] applies it to a spectrogram that is already on the mel scale, as a training
//! pipeline holds it: the value of output band `k` is the input read at the warp's inverse
//! of band `k`'s centre frequency, linearly interpolated between the two neighbouring bands
//! (bands beyond either end repeat the end band). No audio is needed, so cached features
//! can be warped per step.

use rand::Rng;
use ser_dsp::{MelScale, hz_to_mel, mel_to_hz};

use crate::error::{Error, Result};
use crate::spec::check_spec;
use crate::wave::{check_range, draw_uniform};
use crate::{Applied, Record, Spectrogram, Transform};

/// VTLP on a mel spectrogram, `α` drawn uniformly from `[min_alpha, max_alpha]`. Records
/// `alpha`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MelWarp {
    min_alpha: f64,
    max_alpha: f64,
    fmin: f64,
    fmax: f64,
    boundary_hz: f64,
    scale: MelScale,
}

impl MelWarp {
    /// Name in records.
    pub const NAME: &'static str = "mel_warp";

    /// A warp for spectrograms whose mel bands span `fmin..fmax` Hz on `scale` (as the
    /// filterbank that made them: `ser_dsp::MelConfig`'s `fmin`, `fmax` and `scale`), with
    /// `α` in `[min_alpha, max_alpha]` and the warp's boundary at `boundary_hz`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0.5 ≤ min_alpha ≤ max_alpha ≤ 2`,
    /// `0 ≤ fmin < fmax ≤ 1e6` and `fmin < boundary_hz < fmax`.
    pub fn new(
        min_alpha: f64,
        max_alpha: f64,
        fmin: f64,
        fmax: f64,
        boundary_hz: f64,
        scale: MelScale,
    ) -> Result<Self> {
        let t = Self {
            min_alpha,
            max_alpha,
            fmin,
            fmax,
            boundary_hz,
            scale,
        };
        t.validate()?;
        Ok(t)
    }

    /// The paper's setting for 16 kHz speech: `α` in `[0.9, 1.1]`, boundary 4 800 Hz, bands
    /// from 0 to 8 000 Hz on librosa's default (Slaney) scale, as `ser-dsp`'s log-mel
    /// defaults at 16 kHz make them.
    pub fn speech_16k() -> Self {
        Self {
            min_alpha: 0.9,
            max_alpha: 1.1,
            fmin: 0.0,
            fmax: 8000.0,
            boundary_hz: 4800.0,
            scale: MelScale::Slaney,
        }
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "alpha",
            self.min_alpha,
            self.max_alpha,
            0.5,
            2.0,
            "must be finite and in [0.5, 2]",
        )?;
        check_range(
            Self::NAME,
            "fmin..fmax",
            self.fmin,
            self.fmax,
            0.0,
            1e6,
            "must be finite and in [0, 1e6]",
        )?;
        let bad = |param, value: f64, reason| Error::InvalidParameter {
            transform: Self::NAME,
            param,
            value: value.to_string(),
            reason,
        };
        if self.fmin >= self.fmax {
            return Err(bad("fmax", self.fmax, "must exceed fmin"));
        }
        if !(self.boundary_hz > self.fmin && self.boundary_hz < self.fmax) {
            return Err(bad(
                "boundary_hz",
                self.boundary_hz,
                "must lie strictly between fmin and fmax",
            ));
        }
        Ok(())
    }

    /// Where the warp with factor `alpha` sends frequency `f` (Hz).
    pub fn warp_hz(&self, f: f64, alpha: f64) -> f64 {
        let b = self.boundary_hz * alpha.min(1.0) / alpha;
        if f <= b {
            alpha * f
        } else {
            self.fmax - (self.fmax - alpha * b) * (self.fmax - f) / (self.fmax - b)
        }
    }

    /// The frequency the warp with factor `alpha` sends to `g` (the inverse of
    /// [`warp_hz`](Self::warp_hz)).
    pub fn unwarp_hz(&self, g: f64, alpha: f64) -> f64 {
        let b = self.boundary_hz * alpha.min(1.0) / alpha;
        if g <= alpha * b {
            g / alpha
        } else {
            self.fmax - (self.fmax - g) * (self.fmax - b) / (self.fmax - alpha * b)
        }
    }

    /// `x` (`(n_mels, n_frames)`) warped with the factor `alpha`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::NonFinite`]; [`Error::InvalidParameter`] for an `alpha`
    /// outside `[0.5, 2]`.
    pub fn warp(&self, x: &Spectrogram, alpha: f64) -> Result<Spectrogram> {
        self.validate()?;
        check_range(
            Self::NAME,
            "alpha",
            alpha,
            alpha,
            0.5,
            2.0,
            "must be finite and in [0.5, 2]",
        )?;
        check_spec(Self::NAME, x)?;
        let n = x.nrows();
        let (lo, hi) = (
            hz_to_mel(self.fmin, self.scale),
            hz_to_mel(self.fmax, self.scale),
        );
        let step = (hi - lo) / (n + 1) as f64;
        let mut y = Spectrogram::zeros(x.dim());
        for k in 0..n {
            // Band k's centre, where the warp sends it from, and that frequency as a
            // fractional band index.
            let centre = mel_to_hz(lo + step * (k + 1) as f64, self.scale);
            let source = self.unwarp_hz(centre, alpha).clamp(self.fmin, self.fmax);
            let pos =
                ((hz_to_mel(source, self.scale) - lo) / step - 1.0).clamp(0.0, (n - 1) as f64);
            let i = (pos.floor() as usize).min(n - 1);
            let w = (pos - i as f64) as f32;
            let j = (i + 1).min(n - 1);
            let (a, b) = (x.row(i), x.row(j));
            for ((out, &va), &vb) in y.row_mut(k).iter_mut().zip(a).zip(b) {
                *out = va + w * (vb - va);
            }
        }
        Ok(y)
    }
}

impl Transform<Spectrogram> for MelWarp {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(
        &self,
        x: &Spectrogram,
        rng: &mut dyn Rng,
        record: &mut Record,
    ) -> Result<Spectrogram> {
        // `warp` validates the settings, the drawn factor and the input.
        let alpha = draw_uniform(rng, self.min_alpha, self.max_alpha);
        let y = self.warp(x, alpha)?;
        record.push(Applied::new(Self::NAME).with("alpha", alpha));
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn the_warp_is_continuous_fixes_the_ends_and_inverts() {
        let t = MelWarp::speech_16k();
        for alpha in [0.9, 0.95, 1.0, 1.05, 1.1] {
            assert!((t.warp_hz(0.0, alpha)).abs() < 1e-9);
            assert!((t.warp_hz(8000.0, alpha) - 8000.0).abs() < 1e-9);
            let b = 4800.0 * f64::min(alpha, 1.0) / alpha;
            let below = t.warp_hz(b - 1e-9, alpha);
            let above = t.warp_hz(b + 1e-9, alpha);
            assert!((below - above).abs() < 1e-6, "{alpha}: {below} {above}");
            for f in [50.0, 500.0, 3000.0, 4700.0, 5000.0, 7900.0] {
                let g = t.warp_hz(f, alpha);
                assert!((t.unwarp_hz(g, alpha) - f).abs() < 1e-6, "{alpha} {f}");
            }
        }
        // Below the boundary it is the factor itself.
        assert!((t.warp_hz(1000.0, 1.1) - 1100.0).abs() < 1e-9);
    }

    #[test]
    fn alpha_one_is_the_identity_and_a_peak_moves_with_alpha() {
        let t = MelWarp::speech_16k();
        let n = 128;
        let mut x = Array2::<f32>::zeros((n, 3));
        for k in 0..n {
            x.row_mut(k).fill(k as f32 * 0.5 - 10.0);
        }
        let y = t.warp(&x, 1.0).unwrap();
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-4, "{a} {b}");
        }
        // One bright band at ~1 kHz: a factor above 1 moves it up, below 1 down, by about
        // log(α) on the mel scale's log part.
        let (lo, hi) = (
            hz_to_mel(0.0, MelScale::Slaney),
            hz_to_mel(8000.0, MelScale::Slaney),
        );
        let step = (hi - lo) / (n + 1) as f64;
        let band_of =
            |hz: f64| ((hz_to_mel(hz, MelScale::Slaney) - lo) / step - 1.0).round() as usize;
        let k0 = band_of(1500.0);
        let mut x = Array2::<f32>::zeros((n, 1));
        x[[k0, 0]] = 1.0;
        let peak = |y: &Spectrogram| {
            (0..n)
                .max_by(|&a, &b| y[[a, 0]].total_cmp(&y[[b, 0]]))
                .unwrap()
        };
        let up = peak(&t.warp(&x, 1.1).unwrap());
        let down = peak(&t.warp(&x, 0.9).unwrap());
        assert!(
            up.abs_diff(band_of(1650.0)) <= 1,
            "{up} vs {}",
            band_of(1650.0)
        );
        assert!(
            down.abs_diff(band_of(1350.0)) <= 1,
            "{down} vs {}",
            band_of(1350.0)
        );
    }

    #[test]
    fn draws_are_seeded_and_recorded_and_bad_input_is_an_error() {
        use crate::augment_seeded;
        let t = MelWarp::speech_16k();
        let x = Array2::from_shape_fn((40, 5), |(k, j)| (k * 5 + j) as f32 * 0.1);
        let (a, ra) = augment_seeded(&t, &x, 3).unwrap();
        let (b, _) = augment_seeded(&t, &x, 3).unwrap();
        assert_eq!(a, b);
        let alpha = ra.steps[0].params["alpha"];
        assert!((0.9..=1.1).contains(&alpha), "{alpha}");
        assert_eq!(ra.steps[0].name, MelWarp::NAME);
        assert!(matches!(
            t.warp(&Array2::zeros((0, 4)), 1.0),
            Err(Error::Empty { .. })
        ));
        let mut nan = x.clone();
        nan[[2, 2]] = f32::NAN;
        assert!(matches!(t.warp(&nan, 1.0), Err(Error::NonFinite { .. })));
        assert!(t.warp(&x, 3.0).is_err());
        assert!(t.warp(&x, f64::NAN).is_err());
        // One band: the warp has nothing to move but still runs.
        assert_eq!(
            t.warp(&Array2::ones((1, 4)), 1.1).unwrap(),
            Array2::ones((1, 4))
        );
        for bad in [
            MelWarp::new(0.1, 1.1, 0.0, 8000.0, 4800.0, MelScale::Slaney),
            MelWarp::new(1.1, 0.9, 0.0, 8000.0, 4800.0, MelScale::Slaney),
            MelWarp::new(0.9, 1.1, 8000.0, 8000.0, 4800.0, MelScale::Slaney),
            MelWarp::new(0.9, 1.1, 0.0, 8000.0, 9000.0, MelScale::Slaney),
            MelWarp::new(0.9, 1.1, 0.0, f64::INFINITY, 4800.0, MelScale::Slaney),
        ] {
            assert!(
                matches!(bad, Err(Error::InvalidParameter { .. })),
                "{bad:?}"
            );
        }
    }
}
