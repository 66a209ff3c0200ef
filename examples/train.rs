//! Trains a speech-emotion classifier on real corpora and writes a run directory.
//!
//! ```text
//! cargo run --release --example train -- --data DIR [--data DIR]... [--manifest FILE]
//!     --model cnn|lstm|cnn-lstm|cnn-blstm|cnn-blstm-attn|vgg19 --split random|speaker
//!     [--test-speakers S,S,...] [--val-speakers S,S,...] [--epochs N] [--seed N]
//!     [--members N] [--balance none|undersample|oversample [--oversample-to N]]
//!     [--reduce-lr] [--device cpu|cuda[:N]|metal|auto] [--cache DIR] [--resume] --out RUN_DIR
//! cargo run --release --example train -- --data ../shared/corpus/RAVDESS --data ../shared/corpus/TESS \
//!     --model cnn-blstm-attn --split speaker --out runs/speaker
//! ```
//!
//! Steps: scan the folders (each corpus detected from its layout), keep the seven emotions,
//! split (speaker-independent 85/15 of the speakers into training and test, or stratified
//! random 85/15 with `--split random`; with `--validate` 70/15/15 with a validation split;
//! or the speakers named with `--test-speakers`/`--val-speakers`; or the splits of a
//! manifest), featurize everything once (the research's log-mel, in parallel, cached with
//! `--cache`), optionally balance the training split (under-sampling, or over-sampling with
//! the research's waveform augmentation, training clips only), train (30 epochs, keeping
//! the weight average; with validation, early stopping on the validation loss and the best
//! epoch kept), and evaluate on the test split.
//!
//! By default three models are trained this way, from seeds `--seed`, `--seed` + 1 and
//! `--seed` + 2 on `--seed`'s split, one after the other: the run is their ensemble
//! (65.0 and 65.6 % UA on unseen RAVDESS actors in two draws, against 62.2 % for one
//! model; docs/results.md). Each member's run folder is `RUN_DIR/member-K` with
//! `model.safetensors`, `config.json`, `split.csv`, `history.json`, `metrics.json`,
//! `confusion.png`, `curves.png` and `checkpoint/` (for `--resume`, which skips finished
//! members and continues a started one); `RUN_DIR` gets the shared `split.csv` and the
//! ensemble's `metrics.json` (each member's figures beside) and `confusion.png`.
//! `predict --run RUN_DIR`, `evaluate --run RUN_DIR` and `Recognizer::from_run` load the
//! folder as one model. `--members 1` trains one model into `RUN_DIR` itself. An existing
//! run directory is not overwritten without `--overwrite`.

use clap::Parser;
use ser_examples::run;
use ser_examples::training::{TrainArgs, Ui, train};

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

// The steps live in `ser_examples::training`, shared with `crossval`.
fn main() {
    run(|| train(&TrainArgs::parse(), &Ui::terminal()));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ser_datasets::{Corpus, Emotion, Utterance, speaker_split};

    use super::*;
    use ser_datasets::SplitFractions;
    use ser_examples::training::{check_measured, split_assignments};

    fn clips(speakers: usize) -> Vec<Utterance> {
        (0..speakers * 14)
            .map(|i| Utterance {
                path: format!("Actor_{:02}/{i}.wav", i % speakers + 1).into(),
                corpus: Corpus::Ravdess,
                speaker: format!("ravdess:{:02}", i % speakers + 1),
                gender: None,
                original_label: String::new(),
                intensity: None,
                emotion: Emotion::from_index(i % 7),
                language: None,
            })
            .collect()
    }

    #[test]
    fn a_split_that_measures_nothing_is_refused() {
        // One speaker: a speaker-independent split has nothing left to test on.
        let one = speaker_split(&clips(1), &SplitFractions::default(), 0).unwrap();
        let err = check_measured(&one).unwrap_err();
        assert!(
            err.to_string().contains("no validation and no test"),
            "{err}"
        );
        let five = speaker_split(&clips(5), &SplitFractions::default(), 0).unwrap();
        check_measured(&five).unwrap();
    }

    #[test]
    fn a_speaker_in_validation_and_test_is_refused() {
        let args = TrainArgs::try_parse_from([
            "train",
            "--data",
            "corpus",
            "--out",
            "run",
            "--test-speakers",
            "ravdess:01",
            "--val-speakers",
            "ravdess:01",
        ])
        .unwrap();
        let err = split_assignments(&args, &clips(3)).unwrap_err();
        assert!(err.to_string().contains("in both"), "{err}");
    }

    /// The default trains three members, each from its own seed on the first's split.
    #[test]
    fn an_ensemble_s_members_differ_in_their_seed_only() {
        let base =
            TrainArgs::try_parse_from(["train", "--data", "corpus", "--out", "run"]).unwrap();
        assert_eq!(base.members, 3);
        let member = base.member(3);
        assert_eq!(member.members, 1);
        assert_eq!(member.seed, 44);
        assert_eq!(member.data_seed(), 42);
        assert_eq!(member.out, std::path::Path::new("run/member-3"));
        let splits = |a: &TrainArgs| {
            split_assignments(a, &clips(20))
                .unwrap()
                .into_iter()
                .map(|a| (a.utterance.path, a.split))
                .collect::<Vec<_>>()
        };
        assert_eq!(splits(&member), splits(&base));
        // Another seed alone splits otherwise (the check above could not fail without it).
        let mut other = base.clone();
        other.seed = 44;
        assert_ne!(splits(&other), splits(&base));
        for bad in ["0", "17"] {
            assert!(
                TrainArgs::try_parse_from(["train", "--data", "c", "--out", "r", "--members", bad])
                    .is_err()
            );
        }
    }

    /// The default holds out no validation: every speaker not tested on trains, for 14
    /// epochs; `--validate` (or naming validation speakers) brings back 70/15/15 and 50.
    #[test]
    fn validation_is_asked_for_and_sets_the_epochs() {
        use ser_datasets::Split;
        let parse = |extra: &[&str]| {
            let mut a = vec!["train", "--data", "corpus", "--out", "run"];
            a.extend_from_slice(extra);
            TrainArgs::try_parse_from(a).unwrap()
        };
        let count = |args: &TrainArgs, s: Split| {
            split_assignments(args, &clips(20))
                .unwrap()
                .iter()
                .filter(|a| a.split == Some(s))
                .count()
        };
        let bare = parse(&[]);
        assert!(!bare.validating());
        assert_eq!(bare.epochs(), 30);
        assert_eq!(count(&bare, Split::Validation), 0);
        assert_eq!(count(&bare, Split::Train), 17 * 14);
        let validated = parse(&["--validate"]);
        assert!(validated.validating());
        assert_eq!(validated.epochs(), 50);
        assert_eq!(count(&validated, Split::Validation), 3 * 14);
        assert_eq!(parse(&["--epochs", "20"]).epochs(), 20);
        assert!(
            parse(&[
                "--test-speakers",
                "ravdess:01",
                "--val-speakers",
                "ravdess:02"
            ])
            .validating()
        );
        // Validation asked for with named test speakers but nobody to validate on.
        let args = parse(&["--validate", "--test-speakers", "ravdess:01"]);
        let err = split_assignments(&args, &clips(3)).unwrap_err();
        assert!(err.to_string().contains("--val-speakers"), "{err}");
    }
}
