//! RAVDESS: seven two-digit fields in the name, one folder per actor.

use super::fields::{Found, Name, is_digits};
use super::{LabelPolicy, Parsed};
use crate::emotion::Emotion;
use crate::record::{Corpus, Gender};

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

/// Emotion field → (label, class).
const RAVDESS_LABELS: [(&str, (&str, Option<Emotion>)); 8] = [
    ("01", ("neutral", Some(Emotion::Neutral))),
    ("02", ("calm", None)),
    ("03", ("happy", Some(Emotion::Happy))),
    ("04", ("sad", Some(Emotion::Sad))),
    ("05", ("angry", Some(Emotion::Angry))),
    ("06", ("fearful", Some(Emotion::Fearful))),
    ("07", ("disgust", Some(Emotion::Disgust))),
    ("08", ("surprised", Some(Emotion::Surprise))),
];

/// Intensity field → intensity.
const RAVDESS_INTENSITIES: [(&str, &str); 2] = [("01", "normal"), ("02", "strong")];

fn ravdess_actor_dir(dir: &str) -> Option<&str> {
    let n = dir.strip_prefix("Actor_")?;
    is_digits(n, 2).then_some(n)
}

name_parser!(RavdessParser, Corpus::Ravdess);

impl RavdessParser {
    /// Reads the name of one audio file below the root ([`super::CorpusParser::parse`]).
    fn parse_name(&self, name: Name<'_>, policy: &LabelPolicy) -> Parsed {
        let fields: Vec<&str> = name.stem.split('-').collect();
        let folder = name.dirs.first().and_then(|d| ravdess_actor_dir(d));
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
        ] = name.fields(
            &fields,
            "name is not MM-VV-EE-II-SS-RR-AA (seven two-digit fields)",
        )?;
        for f in &fields {
            name.check(
                is_digits(f, 2),
                format_args!("field {f:?} is not two digits"),
            )?;
        }
        name.one_of(
            modality,
            &["01", "02", "03"],
            format_args!("modality {modality} not in 01..03"),
        )?;
        name.one_of(
            channel,
            &["01", "02"],
            format_args!("vocal channel {channel} not 01 (speech) or 02 (song)"),
        )?;
        let &(_, (label, default)) = name.lookup(
            emo,
            &RAVDESS_LABELS,
            format_args!("emotion {emo} not in 01..08"),
        )?;
        let &(_, intensity) = name.lookup(
            intensity,
            &RAVDESS_INTENSITIES,
            format_args!("intensity {intensity} not 01 (normal) or 02 (strong)"),
        )?;
        name.one_of(
            statement,
            &["01", "02"],
            format_args!("statement {statement} not 01 or 02"),
        )?;
        name.one_of(
            repetition,
            &["01", "02"],
            format_args!("repetition {repetition} not 01 or 02"),
        )?;
        let n = name.number(
            actor,
            2,
            1..=24,
            format_args!("actor {actor} not in 01..24"),
        )?;
        if let Some(dir) = folder.filter(|d| *d != actor) {
            return Err(name.error(format_args!("actor {actor} is in folder Actor_{dir}")));
        }
        let gender = if n % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };
        Ok(Some(name.utterance(
            Found {
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
