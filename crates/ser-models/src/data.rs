//! Labelled spectrograms, batch by batch: the [`BatchSource`] that training and
//! evaluation read (a streaming [`ser_datasets::Loader`] is one), and [`Dataset`],
//! spectrograms held in memory and shuffled per epoch from a seed.

use std::path::PathBuf;

use ndarray::{Array2, Array3, Axis};
use ser_datasets::Batch;

use crate::error::{Error, Result};

/// Batches of labelled log-mel spectrograms, epoch by epoch.
pub trait BatchSource: Sync {
    /// The number of labelled items.
    fn len(&self) -> usize;

    /// Whether there is no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of batches per epoch.
    fn n_batches(&self) -> usize;

    /// The batches of `epoch` (the order may depend on it).
    fn batches(&self, epoch: u64) -> Box<dyn Iterator<Item = Result<Batch>> + Send + '_>;
}

impl BatchSource for ser_datasets::Loader {
    fn len(&self) -> usize {
        ser_datasets::Loader::len(self)
    }

    fn n_batches(&self) -> usize {
        ser_datasets::Loader::n_batches(self)
    }

    fn batches(&self, epoch: u64) -> Box<dyn Iterator<Item = Result<Batch>> + Send + '_> {
        Box::new(self.epoch(epoch).map(|b| b.map_err(Error::from)))
    }
}

/// Labelled spectrograms in memory, batched in a (seeded, per-epoch) shuffled order.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Log-mel spectrograms (dB), `[n_mels, frames]`, all the same shape.
    pub features: Vec<Array2<f32>>,
    /// Class of each item.
    pub labels: Vec<usize>,
    /// An identifier of each item (its file), reported with predictions.
    pub ids: Vec<PathBuf>,
    /// Batch size.
    pub batch_size: usize,
    /// Shuffle every epoch from this seed (`None`: keep the order).
    pub shuffle: Option<u64>,
}

impl Dataset {
    /// A dataset of `features` and `labels`, ids `0`, `1`, ...; batches of `batch_size`.
    ///
    /// # Errors
    /// [`Error::UnequalLengths`] when the lengths differ, [`Error::RaggedFeatures`] when
    /// the shapes differ, [`Error::Config`] when `batch_size` is 0.
    pub fn new(features: Vec<Array2<f32>>, labels: Vec<usize>, batch_size: usize) -> Result<Self> {
        let ids = (0..features.len())
            .map(|i| PathBuf::from(i.to_string()))
            .collect();
        Self::with_ids(features, labels, ids, batch_size)
    }

    /// As [`new`](Self::new), with an id per item.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_ids(
        features: Vec<Array2<f32>>,
        labels: Vec<usize>,
        ids: Vec<PathBuf>,
        batch_size: usize,
    ) -> Result<Self> {
        if features.len() != labels.len() || features.len() != ids.len() {
            return Err(Error::UnequalLengths {
                spectrograms: features.len(),
                labels: labels.len(),
                ids: ids.len(),
            });
        }
        if batch_size == 0 {
            return Err(Error::config("batch_size", 0, "must be >= 1"));
        }
        if let Some(first) = features.first() {
            if let Some((i, f)) = features
                .iter()
                .enumerate()
                .find(|(_, f)| f.dim() != first.dim())
            {
                return Err(Error::RaggedFeatures {
                    index: i,
                    expected: first.dim(),
                    got: f.dim(),
                });
            }
        }
        Ok(Self {
            features,
            labels,
            ids,
            batch_size,
            shuffle: None,
        })
    }

    /// Shuffles every epoch with a permutation from `(seed, epoch)`.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }

    /// The item order of `epoch`.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        if let Some(seed) = self.shuffle {
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(ser_datasets::item_seed(
                seed,
                epoch,
                u64::MAX,
            ));
            ser_core::seed::shuffle(&mut order, &mut rng);
        }
        order
    }
}

impl BatchSource for Dataset {
    fn len(&self) -> usize {
        self.features.len()
    }

    fn n_batches(&self) -> usize {
        self.features.len().div_ceil(self.batch_size.max(1))
    }

    fn batches(&self, epoch: u64) -> Box<dyn Iterator<Item = Result<Batch>> + Send + '_> {
        let order = self.order(epoch);
        let bs = self.batch_size.max(1);
        let chunks: Vec<Vec<usize>> = order.chunks(bs).map(<[usize]>::to_vec).collect();
        Box::new(chunks.into_iter().map(move |idx| {
            let (m, f) = self.features[idx[0]].dim();
            let mut features = Array3::zeros((idx.len(), m, f));
            for (k, &i) in idx.iter().enumerate() {
                features
                    .index_axis_mut(Axis(0), k)
                    .assign(&self.features[i]);
            }
            Ok(Batch {
                features,
                labels: idx.iter().map(|&i| self.labels[i]).collect(),
                paths: idx.iter().map(|&i| self.ids[i].clone()).collect(),
            })
        }))
    }
}
