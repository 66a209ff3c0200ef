//! The synthetic quickstart corpus (`fixtures/corpora/quickstart/`, made by
//! `fixtures/scripts/make_quickstart_corpus.py`) reads as a clean RAVDESS tree: 112 clips,
//! the seven emotions balanced, four speakers, nothing rejected, every clip decodable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ser_datasets::{Corpus, Emotion, Gender, LabelPolicy, scan};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/corpora/quickstart")
}

#[test]
fn quickstart_scan_all_parse_balanced() {
    let report = scan(&[root()], None, &LabelPolicy::default()).unwrap();
    assert_eq!(report.utterances.len(), 112, "utterances");
    assert!(
        report.rejected.is_empty(),
        "rejected: {:?}",
        report.rejected
    );
    assert!(
        report.duplicates.is_empty(),
        "duplicates: {:?}",
        report.duplicates
    );
    assert_eq!(report.roots.len(), 1);
    assert_eq!(report.roots[0].corpus, Some(Corpus::Ravdess));

    let mut per_emotion: BTreeMap<Emotion, usize> = BTreeMap::new();
    let mut per_speaker: BTreeMap<String, (Option<Gender>, usize)> = BTreeMap::new();
    for u in &report.utterances {
        assert_eq!(u.corpus, Corpus::Ravdess);
        *per_emotion
            .entry(u.emotion.expect("every clip is one of the seven"))
            .or_default() += 1;
        let e = per_speaker
            .entry(u.speaker.clone())
            .or_insert((u.gender, 0));
        assert_eq!(e.0, u.gender);
        e.1 += 1;
    }
    assert_eq!(per_emotion.len(), 7, "{per_emotion:?}");
    for e in Emotion::ALL {
        assert_eq!(per_emotion.get(&e), Some(&16), "{e:?}: {per_emotion:?}");
    }
    let speakers: Vec<(&str, Option<Gender>, usize)> = per_speaker
        .iter()
        .map(|(s, (g, n))| (s.as_str(), *g, *n))
        .collect();
    assert_eq!(
        speakers,
        vec![
            ("ravdess:01", Some(Gender::Male), 28),
            ("ravdess:02", Some(Gender::Female), 28),
            ("ravdess:03", Some(Gender::Male), 28),
            ("ravdess:04", Some(Gender::Female), 28),
        ]
    );
}

#[test]
fn quickstart_clips_decode_16k_mono_short() {
    let report = scan(&[root()], None, &LabelPolicy::default()).unwrap();
    let mut total_bytes = 0;
    for u in &report.utterances {
        total_bytes += std::fs::metadata(&u.path).unwrap().len();
        let audio = ser_audio_io::load(&u.path).unwrap();
        assert_eq!(audio.sample_rate(), 16_000, "{:?}", u.path);
        let secs = audio.duration_secs();
        assert!((0.5..=2.5).contains(&secs), "{:?}: {secs} s", u.path);
        let peak = audio.samples().iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak > 0.01, "{:?}: silent", u.path);
    }
    assert!(
        total_bytes <= 3_000_000,
        "quickstart corpus is {total_bytes} bytes"
    );
}
