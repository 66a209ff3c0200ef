//! Speech-emotion recognition in [candle](https://github.com/huggingface/candle): a
//! [`Recognizer`] that hears one utterance, a recording of any length or a live stream,
//! with a model that ships inside the crate; and the research's CNN, LSTM, CNN-LSTM,
//! CNN-BLSTM, CNN-BLSTM with attention and VGG19 to train your own, with seeded training,
//! evaluation and checkpoints.
//!
//! ```
//! # #[cfg(feature = "shipped-model")] {
//! use ser_models::candle_core::Device;
//! use ser_models::{Recognizer, TimelineConfig};
//! use ser_dsp::Audio;
//!
//! // The shipped model: no file, no network (its weights are CC BY-NC-SA 4.0, see below).
//! let recognizer = Recognizer::shipped(&Device::Cpu)?;
//! // Any mono f32 audio at any rate, e.g. from ser_audio_io::load("speech.wav").
//! let audio = Audio::new(
//!     (0..40_000).map(|n| 0.3 * (n as f32 * 0.02).sin() * (n as f32 * 3e-4).sin()).collect(),
//!     16_000,
//! )?;
//! let heard = recognizer.classify(&audio)?; // one utterance: label + 7 probabilities
//! println!("{} ({:.0} %)", heard.emotion, 100.0 * heard.confidence());
//! // Any length: 3 s windows every second, each labelled, silence marked, an overall label.
//! let timeline = recognizer.timeline(&audio, &TimelineConfig::default())?;
//! assert_eq!(timeline.segments.len(), 1); // 2.5 s: one window, padded as in training
//! // Silence is not given an emotion.
//! let quiet = Audio::new(vec![0.0; 16_000], 16_000)?;
//! assert!(matches!(recognizer.classify(&quiet), Err(ser_models::Error::NoSpeech { .. })));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Training your own network:
//!
//! ```
//! use ser_models::candle_core::{Device, Tensor};
//! use ser_models::{Architecture, Mode, Model, ModelConfig};
//!
//! // The research's best model (4 conv blocks, BLSTM 128, attention 128), here on a small
//! // 32-band × 48-frame input to keep the example fast.
//! let mut config = ModelConfig::research(Architecture::CnnBlstmAttn);
//! config.input.n_mels = 32;
//! config.input.frames = 48;
//! let model = Model::new(config, 42, &Device::Cpu)?; // seeded initial weights
//! let x = Tensor::randn(0f32, 1.0, (2, 1, 32, 48), &Device::Cpu)?;
//! let p = model.predict_proba(&x)?; // [2, 7] probabilities
//! assert_eq!(p.dims(), &[2, 7]);
//! // Training mode: batch statistics and dropout masks drawn from the step's seed.
//! let logits = model.forward_t(&x, Mode::Train { seed: 1 })?;
//! assert_eq!(logits.dims(), &[2, 7]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * [`Recognizer`] owns a trained model, its feature configuration and its device:
//!   [`Recognizer::classify`] (one utterance), [`Recognizer::timeline`] and
//!   [`Recognizer::timeline_file`] (any length, the file decoded in chunks, memory bounded),
//!   [`Recognizer::stream`] (push samples at any rate, get each window as it completes; the
//!   same segments as the timeline whatever the pieces). Audio without speech gets
//!   [`Error::NoSpeech`], not a guess. [`run`] reads a trained run's `config.json` and
//!   weights and checks them together before allocating; an ensemble run (the `train`
//!   program's default: members `member-1`, `member-2`, … trained from several seeds,
//!   [`run::run_members`]) loads as one recognizer with [`Recognizer::from_run`].
//! * **The shipped model** ([`Recognizer::shipped`], feature `shipped-model`, on by
//!   default): three CNN-BLSTM-attention networks trained by
//!   `scripts/train-shipped-model.sh` on RAVDESS actors 01–16 (one recipe, three seeds; an
//!   ensemble, [`Recognizer::ensemble`]), 3 × 2.7 MB of `f16` weights embedded in the crate. Its weights derive from
//!   RAVDESS and are licensed **CC BY-NC-SA 4.0** (non-commercial, share-alike), unlike
//!   the code; turn the feature off (`default-features = false`) to leave them out. Its
//!   accuracy on actors it never heard and its limits: `docs/model-card.md`.
//! * [`Classifier`] is the one trait every network implements (`[B, C, n_mels, frames]` →
//!   logits `[B, classes]`, in [`Mode::Train`] or [`Mode::Eval`]); [`Model`] holds a
//!   network with its [`ModelConfig`], its seeded [`ParamStore`] and its device. The
//!   CNN-BLSTM-attention can take a transformer encoder in place of its BLSTM
//!   ([`TransformerConfig`], [`transformer`]) and statistics pooling in place of its
//!   attention ([`SequencePooling`]), each checked against PyTorch like the rest.
//! * [`train`] runs Adam ([`optim`]) with the L2 penalty, early stopping, schedules, class
//!   weights, label smoothing, spectrogram augmentation, a moving average of the weights
//!   ([`ema`]) and speaker-adversarial training ([`adversary`]) over
//!   any [`train::BatchSource`] (a [`ser_datasets::Loader`] or spectrograms in memory),
//!   checkpoints atomically and resumes exactly; [`metrics`] gives accuracy, balanced accuracy, per-class
//!   precision/recall/F1, macro and weighted averages, the confusion matrix and per-corpus
//!   figures.
//! * [`ops`] and [`bn`] make training fast on the CPU, on every core: convolution image by
//!   image as im2col + gemm with both gradients as matrix products (the same bits on any
//!   thread count), in training each convolution block (convolution, BatchNorm, ReLU, 2×2
//!   max-pool) as one autograd node, the pool with PyTorch's gradient. [`layers`] has the BLSTM candle lacks and additive attention.
//! * [`hub`] finds VGG19's ImageNet weights (`timm/vgg19.tv_in1k`) in the Hugging Face
//!   cache or downloads them (feature `hub`); [`features`] turns log-mel spectrograms into
//!   input tensors (one channel, or the research's magma image).
//!
//! Features: `shipped-model` (default: the embedded model), `parallel` (default: rayon
//! over all cores in [`ops`] and [`bn`]; off for WebAssembly), `hub` (download weights with
//! hf-hub), `cuda`, `cudnn`, `metal` (candle's GPU backends; [`parse_device`] picks a
//! device by name).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use candle_core;
pub use candle_nn;

pub mod adversary;
mod block;
mod blstm;
pub mod bn;
mod checkpoint;
pub mod config;
mod data;
pub mod device;
pub mod ema;
pub mod error;
pub mod features;
pub mod hub;
pub mod io;
pub mod layers;
mod loss;
pub mod metrics;
pub mod models;
pub mod ops;
pub mod optim;
mod par;
pub mod params;
mod predict;
pub mod recognizer;
pub mod run;
#[cfg(feature = "shipped-model")]
mod shipped;
pub mod timeline;
pub mod train;
pub mod transformer;

pub use config::{
    Architecture, BandPrior, InputMode, InputSpec, ModelConfig, SequencePooling, TransformerConfig,
};
pub use device::parse_device;
pub use error::{Error, Result};
pub use layers::Mode;
pub use models::{Classifier, Model, build};
pub use params::ParamStore;
pub use recognizer::{Prediction, Recognizer};
pub use run::{RunConfig, load_run};
pub use timeline::{Segment, Stream, Timeline, TimelineConfig};
