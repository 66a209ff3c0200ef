//! Batches for training: decode, featurize ([`LogMel`]) and optionally augment on the fly,
//! in parallel, one batch at a time (the research's generator).
//!
//! ```text
//! Loader::new(&utterances, logmel, batch_size)?   // labelled utterances only
//!     .with_shuffle(seed)                          // per-epoch permutation, reproducible
//!     .with_augmentation(transform, seed)          // waveform augmentation, reproducible
//!     .with_cache(FeatureCache::open(dir)?);       // un-augmented features on disk
//! for batch in loader.epoch(e) { let batch = batch?; /* batch.features: (batch, n_mels, n_frames) */ }
//! ```
//!
//! # Bounded memory
//! [`Epoch`] computes a batch only when `next` is called, and holds nothing between
//! calls: at most one batch's file bytes, waveforms and feature maps (about
//! `batch_size × (file + waveform + features)`) plus the returned [`Batch`] are alive, however
//! long the list. The items of one batch are processed in parallel on rayon's pool
//! (`par_iter`, results kept in order); there is no prefetch of the next batch.
//!
//! # Errors: fail the batch, not the epoch
//! A file that cannot be read, decoded, featurized or augmented makes **its batch** an
//! `Err` naming the file ([`Error::Io`], [`Error::Decode`], [`Error::Features`],
//! [`Error::Augment`], [`Error::FeatureShape`]); the epoch goes on with the next batch, so the
//! caller decides whether to stop (`?`) or log and skip. Nothing is dropped silently.
//!
//! # Determinism
//! The order of an epoch is a seeded Fisher–Yates permutation of the items (seed mixed
//! with the epoch number by SplitMix64), so epochs differ from each other but the same
//! `(seed, epoch)` always gives the same order. Item `i` (its position in the loader's
//! list, whatever the order or batch size) of epoch `e` is augmented with a `ChaCha8Rng`
//! seeded with `mix(base_seed, e, i)`: results do not depend on thread count.
//!
//! # Cache
//! With a [`FeatureCache`], the un-augmented features of each file are stored once, keyed by
//! the file's content and the feature config, and later epochs read them instead of
//! decoding. When an augmentation is set, features are always recomputed from the waveform
//! and the cache is neither read nor written (augmented items are never cached). Each
//! item's content key is computed the first time the file is read and remembered for the
//! life of the [`Loader`]; files are assumed not to change meanwhile.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use ser_augment::{Transform, augment_seeded};
use ser_core::seed::splitmix64;
use ser_dsp::ndarray::{Array2, Array3, Axis};
use ser_dsp::{Audio, LogMel};

use crate::cache::{CacheKey, FeatureCache, config_hash};
use crate::error::{Error, Result};
use crate::record::Utterance;

/// One batch of features and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Log-mel features, `(batch, n_mels, n_frames)`.
    pub features: Array3<f32>,
    /// Class of each item, [`Emotion::index`](crate::Emotion::index).
    pub labels: Vec<usize>,
    /// Source file of each item.
    pub paths: Vec<PathBuf>,
}

impl Batch {
    /// The number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch is empty (never the case for a batch from [`Epoch`]).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

#[derive(Debug)]
struct Item {
    path: PathBuf,
    label: usize,
    key: OnceLock<CacheKey>,
}

/// A waveform augmentation and the base seed of its per-item seeds.
struct Augmentation {
    transform: Box<dyn Transform<Audio>>,
    seed: u64,
}

/// Batches of `(features, labels)` over a list of labelled utterances; see the
/// [module docs](self) for memory, errors, determinism and caching.
pub struct Loader {
    items: Vec<Item>,
    logmel: LogMel,
    config_hash: u64,
    batch_size: usize,
    shuffle: Option<u64>,
    augmentation: Option<Augmentation>,
    cache: Option<FeatureCache>,
    decodes: AtomicUsize,
    unlabelled: usize,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("items", &self.items.len())
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field(
                "augmentation",
                &self.augmentation.as_ref().map(|a| a.transform.name()),
            )
            .field("cache", &self.cache.as_ref().map(FeatureCache::dir))
            .finish_non_exhaustive()
    }
}

/// The augmentation seed of item `index` in epoch `epoch`.
pub fn item_seed(base_seed: u64, epoch: u64, index: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(base_seed) ^ epoch) ^ index)
}

/// The order of the items in `epoch`: a Fisher–Yates shuffle driven by SplitMix64.
fn permutation(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = splitmix64(seed) ^ splitmix64(epoch.wrapping_add(0x5851_f42d_4c95_7f2d));
    for i in (1..n).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let r = splitmix64(state);
        // Lemire's multiply-shift: uniform enough in 0..=i for any realistic list size.
        let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

impl Loader {
    /// A loader over the labelled `utterances` (those with `emotion: None` are skipped;
    /// see [`unlabelled`](Self::unlabelled)), in their order, without shuffling,
    /// augmentation or cache.
    ///
    /// # Examples
    /// ```
    /// use ser_datasets::{Corpus, Emotion, Loader, Utterance};
    /// use ser_dsp::{LogMel, LogMelConfig};
    ///
    /// let clip = |name: &str, emotion| Utterance {
    ///     path: format!("{}/../../fixtures/audio/{name}", env!("CARGO_MANIFEST_DIR")).into(),
    ///     corpus: Corpus::Ravdess,
    ///     speaker: "ravdess:01".into(),
    ///     gender: None,
    ///     original_label: "x".into(),
    ///     intensity: None,
    ///     emotion,
    ///     language: None,
    /// };
    /// let utterances = [
    ///     clip("speech_16k.wav", Some(Emotion::Happy)),
    ///     clip("speech_22k.wav", Some(Emotion::Sad)),
    ///     clip("speech_48k.wav", None), // skipped: no label
    /// ];
    /// let logmel = LogMel::new(LogMelConfig::default())?;
    /// let loader = Loader::new(&utterances, logmel, 2)?.with_shuffle(7);
    /// for batch in loader.epoch(0) {
    ///     let batch = batch?;
    ///     assert_eq!(batch.features.dim(), (2, 128, 94));
    ///     assert_eq!(batch.labels.len(), 2);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `batch_size` is 0; [`Error::Empty`] if no utterance
    /// is labelled.
    pub fn new(utterances: &[Utterance], logmel: LogMel, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::InvalidParameter {
                param: "batch_size",
                value: batch_size.to_string(),
                reason: "must be at least 1",
            });
        }
        let items: Vec<Item> = utterances
            .iter()
            .filter_map(|u| {
                u.emotion.map(|e| Item {
                    path: u.path.clone(),
                    label: e.index(),
                    key: OnceLock::new(),
                })
            })
            .collect();
        if items.is_empty() {
            return Err(Error::Empty {
                what: "labelled utterance",
            });
        }
        let config_hash = config_hash(logmel.config())?;
        Ok(Self {
            unlabelled: utterances.len() - items.len(),
            items,
            logmel,
            config_hash,
            batch_size,
            shuffle: None,
            augmentation: None,
            cache: None,
            decodes: AtomicUsize::new(0),
        })
    }

    /// Shuffles every epoch with a permutation derived from `(seed, epoch)`.
    pub fn with_shuffle(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }

    /// Augments every waveform before featurizing, item `i` of epoch `e` with the seed
    /// [`item_seed`]`(seed, e, i)`. Disables the cache for reads and writes.
    pub fn with_augmentation(mut self, transform: Box<dyn Transform<Audio>>, seed: u64) -> Self {
        self.augmentation = Some(Augmentation { transform, seed });
        self
    }

    /// Reads and stores un-augmented features in `cache`.
    pub fn with_cache(mut self, cache: FeatureCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The number of labelled items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no item (never: [`new`](Self::new) refuses that).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of utterances skipped because they have no emotion.
    pub fn unlabelled(&self) -> usize {
        self.unlabelled
    }

    /// The batch size (the last batch of an epoch may be smaller).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of batches per epoch.
    pub fn n_batches(&self) -> usize {
        self.items.len().div_ceil(self.batch_size)
    }

    /// The cache, if any.
    pub fn cache(&self) -> Option<&FeatureCache> {
        self.cache.as_ref()
    }

    /// How many files this loader has decoded so far (cache hits do not decode).
    pub fn decode_count(&self) -> usize {
        self.decodes.load(Ordering::Relaxed)
    }

    /// The item order of `epoch` (indices into the loader's labelled list).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        match self.shuffle {
            Some(seed) => permutation(self.items.len(), seed, epoch),
            None => (0..self.items.len()).collect(),
        }
    }

    /// The batches of epoch `epoch`, computed lazily one at a time.
    pub fn epoch(&self, epoch: u64) -> Epoch<'_> {
        Epoch {
            loader: self,
            epoch,
            order: self.order(epoch),
            next: 0,
        }
    }

    fn read(&self, item: &Item) -> Result<Vec<u8>> {
        std::fs::read(&item.path).map_err(|source| Error::Io {
            path: item.path.clone(),
            source,
        })
    }

    /// Decodes `bytes`, augments (item `index` of `epoch`) if set, featurizes.
    fn compute(&self, item: &Item, bytes: &[u8], index: usize, epoch: u64) -> Result<Array2<f32>> {
        let path = &item.path;
        let hint = path.extension().and_then(|e| e.to_str());
        self.decodes.fetch_add(1, Ordering::Relaxed);
        let audio = ser_audio_io::load_reader(Cursor::new(bytes), hint, &Default::default())
            .map_err(|source| Error::Decode {
                path: path.clone(),
                source,
            })?;
        let audio = match &self.augmentation {
            Some(a) => {
                let seed = item_seed(a.seed, epoch, index as u64);
                augment_seeded(&a.transform, &audio, seed)
                    .map_err(|source| Error::Augment {
                        path: path.clone(),
                        source,
                    })?
                    .0
            }
            None => audio,
        };
        self.logmel
            .extract_owned(audio)
            .map_err(|source| Error::Features {
                path: path.clone(),
                source,
            })
    }

    /// Features of the items `indices`, in order, through the cache when allowed.
    fn features(&self, indices: &[usize], epoch: u64) -> Result<Vec<Array2<f32>>> {
        let cache = match (&self.cache, &self.augmentation) {
            (Some(c), None) => Some(c),
            _ => None,
        };
        let Some(cache) = cache else {
            return indices
                .par_iter()
                .map(|&i| {
                    let item = &self.items[i];
                    let bytes = self.read(item)?;
                    self.compute(item, &bytes, i, epoch)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect();
        };
        // 1. Keys: known ones are remembered; others need the file's bytes (kept for step 3).
        let keyed: Vec<(CacheKey, Option<Vec<u8>>)> = indices
            .par_iter()
            .map(|&i| {
                let item = &self.items[i];
                if let Some(key) = item.key.get() {
                    return Ok((*key, None));
                }
                let bytes = self.read(item)?;
                let key = *item
                    .key
                    .get_or_init(|| CacheKey::new(&bytes, self.config_hash));
                Ok((key, Some(bytes)))
            })
            .collect::<Vec<Result<_>>>()
            .into_iter()
            .collect::<Result<_>>()?;
        // 2. Lookup, one read per shard.
        let keys: Vec<CacheKey> = keyed.iter().map(|(k, _)| *k).collect();
        let cached = cache.get_many(&keys)?;
        // 3. Compute the misses.
        let computed: Vec<(Array2<f32>, bool)> = indices
            .par_iter()
            .zip(keyed.into_par_iter())
            .zip(cached.into_par_iter())
            .map(|((&i, (_, bytes)), hit)| {
                if let Some(x) = hit {
                    return Ok((x, false));
                }
                let item = &self.items[i];
                let bytes = match bytes {
                    Some(b) => b,
                    None => self.read(item)?,
                };
                Ok((self.compute(item, &bytes, i, epoch)?, true))
            })
            .collect::<Vec<Result<_>>>()
            .into_iter()
            .collect::<Result<_>>()?;
        // 4. Store the misses.
        let fresh: Vec<(CacheKey, &Array2<f32>)> = keys
            .iter()
            .zip(&computed)
            .filter(|(_, (_, miss))| *miss)
            .map(|(k, (x, _))| (*k, x))
            .collect();
        cache.insert_many(&fresh)?;
        Ok(computed.into_iter().map(|(x, _)| x).collect())
    }

    fn batch(&self, indices: &[usize], epoch: u64) -> Result<Batch> {
        let features = self.features(indices, epoch)?;
        let paths: Vec<PathBuf> = indices
            .iter()
            .map(|&i| self.items[i].path.clone())
            .collect();
        let labels = indices.iter().map(|&i| self.items[i].label).collect();
        let features = stack(&features, &paths)?;
        Ok(Batch {
            features,
            labels,
            paths,
        })
    }
}

/// Stacks `(n_mels, n_frames)` maps into `(batch, n_mels, n_frames)`.
fn stack(features: &[Array2<f32>], paths: &[PathBuf]) -> Result<Array3<f32>> {
    let Some(first) = features.first() else {
        return Err(Error::Empty { what: "item" });
    };
    let expected = first.dim();
    let mut out = Array3::<f32>::zeros((features.len(), expected.0, expected.1));
    for ((x, path), mut slot) in features.iter().zip(paths).zip(out.axis_iter_mut(Axis(0))) {
        if x.dim() != expected {
            return Err(shape_error(path, expected, x.dim()));
        }
        slot.assign(x);
    }
    Ok(out)
}

fn shape_error(path: &Path, expected: (usize, usize), got: (usize, usize)) -> Error {
    Error::FeatureShape {
        path: path.to_path_buf(),
        expected,
        got,
    }
}

/// The batches of one epoch, from [`Loader::epoch`]. Each `next` computes one batch (in
/// parallel over its items); an `Err` concerns that batch only, and iteration may go on.
#[derive(Debug)]
pub struct Epoch<'a> {
    loader: &'a Loader,
    epoch: u64,
    order: Vec<usize>,
    next: usize,
}

impl Iterator for Epoch<'_> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.loader.batch_size).min(self.order.len());
        let indices = &self.order[self.next..end];
        self.next = end;
        Some(self.loader.batch(indices, self.epoch))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.order.len() - self.next).div_ceil(self.loader.batch_size);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Epoch<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_permutation_and_reproducible() {
        let a = permutation(100, 7, 0);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, permutation(100, 7, 0));
        assert_ne!(a, permutation(100, 7, 1));
        assert_ne!(a, permutation(100, 8, 0));
    }

    #[test]
    fn item_seeds_differ() {
        assert_ne!(item_seed(1, 0, 0), item_seed(1, 0, 1));
        assert_ne!(item_seed(1, 0, 0), item_seed(1, 1, 0));
        assert_eq!(item_seed(1, 2, 3), item_seed(1, 2, 3));
    }
}
