//! Spectrogram transforms, on `(n_mels, n_frames)` arrays: random time shift, additive
//! Gaussian noise, and the SpecAugment frequency and time masks (Park et al., 2019,
//! "SpecAugment: A Simple Data Augmentation Method for Automatic Speech Recognition").
//!
//! Inputs must have at least one row and one column ([`Error::Empty`]) and be finite
//! ([`Error::NonFinite`], index in row-major order). Every drawn parameter is recorded.

use ndarray::{Axis, Slice};
use rand::{Rng, RngExt};

use crate::error::{Error, Result};
use crate::wave::{check_range, draw_shift, draw_uniform, shift_slice, standard_normal};
use crate::{Applied, Record, Spectrogram, Transform};

pub(crate) fn check_spec(transform: &'static str, x: &Spectrogram) -> Result<()> {
    let (rows, cols) = x.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::Empty { transform });
    }
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => {
            let value = x.iter().nth(index).copied().unwrap_or(f32::NAN);
            Err(Error::NonFinite {
                transform,
                index,
                value,
            })
        }
    }
}

fn check_output(transform: &'static str, x: &Spectrogram) -> Result<()> {
    check_spec(transform, x)
}

/// The value written into masked or vacated cells.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Fill {
    /// The mean of the input spectrogram (a common choice for log-mel features).
    #[default]
    Mean,
    /// The minimum of the input (silence, for a spectrogram in dB).
    Min,
    /// A given value (torchaudio's masks use 0).
    Value(f32),
}

impl Fill {
    fn resolve(self, transform: &'static str, x: &Spectrogram) -> Result<f32> {
        match self {
            Self::Mean => {
                Ok((x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64) as f32)
            }
            Self::Min => Ok(x.iter().copied().fold(f32::INFINITY, f32::min)),
            Self::Value(v) if v.is_finite() => Ok(v),
            Self::Value(v) => Err(Error::InvalidParameter {
                transform,
                param: "fill",
                value: v.to_string(),
                reason: "must be finite",
            }),
        }
    }
}

/// What a spectrogram shift does with the frames pushed past one end.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SpecShiftMode {
    /// They come back in at the other end (`numpy.roll` along the frame axis).
    #[default]
    Roll,
    /// They are dropped and the vacated frames are filled.
    Fill(Fill),
}

/// Shifts a spectrogram along its frame axis by `s` frames, `s` drawn uniformly from the
/// integers in `[-m, m]` with `m = floor(max_fraction * n_frames)`; positive `s` moves
/// right. The shape never changes. Records `shift_frames` (and `fill` when filling).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpecTimeShift {
    max_fraction: f64,
    mode: SpecShiftMode,
}

impl SpecTimeShift {
    /// Name in records.
    pub const NAME: &'static str = "spec_time_shift";

    /// A shift of at most `max_fraction` of the frames, either way.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= max_fraction <= 1` and a fill value is
    /// finite.
    pub fn new(max_fraction: f64, mode: SpecShiftMode) -> Result<Self> {
        let t = Self { max_fraction, mode };
        t.validate()?;
        Ok(t)
    }

    /// The research recipe: up to 10% of the frames either way, rolled.
    pub fn research() -> Self {
        Self {
            max_fraction: 0.1,
            mode: SpecShiftMode::Roll,
        }
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "max_fraction",
            self.max_fraction,
            self.max_fraction,
            0.0,
            1.0,
            "must be finite and in [0, 1]",
        )?;
        if let SpecShiftMode::Fill(Fill::Value(v)) = self.mode {
            if !v.is_finite() {
                return Err(Error::InvalidParameter {
                    transform: Self::NAME,
                    param: "fill",
                    value: v.to_string(),
                    reason: "must be finite",
                });
            }
        }
        Ok(())
    }
}

impl Transform<Spectrogram> for SpecTimeShift {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(
        &self,
        x: &Spectrogram,
        rng: &mut dyn Rng,
        record: &mut Record,
    ) -> Result<Spectrogram> {
        self.validate()?;
        check_spec(Self::NAME, x)?;
        let shift = draw_shift(rng, self.max_fraction, x.ncols());
        let mut step = Applied::new(Self::NAME).with("shift_frames", shift as f64);
        let (roll, fill) = match self.mode {
            SpecShiftMode::Roll => (true, 0.0),
            SpecShiftMode::Fill(f) => {
                let v = f.resolve(Self::NAME, x)?;
                step = step.with("fill", f64::from(v));
                (false, v)
            }
        };
        let mut y = x.clone();
        for (src, mut dst) in x.axis_iter(Axis(0)).zip(y.axis_iter_mut(Axis(0))) {
            let row: Vec<f32> = src.iter().copied().collect();
            let shifted = shift_slice(&row, shift, roll, fill);
            for (d, v) in dst.iter_mut().zip(shifted) {
                *d = v;
            }
        }
        record.push(step);
        Ok(y)
    }
}

/// Adds `std * N(0, 1)` to every cell, `std` fixed or drawn uniformly from
/// `[min_std, max_std)`, in the spectrogram's own units. Records `std`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpecGaussianNoise {
    min_std: f64,
    max_std: f64,
}

impl SpecGaussianNoise {
    /// Name in records.
    pub const NAME: &'static str = "spec_gaussian_noise";

    /// Noise with a fixed standard deviation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= std <= 1e6`.
    pub fn new(std: f64) -> Result<Self> {
        Self::uniform(std, std)
    }

    /// Noise with a standard deviation drawn uniformly from `[min_std, max_std)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= min_std <= max_std <= 1e6`.
    pub fn uniform(min_std: f64, max_std: f64) -> Result<Self> {
        let t = Self { min_std, max_std };
        t.validate()?;
        Ok(t)
    }

    /// The research recipe: standard deviation 0.01.
    pub fn research() -> Self {
        Self {
            min_std: 0.01,
            max_std: 0.01,
        }
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "std",
            self.min_std,
            self.max_std,
            0.0,
            1e6,
            "must be finite and in [0, 1e6]",
        )
    }
}

impl Transform<Spectrogram> for SpecGaussianNoise {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(
        &self,
        x: &Spectrogram,
        rng: &mut dyn Rng,
        record: &mut Record,
    ) -> Result<Spectrogram> {
        self.validate()?;
        check_spec(Self::NAME, x)?;
        let std = draw_uniform(rng, self.min_std, self.max_std);
        let mut y = x.clone();
        // Row-major order, whatever the memory layout, so the draws are layout-independent.
        for v in y.iter_mut() {
            *v = (f64::from(*v) + std * standard_normal(rng)) as f32;
        }
        check_output(Self::NAME, &y)?;
        record.push(Applied::new(Self::NAME).with("std", std));
        Ok(y)
    }
}

/// The shared parameters of the SpecAugment masks.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
struct MaskParams {
    max_width: usize,
    count: usize,
    fill: Fill,
}

impl MaskParams {
    fn validate(&self, transform: &'static str) -> Result<()> {
        for (param, v) in [("max_width", self.max_width), ("count", self.count)] {
            if v == 0 {
                return Err(Error::InvalidParameter {
                    transform,
                    param,
                    value: v.to_string(),
                    reason: "must be at least 1",
                });
            }
        }
        if let Fill::Value(v) = self.fill {
            if !v.is_finite() {
                return Err(Error::InvalidParameter {
                    transform,
                    param: "fill",
                    value: v.to_string(),
                    reason: "must be finite",
                });
            }
        }
        Ok(())
    }

    /// Draws the masks along an axis of length `n` and fills them in `y` (mask `i` covers
    /// `start_i .. start_i + width_i`); records `start_i`, `width_i` and `fill`.
    fn apply(
        &self,
        transform: &'static str,
        axis: Axis,
        x: &Spectrogram,
        rng: &mut dyn Rng,
        record: &mut Record,
    ) -> Result<Spectrogram> {
        self.validate(transform)?;
        check_spec(transform, x)?;
        let fill = self.fill.resolve(transform, x)?;
        let n = x.len_of(axis);
        let mut y = x.clone();
        let mut step = Applied::new(transform).with("fill", f64::from(fill));
        for i in 0..self.count {
            // SpecAugment: width ~ U{0..=W}, start ~ U{0..=n-width}.
            let width = rng.random_range(0..=self.max_width.min(n));
            let start = rng.random_range(0..=n - width);
            y.slice_axis_mut(axis, Slice::from(start..start + width))
                .fill(fill);
            step = step
                .with(format!("start_{i}"), start as f64)
                .with(format!("width_{i}"), width as f64);
        }
        record.push(step);
        Ok(y)
    }
}

/// Defines a SpecAugment mask transform along one axis: the struct (its [`MaskParams`]),
/// its constructor and its [`Transform`] impl.
macro_rules! mask_transform {
    ($(#[$doc:meta])* $name:ident, $record_name:literal, $axis:expr, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            #[cfg_attr(feature = "serde", serde(flatten))]
            params: MaskParams,
        }

        impl $name {
            /// Name in records.
            pub const NAME: &'static str = $record_name;

            #[doc = concat!("`count` masks of at most `max_width` ", $unit, " each.")]
            ///
            /// # Errors
            /// [`Error::InvalidParameter`] if `max_width` or `count` is 0, or a fill value is
            /// not finite.
            pub fn new(max_width: usize, count: usize, fill: Fill) -> Result<Self> {
                let params = MaskParams {
                    max_width,
                    count,
                    fill,
                };
                params.validate(Self::NAME)?;
                Ok(Self { params })
            }
        }

        impl Transform<Spectrogram> for $name {
            fn name(&self) -> &'static str {
                Self::NAME
            }

            fn apply(
                &self,
                x: &Spectrogram,
                rng: &mut dyn Rng,
                record: &mut Record,
            ) -> Result<Spectrogram> {
                self.params.apply(Self::NAME, $axis, x, rng, record)
            }
        }
    };
}

mask_transform!(
    /// SpecAugment frequency masking: `count` times, sets rows `f0 .. f0 + f` to the fill
    /// value, with `f` drawn uniformly from `0..=min(max_width, n_mels)` and `f0` from
    /// `0..=n_mels - f`. Masks may overlap. Records `start_i`, `width_i` (for mask `i`) and
    /// `fill`.
    FrequencyMask,
    "frequency_mask",
    Axis(0),
    "rows"
);

mask_transform!(
    /// SpecAugment time masking: `count` times, sets frames `t0 .. t0 + t` to the fill
    /// value, with `t` drawn uniformly from `0..=min(max_width, n_frames)` and `t0` from
    /// `0..=n_frames - t`. Masks may overlap. Records `start_i`, `width_i` (for mask `i`) and
    /// `fill`.
    TimeMask,
    "time_mask",
    Axis(1),
    "frames"
);
