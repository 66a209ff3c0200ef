//! An on-disk cache of un-augmented features, so that a second epoch does not decode again.
//!
//! # Keys
//! A [`CacheKey`] is two 64-bit FNV-1a hashes: one of the audio file's **bytes** (its
//! content, not its path, so a moved or renamed file still hits) and one of the feature
//! config (`serde_json` of [`LogMelConfig`], so changing any parameter misses). FNV-1a is a
//! few lines, stable across platforms and Rust versions, and needs no dependency; it is not
//! cryptographic, which a local cache does not need.
//!
//! # Layout
//! ```text
//! <dir>/index.json                  {"format":1,"next_shard":N,"entries":{"<key hex>":"shard-000000.safetensors",..}}
//! <dir>/shard-000000.safetensors    up to `shard_capacity` f32 tensors (n_mels, n_frames), named by key hex
//! ```
//! Shards are [safetensors](https://github.com/huggingface/safetensors) files, the format
//! `ser-models` uses, so they can be inspected with Python's `safetensors` as well.
//!
//! # Crash safety
//! Every file is written to a temporary file in the same directory, synced, then renamed
//! over its final name. A shard is written before the index that names it, so a crash
//! leaves at worst an orphan shard, never an index entry pointing at a missing or partial
//! shard. Only one [`FeatureCache`] (in one process) may use a directory at a time: each
//! keeps its own copy of the index, and two writers would overwrite each other's entries.
//!
//! # Corruption
//! A damaged index (at [`FeatureCache::open`]) or shard (at [`FeatureCache::get_many`]) is
//! reported as [`Error::CacheCorrupt`] naming the file; nothing is silently rebuilt.
//! Delete the directory (or [`FeatureCache::clear`] it) to rebuild.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use safetensors::{Dtype, tensor::TensorView};
use ser_core::fs::{Overwrite, WriteError};
use ser_core::seed::fnv1a64;
use ser_dsp::LogMelConfig;
use ser_dsp::ndarray::Array2;

use crate::error::{Error, Result};

/// The index file's name inside a cache directory.
pub const INDEX_FILE: &str = "index.json";
/// The index format version written and accepted.
const FORMAT: u64 = 1;
/// The default maximum number of tensors per shard.
pub const DEFAULT_SHARD_CAPACITY: usize = 64;

/// The hash of a feature config: FNV-1a of its `serde_json` serialization.
///
/// # Errors
/// [`Error::InvalidParameter`] if the config cannot be serialized (not expected).
pub fn config_hash(config: &LogMelConfig) -> Result<u64> {
    let json = serde_json::to_vec(config).map_err(|e| Error::InvalidParameter {
        param: "LogMelConfig",
        value: e.to_string(),
        reason: "cannot be serialized to JSON",
    })?;
    Ok(fnv1a64(&json))
}

/// The key of one cached feature map: content hash of the audio file plus hash of the
/// feature config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    /// FNV-1a 64 of the audio file's bytes.
    pub content: u64,
    /// [`config_hash`] of the feature config.
    pub config: u64,
}

impl CacheKey {
    /// The key of a file's `bytes` under a config hashed by [`config_hash`].
    pub fn new(bytes: &[u8], config_hash: u64) -> Self {
        Self {
            content: fnv1a64(bytes),
            config: config_hash,
        }
    }

    /// The key as 32 lower-case hex digits (content, then config): the tensor's name.
    pub fn hex(&self) -> String {
        format!("{:016x}{:016x}", self.content, self.config)
    }
}

#[derive(Debug, Default)]
struct Index {
    next_shard: u64,
    entries: BTreeMap<String, String>,
}

/// A directory of safetensors shards holding un-augmented feature maps `(n_mels, n_frames)`
/// keyed by [`CacheKey`]. All methods take `&self` (an internal mutex guards the index), so
/// a cache can be shared by rayon workers. See the [module docs](self) for the layout,
/// crash safety and what happens on corruption.
#[derive(Debug)]
pub struct FeatureCache {
    dir: PathBuf,
    shard_capacity: usize,
    index: Mutex<Index>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::CacheCorrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes `bytes` to `path` atomically (replacing it), through [`ser_core::fs`].
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    ser_core::fs::write_atomic(path, Overwrite::Replace, |w| w.write_all(bytes)).map_err(|e| {
        let source = match e {
            WriteError::Io { source, .. } | WriteError::Write(source) => source,
            WriteError::Exists { .. } => std::io::ErrorKind::AlreadyExists.into(),
        };
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn parse_index(path: &Path, bytes: &[u8]) -> Result<Index> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    if format != Some(FORMAT) {
        return Err(corrupt(
            path,
            format!("format {format:?}, expected {FORMAT}"),
        ));
    }
    let next_shard = value
        .get("next_shard")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt(path, "missing next_shard"))?;
    let map = value
        .get("entries")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| corrupt(path, "missing entries"))?;
    let mut entries = BTreeMap::new();
    for (k, v) in map {
        let shard = v
            .as_str()
            .filter(|s| is_shard_name(s))
            .ok_or_else(|| corrupt(path, format!("entry {k}: bad shard name")))?;
        entries.insert(k.clone(), shard.to_owned());
    }
    Ok(Index {
        next_shard,
        entries,
    })
}

/// Shard names are ours only (`shard-<digits>.safetensors`): an index can never point
/// outside the directory.
fn is_shard_name(s: &str) -> bool {
    s.strip_prefix("shard-")
        .and_then(|r| r.strip_suffix(".safetensors"))
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn index_json(index: &Index) -> Vec<u8> {
    let entries: serde_json::Map<String, serde_json::Value> = index
        .entries
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let value = serde_json::json!({
        "format": FORMAT,
        "next_shard": index.next_shard,
        "entries": entries,
    });
    value.to_string().into_bytes()
}

fn to_le_bytes(x: &Array2<f32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len() * 4);
    // `iter` walks in logical (row-major) order whatever the memory layout.
    for v in x.iter() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

impl FeatureCache {
    /// Opens (creating it if needed) the cache in `dir`, with
    /// [`DEFAULT_SHARD_CAPACITY`] tensors per shard.
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be created or the index read;
    /// [`Error::CacheCorrupt`] if the index is not a valid one.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(INDEX_FILE);
        let index = match std::fs::read(&path) {
            Ok(bytes) => parse_index(&path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::default(),
            Err(source) => return Err(Error::Io { path, source }),
        };
        Ok(Self {
            dir,
            shard_capacity: DEFAULT_SHARD_CAPACITY,
            index: Mutex::new(index),
        })
    }

    /// Sets the maximum number of tensors written per shard.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `capacity` is 0.
    pub fn with_shard_capacity(mut self, capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::InvalidParameter {
                param: "shard_capacity",
                value: capacity.to_string(),
                reason: "must be at least 1",
            });
        }
        self.shard_capacity = capacity;
        Ok(self)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        // A panic while holding the lock cannot leave the index half-updated (it is only
        // replaced whole), so a poisoned lock is still usable.
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of cached feature maps.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `key` is cached.
    pub fn contains(&self, key: &CacheKey) -> bool {
        self.lock().entries.contains_key(&key.hex())
    }

    /// Looks up `keys`, opening each shard involved once and reading only its header and
    /// the wanted tensors' bytes. Returns, in order, the features of each key or `None` if
    /// it is not cached.
    ///
    /// # Errors
    /// [`Error::Io`] if a shard named by the index cannot be read; [`Error::CacheCorrupt`]
    /// if its safetensors header is invalid, lacks the tensor, or the tensor is not a 2-d
    /// `f32` one lying inside the file.
    pub fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Option<Array2<f32>>>> {
        let mut by_shard: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        {
            let index = self.lock();
            for (i, key) in keys.iter().enumerate() {
                if let Some(shard) = index.entries.get(&key.hex()) {
                    by_shard.entry(shard.clone()).or_default().push(i);
                }
            }
        }
        let mut out: Vec<Option<Array2<f32>>> = vec![None; keys.len()];
        for (shard, positions) in by_shard {
            let path = self.dir.join(&shard);
            let names: Vec<String> = positions.iter().map(|&i| keys[i].hex()).collect();
            for (i, x) in positions.into_iter().zip(read_tensors(&path, &names)?) {
                out[i] = Some(x);
            }
        }
        Ok(out)
    }

    /// Looks up one key (prefer [`get_many`](Self::get_many) for many).
    ///
    /// # Errors
    /// As [`get_many`](Self::get_many).
    pub fn get(&self, key: &CacheKey) -> Result<Option<Array2<f32>>> {
        Ok(self
            .get_many(std::slice::from_ref(key))?
            .into_iter()
            .next()
            .flatten())
    }

    /// Stores feature maps: writes new shards of at most the shard capacity, then the
    /// index, each atomically. Keys already cached are skipped.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be written; [`Error::InvalidParameter`] if
    /// safetensors rejects a tensor (not expected).
    pub fn insert_many(&self, items: &[(CacheKey, &Array2<f32>)]) -> Result<()> {
        let mut index = self.lock();
        let mut seen = std::collections::BTreeSet::new();
        let fresh: Vec<(String, &Array2<f32>)> = items
            .iter()
            .map(|(k, x)| (k.hex(), *x))
            .filter(|(h, _)| !index.entries.contains_key(h) && seen.insert(h.clone()))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let mut new_index = Index {
            next_shard: index.next_shard,
            entries: index.entries.clone(),
        };
        for chunk in fresh.chunks(self.shard_capacity) {
            let name = format!("shard-{:06}.safetensors", new_index.next_shard);
            new_index.next_shard += 1;
            let path = self.dir.join(&name);
            let data: Vec<(String, Vec<u8>, Vec<usize>)> = chunk
                .iter()
                .map(|(h, x)| (h.clone(), to_le_bytes(x), x.shape().to_vec()))
                .collect();
            let views = data
                .iter()
                .map(|(h, bytes, shape)| {
                    TensorView::new(Dtype::F32, shape.clone(), bytes)
                        .map(|v| (h.clone(), v))
                        .map_err(|e| Error::InvalidParameter {
                            param: "features",
                            value: h.clone(),
                            reason: safetensors_reason(&e),
                        })
                })
                .collect::<Result<Vec<_>>>()?;
            let bytes =
                safetensors::serialize(views, None).map_err(|e| Error::InvalidParameter {
                    param: "features",
                    value: name.clone(),
                    reason: safetensors_reason(&e),
                })?;
            write_atomic(&path, &bytes)?;
            for (h, _) in chunk {
                new_index.entries.insert(h.clone(), name.clone());
            }
        }
        let index_path = self.dir.join(INDEX_FILE);
        write_atomic(&index_path, &index_json(&new_index))?;
        *index = new_index;
        Ok(())
    }

    /// Removes every shard and the index (files in the directory that are not ours are
    /// left alone).
    ///
    /// # Errors
    /// [`Error::Io`] if the directory cannot be listed or a file removed.
    pub fn clear(&self) -> Result<()> {
        let mut index = self.lock();
        for entry in std::fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let name = entry.file_name();
            let ours = name
                .to_str()
                .is_some_and(|n| n == INDEX_FILE || is_shard_name(n));
            if ours {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
        *index = Index::default();
        Ok(())
    }
}

fn safetensors_reason(e: &safetensors::SafeTensorError) -> &'static str {
    // `InvalidParameter::reason` is static; the variant name is enough to tell them apart.
    match e {
        safetensors::SafeTensorError::InvalidTensorView(..) => "invalid tensor view",
        _ => "safetensors serialization failed",
    }
}

/// The largest safetensors header accepted (the safetensors crate's own limit).
const MAX_HEADER: u64 = 100_000_000;

/// Reads the 2-d `f32` tensors `names` from the safetensors file `path`: the header, then
/// only each tensor's byte range (a shard may hold many more tensors than asked for).
fn read_tensors(path: &Path, names: &[String]) -> Result<Vec<Array2<f32>>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let file_len = file.metadata().map_err(io_err(path))?.len();
    if file_len < 8 {
        return Err(corrupt(path, format!("{file_len} bytes, no header")));
    }
    let mut n = [0u8; 8];
    file.read_exact(&mut n).map_err(io_err(path))?;
    let header_len = u64::from_le_bytes(n);
    if header_len > MAX_HEADER || header_len > file_len - 8 {
        return Err(corrupt(
            path,
            format!("header of {header_len} bytes in a {file_len}-byte file"),
        ));
    }
    let data_start = 8 + header_len;
    let Ok(header_size) = usize::try_from(header_len) else {
        return Err(corrupt(path, "header too large"));
    };
    let mut header = vec![0u8; header_size];
    file.read_exact(&mut header).map_err(io_err(path))?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| corrupt(path, format!("header: {e}")))?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let info = header
            .get(name)
            .ok_or_else(|| corrupt(path, format!("{name}: missing")))?;
        let bad = |what: &str| corrupt(path, format!("{name}: {what}"));
        if info.get("dtype").and_then(serde_json::Value::as_str) != Some("F32") {
            return Err(bad("dtype is not F32"));
        }
        let u64s = |field: &str| -> Option<Vec<u64>> {
            info.get(field)?
                .as_array()?
                .iter()
                .map(serde_json::Value::as_u64)
                .collect()
        };
        let (Some(shape), Some(offsets)) = (u64s("shape"), u64s("data_offsets")) else {
            return Err(bad("bad shape or data_offsets"));
        };
        let (&[rows, cols], &[begin, end]) = (shape.as_slice(), offsets.as_slice()) else {
            return Err(bad("not 2-d, or bad data_offsets"));
        };
        let n_bytes = rows.checked_mul(cols).and_then(|n| n.checked_mul(4));
        let inside = end.checked_add(data_start).is_some_and(|e| e <= file_len);
        if begin > end || Some(end - begin) != n_bytes || !inside {
            return Err(bad("data_offsets do not match the shape or the file"));
        }
        let (Ok(rows), Ok(cols), Ok(len)) = (
            usize::try_from(rows),
            usize::try_from(cols),
            usize::try_from(end - begin),
        ) else {
            return Err(bad("too large"));
        };
        file.seek(SeekFrom::Start(data_start + begin))
            .map_err(io_err(path))?;
        let mut bytes = vec![0u8; len];
        file.read_exact(&mut bytes).map_err(io_err(path))?;
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push(Array2::from_shape_vec((rows, cols), values).map_err(|e| bad(&e.to_string()))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_are_checked() {
        assert!(is_shard_name("shard-000001.safetensors"));
        assert!(!is_shard_name("../x.safetensors"));
        assert!(!is_shard_name("shard-.safetensors"));
    }

    #[test]
    fn insert_then_get_roundtrips() -> Result<()> {
        let dir = tempfile::tempdir().map_err(io_err(Path::new(".")))?;
        let cache = FeatureCache::open(dir.path())?.with_shard_capacity(2)?;
        let xs: Vec<Array2<f32>> = (0..5)
            .map(|i| Array2::from_shape_fn((3, 4), |(r, c)| (i * 100 + r * 10 + c) as f32))
            .collect();
        let keys: Vec<CacheKey> = (0..5u8).map(|i| CacheKey::new(&[i], 7)).collect();
        let items: Vec<(CacheKey, &Array2<f32>)> = keys.iter().copied().zip(&xs).collect();
        cache.insert_many(&items)?;
        assert_eq!(cache.len(), 5);
        let reopened = FeatureCache::open(dir.path())?;
        let got = reopened.get_many(&keys)?;
        for (g, x) in got.iter().zip(&xs) {
            assert_eq!(g.as_ref(), Some(x));
        }
        assert_eq!(reopened.get(&CacheKey::new(b"none", 7))?, None);
        // The shards are plain safetensors files.
        let shard = dir.path().join("shard-000000.safetensors");
        let bytes = std::fs::read(&shard).map_err(io_err(&shard))?;
        let st = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(&shard, e.to_string()))?;
        assert_eq!(st.len(), 2);
        let view = st
            .tensor(&keys[0].hex())
            .map_err(|e| corrupt(&shard, e.to_string()))?;
        assert_eq!(view.shape(), &[3, 4]);
        assert_eq!(view.dtype(), Dtype::F32);
        Ok(())
    }
}
