//! JL-Corpus: speaker, emotion, sentence and session in the name, at any depth.

use super::fields::{Found, Name, is_number};
use super::{LabelPolicy, Parsed};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender};

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

name_parser!(JlCorpusParser, Corpus::JlCorpus);

impl JlCorpusParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let fields: Vec<&str> = name.stem.split('_').collect();
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
        name.check(
            is_number(num),
            format_args!("speaker {speaker:?} is not female<N> or male<N>"),
        )?;
        let [_, emo, sentence, session] = name.fields(
            &fields,
            "name is not SPEAKER_EMOTION_SENTENCE_SESSION (four fields)",
        )?;
        let emo = emo.to_ascii_lowercase();
        let &(label, default) =
            name.lookup(&emo, &JL_LABELS, format_args!("unknown emotion {emo:?}"))?;
        let sentence_ok = sentence.starts_with(|ch: char| ch.is_ascii_digit())
            && sentence.bytes().all(|b| b.is_ascii_alphanumeric());
        name.check(
            sentence_ok,
            format_args!("sentence {sentence:?} is not like 1a"),
        )?;
        name.check(
            is_number(session),
            format_args!("session {session:?} is not a number"),
        )?;
        Ok(Some(name.utterance(
            Found {
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
