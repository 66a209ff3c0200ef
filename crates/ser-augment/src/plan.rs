//! Over-sampling plans: which training items to augment, how many times, with which seed,
//! so that every class of the training split reaches a target count.
//!
//! # How a plan is made
//!
//! 1. Only [`Split::Train`] items are sources; validation and test items are never
//!    augmented, and a [`PlanEntry`] can only be made by [`OversamplingPlan::new`] (its
//!    fields are private; a deserialized plan is re-derived from its inputs and checked).
//! 2. The target is the given one, or the largest training class. A class with `n` training
//!    items and `n < target` needs `need = target - n` copies: every item gets
//!    `need / n` copies, and `need % n` distinct items, drawn at random, get one more.
//! 3. Classes and items are taken in sorted order (`BTreeMap`, ids sorted), and each class
//!    draws from its own [`ChaCha8Rng`] seeded by a fixed mix of the plan's seed and the
//!    class name, so a plan depends only on `(items as a set, target, seed)`: not on the
//!    input order, the platform or the run. Each entry's seed is the next `u64` of that
//!    stream; pass it to [`augment_seeded`](crate::augment_seeded).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rand::{Rng, SeedableRng};

use crate::ChaCha8Rng;
use crate::error::{Error, Result};

const NAME: &str = "oversampling_plan";

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

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Train => "train",
            Self::Validation => "validation",
            Self::Test => "test",
        })
    }
}

/// One item of a dataset, as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Item {
    /// A unique id (a path, an utterance id).
    pub id: String,
    /// Its class label.
    pub class: String,
    /// Its split.
    pub split: Split,
}

impl Item {
    /// An item.
    pub fn new(id: impl Into<String>, class: impl Into<String>, split: Split) -> Self {
        Self {
            id: id.into(),
            class: class.into(),
            split,
        }
    }
}

/// One augmented copy to make: augment training item `source_id` (of class `class`) with
/// seed `seed`. Only an [`OversamplingPlan`] makes these.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PlanEntry {
    source_id: String,
    class: String,
    copy: usize,
    seed: u64,
}

impl PlanEntry {
    /// The training item to augment.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }

    /// Its class.
    pub fn class(&self) -> &str {
        &self.class
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
/// use ser_augment::{Item, OversamplingPlan, Split};
/// let items = vec![
///     Item::new("a1", "angry", Split::Train),
///     Item::new("a2", "angry", Split::Train),
///     Item::new("a3", "angry", Split::Train),
///     Item::new("s1", "sad", Split::Train),
///     Item::new("s2", "sad", Split::Test),
/// ];
/// let plan = OversamplingPlan::new(items, None, 42)?;
/// assert_eq!(plan.target(), 3);
/// assert_eq!(plan.entries().len(), 2); // two copies of s1
/// assert!(plan.entries().iter().all(|e| e.source_id() == "s1"));
/// assert_eq!(plan.counts()["sad"].total(), 3);
/// # Ok::<(), ser_augment::Error>(())
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
    counts: BTreeMap<String, ClassCount>,
}

impl OversamplingPlan {
    /// Plans over-sampling of the training split of `items` up to `target` per class
    /// (default: the largest training class), deterministically from `seed`. Classes
    /// already at or above the target get nothing (nothing is dropped).
    ///
    /// # Errors
    /// [`Error::Empty`] if there are no training items; [`Error::InvalidParameter`] for a
    /// duplicate id; [`Error::NotTraining`] if a class has no training item but the target
    /// is above 0 (it names the class's first item, by id, in another split: reaching the
    /// target would mean augmenting it).
    pub fn new(items: Vec<Item>, target: Option<usize>, seed: u64) -> Result<Self> {
        let mut items = items;
        items.sort();
        let mut ids = BTreeSet::new();
        for item in &items {
            if !ids.insert(item.id.as_str()) {
                return Err(Error::InvalidParameter {
                    transform: NAME,
                    param: "items",
                    value: item.id.clone(),
                    reason: "duplicate id",
                });
            }
        }
        // Training ids per class, sorted (items are sorted by id first).
        let mut train: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut other: BTreeMap<&str, &Item> = BTreeMap::new();
        for item in &items {
            if item.split == Split::Train {
                train.entry(&item.class).or_default().push(&item.id);
            } else {
                other.entry(&item.class).or_insert(item);
            }
        }
        if train.is_empty() {
            return Err(Error::Empty { transform: NAME });
        }
        let largest = train.values().map(Vec::len).max().unwrap_or(0);
        let goal = target.unwrap_or(largest);
        if goal > 0 {
            if let Some((_, item)) = other.iter().find(|(c, _)| !train.contains_key(*c)) {
                return Err(Error::NotTraining {
                    item: item.id.clone(),
                    split: item.split.to_string(),
                });
            }
        }
        let mut entries = Vec::new();
        let mut counts = BTreeMap::new();
        for (class, sources) in &train {
            let n = sources.len();
            let need = goal.saturating_sub(n);
            counts.insert(
                (*class).to_string(),
                ClassCount {
                    original: n,
                    added: need,
                },
            );
            if need == 0 || n == 0 {
                continue;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(ser_core::seed::mix_seed(seed, class));
            let mut copies = vec![need / n; n];
            // `need % n` distinct items get one more: a partial Fisher-Yates shuffle.
            let mut order: Vec<usize> = (0..n).collect();
            for i in 0..need % n {
                let j = i + ser_core::seed::below(&mut rng, (n - i) as u64) as usize;
                order.swap(i, j);
                if let Some(c) = order.get(i).and_then(|&k| copies.get_mut(k)) {
                    *c += 1;
                }
            }
            for (source, &k) in sources.iter().zip(&copies) {
                for copy in 0..k {
                    entries.push(PlanEntry {
                        source_id: (*source).to_string(),
                        class: (*class).to_string(),
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

    /// The augmented copies to make, by class, then source id, then copy.
    pub fn entries(&self) -> &[PlanEntry] {
        &self.entries
    }

    /// Training counts per class, before and after (sorted by class).
    pub fn counts(&self) -> &BTreeMap<String, ClassCount> {
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

    /// All items, sorted by id.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The entries whose source is `id`.
    ///
    /// # Errors
    /// [`Error::NotTraining`] if `id` is a validation or test item (it can never be
    /// augmented); [`Error::InvalidParameter`] if no item has this id.
    pub fn entries_for(&self, id: &str) -> Result<Vec<&PlanEntry>> {
        let item = self
            .items
            .binary_search_by(|it| it.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.items.get(i))
            .ok_or_else(|| Error::InvalidParameter {
                transform: NAME,
                param: "id",
                value: id.to_string(),
                reason: "no such item",
            })?;
        if item.split != Split::Train {
            return Err(Error::NotTraining {
                item: item.id.clone(),
                split: item.split.to_string(),
            });
        }
        Ok(self.entries.iter().filter(|e| e.source_id == id).collect())
    }
}

/// The serialized form: the inputs, and the entries as a check.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct PlanData {
    seed: u64,
    target: Option<usize>,
    items: Vec<Item>,
    entries: Vec<EntryData>,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct EntryData {
    source_id: String,
    class: String,
    copy: usize,
    seed: u64,
}

#[cfg(feature = "serde")]
impl From<&PlanEntry> for EntryData {
    fn from(e: &PlanEntry) -> Self {
        Self {
            source_id: e.source_id.clone(),
            class: e.class.clone(),
            copy: e.copy,
            seed: e.seed,
        }
    }
}

#[cfg(feature = "serde")]
impl From<OversamplingPlan> for PlanData {
    fn from(p: OversamplingPlan) -> Self {
        Self {
            seed: p.seed,
            target: p.requested_target,
            entries: p.entries.iter().map(EntryData::from).collect(),
            items: p.items,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<PlanData> for OversamplingPlan {
    type Error = Error;

    /// Re-derives the plan from its inputs and checks that the stored entries match.
    fn try_from(d: PlanData) -> Result<Self> {
        let plan = Self::new(d.items, d.target, d.seed)?;
        let same = plan.entries.len() == d.entries.len()
            && plan
                .entries
                .iter()
                .zip(&d.entries)
                .all(|(a, b)| EntryData::from(a) == *b);
        if !same {
            return Err(Error::InvalidParameter {
                transform: NAME,
                param: "entries",
                value: format!("{} entries", d.entries.len()),
                reason: "do not match the plan derived from the stored items, target and seed",
            });
        }
        Ok(plan)
    }
}
