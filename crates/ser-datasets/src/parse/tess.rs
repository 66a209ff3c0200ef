//! TESS: one folder per speaker and emotion, the emotion again at the end of the name.

use super::fields::{Found, Name};
use super::{LabelPolicy, Parsed};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender};

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

name_parser!(TessParser, Corpus::Tess);

impl TessParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let folder = name.dirs.first().and_then(|d| {
            let (s, label) = d.split_once('_')?;
            Some((tess_speaker(s)?, tess_folder_label(label)))
        });
        let name_speaker = name.stem.split_once('_').and_then(|(s, _)| tess_speaker(s));
        if let (Some((folder_speaker, _)), Some(named)) = (folder.as_ref(), name_speaker) {
            // A YAF_* file in an OAF folder: which speaker it is cannot be known, and
            // the wrong one would leak a speaker across a speaker-independent split.
            name.check(
                *folder_speaker == named,
                format_args!("speaker {named} is in a folder of {folder_speaker}"),
            )?;
        }
        let speaker = match (folder.as_ref(), name_speaker) {
            (Some((s, _)), _) => *s,
            (None, Some(s)) => s,
            (None, None) => return Ok(None),
        };
        let fields: Vec<&str> = name.stem.split('_').collect();
        let [_, _word, label] = name.fields(&fields, "name is not SPEAKER_WORD_EMOTION")?;
        let label = label.to_ascii_lowercase();
        let &(label, emotion) = name.lookup(
            &label,
            &TESS_LABELS,
            format_args!("emotion {label:?} not angry, disgust, fear, happy, neutral, ps or sad"),
        )?;
        if let Some((_, folder_label)) = folder.as_ref().filter(|(_, l)| l != label) {
            return Err(name.error(format_args!(
                "emotion {label:?} is in folder of {folder_label:?}"
            )));
        }
        Ok(Some(name.utterance(
            Found {
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
