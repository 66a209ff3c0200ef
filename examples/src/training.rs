//! The `train` program's work as a library function, so that `crossval` trains its folds
//! with exactly the same steps: [`TrainArgs`] (the command line), [`train`] (one run
//! directory), and [`Ui`] (where messages and progress bars go: the terminal, or a
//! [`MultiProgress`] shared by folds trained side by side).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use indicatif::{MultiProgress, ProgressBar};
use ser_datasets::{
    Assignment, Counts, Overwrite, Split, SplitFractions, SplitLookup, Utterance,
    check_no_speaker_leak, random_split, read_manifest, relative_to_roots, speaker_split,
    undersample, write_manifest,
};
use ser_dsp::LogMelConfig;
use ser_models::features::{BandStats, fit_normalization};
use ser_models::hub::{HubWeights, load_vgg19_features};
use ser_models::metrics::ClassificationReport as Report;
use ser_models::optim::AdamConfig;
use ser_models::run::{
    CONFIG_FILE, RunConfig, RunDirMode, check_run_dir, class_names, input_shape, is_run,
    member_dir, prepare_run_dir, run_members,
};
use ser_models::train::{
    Dataset, Event, LrSchedule, Predictions, SpecMasks, TrainConfig, Trainer, predict, predict_mean,
};
use ser_models::{Architecture, InputMode, Model, ModelConfig, Recognizer, parse_device};

use crate::plot::{draw_confusion, draw_curves};
use crate::runs::{
    SpeakerHistory, augmented_source, bar, corpus_of, dataset, featurize, labelled, oversample,
    prepare_for, speaker_key, standardize_by_speaker,
};

/// Where a training run's messages and progress bars go.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    shared: Option<(MultiProgress, String)>,
}

impl Ui {
    /// The terminal, as the `train` program has it: messages on stderr, its own progress
    /// bars, and the test report's table on stdout.
    pub fn terminal() -> Self {
        Self { shared: None }
    }

    /// Messages and bars prefixed with `prefix` (such as `fold 2`) in `multi`, which other
    /// runs share; featurizing and augmenting bars and the report's table are left out.
    pub fn shared(multi: MultiProgress, prefix: impl Into<String>) -> Self {
        Self {
            shared: Some((multi, prefix.into())),
        }
    }

    /// The same display for a part of the work (an ensemble's member): a shared display's
    /// prefix gets `what` appended; the terminal stays as it is.
    pub fn within(&self, what: &str) -> Self {
        Self {
            shared: self
                .shared
                .as_ref()
                .map(|(multi, prefix)| (multi.clone(), format!("{prefix} {what}"))),
        }
    }

    /// Whether only messages and epoch bars are shown (a shared display).
    pub fn is_quiet(&self) -> bool {
        self.shared.is_some()
    }

    /// Prints one message line.
    pub fn line(&self, message: &str) {
        match &self.shared {
            Some((multi, prefix)) => {
                for l in message.lines() {
                    // A hidden display (stderr is not a terminal) drops its lines.
                    if multi.is_hidden() {
                        eprintln!("{prefix}: {l}");
                    } else {
                        // Only fails when the terminal is gone; nothing to tell then.
                        let _ = multi.println(format!("{prefix}: {l}"));
                    }
                }
            }
            None => eprintln!("{message}"),
        }
    }

    /// A progress bar in the house style ([`bar`]), in the shared display if there is one.
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        match &self.shared {
            Some((multi, prefix)) => multi.add(bar(len, &format!("{prefix} {what}"))),
            None => bar(len, what),
        }
    }
}

/// How `train` splits the labelled clips.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SplitArg {
    /// Stratified random split per emotion (speakers appear in several splits).
    Random,
    /// Speaker-independent: no speaker in two splits.
    Speaker,
}

/// How `train` balances the classes of the training split.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Balance {
    /// Keep every training utterance.
    None,
    /// Under-sample every class of the training split to the smallest.
    Undersample,
    /// Over-sample every class of the training split to `--oversample-to` clips (default:
    /// the largest class) with augmented copies: the research's time stretch, pitch shift
    /// and noise on the waveform. Validation and test clips are never augmented.
    Oversample,
}

/// `--pooling`: [`ser_models::SequencePooling`] on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum PoolingArg {
    /// Additive attention over time.
    Attention,
    /// The mean and standard deviation over time, concatenated.
    MeanStd,
}

/// How `train` normalises the log-mel input.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum InputNorm {
    /// `(dB − mean) / std` with the training set's statistics.
    Global,
    /// Each mel band standardised over its own utterance (per-utterance CMVN).
    Cmvn,
    /// Each mel band standardised with its speaker's statistics over all their clips (test
    /// speakers' from their own, unlabelled, clips); a recognizer uses the recording's.
    Speaker,
}

/// With `--input-norm speaker`: which of a speaker's clips give a training clip's
/// statistics.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SpeakerStats {
    /// All of them.
    All,
    /// The clip itself and a random number of the others (seeded), as a recognizer's
    /// running statistics see a recording from its first window on.
    Random,
    /// Half the clips by all of them, half as `random`.
    Mixed,
}

/// Train a speech-emotion classifier.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
pub struct TrainArgs {
    /// Corpus folder (repeat for several corpora).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Use the splits of this manifest (CSV from the dataset example) instead of splitting.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// Architecture.
    #[arg(long, default_value = "cnn-blstm-attn")]
    pub model: String,
    /// How to split.
    #[arg(long, value_enum, default_value_t = SplitArg::Speaker)]
    pub split: SplitArg,
    /// With --split speaker: these speakers (e.g. `ravdess:20,tess:YAF`) form the test split.
    #[arg(long, value_delimiter = ',')]
    pub test_speakers: Vec<String>,
    /// With --split speaker and --test-speakers: these form the validation split.
    #[arg(long, value_delimiter = ',')]
    pub val_speakers: Vec<String>,
    /// Hold out validation speakers (clips, with `--split random`) for early stopping and
    /// keep the best epoch's weights, as the research did (70/15/15). Default: no
    /// validation: every speaker not tested on trains (85/0/15), for `--epochs` epochs,
    /// and the last step's weight average is kept: +3.7 points of UA and +4.2 from one clip
    /// over seeds 42–44 of the unseen-speaker cross-validation (docs/results.md).
    /// `--val-speakers` and `--manifest` imply it.
    #[arg(long)]
    pub validate: bool,
    /// Epochs: without validation the number run (default 30), with it the most
    /// (default 50).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Early-stopping patience (epochs without a better validation loss); 0: never stop
    /// early (the best epoch's weights are still kept).
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Learning rate (default: 1e-3, VGG19 5e-5).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Halve the learning rate after 3 epochs without improvement.
    #[arg(long, conflicts_with = "cosine")]
    pub reduce_lr: bool,
    /// Cosine decay of the learning rate from --lr to 1e-5 over --epochs.
    #[arg(long)]
    pub cosine: bool,
    /// Dropout after each convolution block (research: 0.25; see docs/results.md for why
    /// the default is 0).
    #[arg(long, default_value_t = 0.0)]
    pub conv_dropout: f32,
    /// L2 penalty on convolution kernels (research: Keras l2(0.01); see docs/results.md).
    #[arg(long, default_value_t = 0.0)]
    l2: f64,
    /// BatchNorm running-statistics momentum, PyTorch convention (Keras's 0.99 is 0.01 here;
    /// it lags behind the weights for the first thousand steps, see docs/results.md).
    #[arg(long, default_value_t = 0.1)]
    pub bn_momentum: f64,
    /// Weight the loss by inverse class frequency.
    #[arg(long)]
    pub class_weights: bool,
    /// Balance the training split.
    #[arg(long, value_enum, default_value_t = Balance::None)]
    pub balance: Balance,
    /// With `--balance oversample`: clips per class after over-sampling (e.g. 3× the
    /// largest class to triple the training data with augmented copies).
    #[arg(long)]
    pub oversample_to: Option<usize>,
    /// No random time shifts / noise on training spectrograms.
    #[arg(long)]
    pub no_spec_augment: bool,
    /// SpecAugment masks on training spectrograms, after the shift and noise: two frequency
    /// masks of up to 16 bands and two time masks of up to 10 frames.
    #[arg(long)]
    pub spec_masks: bool,
    /// Mixup with this alpha (e.g. 0.2): each batch blended with a shuffled copy of itself.
    #[arg(long)]
    pub mixup: Option<f64>,
    /// Validate, keep and save a moving average of the weights instead of the last step's
    /// weights, with the decay `min(EMA, (1 + n)/(10 + n))` after `n` steps (the warm-up
    /// decides on runs of under ~900 steps); +3.0 points of UA over three seeds of the
    /// unseen-speaker cross-validation (docs/results.md). 0: the last step's weights.
    #[arg(long, default_value_t = 0.99)]
    pub ema: f64,
    /// The warm-up W of the average's decay, `min(EMA, (1 + n)/(W + n))` (> 1; smaller
    /// reaches EMA sooner: 2 after 98 steps, the default 10 after 890).
    #[arg(long, default_value_t = ser_models::ema::DEFAULT_WARMUP)]
    pub ema_warmup: f64,
    /// Label smoothing ε of the training loss (e.g. 0.1): the target puts 1 − ε + ε/K on
    /// the label and ε/K on each other class. 0: none.
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f64,
    /// Speaker-adversarial training with this weight λ (e.g. 0.5): a speaker classifier on
    /// the pooled representation, whose gradient reaches the network reversed and scaled
    /// by λ, so that the network learns features the training speakers cannot be told
    /// apart by. In the unseen-speaker cross-validation (docs/results.md) λ 0.5 added 1.8
    /// points of UA over three seeds with a validation split, and nothing on top of
    /// today's defaults (−0.9). Not for VGG19 or with mixup. 0: none.
    #[arg(long, default_value_t = 0.0)]
    pub speaker_adversary: f64,
    /// Vocal-tract-length perturbation of training spectrograms: each item's mel bands
    /// warped by a factor drawn from [0.9, 1.1] (boundary at 0.6 of the top frequency).
    #[arg(long)]
    pub vtlp: bool,
    /// How the log-mel input is normalised: `global` (the training set's mean and standard
    /// deviation), `cmvn` (each mel band standardised over its own utterance) or `speaker`
    /// (each mel band standardised with the speaker's statistics over all their clips; the
    /// test speakers' from their own clips, as a recognizer uses the recording's).
    /// Default: `speaker` for log-mel models (VGG19's image input has its own).
    #[arg(long, value_enum)]
    pub input_norm: Option<InputNorm>,
    /// With `--input-norm speaker`: standardise each training clip by all of its speaker's
    /// clips (`all`), or by itself and a random number of them (`random`: what a recognizer
    /// has from one clip up to a long recording). Validation and test use all.
    #[arg(long, value_enum, default_value_t = SpeakerStats::Random)]
    pub speaker_history: SpeakerStats,
    /// With `--input-norm speaker`: the weight, in frames, of the training population's
    /// band statistics, which a speaker's (a recording's) are shrunk towards (94 frames
    /// are one 3 s clip); 0: none, one clip is then standardised by itself alone.
    #[arg(long, default_value_t = 300.0)]
    pub speaker_prior: f32,
    /// Convolution channels per block, comma-separated (research: 32,64,128,256; half as
    /// wide did better on unseen speakers at a third of the time, docs/results.md).
    #[arg(long, value_delimiter = ',', default_value = "16,32,64,128")]
    pub conv_channels: Vec<usize>,
    /// Hidden units of each LSTM direction (research: 128).
    #[arg(long)]
    pub rnn_hidden: Option<usize>,
    /// CNN-BLSTM-attention: this many transformer encoder layers in place of the BLSTM
    /// (PyTorch's `nn.TransformerEncoderLayer`, post-norm: self-attention, a feed-forward
    /// of twice the width, dropout 0.1; a learned position embedding). 0: the BLSTM.
    #[arg(long, default_value_t = 0)]
    pub transformer_layers: usize,
    /// With `--transformer-layers`: the encoder's width (the BLSTM's output is 256).
    #[arg(long, default_value_t = 256)]
    pub transformer_dim: usize,
    /// With `--transformer-layers`: attention heads (dividing the width).
    #[arg(long, default_value_t = 4)]
    pub transformer_heads: usize,
    /// CNN-BLSTM-attention: how the sequence is pooled, `attention` (additive, the
    /// research's) or `mean-std` (the mean and standard deviation over time).
    #[arg(long, value_enum, default_value_t = PoolingArg::Attention)]
    pub pooling: PoolingArg,
    /// Append the log-mel channel's delta (1) or delta and delta-delta (2) as input
    /// channels (librosa's `feature.delta`, width 9, after the normalisation).
    #[arg(long, default_value_t = 0, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=2))]
    pub deltas: usize,
    /// Log-mel hop in samples at 16 kHz (512: 94 frames per 3 s; 375: 128 frames, the
    /// research's 128 × 128 image). Recorded in config.json, so evaluate and predict use it.
    #[arg(long, default_value_t = 512)]
    pub hop_length: usize,
    /// Seconds of audio per spectrogram: each trimmed utterance is padded (symmetrically)
    /// or cut to it (the research's 3; RAVDESS's trimmed utterances last 1.7 s on average,
    /// at most 3.4). Recorded in config.json, so evaluate and predict use it.
    #[arg(long, default_value_t = 3.0, value_parser = parse_duration)]
    pub duration: f32,
    /// FFT window of the log-mel in samples at 16 kHz (the research's 2048: 128 ms).
    /// Recorded in config.json, so evaluate and predict use it.
    #[arg(long, default_value_t = 2048, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(64..=8192))]
    pub n_fft: usize,
    /// Mel bands of the log-mel (the research's 128). Recorded in config.json, so evaluate
    /// and predict use it.
    #[arg(long, default_value_t = 128, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(8..=256))]
    pub n_mels: usize,
    /// Seed of the split, the weights, shuffling, dropout and augmentation; an ensemble's
    /// member K trains from `--seed` + K − 1 on `--seed`'s split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Models to train, each from its own seed (`--seed`, `--seed` + 1, …) on the same
    /// split, into `OUT/member-1`, `OUT/member-2`, … (each a run of its own): the run is
    /// their ensemble, which classifies by the mean of their probabilities (`predict`,
    /// `evaluate` and `Recognizer::from_run` load the folder as one model) and whose test
    /// figures go to `OUT/metrics.json`. Three gave 65.0 and 65.6 % UA (two draws) in the
    /// unseen-speaker cross-validation against 62.2 ± 0.7 % for one model
    /// (docs/results.md), for three times the training and inference time. 1: a single
    /// run in `OUT` itself.
    #[arg(long, default_value_t = MEMBERS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_MEMBERS as u64))]
    pub members: usize,
    /// The seed of the data trained on (the split, and balancing the training split by
    /// under- or over-sampling) when not `--seed`'s: an ensemble's members, which train
    /// from their own seeds, get the first's data, so that they share its input
    /// statistics. Not a flag.
    #[arg(skip)]
    pub data_seed: Option<u64>,
    /// VGG19: ImageNet weights (torchvision/timm `features.N.*` names) from this safetensors
    /// file; without it they come from the Hugging Face cache or hub (`timm/vgg19.tv_in1k`).
    #[arg(long)]
    pub imagenet: Option<PathBuf>,
    /// VGG19: start from random weights instead of ImageNet's.
    #[arg(long)]
    pub no_pretrained: bool,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Feature cache folder (shared between runs).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Use only the first N labelled utterances (quick trials).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Run directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing run directory's files.
    #[arg(long)]
    pub overwrite: bool,
}

/// `--duration`: seconds in [0.5, 30].
fn parse_duration(s: &str) -> std::result::Result<f32, String> {
    let secs: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.5..=30.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("{secs} s is not in [0.5, 30] seconds"))
    }
}

/// `train`'s epochs without validation ([`TrainArgs::epochs`]). In the unseen-speaker
/// cross-validation (docs/results.md) 30 epochs gave 62.5 ± 1.0 % UA over seeds 42–44,
/// against 59.7 ± 2.5 % for 14 (where early stopping on two validation actors had kept the
/// weight average: epochs 8–17).
pub const EPOCHS_WITHOUT_VALIDATION: usize = 30;

/// `train`'s most epochs with validation and early stopping.
pub const EPOCHS_WITH_VALIDATION: usize = 50;

/// `train`'s default number of ensemble members ([`TrainArgs::members`]). In the
/// unseen-speaker cross-validation (docs/results.md) three seeds of the default recipe
/// gave 65.0 ± 9.0 and 65.6 ± 7.2 % UA (seeds 42–44 and 45–47) against 62.2 ± 0.7 % for
/// one model over six seeds; six gave 66.0 ± 8.4 %.
pub const MEMBERS: usize = 3;

/// The most members `--members` takes.
pub const MAX_MEMBERS: usize = 16;

impl TrainArgs {
    /// Whether a validation split is held out: `--validate`, `--val-speakers` or a
    /// manifest (which has its own splits).
    pub fn validating(&self) -> bool {
        self.validate || !self.val_speakers.is_empty() || self.manifest.is_some()
    }

    /// The epochs to run (the most, with validation).
    pub fn epochs(&self) -> usize {
        self.epochs.unwrap_or(if self.validating() {
            EPOCHS_WITH_VALIDATION
        } else {
            EPOCHS_WITHOUT_VALIDATION
        })
    }

    /// The seed of the data a run trains on (a random or speaker split made here, and
    /// balancing the training split): `--seed`'s, or its ensemble's.
    pub fn data_seed(&self) -> u64 {
        self.data_seed.unwrap_or(self.seed)
    }

    /// The `train` arguments of member `k` (from 1) of the ensemble run these arguments
    /// ask for: one model in `OUT/member-k`, from seed `--seed` + k − 1, on `--seed`'s
    /// data ([`TrainArgs::data_seed`]).
    pub fn member(&self, k: usize) -> TrainArgs {
        let mut a = self.clone();
        a.members = 1;
        a.out = member_dir(&self.out, k);
        a.seed = self.seed.wrapping_add(k.saturating_sub(1) as u64);
        a.data_seed = Some(self.data_seed());
        a
    }

    /// The log-mel settings of `--duration`, `--n-fft`, `--hop-length` and `--n-mels` (the
    /// rest as the research).
    pub fn logmel(&self) -> LogMelConfig {
        LogMelConfig {
            n_fft: self.n_fft,
            duration_secs: Some(self.duration),
            hop_length: self.hop_length,
            n_mels: self.n_mels,
            ..LogMelConfig::default()
        }
    }
}

/// The number of speakers among the training clips `tr`, and the speaker (0.. in the order
/// of their keys) of each training item in `ids` (augmented copies are their source's).
fn speakers_of(tr: &[&Utterance], ids: &[PathBuf]) -> Result<(usize, HashMap<PathBuf, usize>)> {
    let index: BTreeMap<String, usize> = tr
        .iter()
        .map(|u| speaker_key(u))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    let of_path: HashMap<&Path, usize> = tr
        .iter()
        .map(|u| (u.path.as_path(), index[&speaker_key(u)]))
        .collect();
    let speakers = ids
        .iter()
        .map(|id| {
            of_path
                .get(augmented_source(id).as_path())
                .map(|&k| (id.clone(), k))
                .with_context(|| format!("the speaker of training item {}", id.display()))
        })
        .collect::<Result<_>>()?;
    Ok((index.len(), speakers))
}

/// A split must train something and measure it: refused when it leaves no training clip,
/// or neither validation nor test clips (a one-speaker corpus under a speaker split).
pub fn check_measured(assignments: &[Assignment]) -> Result<()> {
    let count = |s: Split| assignments.iter().filter(|a| a.split == Some(s)).count();
    if count(Split::Train) == 0 {
        bail!("the split left no training clips");
    }
    if count(Split::Validation) == 0 && count(Split::Test) == 0 {
        bail!(
            "the split left no validation and no test clips: nothing would measure the model \
         (a speaker-independent split needs at least 3 speakers; --split random mixes them)"
        );
    }
    Ok(())
}

/// The split of `utterances` that `args` asks for: a manifest's, a stratified random one,
/// a speaker-independent one, or the speakers named by `--test-speakers`/`--val-speakers`
/// (everyone else trains).
///
/// # Errors
/// An unreadable manifest that names nothing under `--data`; a speaker named twice or not
/// in the data; what the splitters refuse.
pub fn split_assignments(
    args: &TrainArgs,
    utterances: &[ser_datasets::Utterance],
) -> Result<Vec<Assignment>> {
    if let Some(m) = &args.manifest {
        let rows = read_manifest(m)?;
        // Rows are found by corpus, speaker and path below the corpus, however the corpus's
        // path was typed when the manifest was written.
        let rows = SplitLookup::new(&rows).assign(utterances);
        if rows.is_empty() {
            bail!("no manifest row names a file under --data");
        }
        return Ok(rows);
    }
    let fr = if args.validating() {
        SplitFractions::default()
    } else {
        SplitFractions::new(0.85, 0.0, 0.15)?
    };
    if args.validate && !args.test_speakers.is_empty() && args.val_speakers.is_empty() {
        bail!("--validate with --test-speakers needs --val-speakers (who validates)");
    }
    Ok(match args.split {
        SplitArg::Random => random_split(utterances, &fr, args.data_seed())?,
        SplitArg::Speaker if args.test_speakers.is_empty() => {
            speaker_split(utterances, &fr, args.data_seed())?
        }
        SplitArg::Speaker => {
            let speakers: BTreeSet<&str> = utterances.iter().map(|u| u.speaker.as_str()).collect();
            if let Some(s) = args
                .val_speakers
                .iter()
                .find(|s| args.test_speakers.contains(s))
            {
                bail!("speaker `{s}` is in both --test-speakers and --val-speakers");
            }
            for s in args.test_speakers.iter().chain(&args.val_speakers) {
                if !speakers.contains(s.as_str()) {
                    bail!(
                        "speaker `{s}` is not in the data (speakers look like {:?})",
                        speakers.iter().take(3).collect::<Vec<_>>()
                    );
                }
            }
            utterances
                .iter()
                .map(|u| Assignment {
                    utterance: u.clone(),
                    split: u.emotion.map(|_| {
                        if args.test_speakers.contains(&u.speaker) {
                            Split::Test
                        } else if args.val_speakers.contains(&u.speaker) {
                            Split::Validation
                        } else {
                            Split::Train
                        }
                    }),
                })
                .collect()
        }
    })
}

/// What `--resume` and `--overwrite` ask of the run folder.
fn dir_mode(args: &TrainArgs) -> Result<RunDirMode> {
    Ok(match (args.resume, args.overwrite) {
        (true, true) => bail!("--resume and --overwrite contradict each other"),
        (true, false) => RunDirMode::Resume,
        (false, true) => RunDirMode::Overwrite,
        (false, false) => RunDirMode::New,
    })
}

/// [`check_run_dir`] with what to do about a folder in the way.
fn check_out(out: &Path, mode: RunDirMode) -> Result<()> {
    check_run_dir(out, mode).context(
        "pass --resume to continue a run or --overwrite to replace it; a folder of other \
         files is never written into",
    )
}

/// Trains a run as `train` does (see the `train` program's documentation): scan, split,
/// featurize, balance, train, evaluate on the test split, and write the run directory
/// `args.out`; with `--members N` > 1, N such runs from N seeds in `OUT/member-K` and
/// their ensemble's test figures in `OUT`. Messages and progress bars go through `ui`.
///
/// # Errors
/// A run directory in the way (without `--resume`/`--overwrite`), a resume of a run with
/// another number of members, data that cannot be split or measured, and any scanning,
/// featurizing, training or writing error.
pub fn train(args: &TrainArgs, ui: &Ui) -> Result<()> {
    let single = args.out.join(CONFIG_FILE).is_file();
    let ensemble = member_dir(&args.out, 1).is_dir();
    if args.resume && args.members == 1 && ensemble && !single {
        bail!(
            "{} is an ensemble run: resume it with the --members it was started with",
            args.out.display()
        );
    }
    if args.members == 1 {
        return train_one(args, ui);
    }
    train_ensemble(args, ui)
}

/// `train --members N` (N > 1): each member as [`train_one`] trains it, in turn (a resume
/// skips finished members and continues a started one), then the ensemble on the test
/// split.
fn train_ensemble(args: &TrainArgs, ui: &Ui) -> Result<()> {
    let out = &args.out;
    let mode = dir_mode(args)?;
    check_out(out, mode)?;
    if mode == RunDirMode::Resume {
        if out.join(CONFIG_FILE).is_file() {
            bail!(
                "{} holds a single model's run: resume it with --members 1",
                out.display()
            );
        }
        let started = run_members(out)?.len();
        if started > args.members {
            bail!(
                "{} holds an ensemble of {started} members: resume it with --members {started}",
                out.display()
            );
        }
    }
    // An old run goes now, members and all, so that none of it joins the new ensemble;
    // not before the data is found (each member checks the rest before writing).
    if mode == RunDirMode::Overwrite && labelled(&args.data)?.0.is_empty() {
        bail!("no labelled utterance under {:?}", args.data);
    }
    prepare_run_dir(out, mode)?;
    let t0 = Instant::now();
    for k in 1..=args.members {
        let mut member = args.member(k);
        let dir = member.out.clone();
        member.overwrite = false;
        member.resume = false;
        if mode == RunDirMode::Resume && dir.join("metrics.json").is_file() {
            ui.line(&format!("member {k} of {}: finished before", args.members));
            continue;
        }
        member.resume = mode == RunDirMode::Resume && is_run(&dir);
        ui.line(&format!(
            "member {k} of {}: seed {} in {}{}",
            args.members,
            member.seed,
            dir.display(),
            if member.resume { " (resumed)" } else { "" }
        ));
        let member_ui = ui.within(&format!("member {k}"));
        train_one(&member, &member_ui).with_context(|| format!("member {k}"))?;
    }
    ui.line(&format!(
        "{} members in {:.1} min",
        args.members,
        t0.elapsed().as_secs_f64() / 60.0
    ));
    test_ensemble(args, ui)
}

/// The test figures of the ensemble run `args.out` whose members are trained: its split
/// (the members', which must agree) to `OUT/split.csv`, the mean of the members'
/// probabilities scored on the test split (the validation split without one) to
/// `OUT/metrics.json` and `OUT/confusion.png`, with each member's figures beside.
fn test_ensemble(args: &TrainArgs, ui: &Ui) -> Result<()> {
    let out = &args.out;
    let members = run_members(out)?;
    let split = std::fs::read(members[0].join("split.csv"))
        .with_context(|| format!("the split of {}", members[0].display()))?;
    for m in &members[1..] {
        if std::fs::read(m.join("split.csv")).ok().as_ref() != Some(&split) {
            bail!(
                "{} was split otherwise than {}: an ensemble's members share one split",
                m.display(),
                members[0].display()
            );
        }
    }
    ser_models::io::write_atomic(&out.join("split.csv"), &split)?;
    let (device, device_desc) = parse_device(&args.device)?;
    let (cfg, models) = Recognizer::from_run(out, &device)?.into_parts();
    let (utterances, _) = labelled(&args.data)?;
    let rows = read_manifest(&out.join("split.csv"))?;
    let assigned = SplitLookup::new(&rows).assign(&utterances);
    let of = |s: Split| -> Vec<Utterance> {
        assigned
            .iter()
            .filter(|a| a.split == Some(s))
            .map(|a| a.utterance.clone())
            .collect()
    };
    let (test, split) = match of(Split::Test) {
        t if t.is_empty() => (of(Split::Validation), "validation"),
        t => (t, "test"),
    };
    if test.is_empty() {
        ui.line("no validation or test split: nothing to evaluate");
        return Ok(());
    }
    let feats = featurize(&test, cfg.features, args.cache.as_deref(), ui.is_quiet())?;
    let feats = prepare_for(&cfg.model, &test, feats)?;
    let data = dataset(&test, &feats, 64)?;
    let preds = predict_mean(&models, &data)?;
    let mut each = Vec::new();
    let mut minutes = 0.0;
    let mut epochs_run = serde_json::Value::Null;
    for m in &members {
        let metrics: serde_json::Value = ser_models::io::load_json(&m.join("metrics.json"))?;
        minutes += metrics["train_minutes"].as_f64().unwrap_or(f64::NAN);
        if epochs_run.is_null() {
            epochs_run = metrics["epochs_run"].clone();
        }
        let r = &metrics["report"];
        each.push(serde_json::json!({
            "run": m.file_name().map(|n| n.to_string_lossy().into_owned()),
            "seed": RunConfig::load(m)?.seed,
            "accuracy": r["accuracy"],
            "balanced_accuracy": r["balanced_accuracy"],
            "macro_f1": r["macro_f1"],
        }));
    }
    let fields = serde_json::json!({
        "members": each,
        "train_minutes": minutes,
        "epochs_run": epochs_run,
        "best_epoch": serde_json::Value::Null,
        "device": device_desc,
    });
    let title = format!(
        "{}, ensemble of {}, {} split",
        cfg.model.architecture,
        members.len(),
        cfg.split
    )
    .to_lowercase();
    let report = report_test(out, &preds, &test, split, fields, &title, ui)?;
    let member_ua: Vec<String> = each
        .iter()
        .map(|m| {
            format!(
                "{:.2}%",
                100.0 * m["balanced_accuracy"].as_f64().unwrap_or(f64::NAN)
            )
        })
        .collect();
    ui.line(&format!(
        "ensemble of {}: accuracy {:.2}%  UA {:.2}%  macro-F1 {:.2}% on {} items (members' UA {}); \
         training took {minutes:.1} min\nwrote {}/{{member-*,split.csv,metrics.json,confusion.png}}",
        members.len(),
        100.0 * report.accuracy,
        100.0 * report.balanced_accuracy,
        100.0 * report.macro_f1,
        preds.labels.len(),
        member_ua.join(", "),
        out.display()
    ));
    Ok(())
}

/// Trains one model into `args.out` (`train --members 1`).
fn train_one(args: &TrainArgs, ui: &Ui) -> Result<()> {
    macro_rules! say {
        ($($t:tt)*) => {
            ui.line(&format!($($t)*))
        };
    }
    let arch: Architecture = args.model.parse()?;
    let image_input = matches!(
        ModelConfig::research(arch).input.mode,
        InputMode::Magma { .. }
    );
    let input_norm = match (args.input_norm, image_input) {
        (None, true) => InputNorm::Global,
        (None, false) => InputNorm::Speaker,
        (Some(InputNorm::Global), _) => InputNorm::Global,
        (Some(_), true) => {
            bail!("--input-norm applies to log-mel models, not {arch}'s image input")
        }
        (Some(n), false) => n,
    };
    if args.oversample_to.is_some() && !matches!(args.balance, Balance::Oversample) {
        bail!("--oversample-to needs --balance oversample");
    }
    let (device, device_desc) = parse_device(&args.device)?;
    let out = &args.out;
    let mode = dir_mode(args)?;
    // Checked now; an old run is cleared (--overwrite) only once there is something to
    // write.
    check_out(out, mode)?;

    // 1. Data.
    let (mut utterances, report) = labelled(&args.data)?;
    if let Some(n) = args.limit {
        utterances.truncate(n);
    }
    if utterances.is_empty() {
        bail!("no labelled utterance under {:?}", args.data);
    }
    say!(
        "{} labelled utterances from {} folder(s) ({} rejected, {} duplicates); device {device_desc}",
        utterances.len(),
        args.data.len(),
        report.rejected.len(),
        report.duplicates.len()
    );
    let split_path = out.join("split.csv");
    let mut assignments = if args.resume && split_path.exists() {
        let rows = read_manifest(&split_path)?;
        let found = SplitLookup::new(&rows).assign(&utterances);
        if found.len() != rows.len() {
            bail!(
                "{} of the {} clips of the run's split.csv are not under --data {:?}: resume \
                 with the data the run was trained on",
                rows.len().saturating_sub(found.len()),
                rows.len(),
                args.data
            );
        }
        found
    } else {
        split_assignments(args, &utterances)?
    };
    if matches!(args.split, SplitArg::Speaker) && args.manifest.is_none() {
        check_no_speaker_leak(&assignments)?;
    }
    if let Balance::Undersample = args.balance {
        let train: Vec<_> = assignments
            .iter()
            .filter(|a| a.split == Some(Split::Train))
            .map(|a| a.utterance.clone())
            .collect();
        let keep: BTreeSet<_> = undersample(&train, args.data_seed())?
            .into_iter()
            .map(|u| u.path)
            .collect();
        assignments.retain(|a| a.split != Some(Split::Train) || keep.contains(&a.utterance.path));
    }
    check_measured(&assignments)?;
    prepare_run_dir(out, mode)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Paths relative to their --data folder, so that evaluate and --resume find the
    // split however the corpus's path is typed, or wherever the corpus has moved.
    write_manifest(
        &split_path,
        &relative_to_roots(&assignments, &args.data),
        Overwrite::Replace,
    )?;
    let of = |s: Split| -> Vec<&ser_datasets::Utterance> {
        assignments
            .iter()
            .filter(|a| a.split == Some(s))
            .map(|a| &a.utterance)
            .collect()
    };
    let (tr, va, te) = (of(Split::Train), of(Split::Validation), of(Split::Test));
    say!(
        "split: {} train, {} validation, {} test",
        tr.len(),
        va.len(),
        te.len()
    );
    if tr.is_empty() {
        bail!("the training split is empty");
    }
    for (name, part) in [("train", &tr), ("test", &te)] {
        let counts = Counts::from_utterances(part.iter().copied());
        let by: Vec<String> = counts
            .by_emotion()
            .iter()
            .map(|(e, n)| format!("{}={n}", e.map_or("-", |e| e.as_str())))
            .collect();
        say!("  {name}: {}", by.join(" "));
    }

    // 2. Features, once.
    let t0 = Instant::now();
    let logmel = args.logmel();
    let all: Vec<_> = assignments
        .iter()
        .filter(|a| a.split.is_some())
        .map(|a| a.utterance.clone())
        .collect();
    let feats = featurize(&all, logmel, args.cache.as_deref(), ui.is_quiet())?;
    say!(
        "featurized {} files in {:.1} s",
        feats.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut feats = feats;
    // The training population's band statistics, which speakers' are shrunk towards.
    let band_prior = if input_norm == InputNorm::Speaker && args.speaker_prior > 0.0 {
        let mut pop = BandStats::new(logmel.n_mels);
        for u in &tr {
            if let Some(x) = feats.get(&u.path) {
                pop.add(x.view())?;
            }
        }
        pop.to_prior(args.speaker_prior)
    } else {
        None
    };
    let mut history = (input_norm == InputNorm::Speaker
        && args.speaker_history != SpeakerStats::All)
        .then(|| {
            let h = SpeakerHistory::new(&tr, &feats, band_prior.as_ref(), args.seed);
            match args.speaker_history {
                SpeakerStats::Mixed => h.with_all_fraction(0.5),
                _ => h,
            }
        });
    let speaker_stats = if input_norm == InputNorm::Speaker {
        let stats = standardize_by_speaker(&all, &mut feats, band_prior.as_ref())?;
        if let Some(h) = &mut history {
            // Training clips in a fixed order, so that the draws repeat.
            for u in &tr {
                if let Some(x) = feats.get_mut(&u.path) {
                    let raw = h.raw(u).with_context(|| format!("{}", u.path.display()))?;
                    *x = h.standardize(u, &u.path, &raw)?;
                }
            }
        }
        Some(stats)
    } else {
        None
    };
    let mut train = dataset(tr.iter().copied(), &feats, args.batch_size)?;
    let mut oversampled_to = None;
    if let Balance::Oversample = args.balance {
        let t0 = Instant::now();
        let (plan, copies) = oversample(
            &tr,
            args.oversample_to,
            logmel,
            args.data_seed(),
            ui.is_quiet(),
        )?;
        say!(
            "over-sampled the training split to {} clips per class with {} augmented copies in {:.1} s",
            plan.target(),
            copies.len(),
            t0.elapsed().as_secs_f64()
        );
        for (id, class, mut mel) in copies {
            if let Some(stats) = &speaker_stats {
                // A copy is standardised as its source clip was, by its speaker's statistics.
                let source = augmented_source(&id);
                let u = tr
                    .iter()
                    .find(|u| u.path == source)
                    .with_context(|| format!("the source of augmented copy {}", id.display()))?;
                mel = match &mut history {
                    Some(h) => h.standardize(u, &u.path, &mel)?,
                    None => stats[&speaker_key(u)].standardize(mel.view())?,
                };
            }
            train.ids.push(id);
            train.labels.push(class);
            train.features.push(mel);
        }
        oversampled_to = Some(plan.target());
    }
    // Re-checked: every copy has the shape of the clips it joins.
    let train = Dataset::with_ids(train.features, train.labels, train.ids, args.batch_size)?
        .shuffled(args.seed);
    // Each training item's speaker, for the speaker adversary only.
    let (n_speakers, train_speakers) = if args.speaker_adversary != 0.0 {
        speakers_of(&tr, &train.ids)?
    } else {
        (0, HashMap::new())
    };
    let val = dataset(va.iter().copied(), &feats, args.batch_size)?;
    let test = dataset(te.iter().copied(), &feats, args.batch_size)?;

    // 3. Model and training.
    let mut model_cfg = ModelConfig::research(arch);
    model_cfg.conv_dropout = args.conv_dropout;
    model_cfg.l2 = args.l2;
    model_cfg.bn_momentum = args.bn_momentum;
    // VGG19's convolutions are its own.
    if !args.conv_channels.is_empty() && !image_input {
        model_cfg.conv_channels = args.conv_channels.clone();
    }
    if let Some(h) = args.rnn_hidden {
        model_cfg.rnn_hidden = h;
    }
    model_cfg.pooling = match args.pooling {
        PoolingArg::Attention => ser_models::SequencePooling::Attention,
        PoolingArg::MeanStd => ser_models::SequencePooling::MeanStd,
    };
    if args.transformer_layers > 0 {
        model_cfg.transformer = Some(ser_models::TransformerConfig {
            heads: args.transformer_heads,
            ..ser_models::TransformerConfig::new(args.transformer_layers, args.transformer_dim)
        });
    }
    if let InputMode::LogMel { .. } = model_cfg.input.mode {
        model_cfg.input.mode = match input_norm {
            InputNorm::Global => {
                let (mean, std) = fit_normalization(train.features.iter().map(|a| a.view()))?;
                InputMode::LogMel { mean, std }
            }
            InputNorm::Cmvn => InputMode::LogMelCmvn,
            InputNorm::Speaker => {
                model_cfg.band_prior = band_prior.clone();
                InputMode::LogMelSpeakerCmvn
            }
        };
        (model_cfg.input.n_mels, model_cfg.input.frames) = input_shape(&logmel)?;
        model_cfg.input.deltas = args.deltas;
    } else if args.deltas > 0 {
        bail!("--deltas applies to log-mel input, not to {arch:?}'s image");
    }
    let default_lr = if arch == Architecture::Vgg19 {
        5e-5
    } else {
        1e-3
    };
    let train_cfg = TrainConfig {
        epochs: args.epochs(),
        adam: AdamConfig {
            learning_rate: args.lr.unwrap_or(default_lr),
            ..AdamConfig::default()
        },
        patience: (args.patience > 0).then_some(args.patience),
        schedule: if args.reduce_lr {
            LrSchedule::ReduceOnPlateau {
                factor: 0.5,
                patience: 3,
                min_lr: 1e-6,
            }
        } else if args.cosine {
            LrSchedule::Cosine { min_lr: 1e-5 }
        } else {
            LrSchedule::Constant
        },
        class_weights: args.class_weights,
        spec_augment: !args.no_spec_augment,
        spec_masks: args.spec_masks.then(SpecMasks::default),
        mixup: args.mixup,
        ema: (args.ema != 0.0).then_some(args.ema),
        ema_warmup: args.ema_warmup,
        vtlp: if args.vtlp {
            let fmax = f64::from(logmel.fmax.unwrap_or(logmel.sample_rate as f32 / 2.0));
            Some(ser_augment::MelWarp::new(
                0.9,
                1.1,
                f64::from(logmel.fmin),
                fmax,
                0.6 * fmax,
                ser_dsp::MelScale::Slaney,
            )?)
        } else {
            None
        },
        label_smoothing: args.label_smoothing,
        speaker_adversary: (args.speaker_adversary != 0.0).then(|| {
            ser_models::adversary::SpeakerAdversary::new(args.speaker_adversary, n_speakers)
        }),
        seed: args.seed,
        ..TrainConfig::default()
    };
    if let Some(a) = train_cfg.speaker_adversary {
        say!(
            "speaker adversary: weight {} over {} training speakers",
            a.weight,
            a.speakers
        );
    }
    let run_cfg = RunConfig {
        model: model_cfg.clone(),
        features: logmel,
        train: train_cfg.clone(),
        classes: class_names(),
        data: args.data.clone(),
        split: if args.manifest.is_some() {
            "manifest".into()
        } else {
            format!("{:?}", args.split).to_lowercase()
        },
        seed: args.seed,
        oversampled_to,
    };
    let model = Model::new(model_cfg, args.seed, &device)?;
    if arch == Architecture::Vgg19 && !args.no_pretrained && !args.resume {
        let path = match &args.imagenet {
            Some(p) => p.clone(),
            None => HubWeights::vgg19()
                .resolve()
                .context("VGG19's ImageNet weights (pass --imagenet FILE, or --no-pretrained)")?,
        };
        load_vgg19_features(&model, &path)?;
        say!("loaded ImageNet weights from {}", path.display());
    }
    say!(
        "{arch}: {} parameters ({} trainable tensors)",
        model.n_params(),
        model.trainable_vars().len()
    );
    let ckpt = out.join("checkpoint");
    if args.resume {
        // Refuse to continue another run: a different model would take part of the
        // weights, continue the history and replace the original.
        RunConfig::load(out)
            .with_context(|| format!("{} holds no run to resume", out.display()))?
            .check_resume(&run_cfg)
            .context("--resume")?;
    }
    let trainer = if args.resume {
        let t = Trainer::resume(&model, &ckpt, Some(args.epochs()))?;
        say!("resuming after epoch {}", t.state().epoch);
        t
    } else {
        Trainer::new(&model, train_cfg, &train.labels)?
    };
    let mut trainer = trainer.with_speakers(train_speakers)?;
    ser_models::io::save_json(&out.join("config.json"), &run_cfg)?;
    ser_models::io::save_json(&out.join("model.json"), &run_cfg.model)?;
    let val_ref: Option<&dyn ser_models::train::BatchSource> = if val.features.is_empty() {
        None
    } else {
        Some(&val)
    };
    let mut pb = ui.bar(0, "epoch");
    trainer.fit(&train, val_ref, Some(&ckpt), &mut |ev| match ev {
        Event::EpochStart { epoch, batches } => {
            pb = ui.bar(batches as u64, &format!("epoch {epoch}"));
        }
        Event::Step { loss, accuracy, .. } => {
            pb.set_message(format!("loss {loss:.3} acc {:.1}%", 100.0 * accuracy));
            pb.inc(1);
        }
        Event::EpochEnd(r) => {
            pb.finish_and_clear();
            say!(
                "epoch {:>3}: train loss {:.3} acc {:5.1}% | val loss {} acc {} | {:.0} s{}",
                r.epoch,
                r.train_loss,
                100.0 * r.train_accuracy,
                r.val_loss.map_or("-".into(), |v| format!("{v:.3}")),
                r.val_accuracy
                    .map_or("-".into(), |v| format!("{:5.1}%", 100.0 * v)),
                r.seconds,
                r.speaker_accuracy.map_or(String::new(), |v| format!(
                    " | speaker head acc {:.1}%",
                    100.0 * v
                ))
            );
        }
        Event::EarlyStop { epoch, best_epoch } => {
            say!("early stop after epoch {epoch}; keeping epoch {best_epoch}");
        }
    })?;
    let history = &trainer.state().history;
    // Every epoch's training and validation time, those before a resume included (this
    // process's clock would count only the epochs it ran).
    let minutes = history.epochs.iter().map(|r| r.seconds).sum::<f64>() / 60.0;
    model.save_weights(&out.join("model.safetensors"))?;
    ser_models::io::save_json(&out.join("history.json"), history)?;
    draw_curves(&out.join("curves.png"), history)?;

    // 4. Test.
    let eval_on = if test.features.is_empty() {
        &val
    } else {
        &test
    };
    if eval_on.features.is_empty() {
        say!("no validation or test split: nothing to evaluate");
        return Ok(());
    }
    let preds = predict(&model, eval_on)?;
    let split = if test.features.is_empty() {
        "validation"
    } else {
        "test"
    };
    let fields = serde_json::json!({
        "train_minutes": minutes,
        "epochs_run": history.epochs.len(),
        "best_epoch": trainer.state().best_epoch,
        "device": device_desc,
    });
    let report = report_test(
        out,
        &preds,
        &utterances,
        split,
        fields,
        &format!("{arch}, {} split", run_cfg.split),
        ui,
    )?;
    say!(
        "accuracy {:.2}%  UA {:.2}%  macro-F1 {:.2}% on {} items; training took {minutes:.1} min\nwrote {}/{{model.safetensors,config.json,metrics.json,confusion.png,curves.png}}",
        100.0 * report.accuracy,
        100.0 * report.balanced_accuracy,
        100.0 * report.macro_f1,
        preds.labels.len(),
        out.display()
    );
    Ok(())
}

/// Scores `preds` on the run's `split` (`test` or `validation`), by corpus too: prints the
/// report's table (unless `ui` is shared), and writes `out/metrics.json` (the report,
/// `split`, `items`, `loss` and `fields`) and `out/confusion.png` (titled `title`).
fn report_test(
    out: &Path,
    preds: &Predictions,
    utterances: &[Utterance],
    split: &str,
    fields: serde_json::Value,
    title: &str,
    ui: &Ui,
) -> Result<Report> {
    let corpora = corpus_of(utterances);
    let group = |p: &Path| {
        corpora
            .get(p)
            .map_or("?".to_string(), |c| c.as_str().to_string())
    };
    let names = class_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let report = preds.report(&names, Some(&group))?;
    if !ui.is_quiet() {
        println!("{}", report.to_text());
    }
    let mut metrics = serde_json::json!({
        "split": split,
        "items": preds.labels.len(),
        "loss": preds.loss,
        "report": report,
    });
    if let (Some(m), serde_json::Value::Object(extra)) = (metrics.as_object_mut(), fields) {
        m.extend(extra);
    }
    ser_models::io::save_json(&out.join("metrics.json"), &metrics)?;
    draw_confusion(&out.join("confusion.png"), &report, title)?;
    Ok(report)
}
