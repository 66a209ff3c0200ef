//! `runs::oversample`: augmented copies of training clips only, as many as the plan asks,
//! the same for the same seed, on the bundled quickstart corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ser_augment::{augment_seeded, research_waveform};
use ser_datasets::{Emotion, LabelPolicy, Utterance, scan};
use ser_dsp::LogMelConfig;
use ser_examples::runs::{featurize, oversample};

fn quickstart() -> Vec<Utterance> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/corpora/quickstart");
    scan(&[root], None, &LabelPolicy::default())
        .unwrap()
        .utterances
}

#[test]
fn oversample_tops_up_every_class_with_augmented_training_copies() {
    let all = quickstart();
    // Actor 01 trains: 4 clips per emotion.
    let train: Vec<&Utterance> = all.iter().filter(|u| u.speaker.ends_with(":01")).collect();
    assert_eq!(train.len(), 28);
    let config = LogMelConfig::default();
    let (plan, copies) = oversample(&train, Some(6), config, 7, true).unwrap();
    assert_eq!(plan.target(), 6);
    assert_eq!(
        copies.len(),
        7 * 2,
        "two copies per emotion to go from 4 to 6"
    );
    let originals = featurize(&all, config, None, true).unwrap();
    let mut per_class = [0usize; 7];
    let mut changed = 0;
    for (id, class, mel) in &copies {
        let id = id.to_string_lossy();
        let (source, copy) = id.rsplit_once("#aug").expect("ids are SOURCE#augN");
        assert!(copy.parse::<usize>().is_ok(), "{id}");
        let source = train
            .iter()
            .find(|u| u.path.to_string_lossy() == source)
            .unwrap_or_else(|| panic!("{id} is not a copy of a training clip"));
        assert_eq!(Emotion::ALL[*class], source.emotion.unwrap());
        per_class[*class] += 1;
        let original = &originals[&source.path];
        assert_eq!(mel.dim(), original.dim());
        assert!(mel.iter().all(|v| v.is_finite()));
        if mel != original {
            changed += 1;
        }
    }
    assert_eq!(per_class, [2; 7]);
    // Each step has p = 0.5, so one copy in eight is exact: a copy differs from its source
    // exactly when its seed draws at least one step.
    let mut drawn = 0;
    for entry in plan.entries() {
        let audio = ser_audio_io::load(entry.source()).unwrap();
        let (_, record) = augment_seeded(&research_waveform(), &audio, entry.seed()).unwrap();
        drawn += usize::from(!record.is_empty());
    }
    assert_eq!(changed, drawn);
    assert!(changed > 0);

    // Deterministic in the seed; another seed draws other copies.
    let (_, again) = oversample(&train, Some(6), config, 7, true).unwrap();
    assert_eq!(copies, again);
    let (_, other) = oversample(&train, Some(6), config, 8, true).unwrap();
    assert_ne!(copies, other);
}

#[test]
fn oversample_refuses_an_empty_training_split() {
    let err = oversample(&[], None, LogMelConfig::default(), 0, true).unwrap_err();
    assert!(err.to_string().contains("oversampling"), "{err}");
}
