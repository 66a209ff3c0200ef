//! Speech-emotion classifiers in [candle](https://github.com/huggingface/candle): the
//! research's CNN, LSTM, CNN-LSTM, CNN-BLSTM, CNN-BLSTM with attention and VGG19, with
//! seeded training, evaluation and checkpoints.
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
//! * [`Classifier`] is the one trait every network implements (`[B, C, n_mels, frames]` →
//!   logits `[B, classes]`, in [`Mode::Train`] or [`Mode::Eval`]); [`Model`] holds a
//!   network with its [`ModelConfig`], its seeded [`ParamStore`] and its device.
//! * [`train`] runs Adam ([`optim`]) with the L2 penalty, early stopping, schedules, class
//!   weights and spectrogram augmentation over any [`train::BatchSource`] (a
//!   [`ser_datasets::Loader`] or spectrograms in memory), checkpoints atomically and
//!   resumes exactly; [`metrics`] gives accuracy, balanced accuracy, per-class
//!   precision/recall/F1, macro and weighted averages, the confusion matrix and per-corpus
//!   figures.
//! * [`ops`] and [`bn`] make training fast on the CPU: convolution as im2col + gemm with
//!   both gradients as matrix products, fused BatchNorm+ReLU, a 2×2 max-pool with
//!   PyTorch's gradient. [`layers`] has the BLSTM candle lacks and additive attention.
//! * [`hub`] finds VGG19's ImageNet weights (`timm/vgg19.tv_in1k`) in the Hugging Face
//!   cache or downloads them (feature `hub`); [`features`] turns log-mel spectrograms into
//!   input tensors (one channel, or the research's magma image).
//!
//! Features: `hub` (download weights with hf-hub), `cuda`, `cudnn`, `metal` (candle's GPU
//! backends; [`parse_device`] picks a device by name).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use candle_core;
pub use candle_nn;

pub mod bn;
pub mod config;
pub mod device;
pub mod error;
pub mod features;
pub mod hub;
pub mod io;
pub mod layers;
pub mod metrics;
pub mod models;
pub mod ops;
pub mod optim;
pub mod params;
pub mod train;

pub use config::{Architecture, InputMode, InputSpec, ModelConfig};
pub use device::parse_device;
pub use error::{Error, Result};
pub use layers::Mode;
pub use models::{Classifier, Model, build};
pub use params::ParamStore;
