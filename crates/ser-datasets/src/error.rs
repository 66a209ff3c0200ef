//! The crate's error type.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `ser-datasets`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of range.
    #[error("invalid {param} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        param: &'static str,
        /// Its value, as given.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// There is nothing to work on (e.g. no labelled utterance).
    #[error("no {what}")]
    Empty {
        /// What is missing.
        what: &'static str,
    },
    /// A speaker appears in two splits.
    #[error(transparent)]
    Leak(#[from] crate::split::LeakError),
    /// Building an over-sampling plan failed.
    #[error("over-sampling plan: {0}")]
    Plan(#[from] crate::plan::PlanError),
    /// An I/O error on a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The output file exists and overwriting was not asked for.
    #[error("{} exists (overwriting was not asked for)", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A path that is not valid UTF-8 cannot be written to a manifest.
    #[error("{}: not valid UTF-8, cannot be written to a manifest", path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// A CSV syntax error (the message carries the position).
    #[error("{}: {source}", path.display())]
    Csv {
        /// The manifest.
        path: PathBuf,
        /// The cause.
        #[source]
        source: csv::Error,
    },
    /// A manifest's header is not the expected one.
    #[error("{}: header is {got:?}, expected {expected:?}", path.display())]
    ManifestHeader {
        /// The manifest.
        path: PathBuf,
        /// The expected columns.
        expected: String,
        /// The columns found.
        got: String,
    },
    /// A manifest row has the wrong number of fields.
    #[error("{}:{line}: {got} fields, expected {expected}", path.display())]
    ManifestFieldCount {
        /// The manifest.
        path: PathBuf,
        /// The 1-based line number of the row.
        line: u64,
        /// The number of columns.
        expected: u64,
        /// The number of fields found.
        got: u64,
    },
    /// A manifest row has an invalid field.
    #[error("{}:{line}: column {column}: {source}", path.display())]
    ManifestRow {
        /// The manifest.
        path: PathBuf,
        /// The 1-based line number of the row.
        line: u64,
        /// The column.
        column: &'static str,
        /// What is wrong.
        #[source]
        source: crate::manifest::RowError,
    },
    /// An audio file could not be decoded (loader).
    #[error("{}: decoding failed: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ser_audio_io::Error,
    },
    /// Features could not be computed for a file (loader).
    #[error("{}: feature extraction failed: {source}", path.display())]
    Features {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ser_dsp::Error,
    },
    /// The waveform augmentation failed on a file (loader).
    #[error("{}: augmentation failed: {source}", path.display())]
    Augment {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ser_augment::Error,
    },
    /// A file's features do not have the shape of the batch's others (set a fixed
    /// `duration_secs` in the feature config).
    #[error("{}: features are {got:?}, the batch's are {expected:?}", path.display())]
    FeatureShape {
        /// The file.
        path: PathBuf,
        /// The batch's `(n_mels, n_frames)`.
        expected: (usize, usize),
        /// This file's `(n_mels, n_frames)`.
        got: (usize, usize),
    },
    /// A feature-cache file (index or shard) is unreadable; delete the cache directory to
    /// rebuild it.
    #[error("{}: corrupt feature cache: {reason}", path.display())]
    CacheCorrupt {
        /// The index or shard file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}
