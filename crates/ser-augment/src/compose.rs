//! Combinators over any [`Transform`]: [`Compose`] (all in order, each with its own
//! probability), [`OneOf`] (one, optionally weighted), [`SomeOf`] (a random number of
//! distinct ones, in their listed order) and [`WithProbability`]; the research pipelines
//! [`research_waveform`] and [`research_spectrogram`]; and [`augment_seeded`], which runs
//! a transform from a `u64` seed.
//!
//! # Seeding model
//!
//! Every random draw comes from the one `rng` passed to [`Transform::apply`], in a fixed
//! order (the order of the steps), so the same seed gives bit-identical output and an
//! identical [`Record`]. [`augment_seeded`] seeds a [`ChaCha8Rng`], whose stream is
//! specified and portable across platforms (unlike `StdRng`). Combinators record nothing
//! themselves: the record lists exactly the transforms that ran, with their parameters.

use std::fmt;

use rand::{Rng, RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::{
    Audio, ChaCha8Rng, GaussianNoise, PitchShift, Record, SpecGaussianNoise, SpecTimeShift,
    Spectrogram, TimeStretch, Transform,
};

fn check_p(transform: &'static str, p: f64) -> Result<()> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            transform,
            param: "p",
            value: p.to_string(),
            reason: "must be a probability in [0, 1]",
        })
    }
}

fn fmt_steps<T>(f: &mut fmt::Formatter<'_>, steps: &[Box<dyn Transform<T>>]) -> fmt::Result {
    f.debug_list().entries(steps.iter()).finish()
}

/// Applies a transform with probability `p`, as audiomentations' `p`: one value
/// `u = rng.random::<f64>()` is always drawn, and the transform is skipped when `u >= p`
/// (so `p = 0` never applies it and `p = 1` always does). A skipped transform leaves no
/// trace in the record.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WithProbability<Tr> {
    inner: Tr,
    p: f64,
}

impl<Tr> WithProbability<Tr> {
    /// Name used in errors.
    pub const NAME: &'static str = "with_probability";

    /// Wraps `inner`, applied with probability `p`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= p <= 1`.
    pub fn new(inner: Tr, p: f64) -> Result<Self> {
        check_p(Self::NAME, p)?;
        Ok(Self { inner, p })
    }

    /// The probability.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The wrapped transform.
    pub fn inner(&self) -> &Tr {
        &self.inner
    }
}

impl<T: Clone, Tr: Transform<T>> Transform<T> for WithProbability<Tr> {
    /// The wrapped transform's name.
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn apply(&self, x: &T, rng: &mut dyn Rng, record: &mut Record) -> Result<T> {
        check_p(Self::NAME, self.p)?;
        if rng.random::<f64>() < self.p {
            self.inner.apply(x, rng, record)
        } else {
            Ok(x.clone())
        }
    }
}

/// Applies every transform in order, each to the previous one's output. A step with a
/// probability ([`Compose::then_with_p`]) is wrapped in [`WithProbability`]; a plain step
/// ([`Compose::then`]) always runs and draws nothing for its probability.
///
/// ```
/// use ser_augment::{Audio, Compose, Gain, GaussianNoise, augment_seeded};
/// let pipeline = Compose::new()
///     .then(Gain::uniform(-6.0, 6.0)?)
///     .then_with_p(GaussianNoise::new(0.005)?, 0.5)?;
/// let audio = Audio::new(vec![0.1; 1600], 16_000)?;
/// let (a, record) = augment_seeded(&pipeline, &audio, 7)?;
/// let (b, again) = augment_seeded(&pipeline, &audio, 7)?;
/// assert_eq!((a, record), (b, again));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Compose<T> {
    transforms: Vec<Box<dyn Transform<T>>>,
}

impl<T> Compose<T> {
    /// Name in errors.
    pub const NAME: &'static str = "compose";

    /// An empty pipeline (which returns its input unchanged).
    pub fn new() -> Self {
        Self {
            transforms: Vec::new(),
        }
    }

    /// A pipeline of these transforms, each always applied.
    pub fn from_transforms(transforms: Vec<Box<dyn Transform<T>>>) -> Self {
        Self { transforms }
    }

    /// Appends a transform that always runs.
    #[must_use]
    pub fn then(mut self, transform: impl Transform<T> + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }

    /// Appends a transform that runs with probability `p` (see [`WithProbability`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= p <= 1`.
    pub fn then_with_p(self, transform: impl Transform<T> + 'static, p: f64) -> Result<Self>
    where
        T: Clone + 'static,
    {
        Ok(self.then(WithProbability::new(transform, p)?))
    }

    /// Appends a boxed transform.
    pub fn push(&mut self, transform: Box<dyn Transform<T>>) {
        self.transforms.push(transform);
    }

    /// The steps, in order.
    pub fn transforms(&self) -> &[Box<dyn Transform<T>>] {
        &self.transforms
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.transforms.len()
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.transforms.is_empty()
    }
}

impl<T> Default for Compose<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Compose<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Compose ")?;
        fmt_steps(f, &self.transforms)
    }
}

/// Runs `transforms` in order, starting from `x`.
fn run_in_order<'a, T: Clone + 'a>(
    transforms: impl Iterator<Item = &'a dyn Transform<T>>,
    x: &T,
    rng: &mut dyn Rng,
    record: &mut Record,
) -> Result<T> {
    let mut current: Option<T> = None;
    for t in transforms {
        let next = t.apply(current.as_ref().unwrap_or(x), rng, record)?;
        current = Some(next);
    }
    Ok(current.unwrap_or_else(|| x.clone()))
}

impl<T: Clone> Transform<T> for Compose<T> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &T, rng: &mut dyn Rng, record: &mut Record) -> Result<T> {
        run_in_order(self.transforms.iter().map(|t| &**t), x, rng, record)
    }
}

/// Applies exactly one of its transforms, chosen uniformly or by weight (one draw).
pub struct OneOf<T> {
    transforms: Vec<Box<dyn Transform<T>>>,
    /// Cumulative weights, ending with the total; `None` for uniform.
    cumulative: Option<Vec<f64>>,
}

impl<T> OneOf<T> {
    /// Name in errors.
    pub const NAME: &'static str = "one_of";

    /// Chooses uniformly among `transforms`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `transforms` is empty.
    pub fn new(transforms: Vec<Box<dyn Transform<T>>>) -> Result<Self> {
        if transforms.is_empty() {
            return Err(Error::InvalidParameter {
                transform: Self::NAME,
                param: "transforms",
                value: "[]".into(),
                reason: "must not be empty",
            });
        }
        Ok(Self {
            transforms,
            cumulative: None,
        })
    }

    /// Chooses transform `i` with probability `weights[i] / sum(weights)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `transforms` is empty, the lengths differ, a weight
    /// is negative or not finite, or all weights are 0.
    pub fn weighted(transforms: Vec<Box<dyn Transform<T>>>, weights: &[f64]) -> Result<Self> {
        let mut t = Self::new(transforms)?;
        let bad = |value: String, reason| Error::InvalidParameter {
            transform: Self::NAME,
            param: "weights",
            value,
            reason,
        };
        if weights.len() != t.transforms.len() {
            return Err(bad(
                format!(
                    "{} weights for {} transforms",
                    weights.len(),
                    t.transforms.len()
                ),
                "needs one weight per transform",
            ));
        }
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(weights.len());
        for &w in weights {
            if !w.is_finite() || w < 0.0 {
                return Err(bad(w.to_string(), "must be finite and non-negative"));
            }
            total += w;
            cumulative.push(total);
        }
        if !(total > 0.0 && total.is_finite()) {
            return Err(bad(
                total.to_string(),
                "the sum must be positive and finite",
            ));
        }
        t.cumulative = Some(cumulative);
        Ok(t)
    }

    /// The transforms.
    pub fn transforms(&self) -> &[Box<dyn Transform<T>>] {
        &self.transforms
    }
}

impl<T> fmt::Debug for OneOf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OneOf {{ weights: {:?}, transforms: ", self.cumulative)?;
        fmt_steps(f, &self.transforms)?;
        write!(f, " }}")
    }
}

impl<T: Clone> Transform<T> for OneOf<T> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &T, rng: &mut dyn Rng, record: &mut Record) -> Result<T> {
        let n = self.transforms.len();
        let index = match &self.cumulative {
            None if n == 0 => return Ok(x.clone()),
            None => rng.random_range(0..n),
            Some(cumulative) => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let u = rng.random::<f64>() * total;
                // The first index whose cumulative weight exceeds u (zero weights are
                // never chosen).
                cumulative
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(n.saturating_sub(1))
            }
        };
        match self.transforms.get(index) {
            Some(t) => t.apply(x, rng, record),
            None => Ok(x.clone()),
        }
    }
}

/// Applies `k` distinct transforms, `k` drawn uniformly from `min..=max`, in the order
/// they are listed (not the order they were drawn).
pub struct SomeOf<T> {
    transforms: Vec<Box<dyn Transform<T>>>,
    min: usize,
    max: usize,
}

impl<T> SomeOf<T> {
    /// Name in errors.
    pub const NAME: &'static str = "some_of";

    /// Applies between `min` and `max` (inclusive) of `transforms`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `transforms` is empty, `min > max` or
    /// `max > transforms.len()`.
    pub fn new(transforms: Vec<Box<dyn Transform<T>>>, min: usize, max: usize) -> Result<Self> {
        if transforms.is_empty() {
            return Err(Error::InvalidParameter {
                transform: Self::NAME,
                param: "transforms",
                value: "[]".into(),
                reason: "must not be empty",
            });
        }
        if min > max || max > transforms.len() {
            return Err(Error::InvalidParameter {
                transform: Self::NAME,
                param: "count",
                value: format!("{min}..={max} of {}", transforms.len()),
                reason: "needs min <= max <= the number of transforms",
            });
        }
        Ok(Self {
            transforms,
            min,
            max,
        })
    }

    /// The range of how many are applied, `(min, max)`.
    pub fn count(&self) -> (usize, usize) {
        (self.min, self.max)
    }

    /// The transforms.
    pub fn transforms(&self) -> &[Box<dyn Transform<T>>] {
        &self.transforms
    }
}

impl<T> fmt::Debug for SomeOf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SomeOf {{ min: {}, max: {}, transforms: ",
            self.min, self.max
        )?;
        fmt_steps(f, &self.transforms)?;
        write!(f, " }}")
    }
}

impl<T: Clone> Transform<T> for SomeOf<T> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn apply(&self, x: &T, rng: &mut dyn Rng, record: &mut Record) -> Result<T> {
        let n = self.transforms.len();
        let max = self.max.min(n);
        let min = self.min.min(max);
        let k = rng.random_range(min..=max);
        // Partial Fisher-Yates: the first k entries are a uniform k-subset.
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = rng.random_range(i..n);
            order.swap(i, j);
        }
        let mut chosen = order.get(..k).map(<[usize]>::to_vec).unwrap_or_default();
        chosen.sort_unstable();
        let steps = chosen
            .iter()
            .filter_map(|&i| self.transforms.get(i))
            .map(|t| &**t);
        run_in_order(steps, x, rng, record)
    }
}

/// The research's random waveform pipeline, each step applied with probability 0.5
/// (audiomentations' default `p`, see [`WithProbability`]): [`TimeStretch::research`]
/// (rate uniform in `[0.8, 1.2]`), then [`PitchShift::research`] (uniform in `[-2, 2]`
/// semitones, fractional), then [`GaussianNoise::research`] (amplitude 0.005).
///
/// With `p = 0.5` one draw in eight applies nothing (an exact copy of the input); use
/// [`research_waveform_with_p`] with `p = 1` to apply every step to every copy.
pub fn research_waveform() -> Compose<Audio> {
    research_steps(0.5)
}

/// [`research_waveform`] with another probability `p` for every step.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 <= p <= 1`.
pub fn research_waveform_with_p(p: f64) -> Result<Compose<Audio>> {
    check_p(Compose::<Audio>::NAME, p)?;
    Ok(research_steps(p))
}

fn research_steps(p: f64) -> Compose<Audio> {
    Compose::from_transforms(vec![
        Box::new(WithProbability {
            inner: TimeStretch::research(),
            p,
        }),
        Box::new(WithProbability {
            inner: PitchShift::research(),
            p,
        }),
        Box::new(WithProbability {
            inner: GaussianNoise::research(),
            p,
        }),
    ])
}

/// The research's random spectrogram pipeline, each step with probability 0.5: a time
/// shift by up to 10% of the frames (rolled), then Gaussian noise with standard deviation
/// 0.01 in the spectrogram's units.
pub fn research_spectrogram() -> Compose<Spectrogram> {
    Compose::from_transforms(vec![
        Box::new(WithProbability {
            inner: SpecTimeShift::research(),
            p: 0.5,
        }),
        Box::new(WithProbability {
            inner: SpecGaussianNoise::research(),
            p: 0.5,
        }),
    ])
}

/// Applies `t` to `x` with a [`ChaCha8Rng`] seeded by `seed` (`seed_from_u64`), returning
/// the output and what was applied. The same seed always gives the same result.
///
/// # Errors
/// Whatever `t` returns.
pub fn augment_seeded<T>(t: &dyn Transform<T>, x: &T, seed: u64) -> Result<(T, Record)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut record = Record::new();
    let y = t.apply(x, &mut rng, &mut record)?;
    Ok((y, record))
}
