//! Helpers shared by the golden-file tests: the repository's folders, the committed clips
//! as librosa reads them, and the cases of a golden set's `index.json`.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayD, Ix2};
use ndarray_npy::read_npy;
use serde_json::Value;

/// The repository's root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A golden set's folder: `fixtures/golden/ser-dsp/<set>` (`""`: the original set).
pub(crate) fn golden_dir(set: &str) -> PathBuf {
    root().join("fixtures/golden/ser-dsp").join(set)
}

/// A golden set's `index.json`.
pub(crate) fn index(set: &str) -> Value {
    let text = std::fs::read_to_string(golden_dir(set).join("index.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The cases of `kind` in a golden set (at least one).
pub(crate) fn cases(set: &str, kind: &str) -> Vec<Value> {
    let all = index(set)["cases"].as_array().unwrap().clone();
    let v: Vec<Value> = all.into_iter().filter(|c| c["kind"] == kind).collect();
    assert!(!v.is_empty(), "no golden case of kind {kind} in {set:?}");
    v
}

/// A 16-bit WAV file as librosa reads it: int16 / 32768 as f32, channels averaged in f32.
pub(crate) fn read_wav(path: &Path) -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let raw: Vec<f32> = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect();
    let ch = usize::from(spec.channels);
    let y = if ch == 1 {
        raw
    } else {
        raw.chunks(ch)
            .map(|f| f.iter().sum::<f32>() / ch as f32)
            .collect()
    };
    (y, spec.sample_rate)
}

/// The committed clip `fixtures/audio/<name>.wav`, as [`read_wav`].
pub(crate) fn clip(name: &str) -> (Vec<f32>, u32) {
    read_wav(&root().join(format!("fixtures/audio/{name}.wav")))
}

/// A 2-D float32 `.npy` file of a golden set.
pub(crate) fn npy2(set: &str, file: &str) -> Array2<f32> {
    let a: ArrayD<f32> = read_npy(golden_dir(set).join(file)).unwrap();
    a.into_dimensionality::<Ix2>().unwrap()
}
