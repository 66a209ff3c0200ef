//! Emotions over time: audio of any length cut into sliding windows, each classified as one
//! utterance; offline ([`crate::Recognizer::timeline`]) or live ([`Stream`]), with the same
//! result.
//!
//! The audio is resampled to the model's rate as it arrives (with
//! [`ser_dsp::StreamingResampler`], which gives the same samples whatever the pieces).
//! Window `k` covers `[k·hop, k·hop + window)`; it is classified as soon as its last sample
//! arrives. When the stream ends, the audio from the next window start to the end forms
//! one last, shorter window, which the features pad exactly as a short training clip: when
//! the input is shorter than one window (it is then the only window), or when it adds at
//! least half a hop that no full window heard (a shorter remainder, under 0.5 s with the
//! defaults, is left out rather than classified again with almost the same audio). Each window first goes through the
//! [`SpeechGate`]: a window with less than `gate.min_speech_secs` of frames above
//! `gate.threshold_db` dBFS gets no emotion ([`Segment::prediction`] is `None`). Every
//! other window is peak-normalised, trimmed and featurized as in training, so a quiet
//! window and a loud one are heard alike.
//!
//! The overall emotion is the mean of the speech windows' probabilities. Windows are
//! classified in batches of `batch` (1 for the lowest latency live), decided by count alone,
//! so the numbers do not depend on how the input was cut into pieces. Memory holds one
//! window, the pieces pushed and at most `batch` spectrograms, whatever the length.

use ser_dsp::ndarray::Array2;
use ser_dsp::{SpeechGate, SpeechGateConfig, StreamingResampler};

use crate::config::{InputMode, InputSpec};
use crate::error::{Error, Result};
use crate::features::BandStats;
use crate::recognizer::{N_CLASSES, Prediction, Recognizer};

/// How audio is cut into windows; the defaults are 3 s windows every second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TimelineConfig {
    /// Window length in seconds (3, the model's input); in (0, 600].
    pub window_secs: f32,
    /// Hop between window starts in seconds (1); in (0, `window_secs`].
    pub hop_secs: f32,
    /// Which windows hold speech.
    pub gate: SpeechGateConfig,
    /// Windows classified together (8; 1 gives each window as soon as it completes);
    /// in 1..=256.
    pub batch: usize,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        Self {
            window_secs: 3.0,
            hop_secs: 1.0,
            gate: SpeechGateConfig::default(),
            batch: 8,
        }
    }
}

impl TimelineConfig {
    /// Window and hop lengths in samples at `rate` Hz.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first field out of its range.
    pub fn validate(&self, rate: u32) -> Result<(usize, usize)> {
        if !(self.window_secs.is_finite() && self.window_secs > 0.0 && self.window_secs <= 600.0) {
            return Err(Error::config(
                "window_secs",
                self.window_secs,
                "must be in (0, 600] seconds",
            ));
        }
        if !(self.hop_secs.is_finite() && self.hop_secs > 0.0 && self.hop_secs <= self.window_secs)
        {
            return Err(Error::config(
                "hop_secs",
                self.hop_secs,
                format!("must be in (0, window_secs = {}] seconds", self.window_secs),
            ));
        }
        if !(1..=256).contains(&self.batch) {
            return Err(Error::config("batch", self.batch, "must be in 1..=256"));
        }
        let n = |secs: f32| ((f64::from(secs) * f64::from(rate)).round() as usize).max(1);
        Ok((n(self.window_secs), n(self.hop_secs)))
    }
}

/// One window of a timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start, in seconds from the beginning of the input.
    pub start: f64,
    /// End, in seconds (the end of the input for the last, shorter window).
    pub end: f64,
    /// What was heard; `None` when the window holds no speech.
    pub prediction: Option<Prediction>,
}

/// The emotions of a whole input over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The windows in order.
    pub segments: Vec<Segment>,
    /// The mean of the speech windows' probabilities, as a prediction; `None` when no
    /// window holds speech.
    pub overall: Option<Prediction>,
    /// The input's length in seconds (at the model's rate).
    pub duration: f64,
}

impl Timeline {
    /// The number of windows that hold speech.
    pub fn speech_segments(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| s.prediction.is_some())
            .count()
    }
}

/// A window waiting for its batch: its bounds in samples and its spectrogram (`None`: no
/// speech).
#[derive(Debug)]
struct Pending {
    start: usize,
    end: usize,
    features: Option<Array2<f32>>,
}

/// A timeline fed in pieces, for live input; made by [`Recognizer::stream`].
///
/// ```no_run
/// # use ser_models::{Recognizer, timeline::TimelineConfig};
/// # let recognizer = Recognizer::from_run("runs/speaker".as_ref(), &ser_models::candle_core::Device::Cpu)?;
/// let live = TimelineConfig { batch: 1, ..TimelineConfig::default() };
/// let mut stream = recognizer.stream(48_000, &live)?;
/// # let microphone: Vec<Vec<f32>> = Vec::new();
/// for piece in microphone {
///     for segment in stream.push(&piece)? {
///         println!("{:.0} s: {:?}", segment.start, segment.prediction.map(|p| p.emotion));
///     }
/// }
/// let rest = stream.finish()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Stream<'a> {
    recognizer: &'a Recognizer,
    gate: SpeechGate,
    resampler: StreamingResampler,
    rate: u32,
    window: usize,
    hop: usize,
    batch: usize,
    /// Samples at the model's rate from `buf_start` on.
    buf: Vec<f32>,
    buf_start: usize,
    /// Samples at the model's rate received so far.
    total: usize,
    /// The start of the next window.
    next_start: usize,
    pending: Vec<Pending>,
    /// Sum of the speech windows' probabilities, and their number.
    sum: [f64; N_CLASSES],
    n_speech: usize,
    finished: bool,
    /// The recording's per-band statistics over the speech windows so far, for a model
    /// with [`InputMode::LogMelSpeakerCmvn`] input.
    band_stats: Option<BandStats>,
}

impl<'a> Stream<'a> {
    pub(crate) fn new(
        recognizer: &'a Recognizer,
        sample_rate: u32,
        config: &TimelineConfig,
    ) -> Result<Self> {
        let rate = recognizer.sample_rate();
        let (window, hop) = config.validate(rate)?;
        let resampler = StreamingResampler::new(sample_rate, rate)
            .map_err(|e| Error::config("sample_rate", sample_rate, e))?;
        Ok(Self {
            recognizer,
            gate: SpeechGate::new(config.gate)?,
            resampler,
            rate,
            window,
            hop,
            batch: config.batch,
            buf: Vec::with_capacity(window),
            buf_start: 0,
            total: 0,
            next_start: 0,
            pending: Vec::new(),
            sum: [0.0; N_CLASSES],
            n_speech: 0,
            finished: false,
            band_stats: match recognizer.model().config().input {
                InputSpec {
                    mode: InputMode::LogMelSpeakerCmvn,
                    n_mels,
                    ..
                } => Some(BandStats::with_prior(
                    n_mels,
                    recognizer.model().config().band_prior.as_ref(),
                )),
                _ => None,
            },
        })
    }

    /// Feeds the next samples (at the stream's input rate) and returns the segments that
    /// completed, in order (none until a batch of windows is complete).
    ///
    /// # Errors
    /// [`Error::Features`] for a NaN or infinite sample (nothing of `samples` is used then);
    /// [`Error::Config`] after [`Stream::finish`].
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<Segment>> {
        if self.finished {
            return Err(Error::config(
                "stream",
                "finished",
                "cannot take samples after finish()",
            ));
        }
        let before = self.buf.len();
        self.resampler.push(samples, &mut self.buf)?;
        self.total += self.buf.len() - before;
        self.take_full_windows()?;
        self.flush(false)
    }

    /// Ends the stream: classifies the windows still waiting and the last, shorter window,
    /// and returns their segments. Later pushes are refused.
    ///
    /// # Errors
    /// As [`Stream::push`].
    pub fn finish(&mut self) -> Result<Vec<Segment>> {
        if self.finished {
            return Ok(Vec::new());
        }
        let before = self.buf.len();
        self.resampler.finish(&mut self.buf)?;
        self.total += self.buf.len() - before;
        self.finished = true;
        self.take_full_windows()?;
        // The tail: everything after the last full window, when that adds at least half a
        // hop of audio no window heard, or the whole input when no window was full.
        let covered = if self.next_start == 0 {
            0
        } else {
            self.next_start - self.hop + self.window
        };
        let uncovered = self.total.saturating_sub(covered);
        if self.next_start < self.total && (covered == 0 || 2 * uncovered >= self.hop) {
            let (start, end) = (self.next_start, self.total);
            self.queue(start, end)?;
        }
        self.buf = Vec::new();
        self.flush(true)
    }

    /// The mean of the speech windows' probabilities so far, as a prediction (`None`
    /// before the first speech window).
    pub fn overall(&self) -> Option<Prediction> {
        (self.n_speech > 0).then(|| {
            let mut p = [0f32; N_CLASSES];
            for (p, s) in p.iter_mut().zip(self.sum) {
                *p = (s / self.n_speech as f64) as f32;
            }
            Prediction::from_probabilities(p)
        })
    }

    /// Samples held at the model's rate, waiting for windows: at most one window plus the
    /// last piece pushed (resampled), whatever has gone before. Memory does not grow with
    /// the stream's length.
    pub fn buffered_samples(&self) -> usize {
        self.buf.len()
    }

    /// Seconds of input received so far (at the model's rate).
    pub fn duration(&self) -> f64 {
        self.total as f64 / f64::from(self.rate)
    }

    /// The timeline of `segments` (all of this stream's), with the overall emotion and the
    /// duration so far.
    pub fn timeline(&self, segments: Vec<Segment>) -> Timeline {
        Timeline {
            segments,
            overall: self.overall(),
            duration: self.duration(),
        }
    }

    /// Queues every window that is complete and drops the samples no window needs.
    fn take_full_windows(&mut self) -> Result<()> {
        while self.next_start + self.window <= self.total {
            let (start, end) = (self.next_start, self.next_start + self.window);
            self.queue(start, end)?;
            self.next_start += self.hop;
        }
        let drop = (self.next_start - self.buf_start).min(self.buf.len());
        self.buf.drain(..drop);
        self.buf_start += drop;
        Ok(())
    }

    /// Gates and featurizes the window `[start, end)`.
    fn queue(&mut self, start: usize, end: usize) -> Result<()> {
        let y = &self.buf[start - self.buf_start..end - self.buf_start];
        let features = if self.gate.is_speech(y, self.rate)? {
            let f = self.recognizer.logmel().extract_samples(y, self.rate)?;
            // The recording is the speaker: each window is standardised by the statistics
            // of every speech window so far, itself included.
            Some(match &mut self.band_stats {
                Some(stats) => {
                    stats.add(f.view())?;
                    stats.standardize(f.view())?
                }
                None => f,
            })
        } else {
            None
        };
        self.pending.push(Pending {
            start,
            end,
            features,
        });
        Ok(())
    }

    /// Classifies the pending windows in batches of `batch` (the remainder too when
    /// `all`), returning their segments in order.
    fn flush(&mut self, all: bool) -> Result<Vec<Segment>> {
        let mut out = Vec::new();
        loop {
            let n_speech = self.pending.iter().filter(|p| p.features.is_some()).count();
            let ready = if n_speech >= self.batch {
                // Up to and including the batch-th speech window.
                let mut seen = 0;
                self.pending
                    .iter()
                    .position(|p| {
                        seen += usize::from(p.features.is_some());
                        seen == self.batch
                    })
                    .map_or(self.pending.len(), |i| i + 1)
            } else if all {
                self.pending.len()
            } else {
                // Windows without speech before the first speech window need no batch.
                self.pending
                    .iter()
                    .position(|p| p.features.is_some())
                    .unwrap_or(self.pending.len())
            };
            if ready == 0 {
                return Ok(out);
            }
            let group: Vec<Pending> = self.pending.drain(..ready).collect();
            let views: Vec<_> = group
                .iter()
                .filter_map(|p| p.features.as_ref().map(|f| f.view()))
                .collect();
            let predictions = self.recognizer.classify_prepared(&views)?;
            let (expected, got) = (views.len(), predictions.len());
            let mut predictions = predictions.into_iter();
            for p in group {
                let prediction = match p.features {
                    Some(_) => {
                        let pred = predictions
                            .next()
                            .ok_or(Error::PredictionCount { expected, got })?;
                        for (s, v) in self.sum.iter_mut().zip(pred.probabilities) {
                            *s += f64::from(v);
                        }
                        self.n_speech += 1;
                        Some(pred)
                    }
                    None => None,
                };
                out.push(Segment {
                    start: p.start as f64 / f64::from(self.rate),
                    end: p.end as f64 / f64::from(self.rate),
                    prediction,
                });
            }
            if self.pending.is_empty() || (!all && n_speech < self.batch) {
                return Ok(out);
            }
        }
    }
}
