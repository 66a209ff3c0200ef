//! Loader and feature cache: shapes, order, shuffling, augmentation, cache hits and misses,
//! corruption and bad files.

// Helpers outside `#[test]` fns unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ser_augment::GaussianNoise;
use ser_datasets::{Batch, Corpus, Emotion, Error, FeatureCache, Loader, Utterance};
use ser_dsp::{LogMel, LogMelConfig};

const CLIPS: [&str; 7] = [
    "speech_16k.wav",
    "speech_22k.wav",
    "speech_44k_stereo.wav",
    "speech_48k.wav",
    "tone_440_16k.wav",
    "chirp_48k.wav",
    "multitone_44k.wav",
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audio")
}

fn utterance(path: PathBuf, emotion: Option<Emotion>) -> Utterance {
    Utterance {
        path,
        corpus: Corpus::Ravdess,
        speaker: "ravdess:01".into(),
        gender: None,
        original_label: "x".into(),
        intensity: None,
        emotion,
        language: None,
    }
}

/// Copies the clips into `dir` and labels clip `i` with emotion `i`.
fn corpus(dir: &Path) -> Vec<Utterance> {
    std::fs::create_dir_all(dir).unwrap();
    CLIPS
        .iter()
        .zip(Emotion::ALL)
        .map(|(name, e)| {
            let dst = dir.join(name);
            std::fs::copy(fixture_dir().join(name), &dst).unwrap();
            utterance(dst, Some(e))
        })
        .collect()
}

fn logmel() -> LogMel {
    LogMel::new(LogMelConfig::default()).unwrap()
}

fn collect(loader: &Loader, epoch: u64) -> Vec<Batch> {
    loader.epoch(epoch).collect::<Result<Vec<_>, _>>().unwrap()
}

fn paths(batches: &[Batch]) -> Vec<PathBuf> {
    batches.iter().flat_map(|b| b.paths.clone()).collect()
}

#[test]
fn loader_batches_have_shapes_and_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let mut utts = corpus(tmp.path());
    utts.push(utterance(tmp.path().join("unlabelled.wav"), None));
    let loader = Loader::new(&utts, logmel(), 3).unwrap();
    assert_eq!(loader.len(), 7);
    assert_eq!(loader.unlabelled(), 1);
    assert_eq!(loader.n_batches(), 3);
    assert_eq!(loader.epoch(0).len(), 3);
    let batches = collect(&loader, 0);
    let sizes: Vec<usize> = batches.iter().map(Batch::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    for b in &batches {
        assert_eq!(b.features.dim(), (b.len(), 128, 94));
        assert!(b.features.iter().all(|v| v.is_finite()));
    }
    let labels: Vec<usize> = batches.iter().flat_map(|b| b.labels.clone()).collect();
    assert_eq!(labels, (0..7).collect::<Vec<_>>());
    assert_eq!(loader.decode_count(), 7);
}

#[test]
fn loader_rejects_zero_batch_and_no_labels() {
    let u = vec![utterance("a.wav".into(), None)];
    assert!(matches!(
        Loader::new(&u, logmel(), 1),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        Loader::new(&u, logmel(), 0),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn loader_without_shuffle_keeps_order_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(tmp.path());
    let loader = Loader::new(&utts, logmel(), 4).unwrap();
    let a = collect(&loader, 0);
    let b = collect(&loader, 1);
    let order: Vec<PathBuf> = utts.iter().map(|u| u.path.clone()).collect();
    assert_eq!(paths(&a), order);
    assert_eq!(a, b);
}

#[test]
fn loader_shuffle_differs_between_epochs_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(tmp.path());
    let a = Loader::new(&utts, logmel(), 2).unwrap().with_shuffle(42);
    let b = Loader::new(&utts, logmel(), 2).unwrap().with_shuffle(42);
    assert_ne!(a.order(0), a.order(1));
    assert_eq!(a.order(3), b.order(3));
    let e0 = collect(&a, 0);
    let e1 = collect(&a, 1);
    assert_ne!(paths(&e0), paths(&e1));
    assert_eq!(e0, collect(&b, 0));
    // Labels follow their files.
    for batch in &e0 {
        for (p, &l) in batch.paths.iter().zip(&batch.labels) {
            let u = utts.iter().find(|u| &u.path == p).unwrap();
            assert_eq!(u.emotion.map(Emotion::index), Some(l));
        }
    }
}

#[test]
fn loader_augmentation_changes_features_reproducibly() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(tmp.path());
    let aug = |seed| {
        Loader::new(&utts, logmel(), 4)
            .unwrap()
            .with_augmentation(Box::new(GaussianNoise::new(0.05).unwrap()), seed)
    };
    let plain = collect(&Loader::new(&utts, logmel(), 4).unwrap(), 0);
    let a = aug(7);
    let e0 = collect(&a, 0);
    assert_eq!(paths(&e0), paths(&plain));
    assert_ne!(e0[0].features, plain[0].features);
    assert_eq!(e0, collect(&aug(7), 0), "same seed, same epoch");
    assert_ne!(e0, collect(&a, 1), "a new epoch draws new noise");
    assert_ne!(e0, collect(&aug(8), 0), "another seed draws other noise");
}

#[test]
fn cache_serves_epoch_two_without_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let utts = corpus(&src);
    let cache = FeatureCache::open(tmp.path().join("cache"))
        .unwrap()
        .with_shard_capacity(3)
        .unwrap();
    let loader = Loader::new(&utts, logmel(), 4)
        .unwrap()
        .with_shuffle(1)
        .with_cache(cache);
    let e0 = collect(&loader, 0);
    assert_eq!(loader.decode_count(), 7);
    assert_eq!(loader.cache().map(FeatureCache::len), Some(7));

    // The sources are gone: epoch 2 must come from the cache alone.
    std::fs::rename(&src, tmp.path().join("moved")).unwrap();
    let e1 = collect(&loader, 1);
    assert_eq!(loader.decode_count(), 7, "no decode in epoch 2");
    let mut a: Vec<_> = e0
        .iter()
        .flat_map(|b| {
            b.paths
                .iter()
                .cloned()
                .zip(b.features.outer_iter().map(|x| x.to_owned()))
        })
        .collect();
    let mut b: Vec<_> = e1
        .iter()
        .flat_map(|b| {
            b.paths
                .iter()
                .cloned()
                .zip(b.features.outer_iter().map(|x| x.to_owned()))
        })
        .collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b, "cached features equal computed ones");
    std::fs::rename(tmp.path().join("moved"), &src).unwrap();

    // A new loader (new process) on the same cache: keys by content, no decode.
    let cache = FeatureCache::open(tmp.path().join("cache")).unwrap();
    let again = Loader::new(&utts, logmel(), 4).unwrap().with_cache(cache);
    let e = collect(&again, 0);
    assert_eq!(again.decode_count(), 0);
    assert_eq!(e.iter().map(Batch::len).sum::<usize>(), 7);
}

#[test]
fn cache_keys_by_content_not_path() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(&tmp.path().join("a"));
    let dir = tmp.path().join("cache");
    let first = Loader::new(&utts, logmel(), 7)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    collect(&first, 0);
    // The same bytes under other names hit.
    let copies = corpus(&tmp.path().join("b"));
    let second = Loader::new(&copies, logmel(), 7)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    collect(&second, 0);
    assert_eq!(second.decode_count(), 0);
}

#[test]
fn cache_misses_when_config_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(&tmp.path().join("src"));
    let dir = tmp.path().join("cache");
    let first = Loader::new(&utts, logmel(), 4)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    collect(&first, 0);
    let config = LogMelConfig {
        n_mels: 64,
        ..LogMelConfig::default()
    };
    let other = Loader::new(&utts, LogMel::new(config).unwrap(), 4)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    let batches = collect(&other, 0);
    assert_eq!(other.decode_count(), 7, "a new config is a new key");
    assert_eq!(batches[0].features.dim().1, 64);
    assert_eq!(other.cache().map(FeatureCache::len), Some(14));
}

#[test]
fn cache_is_bypassed_with_augmentation() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(&tmp.path().join("src"));
    let loader = Loader::new(&utts, logmel(), 4)
        .unwrap()
        .with_augmentation(Box::new(GaussianNoise::new(0.05).unwrap()), 3)
        .with_cache(FeatureCache::open(tmp.path().join("cache")).unwrap());
    collect(&loader, 0);
    collect(&loader, 1);
    assert_eq!(loader.decode_count(), 14);
    assert_eq!(loader.cache().map(FeatureCache::len), Some(0));
}

#[test]
fn cache_corrupt_shard_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(&tmp.path().join("src"));
    let dir = tmp.path().join("cache");
    let first = Loader::new(&utts, logmel(), 7)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    collect(&first, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            std::fs::write(&path, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap();
        }
    }
    let cache = FeatureCache::open(&dir).unwrap();
    let second = Loader::new(&utts, logmel(), 7).unwrap().with_cache(cache);
    let err = second.epoch(0).next().unwrap().unwrap_err();
    assert!(matches!(err, Error::CacheCorrupt { .. }), "{err}");
    // Clearing rebuilds.
    second.cache().unwrap().clear().unwrap();
    collect(&second, 0);
    assert_eq!(second.cache().map(FeatureCache::len), Some(7));
}

#[test]
fn cache_corrupt_index_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("index.json"), "{").unwrap();
    let err = FeatureCache::open(tmp.path()).unwrap_err();
    assert!(matches!(err, Error::CacheCorrupt { .. }), "{err}");
}

#[test]
fn loader_bad_file_fails_its_batch_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut utts = corpus(tmp.path());
    let bad = tmp.path().join("garbage.wav");
    std::fs::write(&bad, b"this is not a RIFF file at all").unwrap();
    let missing = tmp.path().join("missing.wav");
    utts.insert(1, utterance(bad.clone(), Some(Emotion::Sad)));
    utts.push(utterance(missing.clone(), Some(Emotion::Sad)));
    // Batches: [0, bad], [2, 3], [4, 5], [6, 7], [missing]
    let loader = Loader::new(&utts, logmel(), 2).unwrap();
    let results: Vec<_> = loader.epoch(0).collect();
    assert_eq!(results.len(), 5);
    match &results[0] {
        Err(e @ Error::Decode { path, .. }) => {
            assert_eq!(path, &bad);
            assert!(e.to_string().contains("garbage.wav"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(results[1..4].iter().all(Result::is_ok), "the epoch goes on");
    assert!(matches!(&results[4], Err(Error::Io { path, .. }) if path == &missing));
}

#[test]
fn cache_truncated_shard_is_a_typed_error() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(&tmp.path().join("src"));
    let dir = tmp.path().join("cache");
    let first = Loader::new(&utts, logmel(), 7)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    collect(&first, 0);
    let shard = dir.join("shard-000000.safetensors");
    let len = std::fs::metadata(&shard).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&shard)
        .unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let second = Loader::new(&utts, logmel(), 7)
        .unwrap()
        .with_cache(FeatureCache::open(&dir).unwrap());
    match second.epoch(0).next().unwrap() {
        Err(Error::CacheCorrupt { path, .. }) => assert_eq!(path, shard),
        other => panic!("expected a corrupt-cache error, got {other:?}"),
    }
}

#[test]
fn loader_variable_lengths_are_a_shape_error() {
    let tmp = tempfile::tempdir().unwrap();
    let utts = corpus(tmp.path());
    let config = LogMelConfig {
        duration_secs: None,
        ..LogMelConfig::default()
    };
    let loader = Loader::new(&utts, LogMel::new(config).unwrap(), 7).unwrap();
    let err = loader.epoch(0).next().unwrap().unwrap_err();
    assert!(matches!(err, Error::FeatureShape { .. }), "{err}");
    // One item per batch is fine.
    let single = Loader::new(&utts, LogMel::new(config).unwrap(), 1).unwrap();
    assert!(single.epoch(0).all(|b| b.is_ok()));
}
