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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::emotion::Emotion;
use crate::record::{Corpus, Gender, Utterance};

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

impl<P: CorpusParser + ?Sized> CorpusParser for &P {
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

impl<P: CorpusParser + ?Sized> CorpusParser for Box<P> {
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

impl<P: CorpusParser + ?Sized> CorpusParser for std::sync::Arc<P> {
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

/// The pieces of a path the parsers look at.
struct Parts<'a> {
    /// File name without extension.
    stem: &'a str,
    /// Folder names between the root and the file, innermost first.
    dirs: Vec<&'a str>,
}

/// Splits `path` (below `root` where it is) into stem and folders. `None` when the name
/// is not audio or not UTF-8 (then no corpus claims it).
fn parts<'a>(root: &Path, path: &'a Path) -> Option<Parts<'a>> {
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
                    std::path::Component::Normal(s) => s.to_str(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Parts { stem, dirs })
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Builds the error for `corpus` and `path`.
fn bad(corpus: Corpus, path: &Path, reason: impl fmt::Display) -> ParseError {
    ParseError {
        corpus,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Fills an [`Utterance`].
struct Fields {
    speaker: String,
    gender: Option<Gender>,
    label: String,
    default: Option<Emotion>,
    intensity: Option<String>,
    language: Option<String>,
}

fn utterance(corpus: Corpus, path: &Path, f: Fields, policy: &LabelPolicy) -> Utterance {
    Utterance {
        path: path.to_path_buf(),
        corpus,
        speaker: format!("{}:{}", corpus.as_str(), f.speaker),
        gender: f.gender,
        emotion: policy.map(corpus, &f.label, f.default),
        original_label: f.label,
        intensity: f.intensity,
        language: f.language,
    }
}

// ---------------------------------------------------------------- RAVDESS

/// RAVDESS speech and song: `Actor_NN/MM-VV-EE-II-SS-RR-AA.ext`.
///
/// Fields: modality (01 audio-video, 02 video-only, 03 audio-only), vocal channel
/// (01 speech, 02 song), emotion (01..08: neutral, calm, happy, sad, angry, fearful,
/// disgust, surprised), intensity (01 `normal`, 02 `strong`), statement (01, 02),
/// repetition (01, 02), actor (01..24; odd male, even female). The speaker is
/// `ravdess:NN`. A file is RAVDESS's when its name has seven hyphen-separated fields or
/// its folder is `Actor_NN`; an `Actor_NN` folder must agree with the actor field.
#[derive(Debug, Clone, Copy, Default)]
pub struct RavdessParser;

const RAVDESS_LABELS: [(&str, Option<Emotion>); 8] = [
    ("neutral", Some(Emotion::Neutral)),
    ("calm", None),
    ("happy", Some(Emotion::Happy)),
    ("sad", Some(Emotion::Sad)),
    ("angry", Some(Emotion::Angry)),
    ("fearful", Some(Emotion::Fearful)),
    ("disgust", Some(Emotion::Disgust)),
    ("surprised", Some(Emotion::Surprise)),
];

fn ravdess_actor_dir(dir: &str) -> Option<&str> {
    let n = dir.strip_prefix("Actor_")?;
    is_digits(n, 2).then_some(n)
}

impl CorpusParser for RavdessParser {
    fn corpus(&self) -> Corpus {
        Corpus::Ravdess
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::Ravdess;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let fields: Vec<&str> = p.stem.split('-').collect();
        let folder = p.dirs.first().and_then(|d| ravdess_actor_dir(d));
        if fields.len() != 7 && folder.is_none() {
            return Ok(None);
        }
        let [
            modality,
            channel,
            emo,
            intensity,
            statement,
            repetition,
            actor,
        ] = fields[..]
        else {
            return Err(bad(
                c,
                path,
                "name is not MM-VV-EE-II-SS-RR-AA (seven two-digit fields)",
            ));
        };
        if let Some(f) = fields.iter().find(|f| !is_digits(f, 2)) {
            return Err(bad(c, path, format_args!("field {f:?} is not two digits")));
        }
        if !matches!(modality, "01" | "02" | "03") {
            return Err(bad(
                c,
                path,
                format_args!("modality {modality} not in 01..03"),
            ));
        }
        if !matches!(channel, "01" | "02") {
            return Err(bad(
                c,
                path,
                format_args!("vocal channel {channel} not 01 (speech) or 02 (song)"),
            ));
        }
        let (label, default) = emo
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| RAVDESS_LABELS.get(i))
            .copied()
            .ok_or_else(|| bad(c, path, format_args!("emotion {emo} not in 01..08")))?;
        let intensity = match intensity {
            "01" => "normal",
            "02" => "strong",
            other => {
                return Err(bad(
                    c,
                    path,
                    format_args!("intensity {other} not 01 (normal) or 02 (strong)"),
                ));
            }
        };
        if !matches!(statement, "01" | "02") {
            return Err(bad(
                c,
                path,
                format_args!("statement {statement} not 01 or 02"),
            ));
        }
        if !matches!(repetition, "01" | "02") {
            return Err(bad(
                c,
                path,
                format_args!("repetition {repetition} not 01 or 02"),
            ));
        }
        let n: u32 = actor.parse().unwrap_or(0);
        if !(1..=24).contains(&n) {
            return Err(bad(c, path, format_args!("actor {actor} not in 01..24")));
        }
        if let Some(dir) = folder.filter(|d| *d != actor) {
            return Err(bad(
                c,
                path,
                format_args!("actor {actor} is in folder Actor_{dir}"),
            ));
        }
        let gender = if n % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: actor.to_string(),
                gender: Some(gender),
                label: label.to_string(),
                default,
                intensity: Some(intensity.to_string()),
                language: None,
            },
            policy,
        )))
    }
}

// ---------------------------------------------------------------- SAVEE

/// SAVEE: flat `DC_a01.ext` or per-speaker folders `DC/a01.ext`.
///
/// Speakers DC, JE, JK, KL (all male); prefixes `a`, `d`, `f`, `h`, `n`, `sa`, `su`
/// (anger, disgust, fear, happiness, neutral, sadness, surprise) followed by a two-digit
/// sentence number (01..30 for neutral, 01..15 otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveeParser;

const SAVEE_SPEAKERS: [&str; 4] = ["DC", "JE", "JK", "KL"];

const SAVEE_LABELS: [(&str, Emotion, u32); 7] = [
    ("sa", Emotion::Sad, 15),
    ("su", Emotion::Surprise, 15),
    ("a", Emotion::Angry, 15),
    ("d", Emotion::Disgust, 15),
    ("f", Emotion::Fearful, 15),
    ("h", Emotion::Happy, 15),
    ("n", Emotion::Neutral, 30),
];

impl CorpusParser for SaveeParser {
    fn corpus(&self) -> Corpus {
        Corpus::Savee
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::Savee;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let flat = p
            .stem
            .split_once('_')
            .filter(|(s, _)| SAVEE_SPEAKERS.contains(s));
        let folder = p
            .dirs
            .first()
            .copied()
            .filter(|d| SAVEE_SPEAKERS.contains(d));
        let (speaker, rest) = match (flat, folder) {
            (Some((s, _)), Some(d)) if s != d => {
                return Err(bad(c, path, format_args!("speaker {s} is in folder {d}")));
            }
            (Some((s, rest)), _) => (s, rest),
            (None, Some(d)) => (d, p.stem),
            (None, None) => return Ok(None),
        };
        let Some((code, emotion, max)) = SAVEE_LABELS
            .iter()
            .find(|(code, ..)| rest.starts_with(code))
            .copied()
        else {
            return Err(bad(
                c,
                path,
                format_args!("{rest:?} does not start with a, d, f, h, n, sa or su"),
            ));
        };
        let num = &rest[code.len()..];
        let n: u32 = if is_digits(num, 2) {
            num.parse().unwrap_or(0)
        } else {
            0
        };
        if !(1..=max).contains(&n) {
            return Err(bad(
                c,
                path,
                format_args!("sentence number {num:?} is not two digits in 01..{max}"),
            ));
        }
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: speaker.to_string(),
                gender: Some(Gender::Male),
                label: code.to_string(),
                default: Some(emotion),
                intensity: None,
                language: None,
            },
            policy,
        )))
    }
}

// ---------------------------------------------------------------- CREMA-D

/// CREMA-D: `1001_DFA_ANG_XX.ext` (speaker 1001..1091, sentence code, emotion
/// `ANG`/`DIS`/`FEA`/`HAP`/`NEU`/`SAD`, level `LO`/`MD`/`HI`/`XX`, kept as the
/// intensity).
///
/// The gender comes from `VideoDemographics.csv` (columns `ActorID,Age,Sex,Race,
/// Ethnicity`) when the parser was built with it ([`CremaDParser::from_root`] or
/// [`CremaDParser::with_demographics`]); otherwise it is `None`.
#[derive(Debug, Clone, Default)]
pub struct CremaDParser {
    demographics: HashMap<String, Gender>,
}

const CREMA_SENTENCES: [&str; 12] = [
    "IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI",
];

const CREMA_LABELS: [(&str, Emotion); 6] = [
    ("ANG", Emotion::Angry),
    ("DIS", Emotion::Disgust),
    ("FEA", Emotion::Fearful),
    ("HAP", Emotion::Happy),
    ("NEU", Emotion::Neutral),
    ("SAD", Emotion::Sad),
];

/// The demographics file name CREMA-D ships.
pub const CREMA_DEMOGRAPHICS: &str = "VideoDemographics.csv";

impl CremaDParser {
    /// A parser that knows each actor's gender (`"1001"` → [`Gender::Male`]).
    pub fn with_demographics(demographics: HashMap<String, Gender>) -> Self {
        Self { demographics }
    }

    /// A parser reading [`CREMA_DEMOGRAPHICS`] from `root` or its parent when present
    /// (without it, genders are `None`).
    ///
    /// # Errors
    ///
    /// [`MetadataError`] when the file exists but cannot be read or parsed.
    pub fn from_root(root: &Path) -> Result<Self, MetadataError> {
        let candidates = [
            Some(root.join(CREMA_DEMOGRAPHICS)),
            root.parent().map(|p| p.join(CREMA_DEMOGRAPHICS)),
        ];
        for file in candidates.into_iter().flatten() {
            if file.is_file() {
                let text = std::fs::read_to_string(&file).map_err(|source| MetadataError::Io {
                    path: file.clone(),
                    source,
                })?;
                return Ok(Self::with_demographics(parse_demographics(&file, &text)?));
            }
        }
        Ok(Self::default())
    }

    /// The actor → gender table in use.
    pub fn demographics(&self) -> &HashMap<String, Gender> {
        &self.demographics
    }
}

/// Parses the text of a CREMA-D `VideoDemographics.csv` into actor → gender.
///
/// # Errors
///
/// [`MetadataError::Malformed`] when the `ActorID` or `Sex` column is missing, or a
/// row has a `Sex` other than `Male`/`Female`.
pub fn parse_demographics(
    path: &Path,
    text: &str,
) -> Result<HashMap<String, Gender>, MetadataError> {
    let malformed = |line: usize, reason: String| MetadataError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = lines
        .next()
        .map(|(_, h)| {
            h.trim_start_matches('\u{feff}')
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_col), Some(sex_col)) = (col("actorid"), col("sex")) else {
        return Err(malformed(1, "no ActorID and Sex columns".to_string()));
    };
    let mut out = HashMap::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .collect();
        let (Some(id), Some(sex)) = (cells.get(id_col), cells.get(sex_col)) else {
            return Err(malformed(i + 1, "too few columns".to_string()));
        };
        let gender = match sex.to_ascii_lowercase().as_str() {
            "male" => Gender::Male,
            "female" => Gender::Female,
            other => {
                return Err(malformed(
                    i + 1,
                    format!("Sex {other:?} is not Male/Female"),
                ));
            }
        };
        out.insert((*id).to_string(), gender);
    }
    Ok(out)
}

impl CorpusParser for CremaDParser {
    fn corpus(&self) -> Corpus {
        Corpus::CremaD
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::CremaD;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let fields: Vec<&str> = p.stem.split('_').collect();
        let Some(&speaker) = fields.first().filter(|f| is_digits(f, 4)) else {
            return Ok(None);
        };
        // ESD names are `0011_000351`; those are not ours.
        if fields.len() == 2 && fields.get(1).is_some_and(|f| is_digits(f, 6)) {
            return Ok(None);
        }
        let [_, sentence, emo, level] = fields[..] else {
            return Err(bad(
                c,
                path,
                "name is not SPEAKER_SENTENCE_EMOTION_LEVEL (four fields)",
            ));
        };
        let n: u32 = speaker.parse().unwrap_or(0);
        if !(1001..=1091).contains(&n) {
            return Err(bad(
                c,
                path,
                format_args!("speaker {speaker} not in 1001..1091"),
            ));
        }
        if !CREMA_SENTENCES.contains(&sentence) {
            return Err(bad(
                c,
                path,
                format_args!("unknown sentence code {sentence:?}"),
            ));
        }
        let Some((label, emotion)) = CREMA_LABELS.iter().find(|(l, _)| *l == emo).copied() else {
            return Err(bad(
                c,
                path,
                format_args!("emotion {emo:?} not ANG, DIS, FEA, HAP, NEU or SAD"),
            ));
        };
        if !matches!(level, "LO" | "MD" | "HI" | "XX") {
            return Err(bad(
                c,
                path,
                format_args!("level {level:?} not LO, MD, HI or XX"),
            ));
        }
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: speaker.to_string(),
                gender: self.demographics.get(speaker).copied(),
                label: label.to_string(),
                default: Some(emotion),
                intensity: Some(level.to_string()),
                language: None,
            },
            policy,
        )))
    }
}

// ---------------------------------------------------------------- TESS

/// TESS: `OAF_angry/OAF_back_angry.ext`, `YAF_pleasant_surprised/YAF_bar_ps.ext`.
///
/// The speaker (OAF or YAF, both female) comes from the folder, so the release's odd
/// `OAF_neutral/OA_bite_neutral.wav` parses; the folder's capitalisation does not
/// matter (`OAF_Fear`, `OAF_Pleasant_surprise`). The label is the file name's last
/// `_` field (`angry`, `disgust`, `fear`, `happy`, `neutral`, `ps`, `sad`) and must agree
/// with the folder's. Without a TESS folder, the speaker is the name's first field.
#[derive(Debug, Clone, Copy, Default)]
pub struct TessParser;

const TESS_LABELS: [(&str, Emotion); 7] = [
    ("angry", Emotion::Angry),
    ("disgust", Emotion::Disgust),
    ("fear", Emotion::Fearful),
    ("happy", Emotion::Happy),
    ("neutral", Emotion::Neutral),
    ("ps", Emotion::Surprise),
    ("sad", Emotion::Sad),
];

fn tess_speaker(s: &str) -> Option<&'static str> {
    if s.eq_ignore_ascii_case("OAF") {
        Some("OAF")
    } else if s.eq_ignore_ascii_case("YAF") {
        Some("YAF")
    } else {
        None
    }
}

/// The folder's label in the name-suffix spelling (`Pleasant_surprise` → `ps`).
fn tess_folder_label(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    if l.starts_with("pleasant") {
        "ps".to_string()
    } else {
        l
    }
}

impl CorpusParser for TessParser {
    fn corpus(&self) -> Corpus {
        Corpus::Tess
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::Tess;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let folder = p.dirs.first().and_then(|d| {
            let (s, label) = d.split_once('_')?;
            Some((tess_speaker(s)?, tess_folder_label(label)))
        });
        let name_speaker = p.stem.split_once('_').and_then(|(s, _)| tess_speaker(s));
        if let (Some((folder_speaker, _)), Some(named)) = (folder.as_ref(), name_speaker) {
            if *folder_speaker != named {
                // A YAF_* file in an OAF folder: which speaker it is cannot be known, and
                // the wrong one would leak a speaker across a speaker-independent split.
                return Err(bad(
                    c,
                    path,
                    format_args!("speaker {named} is in a folder of {folder_speaker}"),
                ));
            }
        }
        let speaker = match (folder.as_ref(), name_speaker) {
            (Some((s, _)), _) => *s,
            (None, Some(s)) => s,
            (None, None) => return Ok(None),
        };
        let fields: Vec<&str> = p.stem.split('_').collect();
        let [_, _word, label] = fields[..] else {
            return Err(bad(c, path, "name is not SPEAKER_WORD_EMOTION"));
        };
        let label = label.to_ascii_lowercase();
        let Some((label, emotion)) = TESS_LABELS.iter().find(|(l, _)| *l == label).copied() else {
            return Err(bad(
                c,
                path,
                format_args!(
                    "emotion {label:?} not angry, disgust, fear, happy, neutral, ps or sad"
                ),
            ));
        };
        if let Some((_, folder_label)) = folder.as_ref().filter(|(_, l)| l != label) {
            return Err(bad(
                c,
                path,
                format_args!("emotion {label:?} is in folder of {folder_label:?}"),
            ));
        }
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: speaker.to_string(),
                gender: Some(Gender::Female),
                label: label.to_string(),
                default: Some(emotion),
                intensity: None,
                language: None,
            },
            policy,
        )))
    }
}

// ---------------------------------------------------------------- ESD

/// ESD: `0011/Angry/0011_000351.ext`, optionally with a `train`/`evaluation`/`test`
/// folder below the emotion folder (`0011/Angry/train/0011_000351.ext`).
///
/// Speakers 0001..0010 speak Mandarin, 0011..0020 English (recorded in `language`).
/// Emotion folders: `Angry`, `Happy`, `Neutral`, `Sad`, `Surprise` (any case; the
/// Chinese folder names 生气, 快乐, 中立, 伤心, 惊喜 of some copies are read too, and
/// their `original_label` is the English name). A `NNNN` speaker folder, where present,
/// must agree with the name.
#[derive(Debug, Clone, Copy, Default)]
pub struct EsdParser;

const ESD_LABELS: [(&str, &str, Emotion); 5] = [
    ("Angry", "生气", Emotion::Angry),
    ("Happy", "快乐", Emotion::Happy),
    ("Neutral", "中立", Emotion::Neutral),
    ("Sad", "伤心", Emotion::Sad),
    ("Surprise", "惊喜", Emotion::Surprise),
];

impl CorpusParser for EsdParser {
    fn corpus(&self) -> Corpus {
        Corpus::Esd
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::Esd;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let Some((speaker, number)) = p.stem.split_once('_') else {
            return Ok(None);
        };
        if !is_digits(speaker, 4) || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        if !is_digits(number, 6) {
            return Err(bad(
                c,
                path,
                format_args!("utterance number {number:?} is not six digits"),
            ));
        }
        let n: u32 = speaker.parse().unwrap_or(0);
        let language = match n {
            1..=10 => "mandarin",
            11..=20 => "english",
            _ => {
                return Err(bad(
                    c,
                    path,
                    format_args!("speaker {speaker} not in 0001..0020"),
                ));
            }
        };
        let mut dirs = p.dirs.iter().copied();
        let mut emo_dir = dirs.next();
        if emo_dir.is_some_and(|d| {
            ["train", "evaluation", "test"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(d))
        }) {
            emo_dir = dirs.next();
        }
        let Some(emo_dir) = emo_dir else {
            return Err(bad(c, path, "no emotion folder above the file"));
        };
        let Some((label, _, emotion)) = ESD_LABELS
            .iter()
            .find(|(en, zh, _)| en.eq_ignore_ascii_case(emo_dir) || *zh == emo_dir)
            .copied()
        else {
            return Err(bad(
                c,
                path,
                format_args!(
                    "folder {emo_dir:?} is not an emotion (Angry, Happy, Neutral, Sad, Surprise)"
                ),
            ));
        };
        if let Some(d) = dirs.next().filter(|d| is_digits(d, 4) && *d != speaker) {
            return Err(bad(
                c,
                path,
                format_args!("speaker {speaker} is in folder {d}"),
            ));
        }
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: speaker.to_string(),
                gender: None,
                label: label.to_string(),
                default: Some(emotion),
                intensity: None,
                language: Some(language.to_string()),
            },
            policy,
        )))
    }
}

// ---------------------------------------------------------------- JL-Corpus

/// JL-Corpus: `female1_angry_1a_1.ext` (speaker, emotion, sentence, session), at any
/// depth (the authors' `_bndl` and `Raw JL corpus (unchecked and unannotated)` folders).
///
/// Speakers `female1`, `female2`, `male1`, `male2` (gender from the name). Primary
/// emotions `angry`, `sad`, `neutral`, `happy`, `excited`; secondary `anxious`,
/// `apologetic`, `assertive`, `concerned`, `encouraging`. Only the first four map to the
/// seven by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct JlCorpusParser;

const JL_LABELS: [(&str, Option<Emotion>); 10] = [
    ("angry", Some(Emotion::Angry)),
    ("sad", Some(Emotion::Sad)),
    ("neutral", Some(Emotion::Neutral)),
    ("happy", Some(Emotion::Happy)),
    ("excited", None),
    ("anxious", None),
    ("apologetic", None),
    ("assertive", None),
    ("concerned", None),
    ("encouraging", None),
];

impl CorpusParser for JlCorpusParser {
    fn corpus(&self) -> Corpus {
        Corpus::JlCorpus
    }

    fn parse(
        &self,
        root: &Path,
        path: &Path,
        policy: &LabelPolicy,
    ) -> Result<Option<Utterance>, ParseError> {
        let c = Corpus::JlCorpus;
        let Some(p) = parts(root, path) else {
            return Ok(None);
        };
        let fields: Vec<&str> = p.stem.split('_').collect();
        let Some(&speaker) = fields.first() else {
            return Ok(None);
        };
        let (gender, num) = if let Some(n) = speaker.strip_prefix("female") {
            (Gender::Female, n)
        } else if let Some(n) = speaker.strip_prefix("male") {
            (Gender::Male, n)
        } else {
            return Ok(None);
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                c,
                path,
                format_args!("speaker {speaker:?} is not female<N> or male<N>"),
            ));
        }
        let [_, emo, sentence, session] = fields[..] else {
            return Err(bad(
                c,
                path,
                "name is not SPEAKER_EMOTION_SENTENCE_SESSION (four fields)",
            ));
        };
        let emo = emo.to_ascii_lowercase();
        let Some((label, default)) = JL_LABELS.iter().find(|(l, _)| *l == emo).copied() else {
            return Err(bad(c, path, format_args!("unknown emotion {emo:?}")));
        };
        let sentence_ok = sentence.starts_with(|ch: char| ch.is_ascii_digit())
            && sentence.bytes().all(|b| b.is_ascii_alphanumeric());
        if !sentence_ok {
            return Err(bad(
                c,
                path,
                format_args!("sentence {sentence:?} is not like 1a"),
            ));
        }
        if session.is_empty() || !session.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                c,
                path,
                format_args!("session {session:?} is not a number"),
            ));
        }
        Ok(Some(utterance(
            c,
            path,
            Fields {
                speaker: speaker.to_string(),
                gender: Some(gender),
                label: label.to_string(),
                default,
                intensity: None,
                language: None,
            },
            policy,
        )))
    }
}

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
