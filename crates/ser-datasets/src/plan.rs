//! Over-sampling plans: which training items to augment, how many times, with which seed,
//! so that every class of the training split reaches a target count. Items are
//! utterances (a path, an [`Emotion`], a [`Split`]), and so are the plan's entries: no
//! text to parse back.
//!
//! # How a plan is made
//!
//! 1. Only [`Split::Train`] items are sources; validation and test items are never
//!    augmented, and a [`PlanEntry`] can only be made by [`OversamplingPlan::new`] (its
//!    fields are private; a deserialized plan is re-derived from its inputs and checked).
//! 2. The target is the given one, or the largest training class. A class with `n` training
//!    items and `n < target` needs `need = target - n` copies: every item gets
//!    `need / n` copies, and `need % n` distinct items, drawn at random, get one more.
//! 3. Classes and items are taken in sorted order (emotions in model order, paths by their
//!    bytes), and each class draws from its own [`ChaCha8Rng`] seeded by a fixed mix of the
//!    plan's seed and the emotion's name, so a plan depends only on `(items as a set, target, seed)`: not on the
//!    input order, the platform or the run. Each entry's seed is the next `u64` of that
//!    stream; pass it to [`ser_augment::augment_seeded`].

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ser_core::seed::{below, mix_seed};

use crate::emotion::Emotion;
use crate::split::Split;

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// There is no training item to augment.
    #[error("no training item to augment: an oversampling plan needs one")]
    Empty,
    /// Two items have the same path.
    #[error("{path:?} is given twice")]
    DuplicateItem {
        /// The path.
        path: PathBuf,
    },
    /// Reaching the target would mean augmenting a validation or test item (a class has
    /// none in training), or a validation or test item was asked for.
    #[error("{path:?} is a {split} item: only training items are augmented")]
    NotTraining {
        /// The item.
        path: PathBuf,
        /// Its split.
        split: Split,
    },
    /// No item has this path.
    #[error("no item {path:?} in the plan")]
    NoSuchItem {
        /// The path asked for.
        path: PathBuf,
    },
    /// A stored plan's entries differ from those its items, target and seed give.
    #[error(
        "{stored} stored entries do not match the plan derived from its items, target and seed"
    )]
    EntriesMismatch {
        /// How many entries were stored.
        stored: usize,
    },
}

/// One item of a dataset, as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Item {
    /// The audio file: unique among a plan's items.
    pub path: PathBuf,
    /// Its class.
    pub emotion: Emotion,
    /// Its split.
    pub split: Split,
}

impl Item {
    /// An item.
    pub fn new(path: impl Into<PathBuf>, emotion: Emotion, split: Split) -> Self {
        Self {
            path: path.into(),
            emotion,
            split,
        }
    }
}

/// Items sort by their path's bytes (not by path components), so that a plan made from
/// the same files never changes.
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        self.path
            .as_os_str()
            .cmp(other.path.as_os_str())
            .then(self.emotion.cmp(&other.emotion))
            .then(self.split.cmp(&other.split))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One augmented copy to make: augment training item `source` (of class `emotion`) with
/// seed `seed`. Only an [`OversamplingPlan`] makes these.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PlanEntry {
    source: PathBuf,
    emotion: Emotion,
    copy: usize,
    seed: u64,
}

impl PlanEntry {
    /// The training item to augment.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Its class.
    pub fn emotion(&self) -> Emotion {
        self.emotion
    }

    /// Which copy of its source this is (0, 1, ...), e.g. for output names.
    pub fn copy(&self) -> usize {
        self.copy
    }

    /// The seed to augment it with.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Training counts of one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassCount {
    /// Training items before over-sampling.
    pub original: usize,
    /// Augmented copies the plan adds.
    pub added: usize,
}

impl ClassCount {
    /// `original + added`.
    pub fn total(&self) -> usize {
        self.original + self.added
    }
}

/// A deterministic over-sampling plan; see the [module docs](self).
///
/// ```
/// use ser_datasets::{Emotion, Item, OversamplingPlan, Split};
/// let items = vec![
///     Item::new("a1.wav", Emotion::Angry, Split::Train),
///     Item::new("a2.wav", Emotion::Angry, Split::Train),
///     Item::new("a3.wav", Emotion::Angry, Split::Train),
///     Item::new("s1.wav", Emotion::Sad, Split::Train),
///     Item::new("s2.wav", Emotion::Sad, Split::Test),
/// ];
/// let plan = OversamplingPlan::new(items, None, 42)?;
/// assert_eq!(plan.target(), 3);
/// assert_eq!(plan.entries().len(), 2); // two copies of s1
/// assert!(plan.entries().iter().all(|e| e.source() == std::path::Path::new("s1.wav")));
/// assert_eq!(plan.counts()[&Emotion::Sad].total(), 3);
/// # Ok::<(), ser_datasets::PlanError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "PlanData", into = "PlanData"))]
pub struct OversamplingPlan {
    items: Vec<Item>,
    requested_target: Option<usize>,
    target: usize,
    seed: u64,
    entries: Vec<PlanEntry>,
    counts: BTreeMap<Emotion, ClassCount>,
}

impl OversamplingPlan {
    /// Plans over-sampling of the training split of `items` up to `target` per class
    /// (default: the largest training class), deterministically from `seed`. Classes
    /// already at or above the target get nothing (nothing is dropped).
    ///
    /// # Errors
    /// [`PlanError::Empty`] if there are no training items; [`PlanError::DuplicateItem`]
    /// for a path given twice; [`PlanError::NotTraining`] if a class has no training item
    /// but the target is above 0 (it names the class's first item in another split:
    /// reaching the target would mean augmenting it).
    pub fn new(items: Vec<Item>, target: Option<usize>, seed: u64) -> Result<Self, PlanError> {
        let mut items = items;
        items.sort();
        if let Some(w) = items
            .windows(2)
            .find(|w| w[0].path.as_os_str() == w[1].path.as_os_str())
        {
            return Err(PlanError::DuplicateItem {
                path: w[0].path.clone(),
            });
        }
        // Training paths per class, sorted (items are sorted by path first).
        let mut train: BTreeMap<Emotion, Vec<&Path>> = BTreeMap::new();
        let mut other: BTreeMap<Emotion, &Item> = BTreeMap::new();
        for item in &items {
            if item.split == Split::Train {
                train.entry(item.emotion).or_default().push(&item.path);
            } else {
                other.entry(item.emotion).or_insert(item);
            }
        }
        if train.is_empty() {
            return Err(PlanError::Empty);
        }
        let largest = train.values().map(Vec::len).max().unwrap_or(0);
        let goal = target.unwrap_or(largest);
        if goal > 0 {
            if let Some((_, item)) = other.iter().find(|(c, _)| !train.contains_key(*c)) {
                return Err(PlanError::NotTraining {
                    path: item.path.clone(),
                    split: item.split,
                });
            }
        }
        let mut entries = Vec::new();
        let mut counts = BTreeMap::new();
        for (&emotion, sources) in &train {
            let n = sources.len();
            let need = goal.saturating_sub(n);
            counts.insert(
                emotion,
                ClassCount {
                    original: n,
                    added: need,
                },
            );
            if need == 0 || n == 0 {
                continue;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(seed, emotion.as_str()));
            let mut copies = vec![need / n; n];
            // `need % n` distinct items get one more: a partial Fisher-Yates shuffle.
            let mut order: Vec<usize> = (0..n).collect();
            for i in 0..need % n {
                let j = i + below(&mut rng, (n - i) as u64) as usize;
                order.swap(i, j);
                if let Some(c) = order.get(i).and_then(|&k| copies.get_mut(k)) {
                    *c += 1;
                }
            }
            for (source, &k) in sources.iter().zip(&copies) {
                for copy in 0..k {
                    entries.push(PlanEntry {
                        source: source.to_path_buf(),
                        emotion,
                        copy,
                        seed: rng.next_u64(),
                    });
                }
            }
        }
        Ok(Self {
            items,
            requested_target: target,
            target: goal,
            seed,
            entries,
            counts,
        })
    }

    /// The augmented copies to make, by class, then source, then copy.
    pub fn entries(&self) -> &[PlanEntry] {
        &self.entries
    }

    /// Training counts per class, before and after (in model order).
    pub fn counts(&self) -> &BTreeMap<Emotion, ClassCount> {
        &self.counts
    }

    /// The target count per class.
    pub fn target(&self) -> usize {
        self.target
    }

    /// The seed the plan was made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// All items, sorted by path.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The entries whose source is `path`.
    ///
    /// # Errors
    /// [`PlanError::NotTraining`] if `path` is a validation or test item (it can never be
    /// augmented); [`PlanError::NoSuchItem`] if no item has this path.
    pub fn entries_for(&self, path: &Path) -> Result<Vec<&PlanEntry>, PlanError> {
        let item = self
            .items
            .binary_search_by(|it| it.path.as_os_str().cmp(path.as_os_str()))
            .ok()
            .and_then(|i| self.items.get(i))
            .ok_or_else(|| PlanError::NoSuchItem {
                path: path.to_path_buf(),
            })?;
        if item.split != Split::Train {
            return Err(PlanError::NotTraining {
                path: item.path.clone(),
                split: item.split,
            });
        }
        Ok(self.entries.iter().filter(|e| e.source == path).collect())
    }
}

/// The serialized form: the inputs, and the entries as a check.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct PlanData {
    seed: u64,
    target: Option<usize>,
    items: Vec<Item>,
    entries: Vec<PlanEntry>,
}

#[cfg(feature = "serde")]
impl From<OversamplingPlan> for PlanData {
    fn from(p: OversamplingPlan) -> Self {
        Self {
            seed: p.seed,
            target: p.requested_target,
            entries: p.entries,
            items: p.items,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<PlanData> for OversamplingPlan {
    type Error = PlanError;

    /// Re-derives the plan from its inputs and checks that the stored entries match.
    fn try_from(d: PlanData) -> Result<Self, PlanError> {
        let plan = Self::new(d.items, d.target, d.seed)?;
        if plan.entries != d.entries {
            return Err(PlanError::EntriesMismatch {
                stored: d.entries.len(),
            });
        }
        Ok(plan)
    }
}
