//! Arbitrary bytes as paths through every `ser-datasets` parser (and the CREMA-D
//! demographics reader): `Ok(Some)`, `Ok(None)` or a `ParseError`, never a panic.
//!
//! The input is `root` and `path` separated by the first newline (no newline: no root);
//! the bytes become paths as they are (not necessarily UTF-8). The whole input is also read
//! as a `VideoDemographics.csv`, and as a label.
#![no_main]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use ser_datasets::parse::{
    CorpusParser, CremaDParser, EsdParser, JlCorpusParser, LabelPolicy, RavdessParser, SaveeParser,
    TessParser, parse_demographics,
};
use ser_datasets::{Corpus, Emotion, Gender, is_audio_path};

fuzz_target!(|data: &[u8]| {
    let (root, path) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let root = Path::new(OsStr::from_bytes(root));
    let path = Path::new(OsStr::from_bytes(path));
    let policy = LabelPolicy::default().with_override("calm", Some(Emotion::Neutral));
    let demographics = [("1001".to_string(), Gender::Female)].into_iter().collect();
    let parsers: [&dyn CorpusParser; 7] = [
        &RavdessParser,
        &SaveeParser,
        &CremaDParser::default(),
        &CremaDParser::with_demographics(demographics),
        &EsdParser,
        &TessParser,
        &JlCorpusParser,
    ];
    let _ = is_audio_path(path);
    for parser in parsers {
        match parser.parse(root, path, &policy) {
            Ok(Some(u)) => {
                assert_eq!(u.corpus, parser.corpus());
                assert!(u.speaker.starts_with(parser.corpus().as_str()));
            }
            Ok(None) => {}
            Err(e) => assert_eq!(e.corpus, parser.corpus()),
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_demographics(Path::new("VideoDemographics.csv"), text);
        let _ = text.parse::<Emotion>();
        let _ = text.parse::<Corpus>();
    }
});
