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

/// Speaker standardisation: every clip by its speaker's statistics over all their clips,
/// and the random histories of `SpeakerHistory` (seeded, between a clip's own statistics
/// and its whole speaker's).
#[test]
fn speaker_standardisation_and_random_histories() {
    use ser_examples::runs::{SpeakerHistory, speaker_key, standardize_by_speaker};
    use ser_models::features::BandStats;
    let all = quickstart();
    let config = LogMelConfig::default();
    let raw = featurize(&all, config, None, true).unwrap();
    let mut feats = raw.clone();
    let stats = standardize_by_speaker(&all, &mut feats, None).unwrap();
    let speakers: std::collections::BTreeSet<String> = all.iter().map(speaker_key).collect();
    assert_eq!(stats.len(), speakers.len());
    for s in &speakers {
        // Each band of a speaker's standardised clips has mean 0 over all their frames.
        let mine: Vec<_> = all.iter().filter(|u| &speaker_key(u) == s).collect();
        let (rows, _) = feats[&mine[0].path].dim();
        for band in 0..rows {
            let (sum, n) = mine.iter().fold((0f64, 0usize), |(s, n), u| {
                let row = feats[&u.path].row(band);
                (
                    s + row.iter().map(|&v| f64::from(v)).sum::<f64>(),
                    n + row.len(),
                )
            });
            assert!((sum / n as f64).abs() < 1e-4, "speaker {s}, band {band}");
        }
    }

    let train: Vec<&Utterance> = all.iter().collect();
    let draw = |seed| {
        let mut h = SpeakerHistory::new(&train, &raw, None, seed);
        train
            .iter()
            .map(|u| h.standardize(u, &u.path, &raw[&u.path]).unwrap())
            .collect::<Vec<_>>()
    };
    let a = draw(3);
    assert_eq!(a, draw(3), "same seed, same histories");
    assert_ne!(a, draw(4));
    // Each lies between its own statistics (k = 1) and some larger history: at least one
    // clip differs from both its own and its speaker's full standardisation.
    let own: Vec<_> = train
        .iter()
        .map(|u| {
            BandStats::new(128)
                .standardize(raw[&u.path].view())
                .unwrap()
        })
        .collect();
    let full: Vec<_> = train.iter().map(|u| feats[&u.path].clone()).collect();
    assert!(a.iter().zip(&own).any(|(x, o)| x == o), "some k = 1");
    assert!(
        a.iter()
            .zip(&own)
            .zip(&full)
            .any(|((x, o), f)| x != o && x != f),
        "some partial histories"
    );
    // `with_all_fraction(1.0)`: every clip by all of its speaker's, as standardize_by_speaker
    // (the sums in another order: equal to rounding).
    let mut h = SpeakerHistory::new(&train, &raw, None, 5).with_all_fraction(1.0);
    for u in &train {
        let y = h.standardize(u, &u.path, &raw[&u.path]).unwrap();
        let d = y
            .iter()
            .zip(feats[&u.path].iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(d < 1e-4, "{}: {d}", u.path.display());
    }
}

/// With a prior, a speaker's statistics are shrunk towards the population's: one clip
/// alone lands between its own standardisation and the population's.
#[test]
fn a_prior_shrinks_speaker_statistics_towards_the_population() {
    use ser_examples::runs::standardize_by_speaker;
    use ser_models::features::BandStats;
    let all = quickstart();
    let raw = featurize(&all, LogMelConfig::default(), None, true).unwrap();
    let mut pop = BandStats::new(128);
    for x in raw.values() {
        pop.add(x.view()).unwrap();
    }
    let prior = pop.to_prior(94.0).unwrap();
    assert!(prior.validate(128).is_ok());
    assert!(prior.validate(64).is_err());
    let one = &all[..1];
    let x = &raw[&one[0].path];
    let mut f = raw.clone();
    standardize_by_speaker(one, &mut f, Some(&prior)).unwrap();
    let shrunk = &f[&one[0].path];
    let own = BandStats::new(128).standardize(x.view()).unwrap();
    let population = BandStats::with_prior(128, Some(&prior))
        .standardize(x.view())
        .unwrap();
    assert_ne!(shrunk, &own);
    assert_ne!(shrunk, &population);
    // Recover the mean and scale that were used from two frames of a band, and check them
    // against (w·μ₀ + Σx) / (w + n) and the pooled second moment.
    let (w, n) = (94.0f64, x.ncols() as f64);
    for band in [0, 40, 100] {
        let row = x.row(band);
        let (i, j) = (0..row.len())
            .flat_map(|i| (0..row.len()).map(move |j| (i, j)))
            .find(|&(i, j)| (row[i] - row[j]).abs() > 1.0)
            .expect("a band that moves");
        let (x1, x2) = (f64::from(row[i]), f64::from(row[j]));
        let (y1, y2) = (f64::from(shrunk[[band, i]]), f64::from(shrunk[[band, j]]));
        let scale = (x1 - x2) / (y1 - y2);
        let mean = x1 - scale * y1;
        let sum: f64 = row.iter().map(|&v| f64::from(v)).sum();
        let sum_sq: f64 = row.iter().map(|&v| f64::from(v).powi(2)).sum();
        let (m0, v0) = (f64::from(prior.mean[band]), f64::from(prior.var[band]));
        let want_mean = (w * m0 + sum) / (w + n);
        let want_var = (w * (v0 + m0 * m0) + sum_sq) / (w + n) - want_mean.powi(2);
        assert!(
            (mean - want_mean).abs() < 1e-3,
            "band {band}: {mean} vs {want_mean}"
        );
        let want_scale = (want_var + 1.0).sqrt();
        assert!(
            (scale - want_scale).abs() < 1e-3 * want_scale,
            "band {band}: {scale} vs {want_scale}"
        );
    }
}
