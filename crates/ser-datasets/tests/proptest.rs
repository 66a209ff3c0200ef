//! Property tests: no file name or path makes a parser panic, whatever a parser accepts is
//! labelled consistently, and every valid RAVDESS, CREMA-D and SAVEE name parses back to the
//! fields it was built from.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use ser_datasets::parse::{
    AUDIO_EXTENSIONS, CorpusParser, CremaDParser, EsdParser, JlCorpusParser, LabelPolicy,
    RavdessParser, SaveeParser, TessParser,
};
use ser_datasets::{Corpus, Emotion, Gender};

/// Few cases, from a fixed seed, so CI is reproducible. `PROPTEST_CASES=5000
/// PROPTEST_RNG_SEED=<n>` explore further.
fn config(cases: u32) -> ProptestConfig {
    let env = ProptestConfig::default(); // reads the PROPTEST_* variables
    let set = |name: &str| std::env::var_os(name).is_some();
    ProptestConfig {
        cases: if set("PROPTEST_CASES") {
            env.cases
        } else {
            cases
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            env.rng_seed
        } else {
            RngSeed::Fixed(20_261_124)
        },
        failure_persistence: None,
        ..env
    }
}

fn parsers() -> Vec<Box<dyn CorpusParser>> {
    let demographics = [("1001".to_string(), Gender::Male)].into_iter().collect();
    vec![
        Box::new(RavdessParser),
        Box::new(SaveeParser),
        Box::new(CremaDParser::default()),
        Box::new(CremaDParser::with_demographics(demographics)),
        Box::new(EsdParser),
        Box::new(TessParser),
        Box::new(JlCorpusParser),
    ]
}

/// Pieces that real names are made of, so random names often get deep into the parsers.
const TOKENS: [&str; 40] = [
    "Actor_",
    "Actor_01",
    "03",
    "01",
    "02",
    "08",
    "24",
    "99",
    "-",
    "_",
    ".",
    "DC",
    "JE",
    "a",
    "sa",
    "su",
    "n30",
    "1001",
    "1091",
    "DFA",
    "ANG",
    "XX",
    "HI",
    "OAF",
    "YAF",
    "ps",
    "Pleasant_surprise",
    "angry",
    "0011",
    "000351",
    "Angry",
    "生气",
    "train",
    "female1",
    "male",
    "excited",
    "1a",
    "é",
    "\u{0}",
    " ",
];

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(&TOKENS[..]), 0..8)
            .prop_map(|t| t.concat()),
        1 => any::<String>(),
        1 => "[-_.A-Za-z0-9]{0,12}",
    ]
}

fn extension() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&AUDIO_EXTENSIONS[..]).prop_map(str::to_string),
        1 => prop::sample::select(&AUDIO_EXTENSIONS[..]).prop_map(str::to_ascii_uppercase),
        1 => "[a-z]{0,4}",
    ]
}

/// A root and a path that is below it, or not (relative, `..`, or unrelated).
fn root_and_path() -> impl Strategy<Value = (PathBuf, PathBuf)> {
    (
        prop::collection::vec(component(), 0..3),
        prop::collection::vec(component(), 0..4),
        component(),
        extension(),
        0u8..4,
    )
        .prop_map(|(root, dirs, stem, ext, how)| {
            let root: PathBuf = root.iter().collect();
            let mut rel: PathBuf = dirs.iter().collect();
            rel.push(format!("{stem}.{ext}"));
            let path = match how {
                0 => root.join(&rel),
                1 => rel,
                2 => root.join("..").join(&rel),
                _ => Path::new("/elsewhere").join(&rel),
            };
            (root, path)
        })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_path_never_panics_and_accepted_ones_are_consistent(
        (root, path) in root_and_path()
    ) {
        let policy = LabelPolicy::default();
        for parser in parsers() {
            match parser.parse(&root, &path, &policy) {
                Ok(Some(u)) => {
                    prop_assert_eq!(u.corpus, parser.corpus());
                    prop_assert_eq!(&u.path, &path);
                    let prefix = format!("{}:", parser.corpus().as_str());
                    prop_assert!(u.speaker.starts_with(&prefix), "{}", u.speaker);
                    prop_assert!(!u.original_label.is_empty());
                }
                Ok(None) => {}
                Err(e) => {
                    prop_assert_eq!(e.corpus, parser.corpus());
                    prop_assert_eq!(&e.path, &path);
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}

const RAVDESS: [Option<Emotion>; 8] = [
    Some(Emotion::Neutral),
    None, // calm
    Some(Emotion::Happy),
    Some(Emotion::Sad),
    Some(Emotion::Angry),
    Some(Emotion::Fearful),
    Some(Emotion::Disgust),
    Some(Emotion::Surprise),
];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn valid_ravdess_names_round_trip(
        modality in 1u8..=3, channel in 1u8..=2, emotion in 1u8..=8, intensity in 1u8..=2,
        statement in 1u8..=2, repetition in 1u8..=2, actor in 1u8..=24,
        in_actor_folder in any::<bool>(), ext in extension().prop_filter("audio", |e| {
            AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e))
        }),
        root in prop::collection::vec("[a-zA-Z0-9 _-]{1,8}", 0..3),
    ) {
        let root: PathBuf = root.iter().collect();
        let name = format!(
            "{modality:02}-{channel:02}-{emotion:02}-{intensity:02}-{statement:02}-\
             {repetition:02}-{actor:02}.{ext}"
        );
        let path = if in_actor_folder {
            root.join(format!("Actor_{actor:02}")).join(&name)
        } else {
            root.join(&name)
        };
        let u = RavdessParser.parse(&root, &path, &LabelPolicy::default()).unwrap().unwrap();
        prop_assert_eq!(u.corpus, Corpus::Ravdess);
        prop_assert_eq!(u.emotion, RAVDESS[usize::from(emotion - 1)]);
        prop_assert_eq!(u.speaker, format!("ravdess:{actor:02}"));
        let gender = if actor % 2 == 1 { Gender::Male } else { Gender::Female };
        prop_assert_eq!(u.gender, Some(gender));
        let level = if intensity == 1 { "normal" } else { "strong" };
        prop_assert_eq!(u.intensity.as_deref(), Some(level));

        // Calm maps to neutral when the policy says so.
        let policy = LabelPolicy::default().with_override("calm", Some(Emotion::Neutral));
        let u = RavdessParser.parse(&root, &path, &policy).unwrap().unwrap();
        if emotion == 2 {
            prop_assert_eq!(u.emotion, Some(Emotion::Neutral));
        }

        // A mismatched actor folder is an error, not a silent relabel.
        let other = actor % 24 + 1;
        let wrong = root.join(format!("Actor_{other:02}")).join(&name);
        prop_assert!(RavdessParser.parse(&root, &wrong, &LabelPolicy::default()).is_err());
    }

    #[test]
    fn valid_crema_d_names_round_trip(
        speaker in 1001u32..=1091,
        sentence in prop::sample::select(&[
            "IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI",
        ][..]),
        (label, emotion) in prop::sample::select(&[
            ("ANG", Emotion::Angry), ("DIS", Emotion::Disgust), ("FEA", Emotion::Fearful),
            ("HAP", Emotion::Happy), ("NEU", Emotion::Neutral), ("SAD", Emotion::Sad),
        ][..]),
        level in prop::sample::select(&["LO", "MD", "HI", "XX"][..]),
    ) {
        let root = Path::new("CREMA-D");
        let path = root.join("AudioWAV").join(format!("{speaker}_{sentence}_{label}_{level}.wav"));
        let u = CremaDParser::default().parse(root, &path, &LabelPolicy::default()).unwrap().unwrap();
        prop_assert_eq!(u.emotion, Some(emotion));
        prop_assert_eq!(u.speaker, format!("crema-d:{speaker}"));
        prop_assert_eq!(u.intensity.as_deref(), Some(level));
        prop_assert_eq!(u.gender, None);
    }

    #[test]
    fn valid_savee_names_round_trip_flat_and_in_folders(
        speaker in prop::sample::select(&["DC", "JE", "JK", "KL"][..]),
        (code, emotion, max) in prop::sample::select(&[
            ("a", Emotion::Angry, 15u32), ("d", Emotion::Disgust, 15), ("f", Emotion::Fearful, 15),
            ("h", Emotion::Happy, 15), ("n", Emotion::Neutral, 30), ("sa", Emotion::Sad, 15),
            ("su", Emotion::Surprise, 15),
        ][..]),
        n in 1u32..=30,
        flat in any::<bool>(),
    ) {
        let root = Path::new("SAVEE");
        let path = if flat {
            root.join("AudioData").join(format!("{speaker}_{code}{n:02}.wav"))
        } else {
            root.join(speaker).join(format!("{code}{n:02}.wav"))
        };
        let parsed = SaveeParser.parse(root, &path, &LabelPolicy::default());
        if n <= max {
            let u = parsed.unwrap().unwrap();
            prop_assert_eq!(u.emotion, Some(emotion));
            prop_assert_eq!(u.speaker, format!("savee:{speaker}"));
            prop_assert_eq!(u.gender, Some(Gender::Male));
        } else {
            prop_assert!(parsed.is_err(), "{:?}", parsed);
        }
    }
}
