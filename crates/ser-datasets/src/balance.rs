//! Class balancing: seeded under-sampling to the smallest class, and over-sampling plans
//! ([`OversamplingPlan`]) for the training split only.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::emotion::Emotion;
use crate::error::{Error, Result};
use crate::plan::{Item, OversamplingPlan};
use crate::record::Utterance;
use crate::split::Assignment;
use ser_core::seed::{mix_seed as mix, shuffle};

/// Under-samples every emotion class to the size of the smallest class present: each class
/// is sorted, shuffled by a [`ChaCha8Rng`] seeded from `seed` and the class name, and its
/// first `min` utterances are kept. Utterances with `emotion: None` are dropped, and
/// classes with no utterance do not count as "smallest". The result is sorted, so it
/// depends only on the input as a set and the seed.
///
/// # Errors
/// [`Error::Empty`] if no utterance has an emotion.
pub fn undersample(utterances: &[Utterance], seed: u64) -> Result<Vec<Utterance>> {
    let mut by_class: BTreeMap<Emotion, Vec<&Utterance>> = BTreeMap::new();
    for u in utterances {
        if let Some(e) = u.emotion {
            by_class.entry(e).or_default().push(u);
        }
    }
    let min = by_class.values().map(Vec::len).min().ok_or(Error::Empty {
        what: "labelled utterances to under-sample",
    })?;
    let mut out = Vec::with_capacity(min * by_class.len());
    for (class, mut members) in by_class {
        members.sort();
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, class.as_str()));
        shuffle(&mut members, &mut rng);
        out.extend(members.into_iter().take(min).cloned());
    }
    out.sort();
    Ok(out)
}

/// Builds the over-sampling plan of a split set: training utterances of each class are
/// planned for augmentation up to `target` (default: the largest training class), with
/// seed `seed`. Validation and test utterances are passed to the plan only so that it
/// can refuse to augment them; utterances without a split or an emotion are left out.
///
/// # Errors
/// [`Error::Plan`]: no training utterance, two utterances with the same path, or a class
/// that has validation/test utterances but no training one (see
/// [`OversamplingPlan::new`]).
pub fn oversampling_plan(
    assignments: &[Assignment],
    target: Option<usize>,
    seed: u64,
) -> Result<OversamplingPlan> {
    let items = assignments
        .iter()
        .filter_map(|a| {
            let split = a.split?;
            let emotion = a.utterance.emotion?;
            Some(Item::new(a.utterance.path.clone(), emotion, split))
        })
        .collect();
    Ok(OversamplingPlan::new(items, target, seed)?)
}
