//! CREMA-D: speaker, sentence, emotion and level in the name; genders from the
//! corpus's demographics file.

use std::collections::HashMap;
use std::path::Path;

use super::fields::{Found, Name, is_digits};
use super::{LabelPolicy, MetadataError, Parsed};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender};

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

name_parser!(CremaDParser, Corpus::CremaD);

impl CremaDParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let fields: Vec<&str> = name.stem.split('_').collect();
        let Some(&speaker) = fields.first().filter(|f| is_digits(f, 4)) else {
            return Ok(None);
        };
        // ESD names are `0011_000351`; those are not ours.
        if fields.len() == 2 && fields.get(1).is_some_and(|f| is_digits(f, 6)) {
            return Ok(None);
        }
        let [_, sentence, emo, level] = name.fields(
            &fields,
            "name is not SPEAKER_SENTENCE_EMOTION_LEVEL (four fields)",
        )?;
        name.number(
            speaker,
            4,
            1001..=1091,
            format_args!("speaker {speaker} not in 1001..1091"),
        )?;
        name.one_of(
            sentence,
            &CREMA_SENTENCES,
            format_args!("unknown sentence code {sentence:?}"),
        )?;
        let &(label, emotion) = name.lookup(
            emo,
            &CREMA_LABELS,
            format_args!("emotion {emo:?} not ANG, DIS, FEA, HAP, NEU or SAD"),
        )?;
        name.one_of(
            level,
            &["LO", "MD", "HI", "XX"],
            format_args!("level {level:?} not LO, MD, HI or XX"),
        )?;
        Ok(Some(name.utterance(
            Found {
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
