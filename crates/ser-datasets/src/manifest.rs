//! Manifests: the labelled set (and its splits) as a CSV file, so that a split can be
//! frozen, shared and reloaded exactly.
//!
//! The columns are exactly [`MANIFEST_COLUMNS`]:
//! `path,corpus,speaker,gender,original_label,emotion,split`. `gender`, `emotion` and
//! `split` are empty where they are `None` (an emotion is `None` when the label policy
//! leaves the label out). Corpus, emotion, gender and split names are the lower-case names
//! of their `Display`. Intensity and language are not stored: a manifest reads back with
//! `intensity: None` and `language: None`. CSV quoting follows RFC 4180 (the `csv`
//! crate), so paths with commas or quotes round trip.
//!
//! Writing is atomic (a temporary file in the same directory, then a rename) and never
//! replaces an existing file unless [`Overwrite::Replace`] is asked for. Reading checks
//! the header and every row, and names the line of a bad one.

use std::path::{Path, PathBuf};

use crate::emotion::{Emotion, UnknownEmotion};
use ser_core::fs::{Overwrite, WriteError, write_atomic};

use crate::error::{Error, Result};
use crate::record::{Corpus, Gender, UnknownCorpus, Utterance};
use crate::split::{Assignment, Split, parse_split};

/// The manifest columns, in order.
pub const MANIFEST_COLUMNS: [&str; 7] = [
    "path",
    "corpus",
    "speaker",
    "gender",
    "original_label",
    "emotion",
    "split",
];

/// What is wrong with one manifest field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// An unknown corpus name.
    #[error(transparent)]
    Corpus(#[from] UnknownCorpus),
    /// An unknown emotion name.
    #[error(transparent)]
    Emotion(#[from] UnknownEmotion),
    /// An unknown split name.
    #[error("unknown split {0:?}: expected train, validation, test or empty")]
    Split(String),
    /// An unknown gender.
    #[error("unknown gender {0:?}: expected female, male or empty")]
    Gender(String),
    /// A field that must not be empty is.
    #[error("must not be empty")]
    Empty,
}

/// Writes `rows` as a manifest at `path`, atomically; see the [module docs](self).
///
/// # Errors
/// [`Error::Exists`] if `path` exists and `overwrite` is [`Overwrite::Refuse`];
/// [`Error::NonUtf8Path`] for an utterance path that is not UTF-8; [`Error::Io`] or
/// [`Error::Csv`] if writing fails.
pub fn write_manifest(path: &Path, rows: &[Assignment], overwrite: Overwrite) -> Result<()> {
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let written = write_atomic(path, overwrite, |w| {
        let mut w = csv::Writer::from_writer(w);
        w.write_record(MANIFEST_COLUMNS).map_err(csv_err)?;
        for a in rows {
            let u = &a.utterance;
            let p = u.path.to_str().ok_or_else(|| Error::NonUtf8Path {
                path: u.path.clone(),
            })?;
            let split = a.split.map(|s| s.to_string()).unwrap_or_default();
            w.write_record([
                p,
                u.corpus.as_str(),
                &u.speaker,
                u.gender.map(Gender::as_str).unwrap_or_default(),
                &u.original_label,
                u.emotion.map(Emotion::as_str).unwrap_or_default(),
                &split,
            ])
            .map_err(csv_err)?;
        }
        w.flush().map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    });
    written.map_err(|e| match e {
        WriteError::Exists { path } => Error::Exists { path },
        WriteError::Io { path, source } => Error::Io { path, source },
        WriteError::Write(e) => e,
    })
}

/// Reads a manifest written by [`write_manifest`] (or by hand, with the same columns).
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened; [`Error::Csv`] for CSV syntax errors;
/// [`Error::ManifestFieldCount`] (with the line number) for a row with the wrong number of
/// fields; [`Error::ManifestHeader`] if the header is not
/// [`MANIFEST_COLUMNS`]; [`Error::ManifestRow`] (with the line number and column) for an
/// unknown corpus, emotion, gender or split, or an empty path, corpus or speaker.
pub fn read_manifest(path: &Path) -> Result<Vec<Assignment>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let csv_err = |source| Error::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::new(file));
    let header = reader.headers().map_err(csv_err)?;
    if !header.iter().eq(MANIFEST_COLUMNS) {
        return Err(Error::ManifestHeader {
            path: path.to_path_buf(),
            expected: MANIFEST_COLUMNS.join(","),
            got: header.iter().collect::<Vec<_>>().join(","),
        });
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => Error::ManifestFieldCount {
                path: path.to_path_buf(),
                line: pos.as_ref().map_or(0, csv::Position::line),
                expected: *expected_len,
                got: *len,
            },
            _ => csv_err(e),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        out.push(
            parse_row(&record).map_err(|(column, source)| Error::ManifestRow {
                path: path.to_path_buf(),
                line,
                column,
                source,
            })?,
        );
    }
    Ok(out)
}

/// One row into an assignment, or the bad column and why.
fn parse_row(r: &csv::StringRecord) -> std::result::Result<Assignment, (&'static str, RowError)> {
    let field = |i: usize| r.get(i).unwrap_or_default();
    let required = |i: usize, name: &'static str| {
        let v = field(i);
        if v.is_empty() {
            Err((name, RowError::Empty))
        } else {
            Ok(v)
        }
    };
    let path = PathBuf::from(required(0, "path")?);
    let corpus: Corpus = required(1, "corpus")?
        .parse()
        .map_err(|e| ("corpus", RowError::from(e)))?;
    let speaker = required(2, "speaker")?.to_string();
    let gender = match field(3) {
        "" => None,
        "female" => Some(Gender::Female),
        "male" => Some(Gender::Male),
        other => return Err(("gender", RowError::Gender(other.to_string()))),
    };
    let original_label = field(4).to_string();
    let emotion = match field(5) {
        "" => None,
        e => Some(
            e.parse::<Emotion>()
                .map_err(|e| ("emotion", RowError::from(e)))?,
        ),
    };
    let split: Option<Split> = match field(6) {
        "" => None,
        s => Some(parse_split(s).ok_or_else(|| ("split", RowError::Split(s.to_string())))?),
    };
    Ok(Assignment {
        utterance: Utterance {
            path,
            corpus,
            speaker,
            gender,
            original_label,
            intensity: None,
            emotion,
            language: None,
        },
        split,
    })
}
