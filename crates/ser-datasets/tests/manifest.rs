//! Manifests: exact round trips, atomic no-clobber writes, typed errors with line numbers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ser_datasets::{
    Assignment, Corpus, Emotion, Error, Gender, MANIFEST_COLUMNS, Overwrite, RowError,
    SplitFractions, Utterance, read_manifest, speaker_split, write_manifest,
};

fn synthetic() -> Vec<Utterance> {
    let mut out = Vec::new();
    for s in 0..8usize {
        for (i, e) in Emotion::ALL.into_iter().enumerate() {
            out.push(Utterance {
                // Commas, quotes and spaces must survive.
                path: format!("/data/my corpus, \"v2\"/{s}/{e}_{i}.wav").into(),
                corpus: if s < 4 {
                    Corpus::Ravdess
                } else {
                    Corpus::JlCorpus
                },
                speaker: format!("ravdess:{s}"),
                gender: match s % 3 {
                    0 => Some(Gender::Female),
                    1 => Some(Gender::Male),
                    _ => None,
                },
                original_label: e.as_str().to_uppercase(),
                intensity: None,
                emotion: if i == 6 && s == 2 { None } else { Some(e) },
                language: None,
            });
        }
    }
    out
}

fn rows() -> Vec<Assignment> {
    speaker_split(&synthetic(), &SplitFractions::default(), 9).unwrap()
}

#[test]
fn manifest_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.csv");
    let rows = rows();
    assert!(rows.iter().any(|r| r.split.is_none()));
    write_manifest(&path, &rows, Overwrite::Refuse).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next().unwrap(), MANIFEST_COLUMNS.join(","));
    assert_eq!(read_manifest(&path).unwrap(), rows);
    // Only the manifest is left in the directory (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn manifest_empty_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    write_manifest(&path, &[], Overwrite::Refuse).unwrap();
    assert!(read_manifest(&path).unwrap().is_empty());
}

#[test]
fn manifest_is_not_overwritten_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.csv");
    let rows = rows();
    write_manifest(&path, &rows[..3], Overwrite::Refuse).unwrap();
    let err = write_manifest(&path, &rows, Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert_eq!(read_manifest(&path).unwrap(), rows[..3]);
    write_manifest(&path, &rows, Overwrite::Replace).unwrap();
    assert_eq!(read_manifest(&path).unwrap(), rows);
}

fn write(dir: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("bad.csv");
    std::fs::write(&path, format!("{}\n{body}", MANIFEST_COLUMNS.join(","))).unwrap();
    path
}

const GOOD: &str = "/a.wav,tess,tess:OAF,female,angry,angry,train\n";

#[test]
fn manifest_bad_rows_give_typed_errors_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 6] = [
        ("/b.wav,timit,tess:OAF,female,angry,angry,train\n", "corpus"),
        ("/b.wav,tess,tess:OAF,female,calm,calm,train\n", "emotion"),
        ("/b.wav,tess,tess:OAF,female,angry,angry,dev\n", "split"),
        ("/b.wav,tess,tess:OAF,other,angry,angry,test\n", "gender"),
        ("/b.wav,tess,,female,angry,angry,test\n", "speaker"),
        (",tess,tess:OAF,female,angry,angry,test\n", "path"),
    ];
    for (row, col) in cases {
        let path = write(dir.path(), &format!("{GOOD}{GOOD}{row}"));
        match read_manifest(&path) {
            Err(Error::ManifestRow {
                line,
                column,
                source,
                ..
            }) => {
                assert_eq!(line, 4, "{row}");
                assert_eq!(column, col);
                let expected = match col {
                    "corpus" => matches!(source, RowError::Corpus(_)),
                    "emotion" => matches!(source, RowError::Emotion(_)),
                    "split" => matches!(source, RowError::Split(_)),
                    "gender" => matches!(source, RowError::Gender(_)),
                    _ => matches!(source, RowError::Empty),
                };
                assert!(expected, "{col}: {source:?}");
            }
            other => panic!("{row}: {other:?}"),
        }
    }
    let err = read_manifest(&write(dir.path(), &format!("{GOOD}{GOOD}{GOOD}"))).unwrap();
    assert_eq!(err.len(), 3);
}

#[test]
fn manifest_bad_header_and_short_row_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.csv");
    std::fs::write(&path, "path,corpus,speaker\n/a.wav,tess,x\n").unwrap();
    assert!(matches!(
        read_manifest(&path),
        Err(Error::ManifestHeader { .. })
    ));
    let path = write(dir.path(), &format!("{GOOD}/b.wav,tess\n"));
    let err = read_manifest(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ManifestFieldCount {
                line: 3,
                expected: 7,
                got: 2,
                ..
            }
        ),
        "{err}"
    );
    let path = write(dir.path(), &format!("{GOOD}\"/b.wav,tess\n"));
    assert!(matches!(
        read_manifest(&path),
        Err(Error::Csv { .. }) | Err(Error::ManifestFieldCount { .. })
    ));
    assert!(matches!(
        read_manifest(&dir.path().join("missing.csv")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn manifest_reloaded_split_is_still_leak_free() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frozen.csv");
    write_manifest(&path, &rows(), Overwrite::Refuse).unwrap();
    ser_datasets::check_no_speaker_leak(&read_manifest(&path).unwrap()).unwrap();
}

#[test]
fn manifest_into_missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/folder/m.csv");
    let err = write_manifest(&path, &rows(), Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}
