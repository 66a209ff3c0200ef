//! Balancing: under-sampling to the smallest class, over-sampling plans from train only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use ser_datasets::{
    Corpus, Emotion, Split, SplitFractions, Utterance, oversampling_plan, speaker_split,
    undersample,
};

fn synthetic() -> Vec<Utterance> {
    let mut out = Vec::new();
    for s in 0..12usize {
        for (ci, e) in Emotion::ALL.into_iter().enumerate() {
            for k in 0..(2 + (s + ci * 5) % 6 + ci % 3) {
                out.push(utt(s, Some(e), k));
            }
        }
        out.push(utt(s, None, 0));
    }
    out
}

fn utt(s: usize, emotion: Option<Emotion>, k: usize) -> Utterance {
    let label = emotion.map_or("calm", Emotion::as_str);
    Utterance {
        path: format!("/data/crema-d/{s}/{label}_{k}.wav").into(),
        corpus: Corpus::CremaD,
        speaker: format!("crema-d:{s}"),
        gender: None,
        original_label: label.to_string(),
        intensity: Some("XX".into()),
        emotion,
        language: None,
    }
}

fn class_counts(u: &[Utterance]) -> BTreeMap<Option<Emotion>, usize> {
    let mut m = BTreeMap::new();
    for x in u {
        *m.entry(x.emotion).or_default() += 1;
    }
    m
}

#[test]
fn undersample_gives_equal_class_counts() {
    let u = synthetic();
    let before = class_counts(&u);
    let min = Emotion::ALL
        .iter()
        .map(|e| before[&Some(*e)])
        .min()
        .unwrap();
    for seed in [0, 9, 77] {
        let out = undersample(&u, seed).unwrap();
        let after = class_counts(&out);
        assert_eq!(after.len(), 7, "left-out labels are dropped");
        assert!(after.values().all(|&n| n == min));
        assert!(
            before.values().any(|&n| n > min),
            "the test set is unbalanced"
        );
        assert!(out.iter().all(|x| u.contains(x)));
        assert_eq!(out.iter().collect::<BTreeSet<_>>().len(), out.len());
    }
}

#[test]
fn undersample_is_seeded_and_order_independent() {
    let u = synthetic();
    let mut rev = u.clone();
    rev.reverse();
    assert_eq!(undersample(&u, 4).unwrap(), undersample(&rev, 4).unwrap());
    assert!(undersample(&u, 4).unwrap() != undersample(&u, 5).unwrap());
    assert!(undersample(&[utt(0, None, 0)], 0).is_err());
}

#[test]
fn oversampling_plan_only_from_train() {
    let u = synthetic();
    let a = speaker_split(&u, &SplitFractions::default(), 3).unwrap();
    let train: BTreeSet<&std::path::Path> = a
        .iter()
        .filter(|x| x.split == Some(Split::Train))
        .map(|x| x.utterance.path.as_path())
        .collect();
    let plan = oversampling_plan(&a, None, 1).unwrap();
    assert!(!plan.entries().is_empty());
    assert!(plan.entries().iter().all(|e| train.contains(e.source())));
    let target = plan.target();
    assert!(plan.counts().values().all(|c| c.total() == target));
    for x in a.iter().filter(|x| x.split != Some(Split::Train)) {
        let id = &x.utterance.path;
        if x.split.is_some() {
            assert!(plan.entries_for(id).is_err(), "{id:?} may not be augmented");
        }
    }
    assert_eq!(plan, oversampling_plan(&a, None, 1).unwrap());
}

#[test]
fn oversampling_plan_without_train_is_an_error() {
    let u = synthetic();
    let mut a = speaker_split(&u, &SplitFractions::default(), 3).unwrap();
    for x in &mut a {
        if x.split == Some(Split::Train) {
            x.split = Some(Split::Test);
        }
    }
    assert!(matches!(
        oversampling_plan(&a, None, 1),
        Err(ser_datasets::Error::Plan(_))
    ));
}
