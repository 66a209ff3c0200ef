//! What every parser does with a file name: split it into stem and folders, check its
//! fields (each failed check is a [`ParseError`] with a reason naming the field), and
//! fill an [`Utterance`].

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Component, Path};

use super::{LabelPolicy, ParseError, is_audio_path};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender, Utterance};

/// Whether `s` is ASCII digits only (an empty `s` is).
pub(super) fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a number: one ASCII digit or more.
pub(super) fn is_number(s: &str) -> bool {
    !s.is_empty() && all_digits(s)
}

/// Whether `s` is exactly `n` ASCII digits.
pub(super) fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && all_digits(s)
}

/// One audio file's name as a parser of `corpus` reads it.
///
/// The check methods return `Ok` or the file's [`ParseError`] with the reason given, so
/// a parser is a list of checks, each naming the field it checks.
pub(super) struct Name<'a> {
    corpus: Corpus,
    path: &'a Path,
    /// File name without extension.
    pub(super) stem: &'a str,
    /// Folder names between the root and the file, innermost first.
    pub(super) dirs: Vec<&'a str>,
}

impl<'a> Name<'a> {
    /// Splits `path` (below `root` where it is) into stem and folders. `None` when the
    /// name is not audio or not UTF-8 (then no corpus claims it).
    pub(super) fn new(corpus: Corpus, root: &Path, path: &'a Path) -> Option<Self> {
        if !is_audio_path(path) {
            return None;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        let stem = rel.file_stem()?.to_str()?;
        let dirs = rel
            .parent()
            .map(|p| {
                p.components()
                    .rev()
                    .filter_map(|c| match c {
                        Component::Normal(s) => s.to_str(),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            corpus,
            path,
            stem,
            dirs,
        })
    }

    /// The error for this file, with `reason`.
    pub(super) fn error(&self, reason: impl fmt::Display) -> ParseError {
        ParseError {
            corpus: self.corpus,
            path: self.path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// `Ok` when `ok`, else the error with `reason`.
    pub(super) fn check(&self, ok: bool, reason: impl fmt::Display) -> Result<(), ParseError> {
        if ok { Ok(()) } else { Err(self.error(reason)) }
    }

    /// `fields` (the name split at its separator) as exactly `N` fields, else the error
    /// with `reason`.
    pub(super) fn fields<const N: usize>(
        &self,
        fields: &[&'a str],
        reason: impl fmt::Display,
    ) -> Result<[&'a str; N], ParseError> {
        <[&'a str; N]>::try_from(fields).map_err(|_| self.error(reason))
    }

    /// `Ok` when `value` is one of `allowed`, else the error with `reason`.
    pub(super) fn one_of(
        &self,
        value: &str,
        allowed: &[&str],
        reason: impl fmt::Display,
    ) -> Result<(), ParseError> {
        self.check(allowed.contains(&value), reason)
    }

    /// The entry of `table` whose key is `value` (compared exactly), else the error
    /// with `reason`.
    pub(super) fn lookup<'t, T>(
        &self,
        value: &str,
        table: &'t [(&'static str, T)],
        reason: impl fmt::Display,
    ) -> Result<&'t (&'static str, T), ParseError> {
        table
            .iter()
            .find(|(key, _)| *key == value)
            .ok_or_else(|| self.error(reason))
    }

    /// `value` as a number when it is exactly `digits` ASCII digits and in `range`, else
    /// the error with `reason`.
    pub(super) fn number(
        &self,
        value: &str,
        digits: usize,
        range: RangeInclusive<u32>,
        reason: impl fmt::Display,
    ) -> Result<u32, ParseError> {
        is_digits(value, digits)
            .then(|| value.parse().ok())
            .flatten()
            .filter(|n| range.contains(n))
            .ok_or_else(|| self.error(reason))
    }

    /// The utterance this file is, with the label mapped through `policy`.
    pub(super) fn utterance(&self, found: Found, policy: &LabelPolicy) -> Utterance {
        let corpus = self.corpus;
        Utterance {
            path: self.path.to_path_buf(),
            corpus,
            speaker: format!("{}:{}", corpus.as_str(), found.speaker),
            gender: found.gender,
            emotion: policy.map(corpus, &found.label, found.default),
            original_label: found.label,
            intensity: found.intensity,
            language: found.language,
        }
    }
}

/// What a parser found in a name, to fill an [`Utterance`].
pub(super) struct Found {
    /// The speaker within the corpus (the corpus name is put in front).
    pub(super) speaker: String,
    /// The speaker's gender, where known.
    pub(super) gender: Option<Gender>,
    /// The label as spelled in the name or folder.
    pub(super) label: String,
    /// The class of `label` when no [`LabelPolicy`] override applies.
    pub(super) default: Option<Emotion>,
    /// The intensity, in the corpus's words.
    pub(super) intensity: Option<String>,
    /// The language spoken.
    pub(super) language: Option<String>,
}
