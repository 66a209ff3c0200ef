//! File-name parsers, one per corpus, behind one trait: [`CorpusParser`].
//!
//! A parser looks at one audio file's path (relative to the corpus root it was found
//! under) and returns:
//!
//! - `Ok(Some(utterance))` when the file follows the corpus's naming convention;
//! - `Ok(None)` when the file is not this corpus's file at all;
//! - `Err(ParseError)` when the file clearly belongs to the corpus (its folder or the
//!   shape of its name says so) but breaks the convention, with the reason.
//!
//! Only the file *name* and its folders are read, never the audio, so any audio
//! extension works the same way (a corpus converted to FLAC parses like the WAV
//! original; see [`is_audio_path`]).
//!
//! # Label mapping
//!
//! Every corpus label maps to one of the seven [`Emotion`] classes, or to none. Labels
//! outside the seven (RAVDESS `calm`, JL-Corpus `excited` and its secondary emotions) are
//! left out by default (`emotion: None`, as in the research); a [`LabelPolicy`] can map
//! them (or remap any other label) per label.
//!
//! | corpus | angry | disgust | fearful | happy | neutral | sad | surprise | outside the seven (default `None`) |
//! |---|---|---|---|---|---|---|---|---|
//! | RAVDESS (emotion field) | `05` angry | `07` disgust | `06` fearful | `03` happy | `01` neutral | `04` sad | `08` surprised | `02` calm |
//! | SAVEE (name prefix) | `a` | `d` | `f` | `h` | `n` | `sa` | `su` | none |
//! | CREMA-D (3rd field) | `ANG` | `DIS` | `FEA` | `HAP` | `NEU` | `SAD` | none | none |
//! | TESS (name suffix) | `angry` | `disgust` | `fear` | `happy` | `neutral` | `sad` | `ps` | none |
//! | ESD (folder) | `Angry` | none | none | `Happy` | `Neutral` | `Sad` | `Surprise` | none |
//! | JL-Corpus (2nd field) | `angry` | none | none | `happy` | `neutral` | `sad` | none | `excited`, `anxious`, `apologetic`, `assertive`, `concerned`, `encouraging` |
//!
//! The `original_label` of an [`Utterance`] is the label as spelled in the name or
//! folder shown above (RAVDESS: the word, e.g. `calm`; ESD: the folder name).

// One private module per corpus, the way Symphonia keeps one folder per format, with
// its items re-exported here. The checks they share on a name's fields (the field
// count, one of a list, a table's key, a number in a range), each failing with a
// `ParseError` whose reason names the field, are in `fields`.
/// What a parser makes of one file: an utterance, not its corpus's file, or malformed.
type Parsed = Result<Option<Utterance>, ParseError>;

/// Implements [`CorpusParser`] for a parser with a `parse_name(&self, Name, &LabelPolicy)`
/// method: the part every parser shares (its corpus; a file outside the root or without an
/// audio extension is not its).
macro_rules! name_parser {
    ($parser:ty, $corpus:expr) => {
        impl $crate::parse::CorpusParser for $parser {
            fn corpus(&self) -> $crate::record::Corpus {
                $corpus
            }

            fn parse(
                &self,
                root: &::std::path::Path,
                path: &::std::path::Path,
                policy: &$crate::parse::LabelPolicy,
            ) -> ::std::result::Result<
                ::std::option::Option<$crate::record::Utterance>,
                $crate::parse::ParseError,
            > {
                match $crate::parse::fields::Name::new($corpus, root, path) {
                    Some(name) => self.parse_name(name, policy),
                    None => Ok(None),
                }
            }
        }
    };
}

mod crema_d;
mod esd;
mod fields;
mod jl_corpus;
mod ravdess;
mod savee;
mod tess;

pub use crema_d::{CREMA_DEMOGRAPHICS, CremaDParser, parse_demographics};
pub use esd::EsdParser;
pub use jl_corpus::JlCorpusParser;
pub use ravdess::RavdessParser;
pub use savee::SaveeParser;
pub use tess::TessParser;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::emotion::Emotion;
use crate::record::{Corpus, Utterance};

/// Audio file extensions the parsers accept (compared case-insensitively).
pub const AUDIO_EXTENSIONS: [&str; 11] = [
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "aif", "aiff", "aifc", "m4a",
];

/// Whether `path` has one of the [`AUDIO_EXTENSIONS`].
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// A file that belongs to a corpus but breaks its naming convention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{corpus} file {path:?}: {reason}")]
pub struct ParseError {
    /// The corpus whose convention the file breaks.
    pub corpus: Corpus,
    /// The offending file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// The problem with a corpus's side file (CREMA-D `VideoDemographics.csv`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The file could not be read.
    #[error("cannot read {path:?}")]
    Io {
        /// The side file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not have the expected columns or values.
    #[error("{path:?} line {line}: {reason}")]
    Malformed {
        /// The side file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// How corpus labels map to the seven classes.
///
/// The default follows the research: every label of the table in the
/// [module docs](self) maps as shown there, and labels outside the seven map to `None`.
/// Overrides replace the mapping of one label (matched case-insensitively against
/// [`Utterance::original_label`]), either for every corpus or for one corpus (which wins).
///
/// ```
/// use ser_datasets::{Corpus, Emotion, parse::LabelPolicy};
/// let policy = LabelPolicy::default()
///     .with_override("calm", Some(Emotion::Neutral))
///     .with_corpus_override(Corpus::JlCorpus, "excited", Some(Emotion::Happy));
/// assert_eq!(policy.map(Corpus::Ravdess, "calm", None), Some(Emotion::Neutral));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelPolicy {
    any: BTreeMap<String, Option<Emotion>>,
    per_corpus: BTreeMap<(Corpus, String), Option<Emotion>>,
}

impl LabelPolicy {
    /// Maps `label` to `emotion` (`None` leaves it out) in every corpus.
    pub fn with_override(mut self, label: &str, emotion: Option<Emotion>) -> Self {
        self.any.insert(label.to_ascii_lowercase(), emotion);
        self
    }

    /// Maps `label` to `emotion` in `corpus` only; wins over [`Self::with_override`].
    pub fn with_corpus_override(
        mut self,
        corpus: Corpus,
        label: &str,
        emotion: Option<Emotion>,
    ) -> Self {
        self.per_corpus
            .insert((corpus, label.to_ascii_lowercase()), emotion);
        self
    }

    /// The class for `label` of `corpus`, given the corpus's default mapping `default`.
    pub fn map(&self, corpus: Corpus, label: &str, default: Option<Emotion>) -> Option<Emotion> {
        let key = label.to_ascii_lowercase();
        if let Some(e) = self.per_corpus.get(&(corpus, key.clone())) {
            return *e;
        }
        if let Some(e) = self.any.get(&key) {
            return *e;
        }
        default
    }
}

/// Reads one corpus's file names.
///
/// `root` is the folder the scan started from and `path` the file (absolute or relative
/// to the current directory, as found by the walk); parsers only look at the components
/// of `path` below `root`, so folders above the corpus never matter.
pub trait CorpusParser: Send + Sync {
    /// The corpus this parser reads.
    fn corpus(&self) -> Corpus;

    /// Parses one audio file's path.
    ///
    /// Returns `Ok(None)` when the file is not this corpus's.
    ///
    /// # Errors
    ///
    /// [`ParseError`] when the file is this corpus's but breaks its naming convention.
    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError>;
}

/// Implements [`CorpusParser`] for pointers to a parser (`&P`, `Box<P>`, `Arc<P>`) by
/// forwarding to the parser pointed at.
macro_rules! forward_corpus_parser {
    ($($pointer:ty),+) => {$(
        impl<P: CorpusParser + ?Sized> CorpusParser for $pointer {
            fn corpus(&self) -> Corpus {
                (**self).corpus()
            }
            fn parse(
                &self,
                root: &Path,
                path: &Path,
                policy: &LabelPolicy,
            ) -> Result<Option<Utterance>, ParseError> {
                (**self).parse(root, path, policy)
            }
        }
    )+};
}

forward_corpus_parser!(&P, Box<P>, std::sync::Arc<P>);

/// The parser for `corpus`, with CREMA-D's demographics read from `root` (or its
/// parent) when present.
///
/// # Errors
///
/// [`MetadataError`] when CREMA-D's demographics file exists but is unreadable or
/// malformed.
pub fn parser_for(corpus: Corpus, root: &Path) -> Result<Box<dyn CorpusParser>, MetadataError> {
    Ok(match corpus {
        Corpus::Ravdess => Box::new(RavdessParser),
        Corpus::Savee => Box::new(SaveeParser),
        Corpus::CremaD => Box::new(CremaDParser::from_root(root)?),
        Corpus::Esd => Box::new(EsdParser),
        Corpus::Tess => Box::new(TessParser),
        Corpus::JlCorpus => Box::new(JlCorpusParser),
    })
}
