//! `Recognizer`: one utterance, timelines of any length, the live stream (same segments in
//! any pieces), no speech, bad input; and the shipped model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ser_dsp::Audio;
use ser_models::candle_core::Device;
use ser_models::run::{RunConfig, class_names, input_shape};
use ser_models::timeline::{Timeline, TimelineConfig};
use ser_models::train::TrainConfig;
use ser_models::{Architecture, Error, Model, ModelConfig, Recognizer};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/audio")
        .join(name)
}

/// A CNN-BLSTM-attention small enough for debug builds, with random weights.
fn tiny() -> Recognizer {
    tiny_with(GLOBAL)
}

/// [`tiny`] with another input mode.
fn tiny_with(mode: ser_models::InputMode) -> Recognizer {
    tiny_with_prior(mode, None).unwrap()
}

/// [`tiny`] with another input mode and a band prior.
fn tiny_with_prior(
    mode: ser_models::InputMode,
    band_prior: Option<ser_models::BandPrior>,
) -> ser_models::Result<Recognizer> {
    let (config, model) = tiny_parts(mode, band_prior, 7)?;
    Recognizer::new(config, model)
}

/// The run configuration and the model of [`tiny_with_prior`], its weights from `seed`.
fn tiny_parts(
    mode: ser_models::InputMode,
    band_prior: Option<ser_models::BandPrior>,
    seed: u64,
) -> ser_models::Result<(RunConfig, Model)> {
    let features = ser_dsp::LogMelConfig::default();
    let mut model = ModelConfig::research(Architecture::CnnBlstmAttn);
    (model.input.n_mels, model.input.frames) = input_shape(&features).unwrap();
    model.input.mode = mode;
    model.band_prior = band_prior;
    model.conv_channels = vec![4, 8, 8, 8];
    model.rnn_hidden = 8;
    model.attention_dim = 8;
    model.dense = vec![8];
    let config = RunConfig {
        model: model.clone(),
        features,
        train: TrainConfig::default(),
        classes: class_names(),
        data: Vec::new(),
        split: "speaker".into(),
        seed,
        oversampled_to: None,
    };
    let model = Model::new(model, seed, &Device::Cpu)?;
    Ok((config, model))
}

/// The input mode of [`tiny`].
const GLOBAL: ser_models::InputMode = ser_models::InputMode::LogMel {
    mean: -50.0,
    std: 20.0,
};

/// `speech_long_16k.wav` (4.2 s), 2 s of silence, `speech_16k.wav` (2.5 s): 8.7 s.
fn long_clip() -> Audio {
    let a = ser_audio_io::load(fixture("speech_long_16k.wav")).unwrap();
    let b = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
    let mut y = a.samples().to_vec();
    y.extend(std::iter::repeat_n(0.0, 32_000));
    y.extend_from_slice(b.samples());
    Audio::new(y, 16_000).unwrap()
}

fn stream_in_pieces(r: &Recognizer, audio: &Audio, config: &TimelineConfig, seed: u64) -> Timeline {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stream = r.stream(audio.sample_rate(), config).unwrap();
    let mut segments = Vec::new();
    let mut rest = audio.samples();
    while !rest.is_empty() {
        let n = rng.random_range(1..=rest.len().min(20_000));
        let (piece, tail) = rest.split_at(n);
        segments.extend(stream.push(piece).unwrap());
        rest = tail;
    }
    segments.extend(stream.finish().unwrap());
    stream.timeline(segments)
}

#[test]
fn timeline_windows_cover_the_input_and_mark_silence() {
    let r = tiny();
    let audio = long_clip();
    let t = r.timeline(&audio, &TimelineConfig::default()).unwrap();
    let bounds: Vec<(f64, f64)> = t.segments.iter().map(|s| (s.start, s.end)).collect();
    // Full windows start every second while they fit in 8.73 s; the tail [6, 8.73) follows.
    let end = audio.len() as f64 / 16_000.0;
    let mut expected: Vec<(f64, f64)> = (0..6).map(|k| (k as f64, k as f64 + 3.0)).collect();
    expected.push((6.0, end));
    assert_eq!(bounds, expected);
    assert!((t.duration - end).abs() < 1e-9);
    // Speech everywhere but in the window that lies in the 2 s gap.
    let silent: Vec<usize> = (0..t.segments.len())
        .filter(|&i| t.segments[i].prediction.is_none())
        .collect();
    assert!(
        silent.is_empty(),
        "every window reaches some speech: {silent:?}"
    );
    let gap = Audio::new(vec![0.0; 16_000 * 5], 16_000).unwrap();
    let g = r.timeline(&gap, &TimelineConfig::default()).unwrap();
    assert_eq!(g.segments.len(), 3);
    assert!(g.segments.iter().all(|s| s.prediction.is_none()));
    assert_eq!(g.overall, None);
    // The overall prediction is the mean of the speech windows'.
    let overall = t.overall.unwrap();
    for k in 0..7 {
        let mean = t
            .segments
            .iter()
            .filter_map(|s| s.prediction)
            .map(|p| f64::from(p.probabilities[k]))
            .sum::<f64>()
            / t.speech_segments() as f64;
        assert!((f64::from(overall.probabilities[k]) - mean).abs() < 1e-6);
    }
    let sum: f32 = overall.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[test]
fn a_silent_stretch_inside_speech_gets_no_emotion() {
    let r = tiny();
    let a = ser_audio_io::load(fixture("speech_long_16k.wav")).unwrap();
    let mut y = a.samples().to_vec();
    y.extend(std::iter::repeat_n(1e-4f32, 16_000 * 5)); // -80 dBFS for 5 s
    y.extend_from_slice(a.samples());
    let t = r
        .timeline(&Audio::new(y, 16_000).unwrap(), &TimelineConfig::default())
        .unwrap();
    // The first clip's speech ends before 3.9 s (0.35 s of zeros close it) and the second's
    // starts at 9.51 s (after 0.3 s of zeros): the windows starting at 4, 5 and 6 s hear
    // none of it.
    let none: Vec<f64> = t
        .segments
        .iter()
        .filter(|s| s.prediction.is_none())
        .map(|s| s.start)
        .collect();
    assert_eq!(none, vec![4.0, 5.0, 6.0]);
    assert!(t.overall.is_some());
}

#[test]
fn stream_gives_the_timeline_in_any_pieces_at_any_rate() {
    let r = tiny();
    let at_16k = long_clip();
    let at_44k = Audio::new(
        ser_dsp::resample(at_16k.samples(), 16_000, 44_100).unwrap(),
        44_100,
    )
    .unwrap();
    for audio in [at_16k, at_44k] {
        for batch in [1, 3, 8] {
            let config = TimelineConfig {
                batch,
                ..TimelineConfig::default()
            };
            let whole = r.timeline(&audio, &config).unwrap();
            assert_eq!(whole.segments.len(), 7);
            for seed in 0..3 {
                let pieces = stream_in_pieces(&r, &audio, &config, seed);
                assert_eq!(
                    pieces,
                    whole,
                    "rate {} batch {batch} seed {seed}",
                    audio.sample_rate()
                );
            }
        }
    }
}

#[test]
fn stream_hands_out_each_window_when_it_completes() {
    let r = tiny();
    let audio = long_clip();
    let config = TimelineConfig {
        batch: 1,
        ..TimelineConfig::default()
    };
    let mut stream = r.stream(16_000, &config).unwrap();
    let y = audio.samples();
    // Nothing before 3 s; the first window as soon as its last sample arrives.
    assert!(stream.push(&y[..47_999]).unwrap().is_empty());
    let first = stream.push(&y[47_999..48_000]).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].start, first[0].end), (0.0, 3.0));
    let next = stream.push(&y[48_000..64_000]).unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].start, 1.0);
    stream.finish().unwrap();
    assert!(stream.push(&y[..10]).is_err(), "no samples after finish");
}

#[test]
fn a_short_clip_is_padded_and_classified_like_an_utterance() {
    let r = tiny();
    let audio = ser_audio_io::load(fixture("speech_16k.wav")).unwrap(); // 2.5 s
    let t = r.timeline(&audio, &TimelineConfig::default()).unwrap();
    assert_eq!(t.segments.len(), 1);
    assert_eq!(t.segments[0].start, 0.0);
    assert!((t.segments[0].end - 40_525.0 / 16_000.0).abs() < 1e-9);
    let utterance = r.classify(&audio).unwrap();
    let window = t.overall.unwrap();
    assert_eq!(utterance.emotion, window.emotion);
    for (a, b) in utterance.probabilities.iter().zip(window.probabilities) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // Other rates are resampled.
    let at_48k = ser_audio_io::load(fixture("speech_48k.wav")).unwrap();
    let p = r.classify(&at_48k).unwrap();
    assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn no_speech_is_an_error_not_a_guess() {
    let r = tiny();
    for y in [vec![0.0f32; 48_000], vec![1e-4; 48_000]] {
        let e = r.classify(&Audio::new(y, 16_000).unwrap()).unwrap_err();
        assert!(matches!(e, Error::NoSpeech { .. }), "{e}");
        assert!(e.to_string().contains("no speech found"));
    }
    let silent = ser_audio_io::load(fixture("silence_16k.wav")).unwrap();
    assert!(matches!(r.classify(&silent), Err(Error::NoSpeech { .. })));
}

#[test]
fn bad_input_and_settings_are_errors() {
    let r = tiny();
    let mut y = vec![0.1f32; 20_000];
    y[500] = f32::NAN;
    let nan = Audio::new(y, 16_000).unwrap();
    assert!(r.classify(&nan).is_err());
    assert!(r.timeline(&nan, &TimelineConfig::default()).is_err());
    let bad = [
        TimelineConfig {
            window_secs: 0.0,
            ..Default::default()
        },
        TimelineConfig {
            window_secs: f32::NAN,
            ..Default::default()
        },
        TimelineConfig {
            window_secs: 1e9,
            ..Default::default()
        },
        TimelineConfig {
            hop_secs: 4.0,
            ..Default::default()
        },
        TimelineConfig {
            hop_secs: -1.0,
            ..Default::default()
        },
        TimelineConfig {
            batch: 0,
            ..Default::default()
        },
        TimelineConfig {
            batch: 1 << 20,
            ..Default::default()
        },
    ];
    for config in bad {
        assert!(
            matches!(r.stream(16_000, &config), Err(Error::Config { .. })),
            "{config:?}"
        );
    }
    assert!(r.stream(0, &TimelineConfig::default()).is_err());
    // A timeline of nothing has no segment and no emotion.
    let mut s = r.stream(16_000, &TimelineConfig::default()).unwrap();
    assert!(s.finish().unwrap().is_empty());
    assert_eq!(s.overall(), None);
    // A missing file is named.
    let e = r
        .timeline_file(Path::new("no/such.wav"), &TimelineConfig::default())
        .unwrap_err();
    assert!(e.to_string().contains("no/such.wav"), "{e}");
}

#[test]
fn timeline_file_decodes_in_chunks_to_the_same_timeline() {
    let r = tiny();
    let path = fixture("speech_long_16k.wav");
    let from_file = r.timeline_file(&path, &TimelineConfig::default()).unwrap();
    let audio = ser_audio_io::load(&path).unwrap();
    assert_eq!(
        from_file,
        r.timeline(&audio, &TimelineConfig::default()).unwrap()
    );
    // [0, 3] and [1, 4]; the 0.21 s after them is less than half a hop: no tail window.
    assert_eq!(from_file.segments.len(), 2);
}

#[test]
fn run_configs_that_disagree_are_refused_before_allocating() {
    let r = tiny();
    let mut config = r.config().clone();
    config.model.input.frames = 1_000_000_000;
    assert!(matches!(config.validate(), Err(Error::Config { .. })));
    let mut config = r.config().clone();
    config.classes.pop();
    assert!(matches!(config.validate(), Err(Error::Config { .. })));
    let mut config = r.config().clone();
    config.features.duration_secs = None;
    assert!(config.validate().is_err());
    let json = serde_json::to_string(r.config()).unwrap();
    assert!(RunConfig::from_json(&json, Path::new("x")).is_ok());
    assert!(RunConfig::from_json("{", Path::new("x")).is_err());
}

#[cfg(feature = "shipped-model")]
mod shipped {
    use super::*;

    /// The demo clips' timelines as the release `predict --json` printed them when the
    /// model was exported (`fixtures/golden/shipped-model/demo.jsonl`, rewritten by
    /// `scripts/train-shipped-model.sh`): the embedded f16 weights, their loading, the
    /// chunked decoding and the features must still give them.
    #[test]
    fn the_shipped_model_still_hears_the_demo_clips_as_when_exported() {
        let r = Recognizer::shipped(&Device::Cpu).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let golden =
            std::fs::read_to_string(root.join("fixtures/golden/shipped-model/demo.jsonl")).unwrap();
        let mut n = 0;
        for line in golden.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let file = root.join(v["file"].as_str().unwrap());
            let t = r.timeline_file(&file, &TimelineConfig::default()).unwrap();
            let segments = v["segments"].as_array().unwrap();
            assert_eq!(t.segments.len(), segments.len(), "{}", file.display());
            for (s, g) in t.segments.iter().zip(segments) {
                assert_eq!(s.start, g["start"].as_f64().unwrap());
                assert_eq!(s.end, g["end"].as_f64().unwrap());
                let p = s.prediction.unwrap();
                assert_eq!(
                    p.emotion.as_str(),
                    g["emotion"].as_str().unwrap(),
                    "{}",
                    file.display()
                );
                for (e, v) in p.iter() {
                    let want = g["probabilities"][e.as_str()].as_f64().unwrap();
                    assert!(
                        (f64::from(v) - want).abs() < 1e-4,
                        "{} {e}: {v} vs {want}",
                        file.display()
                    );
                }
            }
            assert_eq!(
                t.overall.unwrap().emotion.as_str(),
                v["emotion"].as_str().unwrap()
            );
            n += 1;
        }
        assert_eq!(n, 7);
    }

    #[test]
    fn the_shipped_model_loads_and_hears_speech() {
        let r = Recognizer::shipped(&Device::Cpu).unwrap();
        let c = r.config();
        assert_eq!(c.model.architecture, Architecture::CnnBlstmAttn);
        assert_eq!((c.model.input.n_mels, c.model.input.frames), (128, 94));
        assert_eq!(c.features.sample_rate, 16_000);
        let audio = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
        let p = r.classify(&audio).unwrap();
        assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(matches!(
            r.classify(&Audio::new(vec![0.0; 16_000], 16_000).unwrap()),
            Err(Error::NoSpeech { .. })
        ));
    }

    /// The shipped ensemble embeds the first member's configuration: the members' runs,
    /// as exported beside it, differ only in their seed, and the embedded ensemble hears
    /// what the three folders loaded as runs hear.
    #[test]
    fn the_shipped_members_are_one_recipe_from_three_seeds() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("shipped");
        // The folder is an ensemble run, as `train --members 3` writes one.
        let dirs = ser_models::run::run_members(&shipped).unwrap();
        assert_eq!(
            dirs,
            (1..=3)
                .map(|k| shipped.join(format!("member-{k}")))
                .collect::<Vec<PathBuf>>()
        );
        let configs: Vec<RunConfig> = dirs.iter().map(|d| RunConfig::load(d).unwrap()).collect();
        for c in &configs[1..] {
            assert_eq!(c.features, configs[0].features);
            assert_eq!(c.model, configs[0].model);
            let seed = configs[0].train.seed;
            assert_eq!(
                ser_models::train::TrainConfig {
                    seed,
                    ..c.train.clone()
                },
                configs[0].train
            );
            assert_ne!(c.seed, configs[0].seed);
        }
        let r = Recognizer::shipped(&Device::Cpu).unwrap();
        assert_eq!(r.models().len(), 3);
        let runs = Recognizer::from_run(&shipped, &Device::Cpu).unwrap();
        let audio = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
        assert_eq!(r.classify(&audio).unwrap(), runs.classify(&audio).unwrap());
    }
}

#[test]
fn a_long_stream_holds_one_window_not_the_input() {
    let r = tiny();
    let clip = long_clip();
    let mut stream = r.stream(16_000, &TimelineConfig::default()).unwrap();
    let mut n = 0;
    for round in 0..8 {
        for piece in clip.samples().chunks(4000) {
            n += stream.push(piece).unwrap().len();
            assert!(stream.buffered_samples() <= 48_000 + 4000, "round {round}");
        }
    }
    n += stream.finish().unwrap().len();
    // 8 x 8.73 s = 69.8 s: windows start every second up to 66 s, then the tail.
    assert_eq!(n, 68);
    assert_eq!(stream.buffered_samples(), 0);
}

#[test]
fn the_parameter_estimate_is_the_models_and_hostile_sizes_are_refused() {
    for arch in Architecture::ALL {
        if arch == Architecture::Vgg19 {
            continue; // 20 M parameters: too slow to build in a debug test
        }
        let mut cfg = ModelConfig::research(arch);
        cfg.input.n_mels = 64;
        cfg.input.frames = 48;
        let model = Model::new(cfg.clone(), 1, &Device::Cpu).unwrap();
        let (real, est) = (model.n_params() as u64, cfg.param_estimate());
        assert!(
            est >= real && est <= real + real / 20,
            "{arch}: {real} vs {est}"
        );
    }
    // The transformer encoder in place of the BLSTM, and statistics pooling, alone and
    // together: within the bound too.
    for (transformer, pooling) in [
        (true, ser_models::SequencePooling::Attention),
        (false, ser_models::SequencePooling::MeanStd),
        (true, ser_models::SequencePooling::MeanStd),
    ] {
        let mut cfg = ModelConfig::research(Architecture::CnnBlstmAttn);
        (cfg.input.n_mels, cfg.input.frames) = (64, 48);
        cfg.transformer = transformer.then(|| ser_models::TransformerConfig::new(2, 64));
        cfg.pooling = pooling;
        let model = Model::new(cfg.clone(), 1, &Device::Cpu).unwrap();
        let (real, est) = (model.n_params() as u64, cfg.param_estimate());
        assert!(
            est >= real && est <= real + real / 20,
            "{transformer} {pooling:?}: {real} vs {est}"
        );
        let x = ser_models::candle_core::Tensor::zeros(
            (2, 1, 64, 48),
            ser_models::candle_core::DType::F32,
            &Device::Cpu,
        )
        .unwrap();
        let logits = model.forward_t(&x, ser_models::Mode::Eval).unwrap();
        assert_eq!(logits.dims(), [2, 7]);
    }
    let base = ModelConfig::research(Architecture::CnnBlstmAttn);
    let with = |t: ser_models::TransformerConfig| ModelConfig {
        transformer: Some(t),
        ..base.clone()
    };
    let hostile = [
        with(ser_models::TransformerConfig::new(2, 10_000_000)),
        with(ser_models::TransformerConfig::new(1_000, 64)),
        with(ser_models::TransformerConfig {
            heads: 3,
            ..ser_models::TransformerConfig::new(2, 64)
        }),
        with(ser_models::TransformerConfig {
            dropout: 1.0,
            ..ser_models::TransformerConfig::new(2, 64)
        }),
        ModelConfig {
            transformer: Some(ser_models::TransformerConfig::new(2, 64)),
            ..ModelConfig::research(Architecture::CnnBlstm)
        },
        ModelConfig {
            pooling: ser_models::SequencePooling::MeanStd,
            ..ModelConfig::research(Architecture::Lstm)
        },
        ModelConfig {
            rnn_hidden: 10_000_000,
            ..base.clone()
        },
        ModelConfig {
            dense: vec![1 << 40],
            ..base.clone()
        },
        ModelConfig {
            rnn_hidden: 60_000,
            ..base.clone()
        },
        ModelConfig {
            conv_channels: vec![32, 64, 128, 65_000],
            ..base.clone()
        },
        // `--bn-momentum nan` once trained and wrote `null` into config.json.
        ModelConfig {
            bn_momentum: f64::NAN,
            ..base.clone()
        },
        ModelConfig {
            bn_momentum: 1.5,
            ..base.clone()
        },
        ModelConfig {
            bn_eps: 0.0,
            ..base.clone()
        },
    ];
    for cfg in hostile {
        let e = Model::new(cfg.clone(), 1, &Device::Cpu).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
    }
}

#[test]
fn a_resume_must_be_the_same_run() {
    let run = tiny().config().clone();
    let mut longer = run.clone();
    longer.train.epochs += 10;
    run.check_resume(&longer).unwrap();
    let mut other = run.clone();
    other.model.architecture = Architecture::Cnn;
    let e = run.check_resume(&other).unwrap_err();
    assert!(e.to_string().contains("model"), "{e}");
    let mut other = run.clone();
    other.features.hop_length = 375;
    assert!(
        run.check_resume(&other)
            .unwrap_err()
            .to_string()
            .contains("features")
    );
    let mut other = run.clone();
    other.data.push("elsewhere".into());
    assert!(
        run.check_resume(&other)
            .unwrap_err()
            .to_string()
            .contains("data")
    );
    // The same corpus folder typed from elsewhere is the same data; another is not.
    let mut a = run.clone();
    a.data = vec!["./corpus/RAVDESS".into()];
    let mut b = run.clone();
    b.data = vec!["/mnt/elsewhere/RAVDESS/".into()];
    a.check_resume(&b).unwrap();
    b.data = vec!["/mnt/elsewhere/TESS".into()];
    assert!(a.check_resume(&b).unwrap_err().to_string().contains("data"));
    let mut other = run.clone();
    other.seed += 1;
    assert!(
        run.check_resume(&other)
            .unwrap_err()
            .to_string()
            .contains("seed")
    );
}

#[test]
fn a_run_folder_must_agree_with_itself() {
    let r = tiny();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path();
    ser_models::io::save_json(&run.join("config.json"), r.config()).unwrap();
    r.model()
        .save_weights(&run.join("model.safetensors"))
        .unwrap();
    Recognizer::from_run(run, &Device::Cpu).unwrap();
    // A model.json of another architecture beside it is refused, not ignored.
    let mut other = r.config().model.clone();
    other.architecture = Architecture::Cnn;
    ser_models::io::save_json(&run.join("model.json"), &other).unwrap();
    let e = Recognizer::from_run(run, &Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("model.json"), "{e}");
    ser_models::io::save_json(&run.join("model.json"), &r.config().model).unwrap();
    Recognizer::from_run(run, &Device::Cpu).unwrap();
    // Edited classes are refused (they would name the outputs wrongly).
    let mut edited = r.config().clone();
    edited.classes.swap(0, 1);
    ser_models::io::save_json(&run.join("config.json"), &edited).unwrap();
    assert!(matches!(
        Recognizer::from_run(run, &Device::Cpu),
        Err(Error::Config { .. })
    ));
}

#[test]
fn an_ensemble_hears_the_mean_of_its_members() {
    let member = |seed| tiny_parts(GLOBAL, None, seed).unwrap();
    let ((config, a), (_, b)) = (member(7), member(8));
    let audio = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
    let alone = |m: Model| {
        Recognizer::new(config.clone(), m)
            .unwrap()
            .classify(&audio)
            .unwrap()
            .probabilities
    };
    let (pa, pb) = (alone(a), alone(b));
    assert!(
        pa.iter().zip(&pb).any(|(x, y)| (x - y).abs() > 1e-3),
        "{pa:?} {pb:?}"
    );
    let both = Recognizer::ensemble(config.clone(), vec![member(7).1, member(8).1]).unwrap();
    assert_eq!(both.models().len(), 2);
    let p = both.classify(&audio).unwrap();
    for ((e, x), y) in p.probabilities.iter().zip(&pa).zip(&pb) {
        assert!((e - (x + y) / 2.0).abs() < 1e-6, "{:?}", p.probabilities);
    }
    // Its first member alone is the first model alone.
    let first = Recognizer::ensemble(config.clone(), vec![member(7).1, member(8).1])
        .unwrap()
        .with_members(1)
        .unwrap();
    assert_eq!(first.classify(&audio).unwrap().probabilities, pa);
    for n in [0, 3] {
        let r = Recognizer::ensemble(config.clone(), vec![member(7).1, member(8).1]).unwrap();
        assert!(matches!(r.with_members(n), Err(Error::Config { .. })));
    }
    // Each window of a timeline too (the stream classifies through the same path).
    let t = both
        .timeline(&long_clip(), &TimelineConfig::default())
        .unwrap();
    let ta = Recognizer::new(config.clone(), member(7).1)
        .unwrap()
        .timeline(&long_clip(), &TimelineConfig::default())
        .unwrap();
    let heard = |t: &Timeline| t.segments.iter().filter(|s| s.prediction.is_some()).count();
    assert!(heard(&t) > 0);
    assert_eq!(heard(&t), heard(&ta));

    // No member, or a member of another model, is refused.
    assert!(matches!(
        Recognizer::ensemble(config.clone(), Vec::new()),
        Err(Error::Config { .. })
    ));
    let mut wider = config.model.clone();
    wider.dense = vec![16];
    let odd = Model::new(wider, 8, &Device::Cpu).unwrap();
    let e = Recognizer::ensemble(config.clone(), vec![member(7).1, odd]).unwrap_err();
    assert!(e.to_string().contains("member 2"), "{e}");

    // Runs on disk: the ensemble of two folders is the same; one trained on other features
    // is refused, naming it.
    let dir = tempfile::tempdir().unwrap();
    let save = |name: &str, config: &RunConfig, seed| {
        let run = dir.path().join(name);
        std::fs::create_dir_all(&run).unwrap();
        ser_models::io::save_json(&run.join("config.json"), config).unwrap();
        member(seed)
            .1
            .save_weights(&run.join("model.safetensors"))
            .unwrap();
        run
    };
    let (r7, r8) = (save("s7", &config, 7), save("s8", &config, 8));
    let loaded = Recognizer::from_runs(&[&r7, &r8], &Device::Cpu).unwrap();
    assert_eq!(loaded.classify(&audio).unwrap(), p);
    // An ensemble run (`train`'s default) holds its members as member-1, member-2: one
    // folder loads as the ensemble, and as a part of a bigger one.
    let (m1, m2) = (
        save("ens/member-1", &config, 7),
        save("ens/member-2", &config, 8),
    );
    let ens = dir.path().join("ens");
    let folder = Recognizer::from_run(&ens, &Device::Cpu).unwrap();
    assert_eq!(folder.models().len(), 2);
    assert_eq!(folder.classify(&audio).unwrap(), p);
    let three = Recognizer::from_runs(&[&ens, &r7], &Device::Cpu).unwrap();
    assert_eq!(three.models().len(), 3);
    assert_eq!(
        Recognizer::from_run(&m1, &Device::Cpu)
            .unwrap()
            .classify(&audio)
            .unwrap()
            .probabilities,
        pa
    );
    // A member without its weights is an error naming it, not a smaller ensemble.
    std::fs::remove_file(m2.join("model.safetensors")).unwrap();
    let e = Recognizer::from_run(&ens, &Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("member-2"), "{e}");
    let mut other = config.clone();
    other.features.fmin = 50.0;
    let r9 = save("s9", &other, 9);
    let e = Recognizer::from_runs(&[&r7, &r9], &Device::Cpu).unwrap_err();
    assert!(e.to_string().contains("s9"), "{e}");
    assert!(Recognizer::from_runs::<&Path>(&[], &Device::Cpu).is_err());
}

#[test]
fn errors_on_a_file_s_samples_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.wav");
    let spec = ser_audio_io::hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: ser_audio_io::hound::SampleFormat::Float,
    };
    let mut w = ser_audio_io::hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..48_000 {
        let x = if i == 20_000 {
            f32::NAN
        } else {
            0.5 * (i as f32 * 0.05).sin()
        };
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    let err = tiny()
        .timeline_file(&path, &TimelineConfig::default())
        .unwrap_err();
    assert!(matches!(err, Error::InFile { .. }), "{err:?}");
    assert!(err.to_string().contains("nan.wav"), "{err}");
}

/// A speaker-standardised model: one clip is standardised by its own statistics, a
/// timeline's windows by the recording's statistics so far (the same in any pieces), and
/// the first window of a stream by itself alone.
#[test]
fn speaker_cmvn_uses_the_recording_s_statistics_so_far() {
    use ser_models::features::BandStats;
    let r = tiny_with(ser_models::InputMode::LogMelSpeakerCmvn);
    let own = tiny_with(ser_models::InputMode::LogMelCmvn);
    // Same weights (same seed and shapes): a single clip gives the per-utterance result.
    let clip = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
    let a = r.classify(&clip).unwrap();
    let b = own.classify(&clip).unwrap();
    for (x, y) in a.probabilities.iter().zip(b.probabilities) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }

    let audio = long_clip();
    let config = TimelineConfig::default();
    let t = r.timeline(&audio, &config).unwrap();
    assert_eq!(t, stream_in_pieces(&r, &audio, &config, 3));
    // The same by hand: running statistics over the speech windows.
    let rate = 16_000usize;
    let mut stats = BandStats::new(r.model().config().input.n_mels);
    let mut by_hand = Vec::new();
    for s in t.segments.iter().filter(|s| s.prediction.is_some()) {
        let y = &audio.samples()
            [(s.start * rate as f64).round() as usize..(s.end * rate as f64).round() as usize];
        let f = r.logmel().extract_samples(y, 16_000).unwrap();
        stats.add(f.view()).unwrap();
        by_hand.push(stats.standardize(f.view()).unwrap());
    }
    let views: Vec<_> = by_hand.iter().map(|f| f.view()).collect();
    // Each window after the first differs from its per-utterance standardisation, so
    // classify_features (one clip = own statistics) is not what the timeline did.
    let t_own = own.timeline(&audio, &config).unwrap();
    assert_ne!(t.segments[1..], t_own.segments[1..]);
    let x = ser_models::features::batch_tensor(
        views.iter().copied(),
        &r.model().config().input,
        &Device::Cpu,
    )
    .unwrap();
    let p: Vec<Vec<f32>> = r.model().predict_proba(&x).unwrap().to_vec2().unwrap();
    let shown: Vec<_> = t.segments.iter().filter_map(|s| s.prediction).collect();
    assert_eq!(p.len(), shown.len());
    for (want, got) in p.iter().zip(&shown) {
        for (x, y) in want.iter().zip(got.probabilities) {
            assert!((x - y).abs() < 1e-5, "{want:?} vs {got:?}");
        }
    }
}

/// A band prior: one clip is standardised by the prior and itself together (not by itself
/// alone), and a prior that does not fit the bands is refused.
#[test]
fn a_band_prior_is_where_a_recording_s_statistics_start() {
    use ser_models::features::BandStats;
    let prior = ser_models::BandPrior {
        mean: (0..128).map(|b| -30.0 - b as f32 * 0.3).collect(),
        var: vec![150.0; 128],
        frames: 300.0,
    };
    let mode = ser_models::InputMode::LogMelSpeakerCmvn;
    let r = tiny_with_prior(mode, Some(prior.clone())).unwrap();
    let plain = tiny_with(mode);
    let clip = ser_audio_io::load(fixture("speech_16k.wav")).unwrap();
    let f = r.featurize(&clip).unwrap();
    let mut stats = BandStats::with_prior(128, Some(&prior));
    stats.add(f.view()).unwrap();
    let by_hand = stats.standardize(f.view()).unwrap();
    let x = ser_models::features::batch_tensor(
        [by_hand.view()],
        &r.model().config().input,
        &Device::Cpu,
    )
    .unwrap();
    let want: Vec<Vec<f32>> = r.model().predict_proba(&x).unwrap().to_vec2().unwrap();
    let got = r.classify(&clip).unwrap();
    for (a, b) in want[0].iter().zip(got.probabilities) {
        assert!((a - b).abs() < 1e-5, "{want:?} vs {got:?}");
    }
    assert_ne!(got, plain.classify(&clip).unwrap());
    // The stream starts from the prior too: its one window is the same clip's.
    let t = r.timeline(&clip, &TimelineConfig::default()).unwrap();
    assert_eq!(
        t,
        stream_in_pieces(&r, &clip, &TimelineConfig::default(), 9)
    );

    for bad in [
        ser_models::BandPrior {
            mean: vec![0.0; 64],
            ..prior.clone()
        },
        ser_models::BandPrior {
            frames: f32::NAN,
            ..prior.clone()
        },
        ser_models::BandPrior {
            var: vec![-1.0; 128],
            ..prior.clone()
        },
    ] {
        let err = tiny_with_prior(mode, Some(bad)).err().unwrap();
        assert!(err.to_string().contains("band_prior"), "{err}");
    }
}
