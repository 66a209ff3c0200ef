//! ser in the browser: the shipped model ([`ser_models::Recognizer::shipped`]) and the DSP
//! ([`ser_dsp`]) compiled to WebAssembly, with [`wasm_bindgen`](mod@wasm_bindgen) bindings.
//! The page decodes audio (Web Audio gives `f32` samples at its own rate); everything after
//! that — the resampling, the speech gate, the log-mel features, the network's forward — is
//! the same library code as the native `predict` program, so the page shows the same
//! timeline.
//!
//! The bindings return JSON text (parsed in JavaScript with `JSON.parse`) in the shape of
//! `predict --json`: a timeline is `{emotion, confidence, probabilities, duration,
//! segments}`, each segment `{start, end, emotion, probabilities}` (times in seconds,
//! probabilities as `{"angry": p, ...}`, `emotion: null` for a window without speech).
//!
//! ```
//! use ser_wasm::{Engine, Spectrogram};
//!
//! let engine = Engine::shipped()?;
//! // Any rate: 2.5 s of a voiced sound at 48 kHz (one window), as Web Audio gives it.
//! let y: Vec<f32> = (0..120_000)
//!     .map(|n| 0.3 * (n as f32 * 0.013).sin() * (n as f32 * 1e-4).sin())
//!     .collect();
//! let timeline: serde_json::Value = serde_json::from_str(&engine.timeline_json(&y, 48_000)?)?;
//! assert_eq!(timeline["segments"].as_array().map(Vec::len), Some(1));
//! // Live: push pieces of any size, read each window as it completes.
//! let mut live = engine.live(48_000, 1)?;
//! let mut segments = 0;
//! for piece in y.chunks(4_096) {
//!     segments += serde_json::from_str::<Vec<serde_json::Value>>(&live.push_json(piece)?)?.len();
//! }
//! segments += serde_json::from_str::<Vec<serde_json::Value>>(&live.finish_json()?)?.len();
//! assert_eq!(segments, 1);
//! // The spectrogram strip: 128 mel bands per column, a column every 32 ms.
//! let mut strip = Spectrogram::for_rate(48_000)?;
//! let columns = strip.push_columns(&y)?;
//! assert_eq!(columns.len() % 128, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In JavaScript (`web/app.js` is the whole page):
//!
//! ```js
//! import init, { Engine } from "./pkg/ser_wasm.js";
//! await init();
//! const engine = new Engine();                       // the embedded model
//! const timeline = JSON.parse(engine.timeline(samples, sampleRate));
//! const live = engine.live(audioContext.sampleRate, 1);
//! for (const s of JSON.parse(live.push(chunk))) show(s); // as windows complete
//! ```
//!
//! The build (`scripts/build-web.sh`) turns off ser-models' `parallel` feature (rayon):
//! the browser gives this module one thread. The shipped model's weights are under
//! CC BY-NC-SA 4.0 (they derive from RAVDESS; `docs/model-card.md`).

use std::sync::OnceLock;

use ser_datasets::Emotion;
use ser_dsp::ndarray::Axis;
use ser_dsp::{LogMel, Ref, SilencePolicy, StreamingResampler};
use ser_models::candle_core::Device;
use ser_models::timeline::{Segment, Stream, Timeline, TimelineConfig};
use ser_models::{Prediction, Recognizer};
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;

/// What can go wrong in the bindings (thrown in JavaScript as an `Error` with this text).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the recognizer: bad samples, no speech, a rate it refuses, a finished stream.
    #[error(transparent)]
    Model(#[from] ser_models::Error),
    /// From the feature pipeline (the spectrogram strip).
    #[error(transparent)]
    Dsp(#[from] ser_dsp::Error),
    /// The spectrogram strip's settings or rate are refused.
    #[error("spectrogram: {0}")]
    Spectrogram(String),
}

/// The shipped recognizer, built once per module (its weights are embedded).
static SHIPPED: OnceLock<Recognizer> = OnceLock::new();

fn shipped() -> Result<&'static Recognizer, Error> {
    if let Some(r) = SHIPPED.get() {
        return Ok(r);
    }
    let r = Recognizer::shipped(&Device::Cpu)?;
    // A second caller may have set it meanwhile; either value is the same model.
    let _ = SHIPPED.set(r);
    SHIPPED
        .get()
        .ok_or_else(|| Error::Spectrogram("the shipped model could not be kept".into()))
}

/// An error for JavaScript (thrown as an `Error` with this message).
fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// `{"angry": p, "disgust": p, ...}` in [`Emotion::ALL`]'s order, as
/// `predict --json` writes it.
fn probabilities_json(p: &Prediction) -> Value {
    p.iter()
        .map(|(e, v)| (e.as_str().to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// One segment as `predict --json` writes it.
fn segment_json(s: &Segment) -> Value {
    json!({
        "start": s.start,
        "end": s.end,
        "emotion": s.prediction.map(|p| p.emotion.as_str()),
        "probabilities": s.prediction.as_ref().map(probabilities_json),
    })
}

/// A timeline as `predict --json` writes it (without `file` and `true_emotion`).
fn timeline_value(t: &Timeline) -> Value {
    json!({
        "emotion": t.overall.map(|p| p.emotion.as_str()),
        "confidence": t.overall.map(|p| p.confidence()),
        "probabilities": t.overall.as_ref().map(probabilities_json),
        "duration": t.duration,
        "segments": t.segments.iter().map(segment_json).collect::<Vec<_>>(),
    })
}

/// The live defaults: `predict`'s windows (3 s every second, the same speech gate), each
/// window classified in batches of `batch`.
fn live_config(batch: usize) -> TimelineConfig {
    TimelineConfig {
        batch,
        ..TimelineConfig::default()
    }
}

/// The shipped model, ready for audio at any rate.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct Engine {
    recognizer: &'static Recognizer,
}

impl Engine {
    /// The shipped model (built on first use, then shared).
    ///
    /// # Errors
    /// Device errors from candle (the embedded files are checked by ser-models' tests).
    pub fn shipped() -> Result<Self, Error> {
        Ok(Self {
            recognizer: shipped()?,
        })
    }

    /// The recognizer behind the bindings.
    pub fn recognizer(&self) -> &'static Recognizer {
        self.recognizer
    }

    /// [`Engine::timeline`] as a Rust result.
    ///
    /// # Errors
    /// As [`Recognizer::timeline`] after [`ser_dsp::Audio::new`] (empty or non-finite
    /// samples, a zero or absurd rate).
    pub fn timeline_json(&self, samples: &[f32], sample_rate: u32) -> Result<String, Error> {
        let audio = ser_dsp::Audio::new(samples.to_vec(), sample_rate)?;
        let t = self
            .recognizer
            .timeline(&audio, &TimelineConfig::default())?;
        Ok(timeline_value(&t).to_string())
    }

    /// [`Engine::classify`] as a Rust result.
    ///
    /// # Errors
    /// As [`Recognizer::classify`] ([`ser_models::Error::NoSpeech`] for silence).
    pub fn classify_json(&self, samples: &[f32], sample_rate: u32) -> Result<String, Error> {
        let audio = ser_dsp::Audio::new(samples.to_vec(), sample_rate)?;
        let p = self.recognizer.classify(&audio)?;
        Ok(json!({
            "emotion": p.emotion.as_str(),
            "confidence": p.confidence(),
            "probabilities": probabilities_json(&p),
        })
        .to_string())
    }

    /// [`Engine::live`] as a Rust result.
    ///
    /// # Errors
    /// As [`Recognizer::stream`] (a rate the resampler refuses, `batch` outside 1..=256).
    pub fn live(&self, sample_rate: u32, batch: usize) -> Result<Live, Error> {
        Ok(Live {
            stream: self.recognizer.stream(sample_rate, &live_config(batch))?,
        })
    }
}

#[wasm_bindgen]
impl Engine {
    /// The shipped model (JavaScript: `new Engine()`).
    ///
    /// # Errors
    /// As [`Engine::shipped`].
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Engine, JsError> {
        Self::shipped().map_err(js)
    }

    /// The seven emotions, in the order of every probability list.
    pub fn emotions() -> Vec<String> {
        Emotion::ALL
            .iter()
            .map(|e| e.as_str().to_string())
            .collect()
    }

    /// The rate the model hears (16 kHz); other rates are resampled.
    #[wasm_bindgen(js_name = modelRate)]
    pub fn model_rate(&self) -> u32 {
        self.recognizer.sample_rate()
    }

    /// The timeline of a whole buffer (mono samples at `sample_rate` Hz): 3 s windows every
    /// second, as `predict --json` prints it (JSON text).
    ///
    /// # Errors
    /// As [`Engine::timeline_json`].
    pub fn timeline(&self, samples: &[f32], sample_rate: u32) -> Result<String, JsError> {
        self.timeline_json(samples, sample_rate).map_err(js)
    }

    /// One utterance (cut to 3 s or padded): `{emotion, confidence, probabilities}` (JSON
    /// text).
    ///
    /// # Errors
    /// As [`Engine::classify_json`].
    pub fn classify(&self, samples: &[f32], sample_rate: u32) -> Result<String, JsError> {
        self.classify_json(samples, sample_rate).map_err(js)
    }

    /// A live stream at `sample_rate` Hz whose windows are classified `batch` at a time
    /// (1: each as soon as it completes).
    ///
    /// # Errors
    /// As [`Engine::live`].
    #[wasm_bindgen(js_name = live)]
    pub fn live_js(&self, sample_rate: u32, batch: usize) -> Result<Live, JsError> {
        self.live(sample_rate, batch).map_err(js)
    }
}

/// A live stream: push samples in pieces of any size, read each window as it completes.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Live {
    stream: Stream<'static>,
}

impl Live {
    /// [`Live::push`] as a Rust result.
    ///
    /// # Errors
    /// As [`Stream::push`] (non-finite samples, a push after finish).
    pub fn push_json(&mut self, samples: &[f32]) -> Result<String, Error> {
        let segments = self.stream.push(samples)?;
        Ok(Value::from(segments.iter().map(segment_json).collect::<Vec<_>>()).to_string())
    }

    /// [`Live::finish`] as a Rust result.
    ///
    /// # Errors
    /// As [`Stream::finish`].
    pub fn finish_json(&mut self) -> Result<String, Error> {
        let segments = self.stream.finish()?;
        Ok(Value::from(segments.iter().map(segment_json).collect::<Vec<_>>()).to_string())
    }
}

#[wasm_bindgen]
impl Live {
    /// Feeds samples; returns the segments that completed (a JSON array, often empty).
    ///
    /// # Errors
    /// As [`Live::push_json`].
    pub fn push(&mut self, samples: &[f32]) -> Result<String, JsError> {
        self.push_json(samples).map_err(js)
    }

    /// Ends the stream; returns the last segments (the windows still waiting and the
    /// shorter last one), a JSON array.
    ///
    /// # Errors
    /// As [`Live::finish_json`].
    pub fn finish(&mut self) -> Result<String, JsError> {
        self.finish_json().map_err(js)
    }

    /// The mean of the speech windows' probabilities so far: `{emotion, confidence,
    /// probabilities}` or `null` (JSON text).
    pub fn overall(&self) -> String {
        match self.stream.overall() {
            Some(p) => json!({
                "emotion": p.emotion.as_str(),
                "confidence": p.confidence(),
                "probabilities": probabilities_json(&p),
            })
            .to_string(),
            None => "null".into(),
        }
    }

    /// Seconds heard so far.
    pub fn duration(&self) -> f64 {
        self.stream.duration()
    }
}

/// Samples per column block of the strip: 32 frames of the model's hop (512 at 16 kHz).
const BLOCK_FRAMES: usize = 32;

/// A spectrogram strip for display: the model's mel bands (128 up to 8 kHz at 16 kHz) in
/// dB relative to full scale (`ref = 1`, no peak normalisation, no trimming), computed from
/// the stream in blocks of 32 frames, each frame with its full window of real audio (only
/// the very start is zero-padded, as a centred STFT is).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Spectrogram {
    resampler: StreamingResampler,
    logmel: LogMel,
    /// Model-rate samples from `pad` before the next column's centre.
    buf: Vec<f32>,
    hop: usize,
    /// Half the FFT length: each frame reaches this far either side of its centre.
    half: usize,
    /// `half` rounded up to whole hops: the frames before it are skipped.
    pad: usize,
    n_mels: usize,
}

impl Spectrogram {
    /// [`Spectrogram::new`] as a Rust result.
    ///
    /// # Errors
    /// As [`Engine::shipped`]; [`Error::Spectrogram`] for a rate the resampler refuses.
    pub fn for_rate(sample_rate: u32) -> Result<Self, Error> {
        let recognizer = shipped()?;
        let mut config = recognizer.config().features;
        config.normalize = false;
        config.trim_db = None;
        config.duration_secs = None;
        config.silence = SilencePolicy::Keep;
        config.reference = Ref::Value(1.0);
        config.top_db = None;
        let logmel =
            LogMel::new(config).map_err(|e| Error::Spectrogram(format!("{config:?}: {e}")))?;
        let resampler = StreamingResampler::new(sample_rate, config.sample_rate)
            .map_err(|e| Error::Spectrogram(format!("sample rate {sample_rate}: {e}")))?;
        let (hop, half) = (config.hop_length, config.n_fft / 2);
        let pad = half.div_ceil(hop) * hop;
        Ok(Self {
            resampler,
            logmel,
            // The zeros a centred STFT pads the start with.
            buf: vec![0.0; pad],
            hop,
            half,
            pad,
            n_mels: config.n_mels,
        })
    }

    /// [`Spectrogram::push`] as a Rust result.
    ///
    /// # Errors
    /// [`Error::Dsp`] for non-finite samples.
    pub fn push_columns(&mut self, samples: &[f32]) -> Result<Vec<f32>, Error> {
        self.resampler.push(samples, &mut self.buf)?;
        let block = BLOCK_FRAMES * self.hop;
        let need = self.pad + block + self.half;
        let rate = self.logmel.config().sample_rate;
        let mut out = Vec::new();
        // Frame j of a centred STFT over buf[..need] is centred on buf[j * hop]: frames
        // pad / hop .. + 32 are centred on the block's samples and see only the signal
        // (or, at the very start, the zeros a centred STFT pads with).
        while self.buf.len() >= need {
            let mel = self.logmel.extract_samples(&self.buf[..need], rate)?;
            for column in mel
                .axis_iter(Axis(1))
                .skip(self.pad / self.hop)
                .take(BLOCK_FRAMES)
            {
                out.extend(column.iter().copied());
            }
            self.buf.drain(..block);
        }
        Ok(out)
    }
}

#[wasm_bindgen]
impl Spectrogram {
    /// A strip for input at `sample_rate` Hz.
    ///
    /// # Errors
    /// As [`Spectrogram::for_rate`].
    #[wasm_bindgen(constructor)]
    pub fn new(sample_rate: u32) -> Result<Spectrogram, JsError> {
        Self::for_rate(sample_rate).map_err(js)
    }

    /// Mel bands per column (128).
    #[wasm_bindgen(js_name = nMels)]
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Feeds samples; returns the columns completed (each `nMels` dB values, low band
    /// first), one every 32 ms of audio, in blocks of about a second.
    ///
    /// # Errors
    /// As [`Spectrogram::push_columns`].
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, JsError> {
        self.push_columns(samples).map_err(js)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// 8 s at 44.1 kHz: 2 s of a voiced buzz, 4 s of silence, the buzz again.
    fn clip() -> Vec<f32> {
        let rate = 44_100.0;
        (0..8 * 44_100)
            .map(|n| {
                let t = n as f32 / rate;
                if (2.0..6.0).contains(&t) {
                    0.0
                } else {
                    0.4 * (t * 2.0 * std::f32::consts::PI * 150.0).sin()
                        * (0.5 + 0.5 * (t * 2.0 * std::f32::consts::PI * 3.0).sin())
                }
            })
            .collect()
    }

    #[test]
    fn timeline_json_is_the_recognizers_timeline() {
        let engine = Engine::shipped().unwrap();
        let y = clip();
        let got: Value = serde_json::from_str(&engine.timeline_json(&y, 44_100).unwrap()).unwrap();
        let audio = ser_dsp::Audio::new(y, 44_100).unwrap();
        let want = engine
            .recognizer()
            .timeline(&audio, &TimelineConfig::default())
            .unwrap();
        let segments = got["segments"].as_array().unwrap();
        assert_eq!(segments.len(), want.segments.len());
        assert!(want.segments.iter().any(|s| s.prediction.is_none()));
        for (g, w) in segments.iter().zip(&want.segments) {
            assert_eq!(g["start"].as_f64().unwrap(), w.start);
            assert_eq!(g["end"].as_f64().unwrap(), w.end);
            match &w.prediction {
                None => assert!(g["emotion"].is_null() && g["probabilities"].is_null()),
                Some(p) => {
                    assert_eq!(g["emotion"].as_str().unwrap(), p.emotion.as_str());
                    for (e, v) in p.iter() {
                        let got = g["probabilities"][e.as_str()].as_f64().unwrap() as f32;
                        assert_eq!(got, v, "{e}");
                    }
                }
            }
        }
        let overall = want.overall.unwrap();
        assert_eq!(got["emotion"].as_str().unwrap(), overall.emotion.as_str());
    }

    #[test]
    fn live_pieces_give_the_whole_buffers_segments() {
        let engine = Engine::shipped().unwrap();
        let y = clip();
        let whole: Value =
            serde_json::from_str(&engine.timeline_json(&y, 44_100).unwrap()).unwrap();
        // Batch 1 (live) against the timeline's batch 8: the same windows and labels, the
        // probabilities equal up to the batch's float summation order.
        let mut live = engine.live(44_100, 1).unwrap();
        let mut got: Vec<Value> = Vec::new();
        for piece in y.chunks(3_000) {
            got.extend(
                serde_json::from_str::<Vec<Value>>(&live.push_json(piece).unwrap()).unwrap(),
            );
        }
        got.extend(serde_json::from_str::<Vec<Value>>(&live.finish_json().unwrap()).unwrap());
        let want = whole["segments"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g["start"], w["start"]);
            assert_eq!(g["emotion"], w["emotion"]);
            for e in Engine::emotions() {
                if let (Some(a), Some(b)) = (
                    g["probabilities"][&e].as_f64(),
                    w["probabilities"][&e].as_f64(),
                ) {
                    assert!((a - b).abs() < 1e-5, "{e}: {a} vs {b}");
                }
            }
        }
        assert!(
            live.push_json(&[0.0]).is_err(),
            "a push after finish is refused"
        );
        let overall: Value = serde_json::from_str(&live.overall()).unwrap();
        assert_eq!(overall["emotion"], whole["emotion"]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let engine = Engine::shipped().unwrap();
        // Nothing heard: no windows, no emotion (not an error, as for the recognizer).
        let empty: Value =
            serde_json::from_str(&engine.timeline_json(&[], 16_000).unwrap()).unwrap();
        assert_eq!(empty["segments"].as_array().map(Vec::len), Some(0));
        assert!(empty["emotion"].is_null());
        assert!(engine.timeline_json(&[f32::NAN; 100], 16_000).is_err());
        assert!(engine.timeline_json(&[0.1; 100], 0).is_err());
        assert!(matches!(
            engine.classify_json(&[0.0; 16_000], 16_000),
            Err(Error::Model(ser_models::Error::NoSpeech { .. }))
        ));
        assert!(engine.live(16_000, 0).is_err());
        assert!(Spectrogram::for_rate(0).is_err());
        let mut s = Spectrogram::for_rate(16_000).unwrap();
        assert!(s.push_columns(&[f32::INFINITY]).is_err());
    }

    #[test]
    fn spectrogram_columns_match_one_pass_over_the_signal() {
        let y = clip();
        let mut strip = Spectrogram::for_rate(16_000).unwrap();
        let y16: Vec<f32> = y[..16_000 * 3].to_vec();
        let mut cols = Vec::new();
        for piece in y16.chunks(1_000) {
            cols.extend(strip.push_columns(piece).unwrap());
        }
        let n_mels = strip.n_mels;
        assert_eq!(n_mels, 128);
        // 3 s at 16 kHz: 48 000 samples; blocks of 16 384 need 2 048 more samples after
        // them, so two full blocks (64 columns).
        assert_eq!(cols.len(), 64 * n_mels);
        // The same frames from one centred STFT over the whole signal.
        let mel = strip.logmel.extract_samples(&y16, 16_000).unwrap();
        for (j, col) in cols.chunks(n_mels).enumerate() {
            for (b, v) in col.iter().enumerate() {
                let w = mel[[b, j]];
                assert!(
                    (v - w).abs() < 1e-3 * w.abs().max(1.0),
                    "frame {j} band {b}: {v} vs {w}"
                );
            }
        }
    }
}
