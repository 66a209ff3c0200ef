//! [`Recognizer`]: a trained model (or an ensemble of models trained alike) with the
//! features it was trained on, ready for audio — one utterance ([`Recognizer::classify`]),
//! any length ([`Recognizer::timeline`], [`Recognizer::timeline_file`]) or a live stream
//! ([`Recognizer::stream`]).

use std::path::Path;

use candle_core::Device;
use ser_datasets::Emotion;
use ser_dsp::ndarray::{Array2, ArrayView2};
use ser_dsp::{Audio, LogMel, SpeechGate, SpeechGateConfig};

use crate::InputMode;
use crate::error::{Error, Result};
use crate::features::{BandStats, batch_tensor};
use crate::models::Model;
use crate::run::{RunConfig, load_run, load_run_bytes, run_members};
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
/// An ensemble ([`Recognizer::ensemble`], [`Recognizer::from_runs`], or
/// [`Recognizer::from_run`] on an ensemble run folder) is several models with the same
/// features and architecture (trained from other seeds): each input is classified by the
/// mean of their probabilities, at the cost of one model per member.
///
/// Recognizers are `Send + Sync`: one can serve many threads.
#[derive(Debug)]
pub struct Recognizer {
    config: RunConfig,
    /// The members, at least one, all with the model configuration of `config`.
    models: Vec<Model>,
    logmel: LogMel,
    gate: SpeechGate,
}

impl Recognizer {
    /// A recognizer from a trained model and the run configuration it was trained with.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is inconsistent or is not the model's.
    pub fn new(config: RunConfig, model: Model) -> Result<Self> {
        Self::ensemble(config, vec![model])
    }

    /// A recognizer that classifies by the mean probabilities of `models`: models of one
    /// architecture, input and training set statistics (the run configuration's model,
    /// `config.model`), e.g. the same recipe trained from several seeds.
    ///
    /// # Errors
    /// [`Error::Config`] for no model, an inconsistent configuration, or a model that is
    /// not the one the configuration describes (naming the member).
    pub fn ensemble(config: RunConfig, models: Vec<Model>) -> Result<Self> {
        config.validate()?;
        if models.is_empty() {
            return Err(Error::config(
                "models",
                0,
                "an ensemble needs at least one model",
            ));
        }
        for (i, model) in models.iter().enumerate() {
            if model.config() != &config.model {
                return Err(Error::config(
                    "model",
                    format!("member {} ({:?})", i + 1, model.config().architecture),
                    "is not the model the run configuration describes",
                ));
            }
        }
        let logmel = LogMel::new(config.features)
            .map_err(|e| Error::config("features", format!("{:?}", config.features), e))?;
        Ok(Self {
            config,
            models,
            logmel,
            gate: SpeechGate::new(SpeechGateConfig::default())?,
        })
    }

    /// Loads the run directory `dir` onto `device`, as the `train` program writes it: a run
    /// (`config.json` and `model.safetensors`), or an ensemble run whose members
    /// `member-1`, `member-2`, … are runs ([`run_members`]; `train`'s default).
    ///
    /// # Errors
    /// As [`run_members`] and [`Recognizer::from_runs`].
    pub fn from_run(dir: &Path, device: &Device) -> Result<Self> {
        Self::from_runs(&[dir], device)
    }

    /// The ensemble of the run directories `dirs`, each a run or an ensemble run whose
    /// members all join ([`run_members`]): runs of one recipe on the same training set,
    /// trained from different seeds. The first run's configuration is the recognizer's.
    ///
    /// # Errors
    /// As [`run_members`] and [`load_run`]; [`Error::Config`] for no run, or a run whose
    /// features or model (architecture, input, training set statistics) differ from the
    /// first's, naming it.
    pub fn from_runs<P: AsRef<Path>>(dirs: &[P], device: &Device) -> Result<Self> {
        let mut members = Vec::new();
        for d in dirs {
            members.extend(run_members(d.as_ref())?);
        }
        let mut runs = members.iter().map(|d| load_run(d, device));
        let Some(first) = runs.next() else {
            return Err(Error::config(
                "runs",
                0,
                "an ensemble needs at least one run",
            ));
        };
        let (config, first) = first?;
        let mut models = vec![first];
        for (dir, run) in members.iter().skip(1).zip(runs) {
            let (theirs, model) = run?;
            if theirs.features != config.features || theirs.model != config.model {
                return Err(Error::config(
                    "runs",
                    dir.display(),
                    format!(
                        "was trained with other features or another model (or training set) \
                         than {}: an ensemble's members differ only in their seed",
                        members[0].display()
                    ),
                ));
            }
            models.push(model);
        }
        Self::ensemble(config, models)
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
        Self::from_bytes_ensemble(config_json, &[weights], name, device)
    }

    /// [`Recognizer::from_bytes`] of an ensemble: one run configuration and the weights of
    /// each member (safetensors bytes of models of that configuration).
    ///
    /// # Errors
    /// As [`Recognizer::from_bytes`]; [`Error::Config`] for no weights.
    pub fn from_bytes_ensemble(
        config_json: &str,
        weights: &[&[u8]],
        name: &Path,
        device: &Device,
    ) -> Result<Self> {
        let config = RunConfig::from_json(config_json, name)?;
        let models = weights
            .iter()
            .map(|w| load_run_bytes(config.clone(), w, name, device).map(|(_, m)| m))
            .collect::<Result<Vec<_>>>()?;
        Self::ensemble(config, models)
    }

    /// The model that ships inside this crate (feature `shipped-model`, on by default): an
    /// ensemble of three CNN-BLSTM-attention networks (`train`'s default recipe from seeds
    /// 42, 43 and 44) trained on RAVDESS actors 01–16, stored as `f16`, with no file or
    /// network needed; [`Recognizer::with_members`]`(1)` keeps the first alone, three times
    /// faster. **Its weights are under CC BY-NC-SA 4.0** (they derive from RAVDESS):
    /// non-commercial use, share-alike, with attribution. Its accuracy on actors it never
    /// heard, its training command and its limits are in `docs/model-card.md`.
    ///
    /// # Errors
    /// Device errors (the embedded files are checked by the crate's tests).
    #[cfg(feature = "shipped-model")]
    pub fn shipped(device: &Device) -> Result<Self> {
        Self::from_bytes_ensemble(
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

    /// The model (an ensemble's first member; all have its configuration).
    pub fn model(&self) -> &Model {
        &self.models[0]
    }

    /// The models whose probabilities are averaged: one, or an ensemble's members.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The same recognizer with its first `n` members only: each member costs one model's
    /// time per window, so fewer are faster and (on the cross-validation's evidence, see
    /// `docs/results.md`) less accurate; 1 keeps the first model alone.
    ///
    /// # Errors
    /// [`Error::Config`] unless `1 <= n <=` the number of members.
    pub fn with_members(mut self, n: usize) -> Result<Self> {
        if n == 0 || n > self.models.len() {
            return Err(Error::config(
                "members",
                n,
                format!(
                    "must be in 1..={} (the members there are)",
                    self.models.len()
                ),
            ));
        }
        self.models.truncate(n);
        Ok(self)
    }

    /// The run configuration and the models, taken apart (for batch evaluation with
    /// [`crate::train::predict_mean`]).
    pub fn into_parts(self) -> (RunConfig, Vec<Model>) {
        (self.config, self.models)
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
        let model = self.model().config();
        if model.input.mode == InputMode::LogMelSpeakerCmvn {
            let own = features
                .iter()
                .map(|f| BandStats::standardize_alone(*f, model.band_prior.as_ref()))
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
        let first = self.model();
        let x = batch_tensor(
            features.iter().copied(),
            &first.config().input,
            first.device(),
        )?;
        let mut p = first.predict_proba(&x)?;
        for member in &self.models[1..] {
            p = (p + member.predict_proba(&x)?)?;
        }
        if self.models.len() > 1 {
            p = (p / self.models.len() as f64)?;
        }
        let p: Vec<Vec<f32>> = p.to_vec2()?;
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
