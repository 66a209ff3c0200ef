//! SAVEE: a speaker, an emotion prefix and a sentence number.

use super::fields::{Found, Name};
use super::{LabelPolicy, Parsed};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender};

/// SAVEE: flat `DC_a01.ext` or per-speaker folders `DC/a01.ext`.
///
/// Speakers DC, JE, JK, KL (all male); prefixes `a`, `d`, `f`, `h`, `n`, `sa`, `su`
/// (anger, disgust, fear, happiness, neutral, sadness, surprise) followed by a two-digit
/// sentence number (01..30 for neutral, 01..15 otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveeParser;

const SAVEE_SPEAKERS: [&str; 4] = ["DC", "JE", "JK", "KL"];

/// Name prefix, class, last sentence number.
const SAVEE_LABELS: [(&str, Emotion, u32); 7] = [
    ("sa", Emotion::Sad, 15),
    ("su", Emotion::Surprise, 15),
    ("a", Emotion::Angry, 15),
    ("d", Emotion::Disgust, 15),
    ("f", Emotion::Fearful, 15),
    ("h", Emotion::Happy, 15),
    ("n", Emotion::Neutral, 30),
];

name_parser!(SaveeParser, Corpus::Savee);

impl SaveeParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let flat = name
            .stem
            .split_once('_')
            .filter(|(s, _)| SAVEE_SPEAKERS.contains(s));
        let folder = name
            .dirs
            .first()
            .copied()
            .filter(|d| SAVEE_SPEAKERS.contains(d));
        let (speaker, rest) = match (flat, folder) {
            (Some((s, _)), Some(d)) if s != d => {
                return Err(name.error(format_args!("speaker {s} is in folder {d}")));
            }
            (Some((s, rest)), _) => (s, rest),
            (None, Some(d)) => (d, name.stem),
            (None, None) => return Ok(None),
        };
        let Some((code, emotion, max)) = SAVEE_LABELS
            .iter()
            .find(|(code, ..)| rest.starts_with(code))
            .copied()
        else {
            return Err(name.error(format_args!(
                "{rest:?} does not start with a, d, f, h, n, sa or su"
            )));
        };
        let num = &rest[code.len()..];
        name.number(
            num,
            2,
            1..=max,
            format_args!("sentence number {num:?} is not two digits in 01..{max}"),
        )?;
        Ok(Some(name.utterance(
            Found {
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
