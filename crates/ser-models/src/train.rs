//! Training: [`Trainer`] with its settings ([`TrainConfig`], [`LrSchedule`]), progress
//! reports ([`Event`]) and checkpoints. The batches it reads ([`BatchSource`],
//! [`Dataset`]), the loss ([`cross_entropy`], [`smoothed_cross_entropy`],
//! [`balanced_class_weights`]) and evaluation ([`predict`], [`evaluate_loss`],
//! [`Predictions`]) live in their own modules and are re-exported here.
//!
//! [`Trainer`] runs Adam on a [`Model`] over any [`BatchSource`] (a streaming
//! [`ser_datasets::Loader`] or spectrograms in memory, [`Dataset`]) with the L2 penalty,
//! optional balanced class weights, seeded dropout and spectrogram augmentation, early
//! stopping on the validation loss, an optional learning-rate schedule and an optional
//! moving average of the weights ([`TrainConfig::ema`]). Every random
//! draw derives from [`TrainConfig::seed`], the epoch and the step, so the same seed on the
//! same machine gives the same weights, and a run resumed from a [checkpoint](Trainer::resume)
//! continues exactly as if it had not stopped.
//!
//! A checkpoint holds `weights.safetensors` (every variable, BatchNorm statistics
//! included), `optimizer.safetensors` (Adam's moments), `best.safetensors` (the weights of
//! the best epoch), `average.safetensors` (the [weight average](crate::ema) with
//! [`TrainConfig::ema`]), `adversary.safetensors` (the speaker head of
//! [`TrainConfig::speaker_adversary`]) and `state.json` (epoch, step, learning rate, best
//! loss, patience, history, seed). They are written as one unit: into a temporary folder,
//! which is then renamed to `gen-NNNNNN` inside the checkpoint directory, after which older
//! generations and leftovers are removed. A process killed at any moment therefore leaves
//! the last checkpoint or the new one whole, and [`Trainer::resume`] takes the newest whole
//! one. The tensor files also carry the step in their metadata, so files mixed by hand from
//! two checkpoints are refused on resume.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use ndarray::{Array2, Axis};
use ser_augment::Transform;
use serde::{Deserialize, Serialize};

use crate::adversary::{Adversary, SpeakerAdversary};
use crate::checkpoint;
use crate::ema::{WeightAverage, deep_copy};
use crate::error::{Error, Result};
use crate::features::batch_tensor;
use crate::io::{json_bytes, load_json, load_safetensors, safetensors_bytes, safetensors_metadata};
use crate::layers::Mode;
use crate::metrics::{EpochRecord, History};
use crate::models::Model;
use crate::optim::{Adam, AdamConfig};

pub use crate::data::{BatchSource, Dataset};
pub use crate::loss::{balanced_class_weights, cross_entropy, smoothed_cross_entropy};
pub use crate::predict::{LossAccuracy, Predictions, evaluate_loss, predict, predict_mean};

/// How the learning rate changes between epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LrSchedule {
    /// Constant (the research's).
    #[default]
    Constant,
    /// Multiply by `factor` after `patience` epochs without a better validation loss, not
    /// below `min_lr` (Keras `ReduceLROnPlateau`).
    ReduceOnPlateau {
        /// Multiplier.
        factor: f64,
        /// Epochs to wait.
        patience: usize,
        /// Floor.
        min_lr: f64,
    },
    /// Cosine decay from the initial rate to `min_lr` over the epochs.
    Cosine {
        /// Final rate.
        min_lr: f64,
    },
}

/// SpecAugment's frequency and time masks (Park et al., 2019) on training spectrograms,
/// filled with the spectrogram's mean ([`ser_augment::FrequencyMask`],
/// [`ser_augment::TimeMask`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecMasks {
    /// The widest frequency mask, in mel bands.
    pub freq_width: usize,
    /// Frequency masks per spectrogram.
    pub freq_count: usize,
    /// The widest time mask, in frames.
    pub time_width: usize,
    /// Time masks per spectrogram.
    pub time_count: usize,
}

impl Default for SpecMasks {
    /// Two masks of up to 16 bands and two of up to 10 frames (a tenth of a 3 s clip at
    /// hop 512), SpecAugment's LibriSpeech-basic policy scaled to 128 bands and 94 frames.
    fn default() -> Self {
        Self {
            freq_width: 16,
            freq_count: 2,
            time_width: 10,
            time_count: 2,
        }
    }
}

/// Training settings; the defaults are the research's (Adam 1e-3, batch 32, early
/// stopping with patience 10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Maximum epochs.
    pub epochs: usize,
    /// Adam's settings.
    pub adam: AdamConfig,
    /// Stop after this many epochs without a better validation loss (and restore the best
    /// weights); `None`: never.
    pub patience: Option<usize>,
    /// The smallest decrease of the validation loss that counts as better.
    pub min_delta: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Weight the loss by inverse class frequency of the training set.
    pub class_weights: bool,
    /// Random time shifts and noise on training spectrograms (the research's
    /// [`ser_augment::research_spectrogram`]).
    pub spec_augment: bool,
    /// SpecAugment masks on training spectrograms, after the research's shift and noise;
    /// `None`: no masks.
    pub spec_masks: Option<SpecMasks>,
    /// Mixup (Zhang et al., 2018) with this `alpha`: each batch is blended with a shuffled
    /// copy of itself, `λ·x + (1−λ)·x[perm]` with `λ ~ Beta(alpha, alpha)`, and the loss is
    /// `λ·CE(y) + (1−λ)·CE(y[perm])`; `None`: no mixup.
    pub mixup: Option<f64>,
    /// Validate, keep and finish with an exponential moving average of the weights
    /// ([`WeightAverage`]) with this largest decay (e.g. 0.99; the decay is warmed up, see
    /// [`WeightAverage::current_decay`]) instead of the last step's weights;
    /// `None`: no average.
    pub ema: Option<f64>,
    /// The warm-up `w` of the average's decay, `min(ema, (1 + n)/(w + n))` after `n` steps
    /// ([`WeightAverage::with_warmup`]; TensorFlow's 10 by default).
    pub ema_warmup: f64,
    /// Vocal-tract-length perturbation of training spectrograms, before the research's
    /// shift and noise ([`ser_augment::MelWarp`], whose bands must match the features');
    /// `None`: none.
    pub vtlp: Option<ser_augment::MelWarp>,
    /// Label smoothing `ε` of the training loss ([`smoothed_cross_entropy`], PyTorch's
    /// `label_smoothing`): the target puts `1 − ε + ε/K` on the label and `ε/K` on each
    /// other class; 0: none. Validation's loss stays the plain cross-entropy.
    pub label_smoothing: f64,
    /// Speaker-adversarial training ([`crate::adversary`]): a speaker head on the pooled
    /// representation, through a gradient reversal; the trainer then needs each training
    /// item's speaker ([`Trainer::with_speakers`]). `None`: none.
    pub speaker_adversary: Option<SpeakerAdversary>,
    /// The seed of shuffling, dropout and augmentation.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 50,
            adam: AdamConfig::default(),
            patience: Some(10),
            min_delta: 1e-4,
            schedule: LrSchedule::Constant,
            class_weights: false,
            spec_augment: true,
            spec_masks: None,
            mixup: None,
            ema: None,
            ema_warmup: crate::ema::DEFAULT_WARMUP,
            vtlp: None,
            label_smoothing: 0.0,
            speaker_adversary: None,
            seed: 42,
        }
    }
}

/// Where training stands: everything needed, with the weights and Adam's moments, to
/// continue exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: u64,
    /// The learning rate for the next epoch.
    pub learning_rate: f64,
    /// The best validation loss so far (training loss without validation).
    pub best_loss: Option<f64>,
    /// The epoch (1-based) of the best loss.
    pub best_epoch: Option<usize>,
    /// Epochs since the best loss.
    pub bad_epochs: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// One record per completed epoch.
    pub history: History,
    /// The training configuration.
    pub config: TrainConfig,
    /// Class weights used in the loss, if any.
    pub class_weights: Option<Vec<f32>>,
}

/// Progress reports from [`Trainer::fit`].
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// An epoch starts (1-based), with `batches` batches.
    EpochStart {
        /// The epoch.
        epoch: usize,
        /// Batches in it.
        batches: usize,
    },
    /// A training step ended, with running means over the epoch so far.
    Step {
        /// The epoch.
        epoch: usize,
        /// Batches done in this epoch.
        batch: usize,
        /// Running mean loss.
        loss: f64,
        /// Running accuracy.
        accuracy: f64,
    },
    /// An epoch ended.
    EpochEnd(&'a EpochRecord),
    /// Early stopping ended training; the best epoch's weights are restored.
    EarlyStop {
        /// The last epoch run.
        epoch: usize,
        /// The epoch whose weights are kept.
        best_epoch: usize,
    },
}

/// Runs Adam on a [`Model`].
#[derive(Debug)]
pub struct Trainer<'m> {
    model: &'m Model,
    opt: Adam,
    state: TrainState,
    best_weights: Option<BTreeMap<String, Tensor>>,
    ema: Option<WeightAverage>,
    adversary: Option<Adversary>,
    speakers: HashMap<PathBuf, usize>,
    speaker_accuracy: Option<f64>,
}

/// The speaker head of [`TrainConfig::speaker_adversary`] for `model`, if configured.
fn adversary_for(model: &Model, config: &TrainConfig) -> Result<Option<Adversary>> {
    let Some(a) = config.speaker_adversary else {
        return Ok(None);
    };
    if config.mixup.is_some() {
        return Err(Error::config(
            "speaker_adversary",
            format!("{a:?}"),
            "does not combine with mixup (a blend of two clips has no one speaker)",
        ));
    }
    let Some(dim) = model.net().embedding_dim() else {
        return Err(Error::config(
            "speaker_adversary",
            model.config().architecture,
            "this architecture has no pooled representation to adapt",
        ));
    };
    Ok(Some(Adversary::new(a, dim, config.seed, model.device())?))
}

/// What Adam trains: the model's trainable variables and the speaker head's, if any.
fn optimized_vars(model: &Model, adversary: Option<&Adversary>) -> Vec<(String, Var)> {
    let mut vars = model.trainable_vars();
    if let Some(a) = adversary {
        vars.extend(a.vars());
    }
    vars
}

/// The spectrogram augmentation of a training step: the vocal-tract-length warp, the
/// research's shift and noise, then the masks, each when configured; `None` when there is
/// none.
fn spec_augmentation(
    config: &TrainConfig,
) -> Result<Option<ser_augment::Compose<ser_augment::Spectrogram>>> {
    let mut t = ser_augment::Compose::new();
    if let Some(w) = &config.vtlp {
        t = t.then(w.clone());
    }
    if config.spec_augment {
        t = t.then(ser_augment::research_spectrogram());
    }
    if let Some(m) = config.spec_masks {
        let bad = |e| Error::config("spec_masks", format!("{m:?}"), format!("{e}"));
        t = t
            .then(
                ser_augment::FrequencyMask::new(
                    m.freq_width,
                    m.freq_count,
                    ser_augment::Fill::Mean,
                )
                .map_err(bad)?,
            )
            .then(
                ser_augment::TimeMask::new(m.time_width, m.time_count, ser_augment::Fill::Mean)
                    .map_err(bad)?,
            );
    }
    Ok((!t.is_empty()).then_some(t))
}

/// Mixup's draw for one batch of `n`: `λ ~ Beta(alpha, alpha)` and the partner of each
/// item, from the step's seed.
fn mixup_draw(alpha: f64, n: usize, seed: u64) -> Result<(f64, Vec<u32>)> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    use rand_distr::Distribution;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x6d69_7875_7000);
    let beta = rand_distr::Beta::new(alpha, alpha)
        .map_err(|e| Error::config("mixup", alpha, format!("{e}")))?;
    let lambda = beta.sample(&mut rng);
    let mut perm: Vec<u32> = (0..n as u32).collect();
    perm.shuffle(&mut rng);
    Ok((lambda, perm))
}

impl<'m> Trainer<'m> {
    /// A trainer for `model` from the start. `train_labels` sets the class weights when
    /// [`TrainConfig::class_weights`] is on.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid settings.
    pub fn new(model: &'m Model, config: TrainConfig, train_labels: &[usize]) -> Result<Self> {
        if config.epochs == 0 {
            return Err(Error::config("epochs", 0, "must be >= 1"));
        }
        if let Some(a) = config.mixup {
            if !(a.is_finite() && a > 0.0) {
                return Err(Error::config("mixup", a, "must be a finite alpha > 0"));
            }
        }
        if !(0.0..1.0).contains(&config.label_smoothing) {
            return Err(Error::config(
                "label_smoothing",
                config.label_smoothing,
                "must be in [0, 1)",
            ));
        }
        spec_augmentation(&config)?;
        let adversary = adversary_for(model, &config)?;
        let opt = Adam::new(optimized_vars(model, adversary.as_ref()), config.adam)?;
        let ema = match config.ema {
            Some(d) => Some(WeightAverage::new(model.store(), d)?.with_warmup(config.ema_warmup)?),
            None => None,
        };
        let class_weights = config
            .class_weights
            .then(|| balanced_class_weights(train_labels, model.config().classes));
        Ok(Self {
            model,
            opt,
            state: TrainState {
                epoch: 0,
                step: 0,
                learning_rate: config.adam.learning_rate,
                best_loss: None,
                best_epoch: None,
                bad_epochs: 0,
                stopped_early: false,
                history: History::default(),
                config,
                class_weights,
            },
            best_weights: None,
            ema,
            adversary,
            speakers: HashMap::new(),
            speaker_accuracy: None,
        })
    }

    /// Each training item's speaker, `0..speakers`, by its id (the batch's path), for
    /// [`TrainConfig::speaker_adversary`] (without it they are not used).
    ///
    /// # Errors
    /// [`Error::Config`] for a speaker index outside the adversary's speakers.
    pub fn with_speakers(mut self, speakers: HashMap<PathBuf, usize>) -> Result<Self> {
        if let Some(a) = self.state.config.speaker_adversary {
            if let Some((path, s)) = speakers.iter().find(|(_, s)| **s >= a.speakers) {
                return Err(Error::config(
                    "speakers",
                    format!("{} → {s}", path.display()),
                    format!("the adversary has {} speakers", a.speakers),
                ));
            }
        }
        self.speakers = speakers;
        Ok(self)
    }

    /// The speaker head's accuracy on the training batches of the last epoch, with
    /// [`TrainConfig::speaker_adversary`]: near chance when the representation hides the
    /// speakers.
    pub fn speaker_accuracy(&self) -> Option<f64> {
        self.speaker_accuracy
    }

    /// The speaker labels of a batch's items.
    fn speaker_labels(&self, paths: &[PathBuf], device: &Device) -> Result<(Vec<u32>, Tensor)> {
        let labels = paths
            .iter()
            .map(|p| {
                self.speakers.get(p).map(|&s| s as u32).ok_or_else(|| {
                    Error::config(
                        "speakers",
                        p.display(),
                        "no speaker for this training item (Trainer::with_speakers)",
                    )
                })
            })
            .collect::<Result<Vec<u32>>>()?;
        let t = Tensor::new(labels.as_slice(), device)?;
        Ok((labels, t))
    }

    /// The state so far.
    pub fn state(&self) -> &TrainState {
        &self.state
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// Whether training is over (all epochs run, or stopped early).
    pub fn finished(&self) -> bool {
        self.state.stopped_early || self.state.epoch >= self.state.config.epochs
    }

    fn step_seed(&self, epoch: usize, batch: usize) -> u64 {
        ser_datasets::item_seed(
            self.state.config.seed ^ 0x7472_6169_6e00,
            epoch as u64,
            batch as u64,
        )
    }

    /// One epoch over `data`, reporting each step. Returns the epoch's mean loss and
    /// accuracy.
    ///
    /// # Errors
    /// Errors of `data`; [`Error::EmptyTrainingData`] when it yields no batch;
    /// [`Error::Augmentation`]; [`Error::NonFiniteLoss`] if training diverges.
    pub fn train_epoch(
        &mut self,
        data: &dyn BatchSource,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<LossAccuracy> {
        let epoch = self.state.epoch + 1;
        let spec = self.model.config().input;
        let device = self.model.device().clone();
        let weights = match &self.state.class_weights {
            Some(w) => Some(Tensor::from_slice(w, w.len(), &device)?),
            None => None,
        };
        let aug = spec_augmentation(&self.state.config)?;
        let smoothing = self.state.config.label_smoothing;
        let emotion_loss = |logits: &Tensor, labels: &Tensor| {
            smoothed_cross_entropy(logits, labels, weights.as_ref(), smoothing)
        };
        let (mut sum_loss, mut correct, mut n) = (0f64, 0usize, 0usize);
        let mut speakers_right = 0usize;
        for (bi, batch) in data.batches(epoch as u64).enumerate() {
            let batch = batch?;
            let seed = self.step_seed(epoch, bi);
            // Without augmentation the batch goes to the tensor as it is; augmentation
            // needs each spectrogram as an owned array and makes a new one.
            let xs = match &aug {
                Some(t) => {
                    let items: Vec<Array2<f32>> = batch
                        .features
                        .axis_iter(Axis(0))
                        .enumerate()
                        .map(|(i, x)| {
                            ser_augment::augment_seeded(
                                t as &dyn Transform<Array2<f32>>,
                                &x.to_owned(),
                                seed ^ (i as u64) << 20,
                            )
                            .map(|(y, _)| y)
                            .map_err(|source| Error::Augmentation {
                                path: batch.paths.get(i).cloned().unwrap_or_default(),
                                epoch,
                                source,
                            })
                        })
                        .collect::<Result<_>>()?;
                    batch_tensor(items.iter().map(|a| a.view()), &spec, &device)?
                }
                None => batch_tensor(batch.features.axis_iter(Axis(0)), &spec, &device)?,
            };
            let labels: Vec<u32> = batch.labels.iter().map(|&l| l as u32).collect();
            let labels = Tensor::new(labels.as_slice(), &device)?;
            let mix = match self.state.config.mixup {
                Some(alpha) => Some(mixup_draw(alpha, batch.labels.len(), seed)?),
                None => None,
            };
            let (logits, ce, speaker_ce) = match &mix {
                Some((lambda, perm)) => {
                    let perm_t = Tensor::new(perm.as_slice(), &device)?;
                    let xs = ((&xs * *lambda)? + (xs.index_select(&perm_t, 0)? * (1.0 - lambda))?)?;
                    let logits = self.model.forward_t(&xs, Mode::Train { seed })?;
                    let other = labels.index_select(&perm_t, 0)?;
                    let ce = ((emotion_loss(&logits, &labels)? * *lambda)?
                        + (emotion_loss(&logits, &other)? * (1.0 - lambda))?)?;
                    (logits, ce, None)
                }
                None => match &self.adversary {
                    Some(adv) => {
                        let (logits, emb) =
                            self.model.forward_embedded_t(&xs, Mode::Train { seed })?;
                        let ce = emotion_loss(&logits, &labels)?;
                        let (who, who_t) = self.speaker_labels(&batch.paths, &device)?;
                        let speaker_logits = adv.logits(&emb)?;
                        let guess: Vec<u32> = speaker_logits.argmax(1)?.to_vec1()?;
                        speakers_right += guess.iter().zip(&who).filter(|(g, w)| g == w).count();
                        (
                            logits,
                            ce,
                            Some(cross_entropy(&speaker_logits, &who_t, None)?),
                        )
                    }
                    None => {
                        let logits = self.model.forward_t(&xs, Mode::Train { seed })?;
                        let ce = emotion_loss(&logits, &labels)?;
                        (logits, ce, None)
                    }
                },
            };
            let mut loss = match self.model.l2_penalty()? {
                Some(p) => (&ce + p)?,
                None => ce.clone(),
            };
            if let Some(s) = &speaker_ce {
                loss = (loss + s)?;
            }
            let grads = loss.backward()?;
            self.opt.step(&grads)?;
            if let Some(ema) = &mut self.ema {
                ema.update(self.model.store())?;
            }
            self.state.step += 1;
            let ce_v = f64::from(ce.to_dtype(DType::F32)?.to_scalar::<f32>()?);
            if !ce_v.is_finite() {
                return Err(Error::NonFiniteLoss {
                    loss: ce_v,
                    epoch,
                    step: self.state.step,
                });
            }
            let pred: Vec<u32> = logits.argmax(1)?.to_vec1()?;
            let b = batch.labels.len();
            correct += pred
                .iter()
                .zip(&batch.labels)
                .filter(|(p, l)| **p as usize == **l)
                .count();
            sum_loss += ce_v * b as f64;
            n += b;
            on_event(Event::Step {
                epoch,
                batch: bi + 1,
                loss: sum_loss / n as f64,
                accuracy: correct as f64 / n as f64,
            });
        }
        if n == 0 {
            return Err(Error::EmptyTrainingData);
        }
        self.speaker_accuracy = self
            .adversary
            .as_ref()
            .map(|_| speakers_right as f64 / n as f64);
        Ok(LossAccuracy {
            loss: sum_loss / n as f64,
            accuracy: correct as f64 / n as f64,
        })
    }

    /// Trains until the configured epochs are done or early stopping ends it, validating
    /// after each epoch on `val` (if any) and checkpointing into `checkpoint` (if any).
    /// At the end the best epoch's weights are in the model (when there was validation).
    ///
    /// # Errors
    /// Data, device and I/O errors; [`Error::NonFiniteLoss`].
    pub fn fit(
        &mut self,
        train: &dyn BatchSource,
        val: Option<&dyn BatchSource>,
        checkpoint: Option<&Path>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<&History> {
        while !self.finished() {
            let epoch = self.state.epoch + 1;
            self.apply_schedule(epoch);
            let t0 = Instant::now();
            let batches = train.n_batches();
            on_event(Event::EpochStart { epoch, batches });
            let tr = self.train_epoch(train, on_event)?;
            let va = match val {
                Some(v) => Some(self.evaluate_kept(v)?),
                None => None,
            };
            let record = EpochRecord {
                epoch,
                train_loss: tr.loss,
                train_accuracy: tr.accuracy,
                val_loss: va.map(|v| v.loss),
                val_accuracy: va.map(|v| v.accuracy),
                learning_rate: self.opt.learning_rate(),
                seconds: t0.elapsed().as_secs_f64(),
                speaker_accuracy: self.speaker_accuracy,
            };
            self.state.epoch = epoch;
            let monitored = va.map_or(tr.loss, |v| v.loss);
            let improved = self
                .state
                .best_loss
                .is_none_or(|b| monitored < b - self.state.config.min_delta);
            if improved {
                self.state.best_loss = Some(monitored);
                self.state.best_epoch = Some(epoch);
                self.state.bad_epochs = 0;
                self.best_weights = Some(match &self.ema {
                    Some(ema) => deep_copy(ema.tensors())?,
                    None => deep_copy(&self.model.store().tensors())?,
                });
            } else {
                self.state.bad_epochs += 1;
            }
            self.state.history.push(record.clone());
            on_event(Event::EpochEnd(&record));
            if let Some(p) = self.state.config.patience {
                if val.is_some() && self.state.bad_epochs >= p {
                    self.state.stopped_early = true;
                }
            }
            if let Some(dir) = checkpoint {
                self.save_checkpoint(dir)?;
            }
            if self.state.stopped_early {
                if let Some(best) = self.state.best_epoch {
                    on_event(Event::EarlyStop {
                        epoch,
                        best_epoch: best,
                    });
                }
            }
        }
        if val.is_some() {
            self.restore_best()?;
        } else if let Some(ema) = &self.ema {
            self.model
                .store()
                .load_from(ema.tensors(), Path::new("<weight average>"))?;
        }
        Ok(&self.state.history)
    }

    /// The validation loss and accuracy of the weights training keeps: the average's with
    /// [`TrainConfig::ema`] (put in the model for the evaluation, then the last step's
    /// weights put back), else the model's own.
    fn evaluate_kept(&self, val: &dyn BatchSource) -> Result<LossAccuracy> {
        let Some(ema) = &self.ema else {
            return evaluate_loss(self.model, val);
        };
        let store = self.model.store();
        let live = deep_copy(&store.tensors())?;
        store.load_from(ema.tensors(), Path::new("<weight average>"))?;
        let result = evaluate_loss(self.model, val);
        store.load_from(&live, Path::new("<last weights>"))?;
        result
    }

    /// Puts the best epoch's weights into the model.
    ///
    /// # Errors
    /// Device errors.
    pub fn restore_best(&self) -> Result<()> {
        if let Some(best) = &self.best_weights {
            self.model
                .store()
                .load_from(best, Path::new("<best weights>"))?;
        }
        Ok(())
    }

    fn apply_schedule(&mut self, epoch: usize) {
        let base = self.state.config.adam.learning_rate;
        let lr = match self.state.config.schedule {
            LrSchedule::Constant => base,
            LrSchedule::ReduceOnPlateau {
                factor,
                patience,
                min_lr,
            } => {
                let mut lr = self.state.learning_rate;
                if patience > 0
                    && self.state.bad_epochs > 0
                    && self.state.bad_epochs.is_multiple_of(patience)
                {
                    lr = (lr * factor).max(min_lr);
                }
                lr
            }
            LrSchedule::Cosine { min_lr } => {
                let t = (epoch - 1) as f64 / self.state.config.epochs.max(1) as f64;
                min_lr + 0.5 * (base - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        };
        self.state.learning_rate = lr;
        self.opt.set_learning_rate(lr);
    }

    /// Writes a checkpoint into `dir` (created if needed), as one unit: a kill at any
    /// moment leaves the previous checkpoint or this one whole, never a mix (see the
    /// [module docs](self)). Returns the folder the checkpoint's files are in.
    ///
    /// # Errors
    /// [`Error::Io`]; the previous checkpoint is then still whole.
    pub fn save_checkpoint(&self, dir: &Path) -> Result<PathBuf> {
        let meta = || {
            Some(HashMap::from([(
                "step".to_string(),
                self.state.step.to_string(),
            )]))
        };
        let mut files = vec![
            (
                "weights.safetensors",
                safetensors_bytes(dir, &self.model.store().tensors(), meta())?,
            ),
            (
                "optimizer.safetensors",
                safetensors_bytes(dir, &self.opt.state_tensors(), meta())?,
            ),
        ];
        if let Some(best) = &self.best_weights {
            files.push(("best.safetensors", safetensors_bytes(dir, best, meta())?));
        }
        if let Some(ema) = &self.ema {
            files.push((
                "average.safetensors",
                safetensors_bytes(dir, ema.tensors(), meta())?,
            ));
        }
        if let Some(adv) = &self.adversary {
            files.push((
                "adversary.safetensors",
                safetensors_bytes(dir, &adv.store().tensors(), meta())?,
            ));
        }
        files.push(("state.json", json_bytes(dir, &self.state)?));
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        checkpoint::write(dir, &refs)
    }

    /// Continues from the newest whole checkpoint in `dir` (written by
    /// [`save_checkpoint`](Self::save_checkpoint), or by an earlier version with the files
    /// directly in `dir`): loads the weights into `model` and restores
    /// Adam's moments, the step, the schedule, early stopping and the history. More
    /// epochs can be allowed with `epochs`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when files are missing or disagree; tensor errors naming the
    /// tensor.
    pub fn resume(model: &'m Model, dir: &Path, epochs: Option<usize>) -> Result<Self> {
        let dir = &checkpoint::latest(dir)?;
        let state_path = dir.join("state.json");
        if !state_path.is_file() {
            return Err(Error::Checkpoint {
                path: dir.to_path_buf(),
                message: "no state.json".into(),
            });
        }
        let mut state: TrainState = load_json(&state_path)?;
        if let Some(e) = epochs {
            state.config.epochs = e;
        }
        let check = |name: &str| -> Result<PathBuf> {
            let p = dir.join(name);
            let step = safetensors_metadata(&p)?.get("step").cloned();
            if step.as_deref() != Some(&state.step.to_string()) {
                return Err(Error::Checkpoint {
                    path: dir.to_path_buf(),
                    message: format!(
                        "{name} is from step {step:?}, state.json from step {}",
                        state.step
                    ),
                });
            }
            Ok(p)
        };
        let wp = check("weights.safetensors")?;
        model
            .store()
            .load_from(&load_safetensors(&wp, model.device())?, &wp)?;
        let adversary = adversary_for(model, &state.config)?;
        if let Some(adv) = &adversary {
            let p = check("adversary.safetensors")?;
            adv.store()
                .load_from(&load_safetensors(&p, model.device())?, &p)?;
        }
        let mut opt = Adam::new(optimized_vars(model, adversary.as_ref()), state.config.adam)?;
        let op = check("optimizer.safetensors")?;
        opt.load_state(&load_safetensors(&op, model.device())?, state.step, &op)?;
        opt.set_learning_rate(state.learning_rate);
        let best_weights = if state.best_epoch.is_some() {
            let bp = check("best.safetensors")?;
            Some(load_safetensors(&bp, model.device())?)
        } else {
            None
        };
        let ema = match state.config.ema {
            Some(decay) => {
                let ap = check("average.safetensors")?;
                let saved = load_safetensors(&ap, model.device())?;
                Some(
                    WeightAverage::from_tensors(model.store(), decay, state.step, &saved, &ap)?
                        .with_warmup(state.config.ema_warmup)?,
                )
            }
            None => None,
        };
        if state.epoch < state.config.epochs {
            state.stopped_early = false;
        }
        Ok(Self {
            model,
            opt,
            state,
            best_weights,
            ema,
            adversary,
            speakers: HashMap::new(),
            speaker_accuracy: None,
        })
    }
}
