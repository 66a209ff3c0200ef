//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong building, loading, training or evaluating a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation failed (shape mismatch inside the network, device error, ...).
    #[error("tensor operation: {0}")]
    Candle(#[from] candle_core::Error),
    /// A model or training configuration is invalid.
    #[error("invalid configuration: {field} = {value}: {reason}")]
    Config {
        /// The offending field.
        field: &'static str,
        /// Its value, as text.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// An input batch does not have the shape the model expects.
    #[error("input: expected {expected}, got shape {got:?}")]
    InputShape {
        /// The expected shape, described.
        expected: String,
        /// The shape given.
        got: Vec<usize>,
    },
    /// An input holds NaN or infinite values.
    #[error("input: non-finite value in {what}")]
    NonFiniteInput {
        /// Where.
        what: String,
    },
    /// A weights file lacks a tensor the model needs.
    #[error("weights {path}: tensor `{name}` is missing")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
    },
    /// A weights file holds a tensor of the wrong shape.
    #[error("weights {path}: tensor `{name}` has shape {got:?}, the model expects {expected:?}")]
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The shape the model expects.
        expected: Vec<usize>,
        /// The shape in the file.
        got: Vec<usize>,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not in the expected format (safetensors, JSON).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A checkpoint is incomplete or its files disagree.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file exists and overwriting it was not allowed.
    #[error("{path} exists; refusing to overwrite it")]
    Exists {
        /// The file or directory.
        path: PathBuf,
    },
    /// Training diverged.
    #[error("the loss became {loss} at epoch {epoch}, step {step}")]
    NonFiniteLoss {
        /// The loss value.
        loss: f64,
        /// The epoch.
        epoch: usize,
        /// The optimizer step.
        step: u64,
    },
    /// The spectrograms, labels and ids given to a [`Dataset`](crate::train::Dataset) are
    /// not one of each per item.
    #[error("data: {spectrograms} spectrograms, {labels} labels, {ids} ids")]
    UnequalLengths {
        /// How many spectrograms.
        spectrograms: usize,
        /// How many labels.
        labels: usize,
        /// How many ids.
        ids: usize,
    },
    /// A spectrogram given to a [`Dataset`](crate::train::Dataset) has another shape than
    /// the first one.
    #[error("data: spectrogram {index} is {got:?}, spectrogram 0 is {expected:?}")]
    RaggedFeatures {
        /// The spectrogram's index.
        index: usize,
        /// The first spectrogram's shape, `(n_mels, frames)`.
        expected: (usize, usize),
        /// This one's shape.
        got: (usize, usize),
    },
    /// Augmenting a training spectrogram failed.
    #[error("data: spectrogram augmentation of {path} in epoch {epoch}: {source}")]
    Augmentation {
        /// The item's id (its file; empty if the batch names none).
        path: PathBuf,
        /// The epoch (1-based).
        epoch: usize,
        /// The cause.
        #[source]
        source: ser_augment::Error,
    },
    /// The training data yielded no batch, so there is nothing to train on.
    #[error("data: the training data yielded no batch")]
    EmptyTrainingData,
    /// The data to predict or evaluate on yielded no item.
    #[error("data: nothing to predict")]
    NothingToPredict,
    /// A batch tensor was asked for from no spectrogram.
    #[error("data: empty batch")]
    EmptyBatch,
    /// There was no value to fit the input normalisation to.
    #[error("data: no training features to normalise with")]
    NothingToNormalize,
    /// The model returned fewer predictions than it was given inputs.
    #[error("the model returned {got} predictions for {expected} inputs")]
    PredictionCount {
        /// The number of inputs.
        expected: usize,
        /// The number of predictions.
        got: usize,
    },
    /// The model gave another number of class probabilities than there are emotions.
    #[error("the model gave {got} probabilities, not {expected}")]
    ClassCount {
        /// The number of emotions.
        expected: usize,
        /// The number of probabilities.
        got: usize,
    },
    /// Reading a corpus or a batch failed.
    #[error(transparent)]
    Dataset(#[from] ser_datasets::Error),
    /// Computing metrics failed.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// Pretrained weights could not be found or fetched.
    #[error("hub {repo}: {message}")]
    Hub {
        /// The repository, e.g. `timm/vgg19.tv_in1k`.
        repo: String,
        /// What went wrong.
        message: String,
    },
    /// The audio holds no speech: no stretch loud enough for long enough (see
    /// [`ser_dsp::SpeechGate`]); no emotion is guessed.
    #[error("no speech found (less than {min_speech_secs} s above {threshold_db} dBFS)")]
    NoSpeech {
        /// The gate's threshold, in dB relative to full scale.
        threshold_db: f32,
        /// The least speech, in seconds, the gate asks for.
        min_speech_secs: f32,
    },
    /// Features could not be computed (empty, non-finite or silent audio, a bad feature
    /// configuration).
    #[error("features: {0}")]
    Features(#[from] ser_dsp::Error),
    /// An audio file could not be decoded.
    #[error(transparent)]
    Audio(#[from] ser_audio_io::Error),
    /// Something went wrong with the audio of a file (its samples, not its decoding):
    /// the file, and what.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
    /// A device was asked for that this build or machine does not have.
    #[error("device {requested}: {reason}")]
    Device {
        /// The device asked for.
        requested: String,
        /// Why it is unavailable.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// [`Error::NoSpeech`] for audio that `gate` finds no speech in.
    pub fn no_speech(gate: &ser_dsp::SpeechGateConfig) -> Self {
        Self::NoSpeech {
            threshold_db: gate.threshold_db,
            min_speech_secs: gate.min_speech_secs,
        }
    }

    pub(crate) fn config(field: &'static str, value: impl ToString, reason: impl ToString) -> Self {
        Self::Config {
            field,
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}
