//! A timeline as `predict` prints it for programs: one JSON object per file, or CSV rows
//! (one per segment).

use std::path::Path;

use ser_datasets::Emotion;
use ser_models::Prediction;
use ser_models::timeline::Timeline;
use serde_json::{Value, json};

/// `{"angry": p, "disgust": p, ...}` in [`Emotion::ALL`]'s order.
pub fn probabilities_json(p: &Prediction) -> Value {
    p.iter()
        .map(|(e, v)| (e.as_str().to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The JSON object of one file: `file`, `emotion`, `confidence` and `probabilities` (the
/// overall prediction; `null` without speech), `duration` (seconds), `true_emotion` (from
/// the file's name, when a corpus convention gives it) and `segments` (each `{start, end,
/// emotion, probabilities}`, times in seconds, `emotion: null` for a stretch without
/// speech).
pub fn timeline_json(file: &Path, t: &Timeline, truth: Option<Emotion>) -> Value {
    let segments: Vec<Value> = t
        .segments
        .iter()
        .map(|s| {
            json!({
                "start": s.start,
                "end": s.end,
                "emotion": s.prediction.map(|p| p.emotion.as_str()),
                "probabilities": s.prediction.as_ref().map(probabilities_json),
            })
        })
        .collect();
    json!({
        "file": file,
        "emotion": t.overall.map(|p| p.emotion.as_str()),
        "confidence": t.overall.map(|p| p.confidence()),
        "probabilities": t.overall.as_ref().map(probabilities_json),
        "duration": t.duration,
        "true_emotion": truth.map(Emotion::as_str),
        "segments": segments,
    })
}

/// The CSV header of [`timeline_csv`]'s rows.
pub fn csv_header() -> String {
    let names: Vec<&str> = Emotion::ALL.iter().map(|e| e.as_str()).collect();
    format!("file,start,end,emotion,confidence,{}", names.join(","))
}

/// One CSV row per segment: the file (quoted), start and end in seconds, the emotion and
/// its probability, then the seven probabilities; all but the file and the times are
/// empty for a stretch without speech.
pub fn timeline_csv(file: &Path, t: &Timeline) -> Vec<String> {
    let name = file.display().to_string().replace('"', "\"\"");
    t.segments
        .iter()
        .map(|s| {
            let (emotion, confidence, probs) = match &s.prediction {
                Some(p) => (
                    p.emotion.as_str().to_string(),
                    format!("{:.6}", p.confidence()),
                    p.probabilities.map(|v| format!("{v:.6}")).join(","),
                ),
                None => (
                    String::new(),
                    String::new(),
                    ",".repeat(Emotion::ALL.len() - 1),
                ),
            };
            format!(
                "\"{name}\",{:.3},{:.3},{emotion},{confidence},{probs}",
                s.start, s.end
            )
        })
        .collect()
}
