//! Over-sampling plans: targets reached, only training items used, determinism, serde.
// Test helpers may unwrap: a failing unwrap is a failing test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ser_datasets::{ClassCount, Emotion, Item, OversamplingPlan, PlanError as Error, Split};

const ANGRY: Emotion = Emotion::Angry;
const HAPPY: Emotion = Emotion::Happy;
const SAD: Emotion = Emotion::Sad;

fn items() -> Vec<Item> {
    let mut v = Vec::new();
    for (class, train, val, test) in [(ANGRY, 10, 2, 2), (HAPPY, 7, 2, 1), (SAD, 3, 1, 1)] {
        for i in 0..train {
            v.push(Item::new(format!("{class}-tr-{i}"), class, Split::Train));
        }
        for i in 0..val {
            v.push(Item::new(
                format!("{class}-va-{i}"),
                class,
                Split::Validation,
            ));
        }
        for i in 0..test {
            v.push(Item::new(format!("{class}-te-{i}"), class, Split::Test));
        }
    }
    v
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

#[test]
fn plan_brings_every_class_to_the_largest_training_class() {
    let plan = OversamplingPlan::new(items(), None, 1).unwrap();
    assert_eq!(plan.target(), 10);
    let mut per_class: BTreeMap<Emotion, usize> = BTreeMap::new();
    for e in plan.entries() {
        *per_class.entry(e.emotion()).or_default() += 1;
    }
    assert_eq!(per_class.get(&ANGRY), None);
    assert_eq!(per_class[&HAPPY], 3);
    assert_eq!(per_class[&SAD], 7);
    for (class, c) in plan.counts() {
        assert_eq!(c.total(), 10, "{class}");
    }
    // Balanced: copies per source differ by at most one.
    let mut per_source: BTreeMap<&Path, usize> = BTreeMap::new();
    for e in plan.entries() {
        *per_source.entry(e.source()).or_default() += 1;
    }
    let sad: Vec<usize> = (0..3)
        .map(|i| per_source[PathBuf::from(format!("sad-tr-{i}")).as_path()])
        .collect();
    assert_eq!(sad.iter().sum::<usize>(), 7);
    assert!(sad.iter().all(|&k| k == 2 || k == 3), "{sad:?}");
}

#[test]
fn plan_with_explicit_target() {
    let plan = OversamplingPlan::new(items(), Some(12), 1).unwrap();
    assert_eq!(plan.counts()[&ANGRY].added, 2);
    assert_eq!(plan.counts()[&HAPPY].added, 5);
    assert_eq!(plan.counts()[&SAD].added, 9);
    assert_eq!(plan.entries().len(), 16);
    let small = OversamplingPlan::new(items(), Some(5), 1).unwrap();
    assert_eq!(
        small.counts()[&ANGRY],
        ClassCount {
            original: 10,
            added: 0
        }
    );
    assert_eq!(small.counts()[&SAD].added, 2);
}

#[test]
fn plan_never_uses_a_non_training_item() {
    let all = items();
    for seed in 0..20 {
        let plan = OversamplingPlan::new(all.clone(), Some(15), seed).unwrap();
        for e in plan.entries() {
            let item = all.iter().find(|i| i.path == e.source()).unwrap();
            assert_eq!(item.split, Split::Train);
            assert_eq!(item.emotion, e.emotion());
        }
    }
    let plan = OversamplingPlan::new(all, None, 0).unwrap();
    assert!(matches!(
        plan.entries_for(p("sad-te-0")),
        Err(Error::NotTraining { ref path, split }) if path == p("sad-te-0") && split == Split::Test
    ));
    assert!(matches!(
        plan.entries_for(p("happy-va-1")),
        Err(Error::NotTraining { .. })
    ));
    assert!(matches!(
        plan.entries_for(p("nope")),
        Err(Error::NoSuchItem { .. })
    ));
    assert_eq!(
        plan.entries_for(p("sad-tr-0")).unwrap().len()
            + plan.entries_for(p("sad-tr-1")).unwrap().len()
            + plan.entries_for(p("sad-tr-2")).unwrap().len(),
        7
    );
    assert!(plan.entries_for(p("angry-tr-0")).unwrap().is_empty());
}

#[test]
fn plan_is_deterministic_and_independent_of_input_order() {
    let a = OversamplingPlan::new(items(), None, 7).unwrap();
    let b = OversamplingPlan::new(items(), None, 7).unwrap();
    assert_eq!(a, b);
    let mut reversed = items();
    reversed.reverse();
    let c = OversamplingPlan::new(reversed, None, 7).unwrap();
    assert_eq!(a.entries(), c.entries());
    // Seeds within a plan are distinct.
    let mut seeds: Vec<u64> = a.entries().iter().map(|e| e.seed()).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), a.entries().len());
}

#[test]
fn different_seeds_give_different_assignments() {
    let a = OversamplingPlan::new(items(), None, 1).unwrap();
    let b = OversamplingPlan::new(items(), None, 2).unwrap();
    assert_ne!(a.entries(), b.entries());
    let who_gets_extra = |p: &OversamplingPlan| -> Vec<PathBuf> {
        // happy: 7 items, 3 copies -> which 3 items.
        p.entries()
            .iter()
            .filter(|e| e.emotion() == HAPPY)
            .map(|e| e.source().to_path_buf())
            .collect()
    };
    let distinct: std::collections::BTreeSet<Vec<PathBuf>> = (0..10)
        .map(|s| who_gets_extra(&OversamplingPlan::new(items(), None, s).unwrap()))
        .collect();
    assert!(
        distinct.len() > 1,
        "the extra copies always go to the same items"
    );
}

#[test]
fn plan_serde_round_trip_and_tamper_check() {
    let plan = OversamplingPlan::new(items(), None, 3).unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    let back: OversamplingPlan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        json,
        "serialization is stable"
    );
    // Point an entry at a test item: rejected.
    let tampered = json.replacen("\"source\":\"happy-tr-", "\"source\":\"happy-te-", 1);
    assert_ne!(tampered, json);
    assert!(serde_json::from_str::<OversamplingPlan>(&tampered).is_err());
}

#[test]
fn impossible_plans_are_typed_errors() {
    assert!(matches!(
        OversamplingPlan::new(vec![], None, 0),
        Err(Error::Empty)
    ));
    let only_test = vec![Item::new("x", ANGRY, Split::Test)];
    assert!(matches!(
        OversamplingPlan::new(only_test, None, 0),
        Err(Error::Empty)
    ));
    let mut v = items();
    v.push(Item::new(
        "fearful-va-0",
        Emotion::Fearful,
        Split::Validation,
    ));
    assert!(matches!(
        OversamplingPlan::new(v.clone(), None, 0),
        Err(Error::NotTraining { ref path, .. }) if path == p("fearful-va-0")
    ));
    let dup = vec![
        Item::new("a", ANGRY, Split::Train),
        Item::new("a", SAD, Split::Test),
    ];
    assert!(matches!(
        OversamplingPlan::new(dup, None, 0),
        Err(Error::DuplicateItem { .. })
    ));
    // A target of 0 asks for nothing: fine even with a class missing from training.
    let plan = OversamplingPlan::new(v, Some(0), 0).unwrap();
    assert!(plan.entries().is_empty());
}
