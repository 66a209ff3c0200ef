//! Splits: no speaker leaks, stratification, fractions, determinism, k-fold coverage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use ser_datasets::{
    Assignment, Corpus, Emotion, Gender, LeakError, Split, SplitFractions, Utterance,
    check_no_speaker_leak, random_split, speaker_kfold, speaker_split, speakers_of,
};

/// A synthetic set: 30 speakers over two corpora with uneven class counts, plus some
/// utterances whose label is left out.
fn synthetic() -> Vec<Utterance> {
    let mut out = Vec::new();
    for s in 0..30usize {
        let corpus = if s < 24 {
            Corpus::Ravdess
        } else {
            Corpus::Tess
        };
        for (ci, e) in Emotion::ALL.into_iter().enumerate() {
            let n = 3 + (s * 7 + ci * 3) % 5;
            for k in 0..n {
                out.push(utt(corpus, s, Some(e), k));
            }
        }
        out.push(utt(corpus, s, None, 0));
    }
    out
}

fn utt(corpus: Corpus, s: usize, emotion: Option<Emotion>, k: usize) -> Utterance {
    let label = emotion.map_or("calm", Emotion::as_str);
    Utterance {
        path: format!("/data/{corpus}/spk{s:02}/{label}_{k}.wav").into(),
        corpus,
        speaker: format!("{corpus}:{s:02}"),
        gender: Some(if s.is_multiple_of(2) {
            Gender::Female
        } else {
            Gender::Male
        }),
        original_label: label.to_string(),
        intensity: None,
        emotion,
        language: None,
    }
}

fn splits(a: &[Assignment]) -> Vec<Option<Split>> {
    a.iter().map(|a| a.split).collect()
}

fn per_class(a: &[Assignment]) -> BTreeMap<(Emotion, Split), usize> {
    let mut m = BTreeMap::new();
    for x in a {
        if let (Some(e), Some(s)) = (x.utterance.emotion, x.split) {
            *m.entry((e, s)).or_default() += 1;
        }
    }
    m
}

fn labelled_count(u: &[Utterance], e: Emotion) -> usize {
    u.iter().filter(|u| u.emotion == Some(e)).count()
}

#[test]
fn fractions_invalid_are_rejected() {
    assert!(SplitFractions::new(0.5, 0.5, 0.5).is_err());
    assert!(SplitFractions::new(-0.1, 0.6, 0.5).is_err());
    assert!(SplitFractions::new(f64::NAN, 0.5, 0.5).is_err());
    let d = SplitFractions::default();
    assert_eq!((d.train(), d.validation(), d.test()), (0.70, 0.15, 0.15));
}

#[test]
fn random_split_stratified_within_one_item_per_class() {
    let u = synthetic();
    let f = SplitFractions::default();
    for seed in [0, 1, 42, 1234] {
        let a = random_split(&u, &f, seed).unwrap();
        assert_eq!(a.len(), u.len());
        let counts = per_class(&a);
        for e in Emotion::ALL {
            let n = labelled_count(&u, e) as f64;
            for s in [Split::Train, Split::Validation, Split::Test] {
                let got = counts.get(&(e, s)).copied().unwrap_or(0) as f64;
                let want = n * f.get(s);
                assert!((got - want).abs() <= 1.0, "{e} {s}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn left_out_labels_get_no_split() {
    let u = synthetic();
    let f = SplitFractions::default();
    for a in [
        random_split(&u, &f, 3).unwrap(),
        speaker_split(&u, &f, 3).unwrap(),
    ] {
        for (x, orig) in a.iter().zip(&u) {
            assert_eq!(&x.utterance, orig, "output keeps the input order");
            assert_eq!(x.split.is_none(), x.utterance.emotion.is_none());
        }
    }
}

#[test]
fn same_seed_same_split_different_seed_differs() {
    let u = synthetic();
    let f = SplitFractions::default();
    let a = random_split(&u, &f, 7).unwrap();
    assert_eq!(a, random_split(&u, &f, 7).unwrap());
    assert_ne!(splits(&a), splits(&random_split(&u, &f, 8).unwrap()));
    let b = speaker_split(&u, &f, 7).unwrap();
    assert_eq!(b, speaker_split(&u, &f, 7).unwrap());
    assert_ne!(splits(&b), splits(&speaker_split(&u, &f, 8).unwrap()));
}

#[test]
fn splits_do_not_depend_on_input_order() {
    let u = synthetic();
    let mut rev = u.clone();
    rev.reverse();
    let f = SplitFractions::default();
    type SplitFn = fn(&[Utterance], &SplitFractions, u64) -> ser_datasets::Result<Vec<Assignment>>;
    for split in [random_split as SplitFn, speaker_split as SplitFn] {
        let a: BTreeSet<Assignment> = split(&u, &f, 5).unwrap().into_iter().collect();
        let b: BTreeSet<Assignment> = split(&rev, &f, 5).unwrap().into_iter().collect();
        assert_eq!(a, b);
    }
}

#[test]
fn speaker_split_has_no_leak_and_respects_fractions() {
    let u = synthetic();
    let f = SplitFractions::default();
    let total = u.iter().filter(|u| u.emotion.is_some()).count() as f64;
    for seed in 0..10 {
        let a = speaker_split(&u, &f, seed).unwrap();
        check_no_speaker_leak(&a).unwrap();
        for s in [Split::Train, Split::Validation, Split::Test] {
            assert!(!speakers_of(&a, s).is_empty(), "seed {seed}: {s} is empty");
            let share = a.iter().filter(|x| x.split == Some(s)).count() as f64 / total;
            assert!(
                (share - f.get(s)).abs() < 0.05,
                "seed {seed}: {s} has {share}"
            );
        }
        // Stratified as far as speakers allow: every class near the fractions too.
        let counts = per_class(&a);
        for e in Emotion::ALL {
            let n = labelled_count(&u, e) as f64;
            for s in [Split::Train, Split::Validation, Split::Test] {
                let share = counts.get(&(e, s)).copied().unwrap_or(0) as f64 / n;
                assert!(
                    (share - f.get(s)).abs() < 0.08,
                    "seed {seed}: {e} {s}: {share}"
                );
            }
        }
    }
}

#[test]
fn random_split_leaks_speakers_and_the_check_names_them() {
    let u = synthetic();
    let a = random_split(&u, &SplitFractions::default(), 1).unwrap();
    let err: LeakError = check_no_speaker_leak(&a).unwrap_err();
    assert_ne!(err.first, err.second);
    assert!(err.to_string().contains(&err.speaker));
    let speaker_splits: BTreeSet<Split> = a
        .iter()
        .filter(|x| x.utterance.speaker == err.speaker)
        .filter_map(|x| x.split)
        .collect();
    assert!(speaker_splits.contains(&err.first) && speaker_splits.contains(&err.second));
}

#[test]
fn kfold_covers_every_speaker_once_as_test() {
    let u = synthetic();
    let labelled: BTreeSet<&str> = u
        .iter()
        .filter(|u| u.emotion.is_some())
        .map(|u| u.speaker.as_str())
        .collect();
    for (k, validation) in [(5, 0.0), (4, 0.2), (30, 0.1)] {
        let folds = speaker_kfold(&u, k, validation, 11).unwrap();
        assert_eq!(folds.len(), k);
        let mut seen = BTreeMap::new();
        for fold in &folds {
            check_no_speaker_leak(fold).unwrap();
            let test = speakers_of(fold, Split::Test);
            assert!(!test.is_empty());
            for s in test {
                *seen.entry(s).or_insert(0) += 1;
            }
            let val = speakers_of(fold, Split::Validation);
            assert_eq!(val.is_empty(), validation == 0.0);
            for x in fold {
                assert_eq!(x.split.is_none(), x.utterance.emotion.is_none());
            }
        }
        assert_eq!(seen.keys().copied().collect::<BTreeSet<_>>(), labelled);
        assert!(seen.values().all(|&n| n == 1));
    }
    assert_eq!(
        speaker_kfold(&u, 5, 0.1, 3).unwrap(),
        speaker_kfold(&u, 5, 0.1, 3).unwrap()
    );
}

#[test]
fn kfold_bad_parameters_are_errors() {
    let u = synthetic();
    assert!(speaker_kfold(&u, 1, 0.0, 0).is_err());
    assert!(speaker_kfold(&u, 31, 0.0, 0).is_err());
    assert!(speaker_kfold(&u, 3, 1.0, 0).is_err());
    assert!(speaker_kfold(&[], 3, 0.0, 0).is_err());
}

#[test]
fn empty_input_is_an_error() {
    let f = SplitFractions::default();
    assert!(random_split(&[], &f, 0).is_err());
    assert!(speaker_split(&[utt(Corpus::Tess, 0, None, 0)], &f, 0).is_err());
}

#[test]
fn speaker_split_with_two_speakers_does_not_fail() {
    let u: Vec<Utterance> = synthetic()
        .into_iter()
        .filter(|u| u.speaker.ends_with(":00") || u.speaker.ends_with(":01"))
        .collect();
    let a = speaker_split(&u, &SplitFractions::default(), 0).unwrap();
    check_no_speaker_leak(&a).unwrap();
    assert!(!speakers_of(&a, Split::Train).is_empty());
}
