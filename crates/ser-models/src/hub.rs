//! Pretrained weights: from a local safetensors file, or from the Hugging Face hub cache
//! (downloaded through `hf-hub` with the `hub` feature).
//!
//! The cache is the hub's standard layout
//! (`<cache>/models--<owner>--<name>/{refs/<revision>, snapshots/<commit>/<file>}`), found
//! from an explicit directory, else `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`. With `HF_HUB_OFFLINE=1` (or
//! [`HubWeights::local_files_only`]) nothing is downloaded and a file missing from the
//! cache is an error that says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::io::load_safetensors;
use crate::models::Model;

/// The hub repository of VGG19's ImageNet weights in torchvision's layout.
pub const VGG19_REPO: &str = "timm/vgg19.tv_in1k";
/// Its weights file.
pub const VGG19_FILE: &str = "model.safetensors";

/// A file in a hub model repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubWeights {
    /// `owner/name`, e.g. [`VGG19_REPO`].
    pub repo: String,
    /// The file in the repository.
    pub filename: String,
    /// Branch, tag or commit (default `main`).
    pub revision: String,
    /// The cache directory (default: from the environment, see the module docs).
    pub cache_dir: Option<PathBuf>,
    /// Never download, only use the cache.
    pub local_files_only: bool,
}

impl HubWeights {
    /// `filename` of `repo` at `main`, cache from the environment, downloads allowed.
    pub fn new(repo: impl Into<String>, filename: impl Into<String>) -> Self {
        Self {
            repo: repo.into(),
            filename: filename.into(),
            revision: "main".into(),
            cache_dir: None,
            local_files_only: false,
        }
    }

    /// VGG19's ImageNet weights ([`VGG19_REPO`]).
    pub fn vgg19() -> Self {
        Self::new(VGG19_REPO, VGG19_FILE)
    }

    /// Uses `dir` as the hub cache.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Only looks in the cache.
    pub fn offline(mut self) -> Self {
        self.local_files_only = true;
        self
    }

    /// The cache directory in use.
    pub fn cache(&self) -> PathBuf {
        if let Some(d) = &self.cache_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("HF_HUB_CACHE") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("HF_HOME") {
            return PathBuf::from(d).join("hub");
        }
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        home.join(".cache/huggingface/hub")
    }

    /// The file's path in the cache, if it is there.
    pub fn cached(&self) -> Option<PathBuf> {
        let repo_dir = self
            .cache()
            .join(format!("models--{}", self.repo.replace('/', "--")));
        let is_commit =
            self.revision.len() == 40 && self.revision.bytes().all(|b| b.is_ascii_hexdigit());
        let commit = if is_commit {
            self.revision.clone()
        } else {
            std::fs::read_to_string(repo_dir.join("refs").join(&self.revision))
                .ok()?
                .trim()
                .to_string()
        };
        let p = repo_dir.join("snapshots").join(commit).join(&self.filename);
        p.is_file().then_some(p)
    }

    fn offline_env() -> bool {
        std::env::var("HF_HUB_OFFLINE")
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            })
            .unwrap_or(false)
    }

    /// The local path of the file: from the cache, else downloaded (with the `hub`
    /// feature, unless offline).
    ///
    /// # Errors
    /// [`Error::Hub`] when the file is not cached and cannot be downloaded (offline, no
    /// `hub` feature, network or repository errors).
    pub fn resolve(&self) -> Result<PathBuf> {
        if let Some(p) = self.cached() {
            return Ok(p);
        }
        let err = |message: String| Error::Hub {
            repo: self.repo.clone(),
            message,
        };
        if self.local_files_only || Self::offline_env() {
            return Err(err(format!(
                "{} (revision {}) is not in the cache {} and downloads are off (HF_HUB_OFFLINE or local_files_only)",
                self.filename,
                self.revision,
                self.cache().display()
            )));
        }
        self.download().map_err(err)
    }

    #[cfg(feature = "hub")]
    fn download(&self) -> std::result::Result<PathBuf, String> {
        let (owner, name) = self
            .repo
            .split_once('/')
            .ok_or_else(|| "the repository must be owner/name".to_string())?;
        let client = hf_hub::HFClient::builder()
            .cache_dir(self.cache())
            .build_sync()
            .map_err(|e| e.to_string())?;
        client
            .model(owner, name)
            .download_file()
            .filename(self.filename.clone())
            .revision(self.revision.clone())
            .send()
            .map_err(|e| format!("downloading {}: {e}", self.filename))
    }

    #[cfg(not(feature = "hub"))]
    fn download(&self) -> std::result::Result<PathBuf, String> {
        Err(format!(
            "{} is not in the cache {} and this build cannot download (enable the `hub` feature, or pass a local safetensors file)",
            self.filename,
            self.cache().display()
        ))
    }
}

/// Loads the ImageNet convolution weights (`features.N.weight` / `.bias`, torchvision /
/// timm names) from a safetensors file into a VGG19 [`Model`]; its head keeps its
/// initial weights.
///
/// # Errors
/// [`Error::MissingTensor`] / [`Error::TensorShape`] naming the first tensor that is
/// absent or of another shape; I/O and format errors.
pub fn load_vgg19_features(model: &Model, path: &Path) -> Result<()> {
    let tensors: BTreeMap<String, Tensor> = load_safetensors(path, &Device::Cpu)?;
    model
        .store()
        .load_matching(&tensors, path, |name| name.starts_with("features."))
}
