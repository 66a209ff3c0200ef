//! Seeded, reproducible train/validation/test splits, and a speaker-leak check.
//!
//! Three ways to split a labelled set:
//!
//! - [`random_split`]: stratified random split, per emotion class, with
//!   [`SplitFractions`] (default 70/15/15, the research's). Each class is cut at
//!   `round(n * train)` and `round(n * (train + validation))`, so every class's split counts
//!   are within one item of `n * fraction`.
//! - [`speaker_split`]: speaker-independent: whole speakers are assigned, largest first,
//!   each to the split where it brings the per-class counts closest (least squares) to the
//!   target fractions. No speaker is in two splits; stratification holds as far as
//!   speakers allow.
//! - [`speaker_kfold`]: leave-speakers-out k-fold: speakers fall into `k` folds (balanced
//!   the same way), each fold is the test set once, and a fraction of the remaining
//!   speakers can be held out for validation.
//!
//! ```
//! use ser_datasets::{Corpus, Emotion, Split, SplitFractions, Utterance};
//! use ser_datasets::{check_no_speaker_leak, speaker_kfold, speaker_split};
//! let utterances: Vec<Utterance> = (0..40)
//!     .map(|i| Utterance {
//!         path: format!("/data/{i}.wav").into(),
//!         corpus: Corpus::Ravdess,
//!         speaker: format!("ravdess:{}", i % 10),
//!         gender: None,
//!         original_label: String::new(),
//!         intensity: None,
//!         emotion: Emotion::from_index(i % 7),
//!         language: None,
//!     })
//!     .collect();
//! let set = speaker_split(&utterances, &SplitFractions::default(), 42)?;
//! check_no_speaker_leak(&set)?;
//! assert!(set.iter().any(|a| a.split == Some(Split::Test)));
//! let folds = speaker_kfold(&utterances, 5, 0.0, 42)?;
//! assert_eq!(folds.len(), 5);
//! # Ok::<(), ser_datasets::Error>(())
//! ```
//!
//! # Determinism
//!
//! Every split depends only on the utterances *as a set*, the parameters and the seed: the
//! input is sorted before anything is drawn, the generator is [`ChaCha8Rng`] (portable),
//! and the shuffles use our own unbiased Fisher-Yates draw, so no `rand` version change
//! moves an utterance. The output is in the input order.
//!
//! # Left-out labels
//!
//! Utterances with `emotion: None` (labels the mapping policy leaves out) take no part in a
//! split: they stay in the output with `split: None`, and are not counted anywhere.

use std::collections::{BTreeMap, BTreeSet};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use ser_core::seed::{mix_seed as mix, shuffle};

use crate::emotion::Emotion;
use crate::error::{Error, Result};
use crate::record::Utterance;

/// A dataset split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Split {
    /// Training data: the only split that may be augmented.
    Train,
    /// Validation data.
    Validation,
    /// Test data.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Train => "train",
            Self::Validation => "validation",
            Self::Test => "test",
        })
    }
}

/// The three splits in order.
pub const SPLITS: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

/// Parses a split name as written by its `Display` (`"train"`, `"validation"`, `"test"`).
pub fn parse_split(s: &str) -> Option<Split> {
    SPLITS.into_iter().find(|x| x.to_string() == s)
}

/// One utterance and the split it was assigned to (`None`: left out of the split because
/// its label is left out). This is also one manifest row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Assignment {
    /// The utterance.
    pub utterance: Utterance,
    /// Its split, if any.
    pub split: Option<Split>,
}

/// Train, validation and test fractions; they are non-negative and sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    train: f64,
    validation: f64,
    test: f64,
}

impl Default for SplitFractions {
    /// 70/15/15, the research's split.
    fn default() -> Self {
        Self {
            train: 0.70,
            validation: 0.15,
            test: 0.15,
        }
    }
}

impl SplitFractions {
    /// Fractions of the labelled utterances per split.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if a fraction is negative or not finite, or if they do
    /// not sum to 1 (within 1e-6).
    pub fn new(train: f64, validation: f64, test: f64) -> Result<Self> {
        for (param, v) in [("train", train), ("validation", validation), ("test", test)] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidParameter {
                    param,
                    value: v.to_string(),
                    reason: "must be a finite fraction >= 0",
                });
            }
        }
        let sum = train + validation + test;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(Error::InvalidParameter {
                param: "fractions",
                value: sum.to_string(),
                reason: "train + validation + test must sum to 1",
            });
        }
        Ok(Self {
            train,
            validation,
            test,
        })
    }

    /// The training fraction.
    pub fn train(&self) -> f64 {
        self.train
    }

    /// The validation fraction.
    pub fn validation(&self) -> f64 {
        self.validation
    }

    /// The test fraction.
    pub fn test(&self) -> f64 {
        self.test
    }

    /// The fraction of `split`.
    pub fn get(&self, split: Split) -> f64 {
        match split {
            Split::Train => self.train,
            Split::Validation => self.validation,
            Split::Test => self.test,
        }
    }

    fn as_array(&self) -> [f64; 3] {
        [self.train, self.validation, self.test]
    }
}

/// A speaker appears in two splits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("speaker leak: {speaker:?} is in both {first} and {second}")]
pub struct LeakError {
    /// The speaker.
    pub speaker: String,
    /// The split the speaker was first seen in.
    pub first: Split,
    /// Another split the speaker is also in.
    pub second: Split,
}

/// Proves that no speaker is in two splits (assignments without a split are ignored).
///
/// # Errors
/// The first [`LeakError`] found, in input order.
pub fn check_no_speaker_leak(assignments: &[Assignment]) -> Result<(), LeakError> {
    let mut seen: BTreeMap<&str, Split> = BTreeMap::new();
    for a in assignments {
        let Some(split) = a.split else { continue };
        let first = *seen.entry(&a.utterance.speaker).or_insert(split);
        if first != split {
            return Err(LeakError {
                speaker: a.utterance.speaker.clone(),
                first,
                second: split,
            });
        }
    }
    Ok(())
}

/// Stratified random split: per emotion class, a seeded shuffle cut at the fractions; see
/// the [module docs](self). Speakers may be in several splits (use [`speaker_split`] to
/// avoid that).
///
/// # Errors
/// [`Error::Empty`] if no utterance has an emotion.
pub fn random_split(
    utterances: &[Utterance],
    fractions: &SplitFractions,
    seed: u64,
) -> Result<Vec<Assignment>> {
    let mut by_class: BTreeMap<Emotion, Vec<usize>> = BTreeMap::new();
    for (i, u) in utterances.iter().enumerate() {
        if let Some(e) = u.emotion {
            by_class.entry(e).or_default().push(i);
        }
    }
    if by_class.is_empty() {
        return Err(Error::Empty {
            what: "labelled utterances to split",
        });
    }
    let mut splits: Vec<Option<Split>> = vec![None; utterances.len()];
    for (class, mut idx) in by_class {
        idx.sort_by(|&a, &b| utterances.get(a).cmp(&utterances.get(b)));
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, class.as_str()));
        shuffle(&mut idx, &mut rng);
        let n = idx.len();
        let cut1 = cut(n, fractions.train);
        let cut2 = cut(n, fractions.train + fractions.validation).max(cut1);
        for (k, &i) in idx.iter().enumerate() {
            let split = if k < cut1 {
                Split::Train
            } else if k < cut2 {
                Split::Validation
            } else {
                Split::Test
            };
            if let Some(s) = splits.get_mut(i) {
                *s = Some(split);
            }
        }
    }
    Ok(assemble(utterances, &splits))
}

/// Speaker-independent split: whole speakers go to one split each, balancing per-class
/// counts toward the fractions; see the [module docs](self). With few speakers the
/// fractions can only be met roughly (a split may even get no speaker).
///
/// # Errors
/// [`Error::Empty`] if no utterance has an emotion.
pub fn speaker_split(
    utterances: &[Utterance],
    fractions: &SplitFractions,
    seed: u64,
) -> Result<Vec<Assignment>> {
    let speakers = speaker_table(utterances);
    if speakers.is_empty() {
        return Err(Error::Empty {
            what: "labelled utterances to split",
        });
    }
    let order = speaker_order(&speakers, seed);
    let bins = greedy_bins(&order, &fractions.as_array());
    let mut of_speaker: BTreeMap<&str, Split> = BTreeMap::new();
    for ((name, _), bin) in order.iter().zip(bins) {
        let split = SPLITS.get(bin).copied().unwrap_or(Split::Train);
        of_speaker.insert(name, split);
    }
    let splits: Vec<Option<Split>> = utterances
        .iter()
        .map(|u| {
            u.emotion?;
            of_speaker.get(u.speaker.as_str()).copied()
        })
        .collect();
    Ok(assemble(utterances, &splits))
}

/// Leave-speakers-out k-fold: `k` splits, one per fold; in fold `i` the speakers of fold
/// `i` are the test set, and of the other speakers a `validation` fraction (0 for none) is
/// held out for validation, balanced the same way. Every labelled speaker is a test
/// speaker in exactly one fold.
///
/// # Errors
/// [`Error::InvalidParameter`] if `k < 2`, if there are fewer labelled speakers than `k`,
/// or if `validation` is not in `[0, 1)`; [`Error::Empty`] if no utterance has an emotion.
pub fn speaker_kfold(
    utterances: &[Utterance],
    k: usize,
    validation: f64,
    seed: u64,
) -> Result<Vec<Vec<Assignment>>> {
    if k < 2 {
        return Err(Error::InvalidParameter {
            param: "k",
            value: k.to_string(),
            reason: "needs at least 2 folds",
        });
    }
    if !(0.0..1.0).contains(&validation) {
        return Err(Error::InvalidParameter {
            param: "validation",
            value: validation.to_string(),
            reason: "must be in [0, 1)",
        });
    }
    let speakers = speaker_table(utterances);
    if speakers.is_empty() {
        return Err(Error::Empty {
            what: "labelled utterances to split",
        });
    }
    if speakers.len() < k {
        return Err(Error::InvalidParameter {
            param: "k",
            value: k.to_string(),
            reason: "more folds than labelled speakers",
        });
    }
    let order = speaker_order(&speakers, seed);
    #[allow(clippy::cast_precision_loss)] // k is a small fold count
    let folds = greedy_bins(&order, &vec![1.0 / k as f64; k]);
    let mut out = Vec::with_capacity(k);
    for fold in 0..k {
        let mut of_speaker: BTreeMap<&str, Split> = BTreeMap::new();
        let rest: Vec<(&str, [usize; 7])> = order
            .iter()
            .zip(&folds)
            .filter(|(_, f)| **f != fold)
            .map(|(s, _)| *s)
            .collect();
        for ((name, _), f) in order.iter().zip(&folds) {
            if *f == fold {
                of_speaker.insert(name, Split::Test);
            }
        }
        let rest_bins = greedy_bins(&rest, &[1.0 - validation, validation]);
        for ((name, _), bin) in rest.iter().zip(rest_bins) {
            let split = if bin == 0 {
                Split::Train
            } else {
                Split::Validation
            };
            of_speaker.insert(name, split);
        }
        let splits: Vec<Option<Split>> = utterances
            .iter()
            .map(|u| {
                u.emotion?;
                of_speaker.get(u.speaker.as_str()).copied()
            })
            .collect();
        out.push(assemble(utterances, &splits));
    }
    Ok(out)
}

/// Pairs utterances with their splits (no split without an emotion).
fn assemble(utterances: &[Utterance], splits: &[Option<Split>]) -> Vec<Assignment> {
    utterances
        .iter()
        .zip(splits)
        .map(|(u, s)| Assignment {
            utterance: u.clone(),
            split: s.filter(|_| u.emotion.is_some()),
        })
        .collect()
}

/// `round(n * f)`, clamped to `0..=n`.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)] // counts far below 2^52; the value is clamped to 0..=n
fn cut(n: usize, f: f64) -> usize {
    let x = (n as f64 * f).round();
    if x <= 0.0 { 0 } else { (x as usize).min(n) }
}

/// Per-class counts of each labelled speaker, by speaker id.
fn speaker_table(utterances: &[Utterance]) -> BTreeMap<&str, [usize; 7]> {
    let mut table: BTreeMap<&str, [usize; 7]> = BTreeMap::new();
    for u in utterances {
        if let Some(e) = u.emotion {
            let row = table.entry(&u.speaker).or_insert([0; 7]);
            if let Some(c) = row.get_mut(e.index()) {
                *c += 1;
            }
        }
    }
    table
}

/// Speakers shuffled by the seed (from sorted order), then stably sorted by size, largest
/// first: ties are broken by the seed.
fn speaker_order<'a>(
    speakers: &BTreeMap<&'a str, [usize; 7]>,
    seed: u64,
) -> Vec<(&'a str, [usize; 7])> {
    let mut order: Vec<(&str, [usize; 7])> = speakers.iter().map(|(s, c)| (*s, *c)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, "speakers"));
    shuffle(&mut order, &mut rng);
    order.sort_by_key(|(_, c)| std::cmp::Reverse(c.iter().sum::<usize>()));
    order
}

/// Greedy assignment of speakers (in order) to bins with target fractions: each goes to
/// the bin where it most reduces the squared distance between per-class counts and
/// targets (the first such bin on ties).
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
fn greedy_bins(speakers: &[(&str, [usize; 7])], fractions: &[f64]) -> Vec<usize> {
    let mut total = [0usize; 7];
    for (_, c) in speakers {
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    let targets: Vec<[f64; 7]> = fractions
        .iter()
        .map(|f| total.map(|t| t as f64 * f))
        .collect();
    let mut current = vec![[0usize; 7]; fractions.len()];
    let mut out = Vec::with_capacity(speakers.len());
    for (_, counts) in speakers {
        let mut best = 0;
        let mut best_delta = f64::INFINITY;
        for (b, (cur, tgt)) in current.iter().zip(&targets).enumerate() {
            // sum over classes of (cur + x - t)^2 - (cur - t)^2 = x (2 (cur - t) + x)
            let delta: f64 = counts
                .iter()
                .zip(cur.iter().zip(tgt))
                .map(|(&x, (&c, &t))| {
                    let x = x as f64;
                    x * (2.0 * (c as f64 - t) + x)
                })
                .sum();
            if delta < best_delta {
                best_delta = delta;
                best = b;
            }
        }
        if let Some(cur) = current.get_mut(best) {
            for (c, x) in cur.iter_mut().zip(counts) {
                *c += x;
            }
        }
        out.push(best);
    }
    out
}

/// The speakers assigned to `split`, sorted.
pub fn speakers_of(assignments: &[Assignment], split: Split) -> BTreeSet<&str> {
    assignments
        .iter()
        .filter(|a| a.split == Some(split))
        .map(|a| a.utterance.speaker.as_str())
        .collect()
}
