//! Over-sampling plans: targets reached, only training items used, determinism, serde.
// Test helpers may unwrap: a failing unwrap is a failing test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ser_augment::{Error, Item, OversamplingPlan, Split};

fn items() -> Vec<Item> {
    let mut v = Vec::new();
    for (class, train, val, test) in [("angry", 10, 2, 2), ("happy", 7, 2, 1), ("sad", 3, 1, 1)] {
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

#[test]
fn plan_brings_every_class_to_the_largest_training_class() {
    let plan = OversamplingPlan::new(items(), None, 1).unwrap();
    assert_eq!(plan.target(), 10);
    let mut per_class: BTreeMap<&str, usize> = BTreeMap::new();
    for e in plan.entries() {
        *per_class.entry(e.class()).or_default() += 1;
    }
    assert_eq!(per_class.get("angry"), None);
    assert_eq!(per_class["happy"], 3);
    assert_eq!(per_class["sad"], 7);
    for (class, c) in plan.counts() {
        assert_eq!(c.total(), 10, "{class}");
    }
    // Balanced: copies per source differ by at most one.
    let mut per_source: BTreeMap<&str, usize> = BTreeMap::new();
    for e in plan.entries() {
        *per_source.entry(e.source_id()).or_default() += 1;
    }
    let sad: Vec<usize> = (0..3)
        .map(|i| per_source[format!("sad-tr-{i}").as_str()])
        .collect();
    assert_eq!(sad.iter().sum::<usize>(), 7);
    assert!(sad.iter().all(|&k| k == 2 || k == 3), "{sad:?}");
}

#[test]
fn plan_with_explicit_target() {
    let plan = OversamplingPlan::new(items(), Some(12), 1).unwrap();
    assert_eq!(plan.counts()["angry"].added, 2);
    assert_eq!(plan.counts()["happy"].added, 5);
    assert_eq!(plan.counts()["sad"].added, 9);
    assert_eq!(plan.entries().len(), 16);
    let small = OversamplingPlan::new(items(), Some(5), 1).unwrap();
    assert_eq!(
        small.counts()["angry"],
        ser_augment::ClassCount {
            original: 10,
            added: 0
        }
    );
    assert_eq!(small.counts()["sad"].added, 2);
}

#[test]
fn plan_never_uses_a_non_training_item() {
    let all = items();
    for seed in 0..20 {
        let plan = OversamplingPlan::new(all.clone(), Some(15), seed).unwrap();
        for e in plan.entries() {
            let item = all.iter().find(|i| i.id == e.source_id()).unwrap();
            assert_eq!(item.split, Split::Train);
            assert_eq!(item.class, e.class());
        }
    }
    let plan = OversamplingPlan::new(all, None, 0).unwrap();
    assert!(matches!(
        plan.entries_for("sad-te-0"),
        Err(Error::NotTraining { ref item, ref split }) if item == "sad-te-0" && split == "test"
    ));
    assert!(matches!(
        plan.entries_for("happy-va-1"),
        Err(Error::NotTraining { .. })
    ));
    assert!(matches!(
        plan.entries_for("nope"),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!(
        plan.entries_for("sad-tr-0").unwrap().len()
            + plan.entries_for("sad-tr-1").unwrap().len()
            + plan.entries_for("sad-tr-2").unwrap().len(),
        7
    );
    assert!(plan.entries_for("angry-tr-0").unwrap().is_empty());
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
    let who_gets_extra = |p: &OversamplingPlan| -> Vec<String> {
        // happy: 7 items, 3 copies -> which 3 items.
        p.entries()
            .iter()
            .filter(|e| e.class() == "happy")
            .map(|e| e.source_id().to_string())
            .collect()
    };
    let distinct: std::collections::BTreeSet<Vec<String>> = (0..10)
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
    let tampered = json.replacen("\"source_id\":\"happy-tr-", "\"source_id\":\"happy-te-", 1);
    assert_ne!(tampered, json);
    assert!(serde_json::from_str::<OversamplingPlan>(&tampered).is_err());
}

#[test]
fn impossible_plans_are_typed_errors() {
    assert!(matches!(
        OversamplingPlan::new(vec![], None, 0),
        Err(Error::Empty { .. })
    ));
    let only_test = vec![Item::new("x", "angry", Split::Test)];
    assert!(matches!(
        OversamplingPlan::new(only_test, None, 0),
        Err(Error::Empty { .. })
    ));
    let mut v = items();
    v.push(Item::new("calm-va-0", "calm", Split::Validation));
    assert!(matches!(
        OversamplingPlan::new(v.clone(), None, 0),
        Err(Error::NotTraining { ref item, .. }) if item == "calm-va-0"
    ));
    let dup = vec![
        Item::new("a", "x", Split::Train),
        Item::new("a", "y", Split::Test),
    ];
    assert!(matches!(
        OversamplingPlan::new(dup, None, 0),
        Err(Error::InvalidParameter { .. })
    ));
    // A target of 0 asks for nothing: fine even with a class missing from training.
    let plan = OversamplingPlan::new(v, Some(0), 0).unwrap();
    assert!(plan.entries().is_empty());
}
