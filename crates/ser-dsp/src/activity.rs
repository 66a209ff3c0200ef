//! Speech activity from frame energy: how much of a stretch of audio is loud enough to be
//! speech.
//!
//! The frames are [`trim`](crate::trim())'s (centred, zero-padded mean squares, 128 ms
//! long every 32 ms by default, i.e. 2048 / 512 samples at 16 kHz), but the threshold is
//! in dB **relative to full scale** rather than to the loudest frame: a stretch of pure
//! room noise has no loud frame to be measured against, and on a live stream the loudest
//! frame is not known yet. A frame is active when
//!
//! ```text
//! 10 log10(max(1e-10, mean(y[frame]²))) >= threshold_db        (default -60 dBFS)
//! ```
//!
//! and a stretch holds speech when its active frames add up to at least
//! `min_speech_secs` (0.25 s). The gate only decides *whether* to listen: recognisers
//! still normalise and trim each stretch as in training. The default was chosen on the
//! 1 200 RAVDESS files here, whose loudest 50 ms range from −55 to −5 dBFS and whose quiet
//! stretches lie mostly between −97 and −80 dBFS: at −60 dBFS every file holds speech
//! (at −50, 38 quiet ones would not), and the first 0.6 s of a clip, before the actor
//! speaks, counts as speech in 27 of them. A quiet 16-bit room (−70 to −90 dBFS) is
//! silence; a noisy microphone whose floor is above −60 dBFS needs a higher
//! `threshold_db`.

use crate::error::{Error, Result, check_finite};
use crate::trim::frame_mean_squares;

/// Parameters of [`SpeechGate`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SpeechGateConfig {
    /// A frame is active when its mean square is at least this many dB relative to full
    /// scale (−60).
    pub threshold_db: f32,
    /// The least active time, in seconds, for a stretch to count as speech (0.25).
    pub min_speech_secs: f32,
    /// Frame length in seconds (0.128: 2048 samples at 16 kHz).
    pub frame_secs: f32,
    /// Hop between frames in seconds (0.032: 512 samples at 16 kHz).
    pub hop_secs: f32,
}

impl Default for SpeechGateConfig {
    fn default() -> Self {
        Self {
            threshold_db: -60.0,
            min_speech_secs: 0.25,
            frame_secs: 0.128,
            hop_secs: 0.032,
        }
    }
}

/// An energy gate that says whether a stretch of audio holds speech (see the
/// [module docs](self)).
///
/// ```
/// use ser_dsp::{SpeechGate, SpeechGateConfig};
/// let gate = SpeechGate::new(SpeechGateConfig::default())?;
/// let quiet = vec![1e-4f32; 16_000]; // -80 dBFS
/// let voice: Vec<f32> = (0..16_000).map(|n| 0.1 * (n as f32 * 0.05).sin()).collect();
/// assert!(!gate.is_speech(&quiet, 16_000)?);
/// assert!(gate.is_speech(&voice, 16_000)?);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeechGate {
    config: SpeechGateConfig,
}

impl SpeechGate {
    /// A gate with `config`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-finite threshold, a negative or non-finite
    /// minimum, or frame and hop lengths outside (0, 10] seconds.
    pub fn new(config: SpeechGateConfig) -> Result<Self> {
        let bad = |field: &'static str, value: f32, reason: &'static str| {
            Err(Error::InvalidConfig {
                field,
                value: value.to_string(),
                reason,
            })
        };
        if !config.threshold_db.is_finite() {
            return bad("threshold_db", config.threshold_db, "must be finite");
        }
        if !(config.min_speech_secs.is_finite() && config.min_speech_secs >= 0.0) {
            return bad(
                "min_speech_secs",
                config.min_speech_secs,
                "must be finite and >= 0",
            );
        }
        for (field, v) in [
            ("frame_secs", config.frame_secs),
            ("hop_secs", config.hop_secs),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 10.0) {
                return bad(field, v, "must be in (0, 10] seconds");
            }
        }
        Ok(Self { config })
    }

    /// The configuration.
    pub fn config(&self) -> &SpeechGateConfig {
        &self.config
    }

    /// Frame and hop lengths in samples at `sample_rate` (at least 1 each).
    fn frames(&self, sample_rate: u32) -> (usize, usize) {
        let n = |secs: f32| ((f64::from(secs) * f64::from(sample_rate)).round() as usize).max(1);
        (n(self.config.frame_secs), n(self.config.hop_secs))
    }

    /// The active time of `y` (sampled at `sample_rate` Hz) in seconds: the number of
    /// active frames times the hop.
    ///
    /// # Errors
    /// [`Error::ZeroSampleRate`]; [`Error::NonFinite`] for a NaN or infinite sample.
    pub fn active_secs(&self, y: &[f32], sample_rate: u32) -> Result<f64> {
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        check_finite("speech gate", y)?;
        if y.is_empty() {
            return Ok(0.0);
        }
        let (frame, hop) = self.frames(sample_rate);
        let floor = 10f64.powf(f64::from(self.config.threshold_db) / 10.0);
        let active = frame_mean_squares(y, frame, hop)
            .into_iter()
            .filter(|&m| m.max(1e-10) >= floor)
            .count();
        Ok(active as f64 * hop as f64 / f64::from(sample_rate))
    }

    /// Whether `y` holds speech: at least `min_speech_secs` of active frames (and at least
    /// one).
    ///
    /// # Errors
    /// As [`SpeechGate::active_secs`].
    pub fn is_speech(&self, y: &[f32], sample_rate: u32) -> Result<bool> {
        let secs = self.active_secs(y, sample_rate)?;
        Ok(secs > 0.0 && secs >= f64::from(self.config.min_speech_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_relative_to_full_scale() {
        let gate = SpeechGate::new(SpeechGateConfig::default()).unwrap();
        // A sine of amplitude a has mean square a²/2: -60 dBFS at a = 0.001414.
        let sine =
            |a: f32| -> Vec<f32> { (0..16_000).map(|n| a * (n as f32 * 0.3).sin()).collect() };
        assert!(gate.is_speech(&sine(0.0016), 16_000).unwrap());
        assert!(!gate.is_speech(&sine(0.0012), 16_000).unwrap());
        assert!(!gate.is_speech(&[0.0; 16_000], 16_000).unwrap());
        assert!(!gate.is_speech(&[], 16_000).unwrap());
    }

    #[test]
    fn counts_active_time_at_any_rate() {
        let gate = SpeechGate::new(SpeechGateConfig::default()).unwrap();
        for sr in [8_000u32, 16_000, 44_100] {
            let mut y = vec![0.0f32; sr as usize * 2];
            let n = sr as usize / 2; // 0.5 s of tone in the middle
            for (i, v) in y[sr as usize / 2..sr as usize / 2 + n]
                .iter_mut()
                .enumerate()
            {
                *v = 0.2 * (i as f32 * 0.1).sin();
            }
            let secs = gate.active_secs(&y, sr).unwrap();
            // Half a frame on either side of the tone is still active.
            assert!((0.5..0.7).contains(&secs), "{sr}: {secs}");
        }
        // 0.3 s of tone in a second of silence is speech; a 10 ms click is not.
        let burst = |n: usize| -> Vec<f32> {
            let mut y = vec![0.0f32; 16_000];
            for (i, v) in y[8000..8000 + n].iter_mut().enumerate() {
                *v = 0.2 * (i as f32 * 0.1).sin();
            }
            y
        };
        assert!(gate.is_speech(&burst(4800), 16_000).unwrap());
        let click = burst(160);
        assert!(!gate.is_speech(&click, 16_000).unwrap());
    }

    #[test]
    fn bad_input_and_config_are_errors() {
        let gate = SpeechGate::new(SpeechGateConfig::default()).unwrap();
        assert!(matches!(
            gate.active_secs(&[0.1, f32::NAN], 16_000),
            Err(Error::NonFinite { .. })
        ));
        assert!(matches!(
            gate.active_secs(&[0.1], 0),
            Err(Error::ZeroSampleRate)
        ));
        for cfg in [
            SpeechGateConfig {
                threshold_db: f32::NAN,
                ..Default::default()
            },
            SpeechGateConfig {
                min_speech_secs: -1.0,
                ..Default::default()
            },
            SpeechGateConfig {
                hop_secs: 0.0,
                ..Default::default()
            },
            SpeechGateConfig {
                frame_secs: 1e9,
                ..Default::default()
            },
        ] {
            assert!(SpeechGate::new(cfg).is_err(), "{cfg:?}");
        }
    }
}
