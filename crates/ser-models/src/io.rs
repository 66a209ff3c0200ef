//! Safetensors and JSON files, written atomically (temp file in the same directory, then
//! rename) so that a crash never leaves a half-written file under the final name.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use candle_core::{Device, Tensor};
use ser_core::fs::{Overwrite, WriteError};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically, replacing it, through [`ser_core::fs`] (a temporary
/// file in the same folder, synced, then renamed); the folder is created if needed.
///
/// # Errors
/// [`Error::Io`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    ser_core::fs::write_atomic(path, Overwrite::Replace, |w| w.write_all(bytes)).map_err(|e| {
        let source = match e {
            WriteError::Io { source, .. } | WriteError::Write(source) => source,
            WriteError::Exists { .. } => std::io::ErrorKind::AlreadyExists.into(),
        };
        Error::io(path, source)
    })
}

/// Saves `tensors` (with optional string `metadata`) as a safetensors file, atomically.
///
/// # Errors
/// [`Error::Io`]; [`Error::Format`] if a tensor cannot be serialised.
pub fn save_safetensors(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    write_atomic(path, &safetensors_bytes(path, tensors, metadata)?)
}

/// `tensors` (with optional string `metadata`) serialised as safetensors; `path` is the
/// file they are meant for, named in errors.
///
/// # Errors
/// [`Error::Format`] if a tensor cannot be serialised.
pub fn safetensors_bytes(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    // Tensors on a GPU are brought to the host by the safetensors view.
    safetensors::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), metadata).map_err(|e| {
        Error::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// Loads every tensor of a safetensors file onto `device`.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] if it is not safetensors.
pub fn load_safetensors(path: &Path, device: &Device) -> Result<BTreeMap<String, Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let map = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a readable safetensors file: {e}"),
    })?;
    Ok(map.into_iter().collect())
}

/// `tensors[name]`, which must have the shape `dims` (`path` names the source in errors):
/// the one check of every loader of named tensors (weights, Adam's moments, the weight
/// average).
///
/// # Errors
/// [`Error::MissingTensor`] or [`Error::TensorShape`].
pub(crate) fn tensor_of_shape<'a>(
    tensors: &'a BTreeMap<String, Tensor>,
    name: &str,
    dims: &[usize],
    path: &Path,
) -> Result<&'a Tensor> {
    let t = tensors.get(name).ok_or_else(|| Error::MissingTensor {
        path: path.to_path_buf(),
        name: name.to_string(),
    })?;
    if t.dims() != dims {
        return Err(Error::TensorShape {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: dims.to_vec(),
            got: t.dims().to_vec(),
        });
    }
    Ok(t)
}

/// The string metadata of a safetensors file.
///
/// # Errors
/// As [`load_safetensors`].
pub fn safetensors_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a readable safetensors file: {e}"),
    })?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

/// Writes `value` as pretty JSON, atomically.
///
/// # Errors
/// [`Error::Io`]; [`Error::Format`] if it cannot be serialised.
pub fn save_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, &json_bytes(path, value)?)
}

/// `value` as pretty JSON with a final newline; `path` is the file it is meant for, named
/// in errors.
///
/// # Errors
/// [`Error::Format`] if it cannot be serialised.
pub fn json_bytes<T: serde::Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads JSON from `path`.
///
/// # Errors
/// [`Error::Io`]; [`Error::Format`] naming the problem.
pub fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
