//! [`Recognizer`]: a trained model with the features it was trained on, ready for audio —
//! one utterance ([`Recognizer::classify`]), any length ([`Recognizer::timeline`],
//! [`Recognizer::timeline_file`]) or a live stream ([`Recognizer::stream`]).

use std::path::Path;

use candle_core::Device;
use ser_datasets::Emotion;
use ser_dsp::ndarray::{Array2, ArrayView2};
use ser_dsp::{Audio, LogMel, SpeechGate, SpeechGateConfig};

use crate::InputMode;
use crate::error::{Error, Result};
use crate::features::{BandStats, batch_tensor};
use crate::models::Model;
use crate::run::{RunConfig, load_run, load_run_bytes};
use crate::timeline::{Stream, Timeline, TimelineConfig};

/// The number of classes a recognizer tells apart (the seven of [`Emotion::ALL`]).
pub const N_CLASSES: usize = Emotion::ALL.len();

/// What a recognizer heard: the most likely emotion and the probability of each of the
/// seven, in [`Emotion::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The most likely emotion.
    pub emotion: Emotion,
    /// The probability of each emotion, indexed by [`Emotion::index`]; they sum to 1.
    pub probabilities: [f32; N_CLASSES],
}

impl Prediction {
    /// The prediction for these probabilities (the emotion is the most likely one; ties go
    /// to the first in [`Emotion::ALL`]'s order).
    pub fn from_probabilities(probabilities: [f32; N_CLASSES]) -> Self {
        let best = probabilities
            .iter()
            .enumerate()
            .fold(0, |b, (i, p)| if *p > probabilities[b] { i } else { b });
        Self {
            emotion: Emotion::ALL[best],
            probabilities,
        }
    }

    /// The probability of the predicted emotion.
    pub fn confidence(&self) -> f32 {
        self.probability(self.emotion)
    }

    /// The probability of `emotion`.
    pub fn probability(&self, emotion: Emotion) -> f32 {
        self.probabilities[emotion.index()]
    }

    /// Each emotion with its probability, in [`Emotion::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Emotion, f32)> + '_ {
        Emotion::ALL.into_iter().zip(self.probabilities)
    }
}

/// A trained model, its feature pipeline and its device: audio in, emotions out.
///
/// ```no_run
/// use ser_models::Recognizer;
/// use ser_models::candle_core::Device;
/// use ser_models::timeline::TimelineConfig;
///
/// let recognizer = Recognizer::from_run("runs/speaker".as_ref(), &Device::Cpu)?;
/// let audio = ser_audio_io::load("speech.wav")?;
/// let heard = recognizer.classify(&audio)?; // one utterance
/// println!("{} ({:.0} %)", heard.emotion, 100.0 * heard.confidence());
/// // Any length, in 3 s windows every second, decoded in chunks (bounded memory).
/// let timeline = recognizer.timeline_file("interview.flac".as_ref(), &TimelineConfig::default())?;
/// for s in &timeline.segments {
///     println!("{:.0}-{:.0} s: {:?}", s.start, s.end, s.prediction.map(|p| p.emotion));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Recognizers are `Send + Sync`: one can serve many threads.
#[derive(Debug)]
pub struct Recognizer {
    config: RunConfig,
    model: Model,
    logmel: LogMel,
    gate: SpeechGate,
}

impl Recognizer {
    /// A recognizer from a trained model and the run configuration it was trained with.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is inconsistent or is not the model's.
    pub fn new(config: RunConfig, model: Model) -> Result<Self> {
        config.validate()?;
        if model.config() != &config.model {
            return Err(Error::config(
                "model",
                format!("{:?}", model.config().architecture),
                "is not the model the run configuration describes",
            ));
        }
        let logmel = LogMel::new(config.features)
            .map_err(|e| Error::config("features", format!("{:?}", config.features), e))?;
        Ok(Self {
            config,
            model,
            logmel,
            gate: SpeechGate::new(SpeechGateConfig::default())?,
        })
    }

    /// Loads the run directory `dir` (`config.json` and `model.safetensors`, as the `train`
    /// program writes them) onto `device`.
    ///
    /// # Errors
    /// As [`load_run`].
    pub fn from_run(dir: &Path, device: &Device) -> Result<Self> {
        let (config, model) = load_run(dir, device)?;
        Self::new(config, model)
    }

    /// A recognizer from a run configuration (`config.json`'s text) and weights
    /// (safetensors bytes, any float dtype) held in memory; `name` is used in errors.
    ///
    /// # Errors
    /// As [`RunConfig::from_json`] and [`load_run_bytes`].
    pub fn from_bytes(
        config_json: &str,
        weights: &[u8],
        name: &Path,
        device: &Device,
    ) -> Result<Self> {
        let config = RunConfig::from_json(config_json, name)?;
        let (config, model) = load_run_bytes(config, weights, name, device)?;
        Self::new(config, model)
    }

    /// The model that ships inside this crate (feature `shipped-model`, on by default): the
    /// CNN-BLSTM-attention trained on RAVDESS actors 01–16, stored as `f16`, with no file or
    /// network needed. **Its weights are under CC BY-NC-SA 4.0** (they derive from RAVDESS):
    /// non-commercial use, share-alike, with attribution. Its accuracy on actors it never
    /// heard, its training command and its limits are in `docs/model-card.md`.
    ///
    /// # Errors
    /// Device errors (the embedded files are checked by the crate's tests).
    #[cfg(feature = "shipped-model")]
    pub fn shipped(device: &Device) -> Result<Self> {
        Self::from_bytes(
            crate::shipped::CONFIG_JSON,
            crate::shipped::WEIGHTS,
            Path::new(crate::shipped::NAME),
            device,
        )
    }

    /// The run configuration (features, model, training).
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The run configuration and the model, taken apart (for batch evaluation with
    /// [`crate::train::predict`]).
    pub fn into_parts(self) -> (RunConfig, Model) {
        (self.config, self.model)
    }

    /// The feature extractor, configured as in training.
    pub fn logmel(&self) -> &LogMel {
        &self.logmel
    }

    /// The speech gate [`Recognizer::classify`] uses to refuse audio without speech.
    pub fn gate(&self) -> &SpeechGate {
        &self.gate
    }

    /// The same recognizer with another speech gate for [`Recognizer::classify`].
    ///
    /// # Errors
    /// As [`SpeechGate::new`].
    pub fn with_gate(mut self, gate: SpeechGateConfig) -> Result<Self> {
        self.gate = SpeechGate::new(gate)?;
        Ok(self)
    }

    /// The sample rate the model hears (16 kHz for the shipped model); other rates are
    /// resampled.
    pub fn sample_rate(&self) -> u32 {
        self.config.features.sample_rate
    }

    /// The log-mel spectrogram of one utterance, exactly as in training (peak-normalised,
    /// silence-trimmed, resampled, padded or cut to the model's duration).
    ///
    /// # Errors
    /// [`Error::Features`] for empty, non-finite or silent audio.
    pub fn featurize(&self, audio: &Audio) -> Result<Array2<f32>> {
        Ok(self.logmel.extract(audio)?)
    }

    /// The emotion of one utterance: featurized as in training (a clip longer than the
    /// model's 3 s is cut, a shorter one padded) and classified.
    ///
    /// # Errors
    /// [`Error::NoSpeech`] when the gate hears no speech (silence, room noise); as
    /// [`Recognizer::featurize`].
    pub fn classify(&self, audio: &Audio) -> Result<Prediction> {
        if !self.gate.is_speech(audio.samples(), audio.sample_rate())? {
            return Err(Error::no_speech(self.gate.config()));
        }
        let features = self.featurize(audio)?;
        let mut p = self.classify_features(&[features.view()])?;
        p.pop().ok_or(Error::PredictionCount {
            expected: 1,
            got: 0,
        })
    }

    /// Classifies log-mel spectrograms (each `(n_mels, frames)` as [`Recognizer::featurize`]
    /// makes them) in one batch. A model with
    /// [`InputMode::LogMelSpeakerCmvn`] input sees each
    /// one standardised by its own statistics (one clip is its own speaker), shrunk towards
    /// the model's [`band_prior`](crate::ModelConfig::band_prior) if it has one.
    ///
    /// # Errors
    /// [`Error::InputShape`] for a spectrogram of another shape; [`Error::NonFiniteInput`].
    pub fn classify_features(&self, features: &[ArrayView2<'_, f32>]) -> Result<Vec<Prediction>> {
        if self.model.config().input.mode == InputMode::LogMelSpeakerCmvn {
            let own = features
                .iter()
                .map(|f| BandStats::standardize_alone(*f, self.model.config().band_prior.as_ref()))
                .collect::<Result<Vec<_>>>()?;
            let views: Vec<_> = own.iter().map(|f| f.view()).collect();
            return self.classify_prepared(&views);
        }
        self.classify_prepared(features)
    }

    /// [`Recognizer::classify_features`] of spectrograms already standardised where the
    /// model's input mode asks for it (the stream's running statistics).
    pub(crate) fn classify_prepared(
        &self,
        features: &[ArrayView2<'_, f32>],
    ) -> Result<Vec<Prediction>> {
        if features.is_empty() {
            return Ok(Vec::new());
        }
        let x = batch_tensor(
            features.iter().copied(),
            &self.model.config().input,
            self.model.device(),
        )?;
        let p: Vec<Vec<f32>> = self.model.predict_proba(&x)?.to_vec2()?;
        p.into_iter()
            .map(|row| {
                let probabilities: [f32; N_CLASSES] =
                    row.try_into().map_err(|row: Vec<f32>| Error::ClassCount {
                        expected: N_CLASSES,
                        got: row.len(),
                    })?;
                Ok(Prediction::from_probabilities(probabilities))
            })
            .collect()
    }

    /// The emotions over time of audio of any length: windows of `config.window_secs`
    /// every `config.hop_secs`, each classified as an utterance, windows without speech
    /// marked as such, and the overall emotion (see [`crate::timeline`]). The same as
    /// feeding the audio to [`Recognizer::stream`] in any pieces.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad `config`; [`Error::Features`] for non-finite samples.
    pub fn timeline(&self, audio: &Audio, config: &TimelineConfig) -> Result<Timeline> {
        let mut stream = self.stream(audio.sample_rate(), config)?;
        let mut segments = stream.push(audio.samples())?;
        segments.extend(stream.finish()?);
        Ok(stream.timeline(segments))
    }

    /// [`Recognizer::timeline`] of an audio file, decoded in chunks: memory stays bounded
    /// (a few windows and one packet) whatever the file's length.
    ///
    /// # Errors
    /// [`Error::Audio`] naming the file for anything the decoder refuses; the errors of
    /// [`Recognizer::timeline`] (non-finite samples, ...) as [`Error::InFile`], naming it.
    pub fn timeline_file(&self, path: &Path, config: &TimelineConfig) -> Result<Timeline> {
        let in_file = |e: Error| match e {
            // The decoder's errors name the file already.
            Error::Audio(_) => e,
            e => Error::InFile {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
        };
        let mut audio = ser_audio_io::open_stream(path)?;
        let mut stream = self.stream(audio.sample_rate(), config)?;
        let mut segments = Vec::new();
        while let Some(chunk) = audio.next_chunk()? {
            segments.extend(stream.push(chunk).map_err(in_file)?);
        }
        segments.extend(stream.finish().map_err(in_file)?);
        Ok(stream.timeline(segments))
    }

    /// A live stream at `sample_rate` Hz: push samples in pieces of any size, get each
    /// window's segment as soon as the window is complete.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad `config` or a sample rate the resampler refuses.
    pub fn stream(&self, sample_rate: u32, config: &TimelineConfig) -> Result<Stream<'_>> {
        Stream::new(self, sample_rate, config)
    }
}
