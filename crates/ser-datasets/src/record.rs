//! One labelled recording: [`Utterance`], and the corpora it can come from.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::emotion::Emotion;

/// The corpora `ser-datasets` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Corpus {
    /// Ryerson Audio-Visual Database of Emotional Speech and Song.
    Ravdess,
    /// Surrey Audio-Visual Expressed Emotion.
    Savee,
    /// Crowd-sourced Emotional Multimodal Actors Dataset.
    CremaD,
    /// Emotional Speech Dataset (Zhou et al.).
    Esd,
    /// Toronto Emotional Speech Set.
    Tess,
    /// JL-Corpus (New Zealand English).
    JlCorpus,
}

impl Corpus {
    /// Every corpus.
    pub const ALL: [Corpus; 6] = [
        Corpus::Ravdess,
        Corpus::Savee,
        Corpus::CremaD,
        Corpus::Esd,
        Corpus::Tess,
        Corpus::JlCorpus,
    ];

    /// The lower-case name used in manifests and speaker ids (`"ravdess"`, `"crema-d"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Corpus::Ravdess => "ravdess",
            Corpus::Savee => "savee",
            Corpus::CremaD => "crema-d",
            Corpus::Esd => "esd",
            Corpus::Tess => "tess",
            Corpus::JlCorpus => "jl-corpus",
        }
    }
}

impl fmt::Display for Corpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A corpus name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown corpus {0:?}: expected ravdess, savee, crema-d, esd, tess or jl-corpus")]
pub struct UnknownCorpus(pub String);

impl FromStr for Corpus {
    type Err = UnknownCorpus;
    fn from_str(s: &str) -> Result<Self, UnknownCorpus> {
        let k = s.to_ascii_lowercase().replace(['_', ' '], "-");
        let k = match k.as_str() {
            "cremad" => "crema-d",
            "jl" | "jlcorpus" => "jl-corpus",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == k)
            .ok_or_else(|| UnknownCorpus(s.to_string()))
    }
}

/// A speaker's gender, where the corpus documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
}

impl Gender {
    /// `"female"` or `"male"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One labelled recording.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Utterance {
    /// The audio file.
    pub path: PathBuf,
    /// The corpus it belongs to.
    pub corpus: Corpus,
    /// A globally unique speaker id, `"<corpus>:<speaker>"` (e.g. `"ravdess:12"`,
    /// `"tess:OAF"`), so that speaker-independent splits work across corpora.
    pub speaker: String,
    /// The speaker's gender, where known.
    pub gender: Option<Gender>,
    /// The corpus's own label, as written in the file name (e.g. `"calm"`, `"ps"`, `"ANG"`).
    pub original_label: String,
    /// Intensity or level where the corpus gives one (RAVDESS `normal`/`strong`, CREMA-D
    /// `LO`/`MD`/`HI`/`XX`).
    pub intensity: Option<String>,
    /// The unified class, or `None` when the label is outside the seven and the mapping
    /// policy leaves it out.
    pub emotion: Option<Emotion>,
    /// The spoken language where the corpus records it (ESD: `"mandarin"`/`"english"`).
    pub language: Option<String>,
}
