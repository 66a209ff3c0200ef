//! `ClassificationReport` against scikit-learn 1.9 (fixtures/golden/ser-models/metrics.json,
//! made by fixtures/scripts/make_golden_metrics.py), plus error cases and `History`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ser_models::metrics::{
    Averages, ClassificationReport, EpochRecord, GroupMetrics, History, MetricsError,
};
use serde::Deserialize;

const TOL: f64 = 1e-12;

#[derive(Deserialize)]
struct Golden {
    cases: BTreeMap<String, Case>,
}

#[derive(Deserialize)]
struct Case {
    truth: Vec<usize>,
    predicted: Vec<usize>,
    classes: Vec<String>,
    groups: Option<Vec<String>>,
    total: usize,
    accuracy: f64,
    balanced_accuracy: f64,
    per_class: Vec<GoldenClass>,
    macro_avg: Averages,
    weighted_avg: Averages,
    macro_f1: f64,
    confusion: Vec<Vec<usize>>,
    per_group: BTreeMap<String, GroupMetrics>,
}

#[derive(Deserialize)]
struct GoldenClass {
    class: String,
    precision: f64,
    recall: f64,
    f1: f64,
    support: usize,
}

fn golden() -> Golden {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/golden/ser-models/metrics.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn close(case: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{case}: {what}: got {got:?}, scikit-learn {want:?} (diff {:e})",
        (got - want).abs()
    );
}

fn close_avg(case: &str, what: &str, got: &Averages, want: &Averages) {
    close(
        case,
        &format!("{what}.precision"),
        got.precision,
        want.precision,
    );
    close(case, &format!("{what}.recall"), got.recall, want.recall);
    close(case, &format!("{what}.f1"), got.f1, want.f1);
}

fn build(case: &Case) -> ClassificationReport {
    let classes: Vec<&str> = case.classes.iter().map(String::as_str).collect();
    let groups: Option<Vec<&str>> = case
        .groups
        .as_ref()
        .map(|g| g.iter().map(String::as_str).collect());
    ClassificationReport::from_predictions(
        &case.truth,
        &case.predicted,
        &classes,
        groups.as_deref(),
    )
    .unwrap()
}

#[test]
fn report_golden_cases_match_sklearn() {
    let golden = golden();
    assert_eq!(golden.cases.len(), 3);
    for (name, case) in &golden.cases {
        let r = build(case);
        let name = name.as_str();
        assert_eq!(r.classes, case.classes, "{name}: classes");
        assert_eq!(r.total, case.total, "{name}: total");
        close(name, "accuracy", r.accuracy, case.accuracy);
        close(
            name,
            "balanced_accuracy",
            r.balanced_accuracy,
            case.balanced_accuracy,
        );
        assert_eq!(r.per_class.len(), case.per_class.len(), "{name}: per_class");
        for (got, want) in r.per_class.iter().zip(&case.per_class) {
            assert_eq!(got.class, want.class, "{name}: class order");
            assert_eq!(got.support, want.support, "{name}: {} support", want.class);
            close(
                name,
                &format!("{} precision", want.class),
                got.precision,
                want.precision,
            );
            close(
                name,
                &format!("{} recall", want.class),
                got.recall,
                want.recall,
            );
            close(name, &format!("{} f1", want.class), got.f1, want.f1);
        }
        close_avg(name, "macro_avg", &r.macro_avg, &case.macro_avg);
        close_avg(name, "weighted_avg", &r.weighted_avg, &case.weighted_avg);
        close(name, "macro_f1", r.macro_f1, case.macro_f1);
        assert_eq!(r.confusion, case.confusion, "{name}: confusion");
        assert_eq!(
            r.per_group.keys().collect::<Vec<_>>(),
            case.per_group.keys().collect::<Vec<_>>(),
            "{name}: groups"
        );
        for (g, want) in &case.per_group {
            let got = &r.per_group[g];
            assert_eq!(got.support, want.support, "{name}/{g}: support");
            close(name, &format!("{g} accuracy"), got.accuracy, want.accuracy);
            close(
                name,
                &format!("{g} balanced_accuracy"),
                got.balanced_accuracy,
                want.balanced_accuracy,
            );
            close(name, &format!("{g} macro_f1"), got.macro_f1, want.macro_f1);
        }
    }
}

#[test]
fn report_missing_classes_golden_exercises_zero_division() {
    let golden = golden();
    let case = &golden.cases["missing_classes"];
    let r = build(case);
    // Class 3 is never predicted, class 5 never occurs in the truth.
    assert_eq!(r.confusion.iter().map(|row| row[3]).sum::<usize>(), 0);
    assert_eq!(r.per_class[3].precision, 0.0);
    assert_eq!(r.per_class[5].support, 0);
    assert_eq!(r.per_class[5].recall, 0.0);
    assert_eq!(r.per_class[5].f1, 0.0);
}

#[test]
fn report_serde_round_trip_is_identical() {
    let golden = golden();
    let r = build(&golden.cases["groups"]);
    let json = serde_json::to_string(&r).unwrap();
    let back: ClassificationReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn report_perfect_predictions_score_one() {
    let truth = [0, 1, 2, 2, 1, 0];
    let r = ClassificationReport::from_predictions(&truth, &truth, &["a", "b", "c"], None).unwrap();
    assert_eq!(r.accuracy, 1.0);
    assert_eq!(r.balanced_accuracy, 1.0);
    assert_eq!(r.macro_f1, 1.0);
    assert_eq!(
        r.confusion,
        vec![vec![2, 0, 0], vec![0, 2, 0], vec![0, 0, 2]]
    );
    assert!(r.per_group.is_empty());
    assert_eq!(r.normalized_confusion()[1], vec![0.0, 1.0, 0.0]);
}

#[test]
fn report_predicted_length_mismatch_errors() {
    let e = ClassificationReport::from_predictions(&[0, 1], &[0], &["a", "b"], None).unwrap_err();
    assert_eq!(
        e,
        MetricsError::LengthMismatch {
            what: "predicted",
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn report_groups_length_mismatch_errors() {
    let e = ClassificationReport::from_predictions(&[0, 1], &[0, 1], &["a", "b"], Some(&["x"]))
        .unwrap_err();
    assert_eq!(
        e,
        MetricsError::LengthMismatch {
            what: "groups",
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn report_empty_input_errors() {
    let e = ClassificationReport::from_predictions(&[], &[], &["a"], None).unwrap_err();
    assert_eq!(e, MetricsError::Empty);
}

#[test]
fn report_no_classes_errors() {
    let e = ClassificationReport::from_predictions(&[0], &[0], &[], None).unwrap_err();
    assert_eq!(e, MetricsError::NoClasses);
}

#[test]
fn report_class_out_of_range_names_index_and_position() {
    let e = ClassificationReport::from_predictions(&[0, 1, 1], &[0, 1, 2], &["a", "b"], None)
        .unwrap_err();
    assert_eq!(
        e,
        MetricsError::ClassOutOfRange {
            what: "predicted",
            position: 2,
            index: 2,
            n_classes: 2
        }
    );
    let msg = e.to_string();
    assert!(msg.contains("predicted[2] = 2"), "{msg}");
    let e =
        ClassificationReport::from_predictions(&[0, 7], &[0, 1], &["a", "b"], None).unwrap_err();
    assert!(matches!(
        e,
        MetricsError::ClassOutOfRange {
            what: "truth",
            position: 1,
            index: 7,
            ..
        }
    ));
}

#[test]
fn to_text_contains_every_class_and_group() {
    let golden = golden();
    let case = &golden.cases["groups"];
    let r = build(case);
    let text = r.to_text();
    for class in &case.classes {
        assert!(
            text.contains(class.as_str()),
            "{class} missing from\n{text}"
        );
    }
    for short in r.short_class_names() {
        assert!(text.contains(&short), "{short} missing from\n{text}");
    }
    for g in case.per_group.keys() {
        assert!(text.contains(g.as_str()), "{g} missing from\n{text}");
    }
    for needle in [
        "precision",
        "recall",
        "f1-score",
        "support",
        "accuracy",
        "macro avg",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert!(text.contains(&format!("{:.3}", r.accuracy)), "{text}");
}

#[test]
fn short_class_names_are_unique() {
    let r = ClassificationReport::from_predictions(
        &[0, 1, 2],
        &[0, 1, 2],
        &["surprise", "surprised", "sad"],
        None,
    )
    .unwrap();
    assert_eq!(r.short_class_names(), vec!["c0", "c1", "sad"]);
}

fn record(epoch: usize, train_loss: f64, val_loss: Option<f64>) -> EpochRecord {
    EpochRecord {
        epoch,
        train_loss,
        train_accuracy: 0.5,
        val_loss,
        val_accuracy: val_loss.map(|_| 0.5),
        learning_rate: 1e-3,
        seconds: 1.0,
        speaker_accuracy: None,
    }
}

#[test]
fn history_best_epoch_prefers_validation_loss() {
    let mut h = History::new();
    assert_eq!(h.best_epoch(), None);
    h.push(record(1, 1.0, Some(0.9)));
    h.push(record(2, 0.5, Some(0.7)));
    h.push(record(3, 0.2, Some(0.8)));
    h.push(record(4, 0.1, Some(0.7)));
    assert_eq!(h.best_epoch(), Some(2), "lowest val loss, earliest on ties");
}

#[test]
fn history_best_epoch_falls_back_to_train_loss_and_skips_nan() {
    let h = History {
        epochs: vec![
            record(0, 0.9, None),
            record(1, f64::NAN, None),
            record(2, 0.4, None),
            record(3, 0.6, None),
        ],
    };
    assert_eq!(h.best_epoch(), Some(2));
    let json = serde_json::to_string(&History {
        epochs: vec![record(0, 0.9, Some(1.0))],
    })
    .unwrap();
    let back: History = serde_json::from_str(&json).unwrap();
    assert_eq!(back.best().map(|r| r.val_loss), Some(Some(1.0)));
}
