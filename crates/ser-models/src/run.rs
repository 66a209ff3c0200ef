//! A trained run as the `train` program writes it: `config.json` (a [`RunConfig`]) and
//! `model.safetensors`, loaded and checked together; or an ensemble run, a folder of such
//! runs named `member-1`, `member-2`, … ([`run_members`]) trained alike from several seeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use ser_datasets::Emotion;
use ser_dsp::LogMelConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Model;
use crate::train::TrainConfig;

/// The file of a run directory that holds its [`RunConfig`].
pub const CONFIG_FILE: &str = "config.json";
/// The file of a run directory that holds its weights.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// How an ensemble run names its members' run folders: `member-1`, `member-2`, …
pub const MEMBER_PREFIX: &str = "member-";

/// Everything a run's `config.json` records: enough to rebuild the model and to featurize
/// new audio exactly as in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The network.
    pub model: crate::ModelConfig,
    /// How audio became log-mel spectrograms; the model's input shape (bands, frames) is
    /// derived from it ([`RunConfig::validate`] checks that the two agree).
    pub features: LogMelConfig,
    /// The training settings.
    pub train: TrainConfig,
    /// Class names, in output order (the seven of [`Emotion::ALL`]).
    pub classes: Vec<String>,
    /// The corpus folders trained on.
    pub data: Vec<PathBuf>,
    /// `random`, `speaker` or `manifest`.
    pub split: String,
    /// The seed of the split and of the initial weights.
    pub seed: u64,
    /// Per-class size of the training split after over-sampling it with augmented copies
    /// (`None`: not over-sampled).
    #[serde(default)]
    pub oversampled_to: Option<usize>,
}

/// The seven class names in model order ([`Emotion::ALL`]).
pub fn class_names() -> Vec<String> {
    Emotion::ALL
        .iter()
        .map(|e| e.as_str().to_string())
        .collect()
}

/// The model input shape `(n_mels, frames)` that `features` produces: one source for both.
///
/// # Errors
/// [`Error::Config`] when `features` has no fixed duration (the models take a fixed number
/// of frames) or yields no frame.
pub fn input_shape(features: &LogMelConfig) -> Result<(usize, usize)> {
    let n = features.n_samples().ok_or_else(|| {
        Error::config(
            "features.duration_secs",
            "None",
            "the models need a fixed duration",
        )
    })?;
    let frames = features.n_frames(n);
    if frames == 0 || features.n_mels == 0 {
        return Err(Error::config(
            "features",
            format!("{} bands x {frames} frames", features.n_mels),
            "yields an empty spectrogram",
        ));
    }
    Ok((features.n_mels, frames))
}

impl RunConfig {
    /// Reads and checks `dir/config.json`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Format`] naming the file; what [`RunConfig::validate`]
    /// rejects.
    pub fn load(dir: &Path) -> Result<Self> {
        let cfg: Self = crate::io::load_json(&dir.join(CONFIG_FILE))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses and checks a `config.json` held in memory (`name` is used in errors).
    ///
    /// # Errors
    /// [`Error::Format`] for bad JSON; what [`RunConfig::validate`] rejects.
    pub fn from_json(json: &str, name: &Path) -> Result<Self> {
        let cfg: Self = serde_json::from_str(json).map_err(|e| Error::Format {
            path: name.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the parts fit together before anything is allocated: the model
    /// configuration is valid, its input shape is the one the features produce (for
    /// one-channel log-mel input; the magma image is resized), and the
    /// classes are the seven emotions in [`Emotion::ALL`]'s order.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first disagreement.
    pub fn validate(&self) -> Result<()> {
        ser_dsp::LogMel::new(self.features).map_err(|e| {
            Error::config("features", format!("{:?}", self.features), e.to_string())
        })?;
        let (n_mels, frames) = input_shape(&self.features)?;
        let input = &self.model.input;
        // The magma image is resized to any input size; one-channel log-mel input is not.
        let resized = matches!(input.mode, crate::InputMode::Magma { .. });
        if !resized && (input.n_mels, input.frames) != (n_mels, frames) {
            return Err(Error::config(
                "model.input",
                format!("{} x {}", input.n_mels, input.frames),
                format!("the features give {n_mels} bands x {frames} frames"),
            ));
        }
        if self.classes != class_names() || self.model.classes != self.classes.len() {
            return Err(Error::config(
                "classes",
                format!("{:?}", self.classes),
                format!("expected the seven emotions {:?}", class_names()),
            ));
        }
        self.model.validate()
    }
}

impl RunConfig {
    /// Checks that `requested`, the configuration a resumed run would train with, is the
    /// run this configuration describes: same model, features, classes, data, split, seed,
    /// over-sampling and training settings, except the number of epochs (which a resume
    /// may raise). Data folders are compared by name (`./ds`, `/data/ds` and `../ds` are
    /// the same folder typed from elsewhere, or the corpus moved); which clips they hold is
    /// for the caller to check against the run's split.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first setting that differs, with both values.
    pub fn check_resume(&self, requested: &RunConfig) -> Result<()> {
        let mut a = self.train.clone();
        a.epochs = requested.train.epochs;
        let differs: [(&'static str, bool, String, String); 8] = [
            (
                "model",
                self.model != requested.model,
                format!("{:?}", self.model),
                format!("{:?}", requested.model),
            ),
            (
                "features",
                self.features != requested.features,
                format!("{:?}", self.features),
                format!("{:?}", requested.features),
            ),
            (
                "classes",
                self.classes != requested.classes,
                format!("{:?}", self.classes),
                format!("{:?}", requested.classes),
            ),
            (
                "data",
                folder_names(&self.data) != folder_names(&requested.data),
                format!("{:?}", self.data),
                format!("{:?}", requested.data),
            ),
            (
                "split",
                self.split != requested.split,
                self.split.clone(),
                requested.split.clone(),
            ),
            (
                "seed",
                self.seed != requested.seed,
                self.seed.to_string(),
                requested.seed.to_string(),
            ),
            (
                "oversampled_to",
                self.oversampled_to != requested.oversampled_to,
                format!("{:?}", self.oversampled_to),
                format!("{:?}", requested.oversampled_to),
            ),
            (
                "train",
                a != requested.train,
                format!("{a:?}"),
                format!("{:?}", requested.train),
            ),
        ];
        match differs.into_iter().find(|d| d.1) {
            Some((field, _, was, now)) => Err(Error::config(
                field,
                now,
                format!(
                    "the run to resume was trained with {was}; start a new run (or --overwrite)"
                ),
            )),
            None => Ok(()),
        }
    }
}

/// The name of each folder (`./ds` and `ds/` are `ds`; `.` and `..` the name of the folder
/// they resolve to from here).
fn folder_names(folders: &[PathBuf]) -> Vec<Option<std::ffi::OsString>> {
    folders
        .iter()
        .map(|p| {
            p.file_name()
                .map(ToOwned::to_owned)
                .or_else(|| p.canonicalize().ok()?.file_name().map(ToOwned::to_owned))
        })
        .collect()
}

/// The files and folders a run directory may hold, as `train` writes them: what
/// [`prepare_run_dir`] removes for [`RunDirMode::Overwrite`].
pub const RUN_FILES: [&str; 9] = [
    CONFIG_FILE,
    WEIGHTS_FILE,
    "model.json",
    "split.csv",
    "history.json",
    "metrics.json",
    "confusion.png",
    "curves.png",
    "checkpoint",
];

/// What a training program means to do with its output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDirMode {
    /// A new run: the folder must not exist, or be empty.
    New,
    /// Continue the run in the folder (it must hold one).
    Resume,
    /// Replace the run in the folder: its files ([`RUN_FILES`]) are removed, so that
    /// nothing of the old run is left to describe another model.
    Overwrite,
}

/// Checks a run's output folder before training, without changing it, so that nothing a
/// user has is overwritten without asking: a folder that is not empty and holds no run of
/// ours ([`is_run`]) is refused whatever the mode, an existing run needs `Resume` or
/// `Overwrite`, and a resume needs a run. The folder itself is not created here: create it
/// when there is something to write.
///
/// # Errors
/// [`Error::Exists`] for a run or foreign files in the way, [`Error::Checkpoint`] for a
/// resume without a run, [`Error::Io`] if the folder cannot be read.
pub fn check_run_dir(dir: &Path, mode: RunDirMode) -> Result<()> {
    let not_empty = match std::fs::read_dir(dir) {
        Ok(mut rd) => rd.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(dir, e)),
    };
    let is_run = is_run(dir);
    let exists = || Error::Exists {
        path: dir.to_path_buf(),
    };
    match mode {
        _ if not_empty && !is_run => Err(exists()),
        RunDirMode::New if is_run => Err(exists()),
        RunDirMode::Resume if !is_run => Err(Error::Checkpoint {
            path: dir.to_path_buf(),
            message: "there is no run here to resume".into(),
        }),
        _ => Ok(()),
    }
}

/// [`check_run_dir`], then for [`RunDirMode::Overwrite`] removes the old run's files
/// ([`RUN_FILES`]), an ensemble's member folders (`member-K` holding a run, see
/// [`run_members`]) and any temporary file a killed write left (`.ser-tmp-*`); other files
/// stay. Nothing of the old run is then left to describe another model. Call it when the
/// new run is about to be written.
///
/// # Errors
/// As [`check_run_dir`]; [`Error::Io`] if a file cannot be removed.
pub fn prepare_run_dir(dir: &Path, mode: RunDirMode) -> Result<()> {
    check_run_dir(dir, mode)?;
    if mode != RunDirMode::Overwrite {
        return Ok(());
    }
    for name in RUN_FILES {
        crate::checkpoint::remove_any(&dir.join(name))?;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let member = member_number(name).is_some() && is_run(&entry.path());
        if member || name.starts_with(crate::checkpoint::TMP_PREFIX) {
            crate::checkpoint::remove_any(&entry.path())?;
        }
    }
    Ok(())
}

/// The folder of member `k` (from 1) of the ensemble run `dir`: `dir/member-k`.
pub fn member_dir(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("{MEMBER_PREFIX}{k}"))
}

/// `K` of a folder named `member-K` (`K` ≥ 1, digits only).
fn member_number(name: &str) -> Option<usize> {
    let digits = name.strip_prefix(MEMBER_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&k| k >= 1)
}

/// Whether `dir` holds a run of ours: a run's `config.json`, or an ensemble run's first
/// member (`member-1/config.json`), complete or not.
pub fn is_run(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file() || member_dir(dir, 1).join(CONFIG_FILE).is_file()
}

/// The run folders of the models in `dir`: `[dir]` for a run (`config.json`), or the
/// members `dir/member-1`, `dir/member-2`, … of an ensemble run, in order.
///
/// # Errors
/// [`Error::Config`] when `dir` holds no run, or when the members are not numbered 1 to
/// N without a gap (a member missing, or one folder without a `config.json`: a run
/// half trained or half copied); [`Error::Io`] if the folder cannot be read.
pub fn run_members(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join(CONFIG_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if let Some(k) = entry.file_name().to_str().and_then(member_number) {
            if entry.path().is_dir() {
                numbers.push(k);
            }
        }
    }
    numbers.sort_unstable();
    if numbers.is_empty() {
        return Err(Error::config(
            "run",
            dir.display(),
            format!("holds no run: no {CONFIG_FILE} and no {MEMBER_PREFIX}1/"),
        ));
    }
    numbers
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let member = member_dir(dir, i + 1);
            if k != i + 1 || !member.join(CONFIG_FILE).is_file() {
                return Err(Error::config(
                    "run",
                    dir.display(),
                    format!(
                        "is an ensemble run whose members are not {MEMBER_PREFIX}1 to \
                         {MEMBER_PREFIX}{} each with a {CONFIG_FILE}: {} is missing or \
                         incomplete",
                        numbers.len(),
                        member.display()
                    ),
                ));
            }
            Ok(member)
        })
        .collect()
}

/// Reads `dir/config.json` and loads `dir/model.safetensors` onto `device`.
///
/// # Errors
/// As [`RunConfig::load`]; a `model.json` beside them that describes another model;
/// missing or unreadable weights, or weights that do not fit the configuration (a head
/// with another number of classes among them).
pub fn load_run(dir: &Path, device: &Device) -> Result<(RunConfig, Model)> {
    let cfg = RunConfig::load(dir)?;
    // `train` also writes the model's configuration alone; one that disagrees means the
    // folder was edited or mixed with another run's files.
    let model_json = dir.join("model.json");
    if model_json.is_file() {
        let alone: crate::ModelConfig = crate::io::load_json(&model_json)?;
        if alone != cfg.model {
            return Err(Error::config(
                "model.json",
                format!("{:?}", alone.architecture),
                format!(
                    "disagrees with the model of {CONFIG_FILE} ({:?}) in {}",
                    cfg.model.architecture,
                    dir.display()
                ),
            ));
        }
    }
    let model = Model::new(cfg.model.clone(), cfg.seed, device)?;
    model.load_weights(&dir.join(WEIGHTS_FILE))?;
    Ok((cfg, model))
}

/// Builds the model of `cfg` on `device` with the weights of a safetensors file held in
/// memory (any float dtype; converted to `f32`). `name` is used in errors.
///
/// # Errors
/// [`Error::Format`] for bytes that are not safetensors; missing tensors or wrong shapes.
pub fn load_run_bytes(
    cfg: RunConfig,
    weights: &[u8],
    name: &Path,
    device: &Device,
) -> Result<(RunConfig, Model)> {
    let tensors: BTreeMap<String, Tensor> = candle_core::safetensors::load_buffer(weights, device)
        .map_err(|e| Error::Format {
            path: name.to_path_buf(),
            message: e.to_string(),
        })?
        .into_iter()
        .collect();
    let model = Model::new(cfg.model.clone(), cfg.seed, device)?;
    model.store().load_from(&tensors, name)?;
    Ok((cfg, model))
}
