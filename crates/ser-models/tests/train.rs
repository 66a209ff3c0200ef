//! Training: it learns a separable toy problem, the same seed gives the same weights,
//! resuming from a checkpoint continues exactly, torn checkpoints are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use ndarray::Array2;
use ser_models::train::{Dataset, TrainConfig, Trainer, predict};
use ser_models::{Architecture, InputMode, InputSpec, Model, ModelConfig};

/// Three classes of 16 × 16 "spectrograms": energy in the low, middle or high bands.
fn toy(n: usize, seed: u64) -> (Vec<Array2<f32>>, Vec<usize>) {
    let mut s = seed;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as f32) / (1u64 << 31) as f32
    };
    let mut feats = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let c = i % 3;
        let f = Array2::from_shape_fn((16, 16), |(m, _)| {
            let band = m / 6;
            let base = if band == c { -10.0 } else { -50.0 };
            base + 8.0 * rnd()
        });
        feats.push(f);
        labels.push(c);
    }
    (feats, labels)
}

fn config() -> ModelConfig {
    ModelConfig {
        input: InputSpec {
            mode: InputMode::LogMel {
                mean: -35.0,
                std: 20.0,
            },
            n_mels: 16,
            frames: 16,
            deltas: 0,
        },
        classes: 3,
        conv_channels: vec![4, 8],
        rnn_hidden: 8,
        attention_dim: 8,
        dense: vec![16],
        // Few steps: running statistics must catch up faster than Keras's 0.99.
        bn_momentum: 0.2,
        ..ModelConfig::research(Architecture::CnnBlstmAttn)
    }
}

fn train_cfg(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        patience: None,
        seed: 7,
        adam: ser_models::optim::AdamConfig {
            learning_rate: 5e-3,
            ..Default::default()
        },
        ..TrainConfig::default()
    }
}

fn weights(m: &Model) -> BTreeMap<String, Vec<f32>> {
    m.store()
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect()
}

#[test]
fn learns_a_separable_problem_and_is_reproducible() {
    let (f, l) = toy(48, 1);
    let train = Dataset::new(f, l.clone(), 8).unwrap().shuffled(3);
    let (vf, vl) = toy(24, 2);
    let val = Dataset::new(vf, vl, 8).unwrap();
    let run = || {
        let model = Model::new(config(), 11, &Device::Cpu).unwrap();
        let mut t = Trainer::new(&model, train_cfg(8), &l).unwrap();
        t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
        let acc = predict(&model, &val).unwrap().accuracy();
        (weights(&model), acc, t.state().history.clone())
    };
    let (w1, acc1, h1) = run();
    let (w2, acc2, h2) = run();
    assert!(acc1 > 0.9, "validation accuracy {acc1}");
    assert_eq!(acc1, acc2);
    assert_eq!(w1, w2, "same seed, same weights");
    assert_eq!(h1.epochs.len(), 8);
    assert_eq!(
        h1.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>(),
        h2.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>()
    );
}

#[test]
fn resuming_from_a_checkpoint_continues_exactly() {
    let (f, l) = toy(24, 3);
    let train = Dataset::new(f, l.clone(), 8).unwrap().shuffled(5);
    let (vf, vl) = toy(12, 4);
    let val = Dataset::new(vf, vl, 6).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Straight through: 4 epochs.
    let straight = Model::new(config(), 3, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&straight, train_cfg(4), &l).unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();

    // 2 epochs, checkpoint, a fresh process (new model, other seed), 2 more.
    let first = Model::new(config(), 3, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&first, train_cfg(2), &l).unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    let second = Model::new(config(), 999, &Device::Cpu).unwrap();
    let mut t = Trainer::resume(&second, dir.path(), Some(4)).unwrap();
    assert_eq!(t.state().epoch, 2);
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    assert_eq!(t.state().epoch, 4);
    assert_eq!(
        weights(&straight),
        weights(&second),
        "resumed run ends with the same weights"
    );

    // A torn checkpoint (weights from another step) is refused.
    let other = dir.path().join("other");
    let m = Model::new(config(), 3, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&m, train_cfg(1), &l).unwrap();
    t.fit(&train, None, Some(&other), &mut |_| {}).unwrap();
    // One whole checkpoint is kept, in a folder of its own.
    let generation = |d: &std::path::Path| {
        let gens: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("gen-"))
            .collect();
        assert_eq!(gens.len(), 1, "{gens:?}");
        gens[0].clone()
    };
    std::fs::copy(
        generation(&other).join("weights.safetensors"),
        generation(dir.path()).join("weights.safetensors"),
    )
    .unwrap();
    let err = Trainer::resume(&m, dir.path(), None).unwrap_err();
    assert!(err.to_string().contains("step"), "{err}");
    // And a missing one too.
    assert!(Trainer::resume(&m, &dir.path().join("nothing"), None).is_err());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let model = Model::new(config(), 0, &Device::Cpu).unwrap();
    let wrong = Tensor::zeros((2, 1, 8, 16), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(model.forward_t(&wrong, ser_models::Mode::Eval).is_err());
    let mut f = toy(3, 0).0;
    f[1][[2, 3]] = f32::NAN;
    let ds = Dataset::new(f, vec![0, 1, 2], 3).unwrap();
    let err = predict(&model, &ds).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
    assert!(Dataset::new(toy(2, 0).0, vec![0], 1).is_err());
    let mut bad = config();
    bad.input.n_mels = 2;
    assert!(Model::new(bad, 0, &Device::Cpu).is_err());
}

/// Mixup and SpecAugment masks: the toy problem is still learnt, the same seed gives the
/// same weights, and a resumed run (with per-utterance CMVN input) ends where a straight
/// one does: mixup's λ and partners, and the masks, come from the step's seed.
#[test]
fn mixup_masks_and_cmvn_learn_reproduce_and_resume() {
    use ser_models::train::SpecMasks;
    let mut cfg = config();
    let tc = |epochs| TrainConfig {
        mixup: Some(0.4),
        spec_masks: Some(SpecMasks {
            freq_width: 2,
            freq_count: 1,
            time_width: 3,
            time_count: 2,
        }),
        ..train_cfg(epochs)
    };
    let (f, l) = toy(48, 1);
    let train = Dataset::new(f, l.clone(), 8).unwrap().shuffled(3);
    let (vf, vl) = toy(24, 2);
    let val = Dataset::new(vf, vl, 8).unwrap();
    let run = |cfg: &ModelConfig, epochs| {
        let model = Model::new(cfg.clone(), 11, &Device::Cpu).unwrap();
        let mut t = Trainer::new(&model, tc(epochs), &l).unwrap();
        t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
        model
    };
    let a = run(&cfg, 8);
    let acc = predict(&a, &val).unwrap().accuracy();
    assert!(acc > 0.9, "validation accuracy {acc}");
    assert_eq!(
        weights(&a),
        weights(&run(&cfg, 8)),
        "same seed, same weights"
    );

    // The toy's classes are band levels, which CMVN takes out by design: from here on it
    // only has to run and resume exactly.
    cfg.input.mode = InputMode::LogMelCmvn;
    let straight = run(&cfg, 3);
    let dir = tempfile::tempdir().unwrap();
    let first = Model::new(cfg.clone(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&first, tc(2), &l).unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    let second = Model::new(cfg.clone(), 5, &Device::Cpu).unwrap();
    let mut t = Trainer::resume(&second, dir.path(), Some(3)).unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    assert_eq!(weights(&straight), weights(&second));

    // Without mixup the weights differ: it really changes the steps.
    let model = Model::new(cfg, 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(
        &model,
        TrainConfig {
            mixup: None,
            ..tc(3)
        },
        &l,
    )
    .unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    assert_ne!(weights(&model), weights(&straight));
}

#[test]
fn absurd_mixup_masks_and_smoothing_are_refused() {
    use ser_models::train::SpecMasks;
    let model = Model::new(config(), 0, &Device::Cpu).unwrap();
    for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = Trainer::new(
            &model,
            TrainConfig {
                mixup: Some(alpha),
                ..train_cfg(1)
            },
            &[0, 1, 2],
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("mixup"), "{err}");
    }
    let err = Trainer::new(
        &model,
        TrainConfig {
            spec_masks: Some(SpecMasks {
                freq_width: 0,
                ..SpecMasks::default()
            }),
            ..train_cfg(1)
        },
        &[0, 1, 2],
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("spec_masks"), "{err}");
    for eps in [-0.1, 1.0, f64::NAN] {
        let err = Trainer::new(
            &model,
            TrainConfig {
                label_smoothing: eps,
                ..train_cfg(1)
            },
            &[0, 1, 2],
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("label_smoothing"), "{err}");
    }
}

/// The weight average: the toy problem is still learnt with it, the model ends with the
/// average (not the last step's weights), and a run resumed from a checkpoint ends where a
/// straight one does (the average is in the checkpoint).
#[test]
fn weight_average_learns_is_kept_and_resumes_exactly() {
    let tc = |epochs, ema| TrainConfig {
        ema,
        ..train_cfg(epochs)
    };
    let (f, l) = toy(48, 1);
    let train = Dataset::new(f, l.clone(), 8).unwrap().shuffled(3);
    let (vf, vl) = toy(24, 2);
    let val = Dataset::new(vf, vl, 8).unwrap();

    let averaged = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&averaged, tc(6, Some(0.9)), &l).unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    let acc = predict(&averaged, &val).unwrap().accuracy();
    assert!(acc > 0.9, "validation accuracy {acc}");
    // The same steps without the average end elsewhere: the kept weights are the average.
    let plain = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&plain, tc(6, None), &l).unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    assert_ne!(weights(&averaged), weights(&plain));

    // Without validation the model ends with the average too, and the same steps' plain
    // weights differ from it.
    let a = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&a, tc(2, Some(0.9)), &l).unwrap();
    t.fit(&train, None, None, &mut |_| {}).unwrap();
    let b = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&b, tc(2, None), &l).unwrap();
    t.fit(&train, None, None, &mut |_| {}).unwrap();
    assert_ne!(weights(&a), weights(&b));

    // Resume: 2 epochs, checkpoint, a fresh model, 2 more, against 4 straight.
    let straight = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&straight, tc(4, Some(0.9)), &l).unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&first, tc(2, Some(0.9)), &l).unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    let second = Model::new(config(), 5, &Device::Cpu).unwrap();
    let mut t = Trainer::resume(&second, dir.path(), Some(4)).unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    assert_eq!(weights(&straight), weights(&second));

    // Vocal-tract-length perturbation: still learnt, reproducible, and it changes the
    // steps.
    let warp = |epochs| TrainConfig {
        vtlp: Some(
            ser_augment::MelWarp::new(0.9, 1.1, 0.0, 8000.0, 4800.0, ser_dsp::MelScale::Slaney)
                .unwrap(),
        ),
        ..tc(epochs, None)
    };
    let run = |cfg: TrainConfig| {
        let m = Model::new(config(), 11, &Device::Cpu).unwrap();
        let mut t = Trainer::new(&m, cfg, &l).unwrap();
        t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
        m
    };
    let warped = run(warp(6));
    let acc = predict(&warped, &val).unwrap().accuracy();
    assert!(acc > 0.9, "validation accuracy with VTLP {acc}");
    assert_eq!(weights(&warped), weights(&run(warp(6))));
    assert_ne!(weights(&warped), weights(&plain));

    // An absurd decay is refused.
    let m = Model::new(config(), 11, &Device::Cpu).unwrap();
    assert!(Trainer::new(&m, tc(1, Some(1.5)), &l).is_err());
}

/// [`toy`] with a speaker in every item: speaker `(i / 3) % 2` (each speaker has every
/// class) raises the top two bands of its items by 30 dB.
fn toy_speakers(
    n: usize,
    seed: u64,
) -> (
    Dataset,
    Vec<usize>,
    std::collections::HashMap<std::path::PathBuf, usize>,
) {
    let (mut f, l) = toy(n, seed);
    let mut who = std::collections::HashMap::new();
    for (i, x) in f.iter_mut().enumerate() {
        let s = (i / 3) % 2;
        if s == 1 {
            x.slice_mut(ndarray::s![14.., ..])
                .mapv_inplace(|v| v + 30.0);
        }
        who.insert(std::path::PathBuf::from(i.to_string()), s);
    }
    (Dataset::new(f, l.clone(), 8).unwrap().shuffled(3), l, who)
}

#[test]
fn speaker_adversary_hides_speakers_keeps_emotions_and_resumes_exactly() {
    use ser_models::adversary::SpeakerAdversary;
    let tc = |epochs, weight| TrainConfig {
        speaker_adversary: Some(SpeakerAdversary::new(weight, 2)),
        ..train_cfg(epochs)
    };
    let (train, l, who) = toy_speakers(48, 1);
    let (val, _, _) = toy_speakers(24, 2);
    let run = |cfg: TrainConfig| {
        let m = Model::new(config(), 11, &Device::Cpu).unwrap();
        let mut t = Trainer::new(&m, cfg, &l)
            .unwrap()
            .with_speakers(who.clone())
            .unwrap();
        t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
        let speaker = t.speaker_accuracy().unwrap();
        let record = t.state().history.epochs.last().unwrap().speaker_accuracy;
        assert_eq!(record, Some(speaker), "the epoch's record has it");
        (weights(&m), predict(&m, &val).unwrap().accuracy(), speaker)
    };
    // λ = 0: the head reads the speaker off the representation; the network is as
    // without the head (the head's loss never reaches it).
    let (w0, acc0, speaker0) = run(tc(8, 0.0));
    let plain = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&plain, train_cfg(8), &l).unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    assert_eq!(
        w0,
        weights(&plain),
        "λ = 0 leaves the network's steps alone"
    );
    assert!(acc0 > 0.9, "emotion accuracy {acc0}");
    assert!(
        speaker0 > 0.6,
        "the head tells the speakers apart: {speaker0}"
    );
    // λ > 0: the emotions are still learnt and the speakers are harder to tell apart.
    let (w1, acc1, speaker1) = run(tc(8, 1.0));
    assert!(acc1 > 0.9, "emotion accuracy with the adversary {acc1}");
    assert!(
        speaker1 < speaker0,
        "speaker head accuracy {speaker1} with the reversal, {speaker0} without"
    );
    assert_eq!(w1, run(tc(8, 1.0)).0, "reproducible");

    // Resume: 2 epochs, checkpoint, a fresh model, 2 more, against 4 straight.
    let straight = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&straight, tc(4, 0.5), &l)
        .unwrap()
        .with_speakers(who.clone())
        .unwrap();
    t.fit(&train, Some(&val), None, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = Model::new(config(), 11, &Device::Cpu).unwrap();
    let mut t = Trainer::new(&first, tc(2, 0.5), &l)
        .unwrap()
        .with_speakers(who.clone())
        .unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    let second = Model::new(config(), 5, &Device::Cpu).unwrap();
    let mut t = Trainer::resume(&second, dir.path(), Some(4))
        .unwrap()
        .with_speakers(who.clone())
        .unwrap();
    t.fit(&train, Some(&val), Some(dir.path()), &mut |_| {})
        .unwrap();
    assert_eq!(weights(&straight), weights(&second));
}

#[test]
fn speaker_adversary_refuses_what_it_cannot_use() {
    use ser_models::Error;
    use ser_models::adversary::SpeakerAdversary;
    let (train, l, who) = toy_speakers(12, 1);
    let m = Model::new(config(), 11, &Device::Cpu).unwrap();
    let cfg = |a: SpeakerAdversary| TrainConfig {
        speaker_adversary: Some(a),
        ..train_cfg(1)
    };
    // Absurd settings, and mixup (a blend of two clips has no one speaker).
    for bad in [
        cfg(SpeakerAdversary::new(f64::INFINITY, 2)),
        cfg(SpeakerAdversary::new(0.1, 1)),
        TrainConfig {
            mixup: Some(0.2),
            ..cfg(SpeakerAdversary::new(0.1, 2))
        },
    ] {
        let err = Trainer::new(&m, bad, &l).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err}");
    }
    // A speaker index the head does not have.
    let mut wrong = who.clone();
    wrong.insert("0".into(), 2);
    let t = Trainer::new(&m, cfg(SpeakerAdversary::new(0.1, 2)), &l).unwrap();
    assert!(matches!(t.with_speakers(wrong), Err(Error::Config { .. })));
    // An item without a speaker: an error naming it, at the first batch that has it.
    let mut missing = who;
    missing.remove(std::path::Path::new("5"));
    let mut t = Trainer::new(&m, cfg(SpeakerAdversary::new(0.1, 2)), &l)
        .unwrap()
        .with_speakers(missing)
        .unwrap();
    let err = t.fit(&train, None, None, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains('5'), "{err}");
}
