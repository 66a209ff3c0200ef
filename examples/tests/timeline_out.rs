//! `predict --json` / `--csv`: the fields and rows a program reading them relies on.

use std::path::Path;

use ser_datasets::Emotion;
use ser_examples::timeline_out::{csv_header, timeline_csv, timeline_json};
use ser_models::Prediction;
use ser_models::timeline::{Segment, Timeline};

fn timeline() -> Timeline {
    let p = Prediction::from_probabilities([0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1]);
    let q = Prediction::from_probabilities([0.6, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]);
    Timeline {
        segments: vec![
            Segment {
                start: 0.0,
                end: 3.0,
                prediction: Some(p),
            },
            Segment {
                start: 1.0,
                end: 4.0,
                prediction: None,
            },
            Segment {
                start: 2.0,
                end: 4.5,
                prediction: Some(q),
            },
        ],
        overall: Some(p),
        duration: 4.5,
    }
}

#[test]
fn json_has_the_overall_emotion_and_every_segment() {
    let v = timeline_json(Path::new("a \"b\".wav"), &timeline(), Some(Emotion::Happy));
    assert_eq!(v["file"], "a \"b\".wav");
    assert_eq!(v["emotion"], "happy");
    assert_eq!(v["true_emotion"], "happy");
    assert!((v["confidence"].as_f64().unwrap() - 0.5).abs() < 1e-6);
    let probs = v["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), 7);
    assert!((probs["happy"].as_f64().unwrap() - 0.5).abs() < 1e-6);
    let segs = v["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    assert_eq!(
        (segs[0]["start"].as_f64(), segs[0]["end"].as_f64()),
        (Some(0.0), Some(3.0))
    );
    assert_eq!(segs[0]["emotion"], "happy");
    assert!(segs[1]["emotion"].is_null(), "no speech: emotion null");
    assert!(segs[1]["probabilities"].is_null());
    assert_eq!(segs[2]["emotion"], "angry");
    assert_eq!(segs[2]["probabilities"].as_object().unwrap().len(), 7);
    // One line of JSON.
    assert!(!v.to_string().contains('\n'));
}

#[test]
fn csv_has_one_row_per_segment_with_the_header_columns() {
    let header = csv_header();
    assert_eq!(
        header,
        "file,start,end,emotion,confidence,angry,disgust,fearful,happy,neutral,sad,surprise"
    );
    let rows = timeline_csv(Path::new("x,y.wav"), &timeline());
    assert_eq!(rows.len(), 3);
    let text = format!("{header}\n{}\n", rows.join("\n"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for r in &records {
        assert_eq!(r.len(), 12);
        assert_eq!(&r[0], "x,y.wav");
    }
    assert_eq!(&records[0][3], "happy");
    assert_eq!(&records[1][3], "");
    assert_eq!(&records[1][5], "");
    assert_eq!(&records[2][1], "2.000");
    assert_eq!(&records[2][2], "4.500");
}
