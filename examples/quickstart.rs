//! The first ten minutes: the whole pipeline on a small synthetic corpus that ships with
//! the repository. No network, no GPU, no download.
//!
//! ```text
//! cargo run --release --example quickstart [-- --epochs N --out DIR --seed N]
//!     [--conv-dropout P --l2 W --dropout P --no-spec-augment]
//! ```
//!
//! It loads `fixtures/corpora/quickstart` (112 clips of espeak-ng speech in RAVDESS's
//! layout: 4 synthetic "actors", 7 emotions acted by prosody), prints its counts,
//! featurizes it and draws one spectrogram, shows an augmentation, trains the research's
//! CNN-BLSTM-attention on actors 1–3, evaluates it on actor 4 (a speaker it never heard),
//! draws the confusion matrix, saves the run, reloads it and predicts one clip. The
//! corpus is synthetic: it shows that the pipeline works, not that emotion is recognised.
//! Outputs go to `out/quickstart/` (replaced on every run).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Parser;
use ser_augment::{Transform, augment_seeded, research_waveform};
use ser_core::Overwrite;
use ser_datasets::{Counts, Emotion, LabelPolicy, Split, relative_to_roots, scan, write_manifest};
use ser_dsp::{LogMel, LogMelConfig};
use ser_examples::plot::{draw_confusion, draw_curves};
use ser_examples::runs::{bar, featurize};
use ser_examples::{repo_path, run, write_spectrogram_png};
use ser_models::features::{batch_tensor, fit_normalization};
use ser_models::run::{RunConfig, class_names, input_shape, load_run};
use ser_models::train::{Dataset, Event, TrainConfig, Trainer, predict};
use ser_models::{Architecture, InputMode, Model, ModelConfig, parse_device};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

/// Run the whole pipeline on the bundled synthetic corpus.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Training epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Output folder (its quickstart files are replaced).
    #[arg(long, default_value = "out/quickstart")]
    out: PathBuf,
    /// Seed of everything random.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The corpus (default: `fixtures/corpora/quickstart` of the repository, looked up
    /// from the current folder).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Dropout after each convolution block (the research: 0.25; the table of
    /// docs/results.md is made with these four switches).
    #[arg(long, default_value_t = 0.0)]
    conv_dropout: f32,
    /// L2 penalty on the convolution kernels (the research: 0.01).
    #[arg(long, default_value_t = 0.0)]
    l2: f64,
    /// Dropout before the dense head (the research: 0.3).
    #[arg(long, default_value_t = 0.3)]
    dropout: f32,
    /// No random time shifts / noise on the training spectrograms.
    #[arg(long)]
    no_spec_augment: bool,
}

fn main() {
    run(|| {
        let args = Args::parse();
        let t_all = Instant::now();
        let (device, device_desc) = parse_device(&args.device)?;
        let out = &args.out;
        // Found at run time (not where the program was built), before anything is written.
        let root = match &args.data {
            Some(d) => d.clone(),
            None => repo_path("fixtures/corpora/quickstart")?,
        };
        if !root.is_dir() {
            bail!("{} is not a folder", root.display());
        }
        std::fs::create_dir_all(out)?;

        // 1. The corpus.
        println!("== ser quickstart: the whole pipeline on a small SYNTHETIC corpus ==");
        println!(
            "(espeak-ng speech with prosody varied per class: it shows the pipeline, not real emotion)\n"
        );
        let report = scan(std::slice::from_ref(&root), None, &LabelPolicy::default())?;
        let utts = report.utterances;
        let counts = Counts::from_utterances(&utts);
        println!(
            "{} clips, {} speakers, read by the RAVDESS parser from {}",
            counts.total(),
            counts.speakers(),
            root.display()
        );
        let by = counts.by_emotion();
        let line: Vec<String> = by
            .iter()
            .map(|(e, n)| format!("{} {n}", e.map_or("-", |e| e.as_str())))
            .collect();
        println!("  per emotion: {}\n", line.join(", "));

        // 2. Features and one picture.
        let logmel = LogMelConfig::default();
        let t = Instant::now();
        let feats = featurize(&utts, logmel, None, false)?;
        println!(
            "features: {} log-mel spectrograms of 128 mel bands x 94 frames (3 s at 16 kHz) in {:.2} s",
            feats.len(),
            t.elapsed().as_secs_f64()
        );
        let first = &utts[0];
        let Some(spec) = feats.get(&first.path) else {
            bail!("no features for {}", first.path.display())
        };
        let spec_png = out.join("spectrogram.png");
        write_spectrogram_png(&spec_png, spec, 4, Overwrite::Replace)?;
        println!(
            "  drew {} ({})",
            spec_png.display(),
            first
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );

        // 3. An augmentation (the research's: time-stretch, pitch-shift, noise; seeded).
        let audio = ser_audio_io::load(&first.path)?;
        let aug = research_waveform();
        let (augmented, record) = augment_seeded(&aug as &dyn Transform<_>, &audio, args.seed)?;
        let aug_spec = LogMel::new(logmel)?.extract_owned(augmented)?;
        let aug_png = out.join("spectrogram_augmented.png");
        write_spectrogram_png(&aug_png, &aug_spec, 4, Overwrite::Replace)?;
        println!(
            "augmentation (seed {}): {record}\n  drew {}\n",
            args.seed,
            aug_png.display()
        );

        // 4. Train on actors 1-3, test on actor 4.
        let mut assignments = Vec::new();
        let (mut trf, mut trl, mut tef, mut tel, mut teid) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for u in &utts {
            let (Some(x), Some(e)) = (feats.get(&u.path), u.emotion) else {
                continue;
            };
            let test = u.speaker.ends_with(":04");
            assignments.push(ser_datasets::Assignment {
                utterance: u.clone(),
                split: Some(if test { Split::Test } else { Split::Train }),
            });
            if test {
                tef.push(x.clone());
                tel.push(e.index());
                teid.push(u.path.clone());
            } else {
                trf.push(x.clone());
                trl.push(e.index());
            }
        }
        let (mean, std) = fit_normalization(trf.iter().map(|a| a.view()))?;
        // The research's CNN-BLSTM-attention at half width (16/32/64/128 filters, BLSTM and
        // attention 64) so that it trains in seconds; the architecture is the same.
        let mut cfg = ModelConfig::research(Architecture::CnnBlstmAttn);
        cfg.input.mode = InputMode::LogMel { mean, std };
        (cfg.input.n_mels, cfg.input.frames) = input_shape(&logmel)?;
        cfg.conv_channels = vec![16, 32, 64, 128];
        cfg.rnn_hidden = 64;
        cfg.attention_dim = 64;
        cfg.dense = vec![64];
        // A few dozen steps: by default no dropout after the convolution blocks and no L2
        // penalty (both slow learning down and open a gap between batch and running
        // statistics, see docs/results.md), and running statistics that follow faster than
        // Keras's 0.99.
        cfg.conv_dropout = args.conv_dropout;
        cfg.l2 = args.l2;
        cfg.dropout = args.dropout;
        cfg.bn_momentum = 0.1;
        let train_cfg = TrainConfig {
            epochs: args.epochs,
            patience: None,
            spec_augment: !args.no_spec_augment,
            seed: args.seed,
            ..TrainConfig::default()
        };
        let train = Dataset::new(trf, trl.clone(), 16)?.shuffled(args.seed);
        let test = Dataset::with_ids(tef, tel, teid, 32)?;
        let model = Model::new(cfg.clone(), args.seed, &device)?;
        println!(
            "training a half-width CNN-BLSTM-attention ({} parameters) on {} clips of actors 1-3 for {} epochs on {device_desc}",
            model.n_params(),
            train.features.len(),
            args.epochs
        );
        let mut trainer = Trainer::new(&model, train_cfg.clone(), &trl)?;
        let pb = bar(args.epochs as u64, "training");
        trainer.fit(&train, None, None, &mut |ev| match ev {
            Event::Step { loss, accuracy, .. } => {
                pb.set_message(format!("loss {loss:.3} acc {:.0}%", 100.0 * accuracy))
            }
            Event::EpochEnd(_) => pb.inc(1),
            _ => {}
        })?;
        pb.finish_and_clear();
        let h = &trainer.state().history;
        if let (Some(a), Some(b)) = (h.epochs.first(), h.epochs.last()) {
            println!(
                "  train loss {:.3} -> {:.3}, train accuracy {:.0}% -> {:.0}%\n",
                a.train_loss,
                b.train_loss,
                100.0 * a.train_accuracy,
                100.0 * b.train_accuracy
            );
        }

        // 5. Evaluate on the unseen speaker.
        let preds = predict(&model, &test)?;
        let names = class_names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let rep = preds.report(&names, None)?;
        println!(
            "test on actor 04 (never heard in training):\n{}",
            rep.to_text()
        );
        let conf_png = out.join("confusion.png");
        draw_confusion(&conf_png, &rep, "quickstart (synthetic), test speaker 04")?;

        // 6. Save the run, reload it, predict one clip.
        let run_dir = out.join("run");
        std::fs::create_dir_all(&run_dir)?;
        model.save_weights(&run_dir.join("model.safetensors"))?;
        let run_cfg = RunConfig {
            model: cfg,
            features: logmel,
            train: train_cfg,
            classes: class_names(),
            data: vec![root.clone()],
            split: "speaker".into(),
            seed: args.seed,
            oversampled_to: None,
        };
        ser_models::io::save_json(&run_dir.join("config.json"), &run_cfg)?;
        ser_models::io::save_json(&run_dir.join("model.json"), &run_cfg.model)?;
        write_manifest(
            &run_dir.join("split.csv"),
            &relative_to_roots(&assignments, std::slice::from_ref(&root)),
            Overwrite::Replace,
        )?;
        ser_models::io::save_json(&run_dir.join("history.json"), h)?;
        draw_curves(&run_dir.join("curves.png"), h)?;
        let (cfg2, reloaded) = load_run(&run_dir, &device)?;
        let clip = preds
            .ids
            .first()
            .cloned()
            .unwrap_or_else(|| first.path.clone());
        let audio = ser_audio_io::load(&clip)?;
        let f = LogMel::new(cfg2.features)?.extract_owned(audio)?;
        let p = reloaded
            .predict_proba(&batch_tensor(
                [f.view()],
                &reloaded.config().input,
                &device,
            )?)?
            .squeeze(0)?
            .to_vec1::<f32>()?;
        let best = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let truth = utts
            .iter()
            .find(|u| u.path == clip)
            .and_then(|u| u.emotion)
            .map_or("?", Emotion::as_str);
        println!(
            "reloaded {} and predicted {}: {} ({:.0}%), labelled {truth}",
            run_dir.display(),
            clip.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            cfg2.classes.get(best).map_or("?", String::as_str),
            100.0 * p[best]
        );

        println!(
            "\ndone in {:.0} s. Outputs in {}:",
            t_all.elapsed().as_secs_f64(),
            out.display()
        );
        println!(
            "  spectrogram.png, spectrogram_augmented.png, confusion.png, run/ (model.safetensors, config.json, split.csv, curves.png)"
        );
        println!(
            "\nNext, on a real corpus (RAVDESS: https://zenodo.org/records/1188976, CC BY-NC-SA 4.0):"
        );
        println!(
            "  cargo run --release --example train -- --data PATH/TO/RAVDESS --model cnn-blstm-attn --split speaker --out runs/ravdess"
        );
        println!(
            "  cargo run --release --example evaluate -- --run runs/ravdess --data PATH/TO/RAVDESS"
        );
        println!(
            "  cargo run --release --example predict -- --run {} FILE.wav",
            run_dir.display()
        );
        Ok(())
    });
}
