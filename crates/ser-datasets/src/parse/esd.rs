//! ESD: speaker and utterance number in the name, the emotion in a folder.

use super::fields::{Found, Name, all_digits, is_digits};
use super::{LabelPolicy, Parsed};
use crate::emotion::Emotion;
use crate::record::Corpus;

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

name_parser!(EsdParser, Corpus::Esd);

impl EsdParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let Some((speaker, number)) = name.stem.split_once('_') else {
            return Ok(None);
        };
        if !is_digits(speaker, 4) || !all_digits(number) {
            return Ok(None);
        }
        name.check(
            is_digits(number, 6),
            format_args!("utterance number {number:?} is not six digits"),
        )?;
        let n = name.number(
            speaker,
            4,
            1..=20,
            format_args!("speaker {speaker} not in 0001..0020"),
        )?;
        let language = if n <= 10 { "mandarin" } else { "english" };
        let mut dirs = name.dirs.iter().copied();
        let mut emo_dir = dirs.next();
        if emo_dir.is_some_and(|d| {
            ["train", "evaluation", "test"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(d))
        }) {
            emo_dir = dirs.next();
        }
        let Some(emo_dir) = emo_dir else {
            return Err(name.error("no emotion folder above the file"));
        };
        let Some((label, _, emotion)) = ESD_LABELS
            .iter()
            .find(|(en, zh, _)| en.eq_ignore_ascii_case(emo_dir) || *zh == emo_dir)
            .copied()
        else {
            return Err(name.error(format_args!(
                "folder {emo_dir:?} is not an emotion (Angry, Happy, Neutral, Sad, Surprise)"
            )));
        };
        if let Some(d) = dirs.next().filter(|d| is_digits(d, 4) && *d != speaker) {
            return Err(name.error(format_args!("speaker {speaker} is in folder {d}")));
        }
        Ok(Some(name.utterance(
            Found {
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
