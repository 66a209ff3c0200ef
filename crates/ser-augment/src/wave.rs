//! Waveform transforms: additive Gaussian noise (fixed amplitude or target SNR), gain and
//! time shift.
//!
//! Each transform is built with a validating `new`-style constructor, draws its parameters
//! from the `rng` it is given (uniformly in `[min, max)`, or exactly `min` when
//! `min == max`, in which case nothing is drawn for the parameter), and records every drawn
//! parameter. Inputs must be non-empty and finite ([`Error::Empty`], [`Error::NonFinite`]);
//! an output that overflows to infinity is reported as [`Error::NonFinite`] too.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::error::{Error, Result, check_finite};
use crate::{Applied, Audio, Record, Transform};

/// Draws uniformly in `[lo, hi)`, or returns `lo` without drawing when `lo == hi`.
pub(crate) fn draw_uniform(rng: &mut dyn Rng, lo: f64, hi: f64) -> f64 {
    if lo == hi {
        lo
    } else {
        lo + (hi - lo) * rng.random::<f64>()
    }
}

/// One standard normal value.
pub(crate) fn standard_normal(rng: &mut dyn Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Checks that `min <= max`, both finite and inside `[lo, hi]`.
pub(crate) fn check_range(
    transform: &'static str,
    param: &'static str,
    min: f64,
    max: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<()> {
    for v in [min, max] {
        if !v.is_finite() || v < lo || v > hi {
            return Err(Error::InvalidParameter {
                transform,
                param,
                value: v.to_string(),
                reason,
            });
        }
    }
    if min > max {
        return Err(Error::InvalidParameter {
            transform,
            param,
            value: format!("{min}..{max}"),
            reason: "the minimum exceeds the maximum",
        });
    }
    Ok(())
}

fn check_input(transform: &'static str, x: &Audio) -> Result<()> {
    if x.is_empty() {
        return Err(Error::Empty { transform });
    }
    check_finite(transform, x.samples())
}

/// Additive white Gaussian noise at an absolute amplitude: `y + a * N(0, 1)`, with `a`
/// fixed or drawn uniformly from `[min_amplitude, max_amplitude)`.
///
/// The research recipe is [`GaussianNoise::research`]: `a = 0.005`. Records `amplitude`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GaussianNoise {
    min_amplitude: f64,
    max_amplitude: f64,
}

impl GaussianNoise {
    /// Name in records.
    pub const NAME: &'static str = "gaussian_noise";

    /// Noise at a fixed amplitude (the standard deviation of the added noise).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= amplitude <= 1`.
    pub fn new(amplitude: f64) -> Result<Self> {
        Self::uniform(amplitude, amplitude)
    }

    /// Noise with an amplitude drawn uniformly from `[min_amplitude, max_amplitude)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= min_amplitude <= max_amplitude <= 1`.
    pub fn uniform(min_amplitude: f64, max_amplitude: f64) -> Result<Self> {
        let t = Self {
            min_amplitude,
            max_amplitude,
        };
        t.validate()?;
        Ok(t)
    }

    /// The research recipe: amplitude 0.005.
    pub fn research() -> Self {
        Self {
            min_amplitude: 0.005,
            max_amplitude: 0.005,
        }
    }

    /// The amplitude range `(min, max)`.
    pub fn amplitude(&self) -> (f64, f64) {
        (self.min_amplitude, self.max_amplitude)
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "amplitude",
            self.min_amplitude,
            self.max_amplitude,
            0.0,
            1.0,
            "must be finite and in [0, 1]",
        )
    }
}

impl Transform<Audio> for GaussianNoise {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        self.validate()?;
        check_input(Self::NAME, x)?;
        let amplitude = draw_uniform(rng, self.min_amplitude, self.max_amplitude);
        let y: Vec<f32> = x
            .samples()
            .iter()
            .map(|&s| (f64::from(s) + amplitude * standard_normal(rng)) as f32)
            .collect();
        check_finite(Self::NAME, &y)?;
        record.push(Applied::new(Self::NAME).with("amplitude", amplitude));
        Ok(x.clone().with_samples(y))
    }
}

/// Additive white Gaussian noise at a signal-to-noise ratio drawn uniformly from
/// `[min_snr_db, max_snr_db)`: the noise power is `P / 10^(snr / 10)` where `P` is the mean
/// square of the input (as audiomentations' `AddGaussianSNR`).
///
/// **Silent input** (`P = 0`) is a documented no-op: the noise power is 0 and the input is
/// returned unchanged (the record says `noise_std = 0`). Records `snr_db` and `noise_std`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NoiseSnr {
    min_snr_db: f64,
    max_snr_db: f64,
}

impl NoiseSnr {
    /// Name in records.
    pub const NAME: &'static str = "noise_snr";

    /// Noise at a fixed SNR in dB.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `-40 <= snr_db <= 120`.
    pub fn new(snr_db: f64) -> Result<Self> {
        Self::uniform(snr_db, snr_db)
    }

    /// Noise at an SNR drawn uniformly from `[min_snr_db, max_snr_db)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `-40 <= min_snr_db <= max_snr_db <= 120`.
    pub fn uniform(min_snr_db: f64, max_snr_db: f64) -> Result<Self> {
        let t = Self {
            min_snr_db,
            max_snr_db,
        };
        t.validate()?;
        Ok(t)
    }

    /// The SNR range in dB, `(min, max)`.
    pub fn snr_db(&self) -> (f64, f64) {
        (self.min_snr_db, self.max_snr_db)
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "snr_db",
            self.min_snr_db,
            self.max_snr_db,
            -40.0,
            120.0,
            "must be finite and in [-40, 120] dB",
        )
    }
}

impl Transform<Audio> for NoiseSnr {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        self.validate()?;
        check_input(Self::NAME, x)?;
        let snr_db = draw_uniform(rng, self.min_snr_db, self.max_snr_db);
        let samples = x.samples();
        let power = samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>()
            / samples.len() as f64;
        let noise_std = (power / 10f64.powf(snr_db / 10.0)).sqrt();
        let y: Vec<f32> = if noise_std > 0.0 {
            samples
                .iter()
                .map(|&s| (f64::from(s) + noise_std * standard_normal(rng)) as f32)
                .collect()
        } else {
            samples.to_vec()
        };
        check_finite(Self::NAME, &y)?;
        record.push(
            Applied::new(Self::NAME)
                .with("snr_db", snr_db)
                .with("noise_std", noise_std),
        );
        Ok(x.clone().with_samples(y))
    }
}

/// Multiplies by `10^(g / 20)` with the gain `g` in dB drawn uniformly from
/// `[min_db, max_db)`. Nothing is clipped. Records `gain_db`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Gain {
    min_db: f64,
    max_db: f64,
}

impl Gain {
    /// Name in records.
    pub const NAME: &'static str = "gain";

    /// A fixed gain in dB.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `-120 <= db <= 120`.
    pub fn new(db: f64) -> Result<Self> {
        Self::uniform(db, db)
    }

    /// A gain drawn uniformly from `[min_db, max_db)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `-120 <= min_db <= max_db <= 120`.
    pub fn uniform(min_db: f64, max_db: f64) -> Result<Self> {
        let t = Self { min_db, max_db };
        t.validate()?;
        Ok(t)
    }

    /// The gain range in dB, `(min, max)`.
    pub fn db(&self) -> (f64, f64) {
        (self.min_db, self.max_db)
    }

    fn validate(&self) -> Result<()> {
        check_range(
            Self::NAME,
            "gain_db",
            self.min_db,
            self.max_db,
            -120.0,
            120.0,
            "must be finite and in [-120, 120] dB",
        )
    }
}

impl Transform<Audio> for Gain {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        self.validate()?;
        check_input(Self::NAME, x)?;
        let gain_db = draw_uniform(rng, self.min_db, self.max_db);
        let factor = 10f64.powf(gain_db / 20.0);
        let y: Vec<f32> = x
            .samples()
            .iter()
            .map(|&s| (f64::from(s) * factor) as f32)
            .collect();
        check_finite(Self::NAME, &y)?;
        record.push(Applied::new(Self::NAME).with("gain_db", gain_db));
        Ok(x.clone().with_samples(y))
    }
}

/// What a shift does with the samples pushed past one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ShiftMode {
    /// They come back in at the other end (`numpy.roll`); the energy is unchanged.
    #[default]
    Roll,
    /// They are dropped and the vacated samples are zeros; the length is unchanged.
    ZeroFill,
}

/// Shifts the waveform in time by `s` samples, `s` drawn uniformly from the integers in
/// `[-m, m]` with `m = floor(max_fraction * len)`; positive `s` delays (moves right).
/// The length never changes. Records `shift_samples`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeShift {
    max_fraction: f64,
    mode: ShiftMode,
}

impl TimeShift {
    /// Name in records.
    pub const NAME: &'static str = "time_shift";

    /// A shift of at most `max_fraction` of the length, either way.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= max_fraction <= 1`.
    pub fn new(max_fraction: f64, mode: ShiftMode) -> Result<Self> {
        let t = Self { max_fraction, mode };
        t.validate()?;
        Ok(t)
    }

    /// The largest shift as a fraction of the length.
    pub fn max_fraction(&self) -> f64 {
        self.max_fraction
    }

    /// The shift mode.
    pub fn mode(&self) -> ShiftMode {
        self.mode
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
        )
    }
}

/// Draws a shift in `[-m, m]` with `m = floor(max_fraction * len)`.
pub(crate) fn draw_shift(rng: &mut dyn Rng, max_fraction: f64, len: usize) -> i64 {
    let m = (max_fraction * len as f64).floor() as i64;
    if m <= 0 { 0 } else { rng.random_range(-m..=m) }
}

/// Shifts `x` by `shift` (positive: right), rolling or filling with `fill`.
pub(crate) fn shift_slice<V: Copy>(x: &[V], shift: i64, roll: bool, fill: V) -> Vec<V> {
    let n = x.len();
    let k = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
    if roll {
        let mut y = x.to_vec();
        if n > 0 {
            if shift >= 0 {
                y.rotate_right(k % n);
            } else {
                y.rotate_left(k % n);
            }
        }
        y
    } else {
        let k = k.min(n);
        let mut y = vec![fill; n];
        if shift >= 0 {
            y[k..].copy_from_slice(&x[..n - k]);
        } else {
            y[..n - k].copy_from_slice(&x[k..]);
        }
        y
    }
}

impl Transform<Audio> for TimeShift {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        self.validate()?;
        check_input(Self::NAME, x)?;
        let shift = draw_shift(rng, self.max_fraction, x.len());
        let y = shift_slice(x.samples(), shift, self.mode == ShiftMode::Roll, 0.0);
        record.push(Applied::new(Self::NAME).with("shift_samples", shift as f64));
        Ok(x.clone().with_samples(y))
    }
}
