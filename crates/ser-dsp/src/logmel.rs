//! [`LogMel`]: the research pipeline's feature extractor in one call.
//!
//! ```text
//! y / max|y|  →  trim (top_db 20)  →  resample to 16 kHz  →  pad or crop to 3 s
//!   →  128-band mel power spectrogram (n_fft 2048, hop 512, fmax 8000)
//!   →  dB (ref = max, top_db 80)  →  Array2 (128, 94)
//! ```
//!
//! Each step is the public function of its module ([`peak_normalize`], [`trim`](crate::trim()),
//! [`Resampler`](crate::Resampler), [`pad_or_truncate`](crate::pad_or_truncate),
//! [`MelSpectrogram`], [`power_to_db`](crate::power_to_db())); `LogMel` plans them once and
//! runs them with as few copies as possible. The resampler comes from [`resample_cached`]'s
//! per-thread cache, so a loop over many clips at one input rate plans it once per thread
//! (with the same output as a fresh plan).

use ndarray::Array2;

use crate::FeatureExtractor;
use crate::audio::Audio;
use crate::db::{DbConfig, Ref, power_to_db_array_in_place};
use crate::error::{Error, Result, check_finite, check_non_empty, invalid};
use crate::mel::{MelConfig, MelNorm, MelScale, MelSpectrogram, MelSpectrogramConfig};
use crate::normalize::peak_normalize;
use crate::pad::{Crop, pad_or_truncate_in_place};
use crate::resample::resample_cached;
use crate::stft::{PadMode, Precision, StftConfig};
use crate::trim::{TrimConfig, trim};
use crate::window::Window;

/// What [`LogMel`] does with an input that is all zeros (after normalisation there is nothing
/// to hear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SilencePolicy {
    /// Return [`Error::Silent`]: a silent file in a corpus is almost always a broken one.
    #[default]
    Reject,
    /// Compute the features as librosa would (a constant 0 dB map with `ref = max`).
    Keep,
}

/// The longest fixed duration a [`LogMelConfig`] may ask for, in seconds (10 minutes):
/// padding to it allocates that much whatever the input's length.
pub const MAX_DURATION_SECS: f32 = 600.0;

/// Parameters of [`LogMel`]; the defaults are the research pipeline's
/// ([`LogMelConfig::research`]), not librosa's ([`LogMelConfig::librosa`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct LogMelConfig {
    /// Target sample rate in Hz (16000); inputs at other rates are resampled.
    pub sample_rate: u32,
    /// FFT length (2048).
    pub n_fft: usize,
    /// Hop length in samples (512).
    pub hop_length: usize,
    /// Number of mel bands (128).
    pub n_mels: usize,
    /// Lowest mel frequency in Hz (0).
    pub fmin: f32,
    /// Highest mel frequency in Hz (8000; `None`: Nyquist).
    pub fmax: Option<f32>,
    /// Exponent of the magnitude (2: power).
    pub power: f32,
    /// Dynamic range kept below the peak in dB (80; `None` keeps all).
    pub top_db: Option<f32>,
    /// Silence-trim threshold in dB (20; `None` disables trimming).
    pub trim_db: Option<f32>,
    /// Fixed duration in seconds (3; `None` keeps the full length); at most
    /// [`MAX_DURATION_SECS`].
    pub duration_secs: Option<f32>,
    /// Which part of a too-long input is kept (the start, as the research).
    pub crop: Crop,
    /// Divide by the peak first (true).
    pub normalize: bool,
    /// What to do with an all-zero input.
    pub silence: SilencePolicy,
    /// The power that maps to 0 dB: [`Ref::Max`] (the research's `ref=np.max`, the default)
    /// or a fixed value ([`LogMelConfig::librosa`] uses librosa's `ref=1.0`). Absent from a
    /// serialized config, it reads as [`Ref::Max`], and [`Ref::Max`] is not written, so a
    /// research config's JSON is the same as before this field existed.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_ref_max"))]
    pub reference: Ref,
}

#[cfg(feature = "serde")]
fn is_ref_max(reference: &Ref) -> bool {
    *reference == Ref::Max
}

impl Default for LogMelConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            fmin: 0.0,
            fmax: Some(8000.0),
            power: 2.0,
            top_db: Some(80.0),
            trim_db: Some(20.0),
            duration_secs: Some(3.0),
            crop: Crop::Start,
            normalize: true,
            silence: SilencePolicy::Reject,
            reference: Ref::Max,
        }
    }
}

impl LogMelConfig {
    /// The research pipeline, the same as [`LogMelConfig::default`]: divide by the peak,
    /// trim at 20 dB, resample to 16 kHz, pad or crop to 3 s, 128 mel bands up to 8 kHz
    /// (n_fft 2048, hop 512), dB with `ref = max` and `top_db = 80`, so every map peaks at
    /// 0 dB. Output `(128, 94)`.
    ///
    /// Its numbers are *not* librosa's defaults (see [`LogMelConfig::librosa`]): `ref = max`
    /// shifts every value by `-10 log10(max S)`. On `fixtures/audio/speech_16k.wav` the
    /// librosa preset peaks at +29.0 dB and averages -30.7 dB, this one peaks at 0 dB and
    /// averages -62.5 dB (its padding to 3 s sits at the -80 dB floor).
    pub fn research() -> Self {
        Self::default()
    }

    /// librosa's own defaults at `sample_rate` Hz:
    /// `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sample_rate))`, that is
    /// no normalisation, no trimming, no fixed duration (the output is as long as the
    /// input), n_fft 2048, hop 512, 128 mel bands from 0 Hz to the Nyquist frequency,
    /// power 2, dB with `ref = 1.0`, `amin = 1e-10`, `top_db = 80`. All-zero input is
    /// kept ([`SilencePolicy::Keep`]: a constant -100 dB map, as librosa). An input at
    /// another rate is resampled to `sample_rate` first.
    ///
    /// [`LogMel::new`] refuses rates at which some of the 128 bands would be empty (above
    /// about 168 kHz with n_fft 2048, where the lowest bands fall between FFT bins), where
    /// librosa only warns.
    ///
    /// ```
    /// use ser_dsp::{LogMel, LogMelConfig};
    /// let logmel = LogMel::new(LogMelConfig::librosa(22_050))?;
    /// let y: Vec<f32> = (0..22_050).map(|n| (n as f32 * 0.1).sin() * 0.5).collect();
    /// let db = logmel.extract_samples(&y, 22_050)?;
    /// assert_eq!(db.dim(), (128, 44)); // 1 + 22050 / 512 frames
    /// # Ok::<(), ser_dsp::Error>(())
    /// ```
    pub fn librosa(sample_rate: u32) -> Self {
        Self {
            sample_rate,
            n_fft: 2048,
            hop_length: 512,
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            power: 2.0,
            top_db: Some(80.0),
            trim_db: None,
            duration_secs: None,
            crop: Crop::Start,
            normalize: false,
            silence: SilencePolicy::Keep,
            reference: Ref::Value(1.0),
        }
    }

    /// The fixed output length in samples, if a duration is set.
    pub fn n_samples(&self) -> Option<usize> {
        self.duration_secs
            .map(|d| (f64::from(d) * f64::from(self.sample_rate)).round() as usize)
    }

    /// The number of (centred) frames of the spectrogram of `n_samples` samples at the
    /// target rate: `1 + n_samples / hop_length` for an even `n_fft`, 0 for no samples (or
    /// a zero hop, which [`LogMel::new`] rejects). With [`LogMelConfig::n_samples`] this is
    /// the fixed output shape a model is built for (94 frames for the defaults).
    pub fn n_frames(&self, n_samples: usize) -> usize {
        let padded = n_samples.saturating_add(2 * (self.n_fft / 2));
        if n_samples == 0 || self.hop_length == 0 || padded < self.n_fft {
            0
        } else {
            1 + (padded - self.n_fft) / self.hop_length
        }
    }

    /// The mel spectrogram part: the one place that maps this flat preset onto the nested
    /// [`MelSpectrogramConfig`] (a centred Hann STFT with zero padding in `f32`, Slaney mel
    /// bands; the fields not here keep those fixed values).
    pub fn mel(&self) -> MelSpectrogramConfig {
        MelSpectrogramConfig {
            stft: StftConfig {
                n_fft: self.n_fft,
                hop_length: Some(self.hop_length),
                win_length: None,
                window: Window::Hann,
                center: true,
                pad_mode: PadMode::Constant,
                precision: Precision::F32,
            },
            mel: MelConfig {
                sample_rate: self.sample_rate,
                n_mels: self.n_mels,
                fmin: self.fmin,
                fmax: self.fmax,
                scale: MelScale::Slaney,
                norm: MelNorm::Slaney,
            },
            power: self.power,
        }
    }

    /// The dB part.
    pub fn db(&self) -> DbConfig {
        DbConfig {
            reference: self.reference,
            amin: 1e-10,
            top_db: self.top_db,
        }
    }
}

/// The log-mel extractor (the research preset by default, or [`LogMelConfig::librosa`]),
/// planned once and shared across threads.
///
/// ```
/// use ser_dsp::{Audio, LogMel, LogMelConfig};
/// let logmel = LogMel::new(LogMelConfig::default())?;
/// let y: Vec<f32> = (0..44_100).map(|n| (n as f32 * 0.06).sin() * 0.3).collect();
/// let features = logmel.extract(&Audio::new(y, 44_100)?)?;
/// assert_eq!(features.dim(), (128, 94)); // (n_mels, n_frames)
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogMel {
    config: LogMelConfig,
    mel: MelSpectrogram,
}

impl LogMel {
    /// Plans the pipeline.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any bad field (bad mel or dB settings, negative or
    /// non-finite durations and thresholds); [`Error::EmptyMelBands`] when some mel band
    /// would cover no FFT bin (`fmax` above Nyquist, `n_fft` too small for `n_mels`; where
    /// librosa warns); [`Error::ZeroSampleRate`] or
    /// [`Error::SampleRateOutOfRange`] for a target rate outside
    /// [`SAMPLE_RATES`](crate::SAMPLE_RATES).
    pub fn new(config: LogMelConfig) -> Result<Self> {
        crate::resample::check_sample_rate(config.sample_rate)?;
        if let Some(d) = config.duration_secs {
            // Padding allocates the whole duration whatever the input's length: a fixed
            // duration is for model inputs, and `None` keeps a long input whole.
            if !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_SECS) {
                return Err(invalid(
                    "duration_secs",
                    d,
                    "must be in (0, 600] seconds (None keeps the full length)",
                ));
            }
        }
        if let Some(t) = config.trim_db {
            if !(t.is_finite() && t > 0.0) {
                return Err(invalid(
                    "trim_db",
                    t,
                    "must be finite and > 0 (None disables trimming)",
                ));
            }
        }
        config.db().validate()?;
        let mel = MelSpectrogram::new(config.mel())?;
        // A model input with bands that are zero whatever the audio is a mistake in the
        // settings (fmax above Nyquist, n_fft too small), not a choice: refuse it.
        let empty = mel.filterbank().empty_bands();
        if let Some(&first) = empty.first() {
            return Err(Error::EmptyMelBands {
                empty: empty.len(),
                n_mels: config.n_mels,
                first,
                n_fft: config.n_fft,
                sample_rate: config.sample_rate,
                fmax: config.fmax.unwrap_or(config.sample_rate as f32 / 2.0),
            });
        }
        Ok(Self { config, mel })
    }

    /// The configuration.
    pub fn config(&self) -> &LogMelConfig {
        &self.config
    }

    /// The number of frames of the output for a fixed duration (94 for the defaults), or
    /// `None` when the duration is not fixed.
    pub fn n_frames(&self) -> Option<usize> {
        self.config.n_samples().map(|n| self.mel.n_frames(n))
    }

    /// Runs the waveform part (normalise, trim, resample, pad/crop) and returns the samples
    /// at the target rate that the spectrogram is computed from.
    ///
    /// # Errors
    /// As [`LogMel::extract_samples`].
    pub fn prepare(&self, y: &[f32], sample_rate: u32) -> Result<Vec<f32>> {
        check_non_empty("log-mel", y)?;
        self.prepare_owned(y.to_vec(), sample_rate)
    }

    /// [`LogMel::prepare`] on a buffer it may change and reuse: normalisation and trimming
    /// happen in place, and at the target rate no copy is made, so a long input needs no
    /// memory beyond itself, the resampled signal (if the rate differs; the input is freed
    /// right after) and the output.
    ///
    /// # Errors
    /// As [`LogMel::extract_samples`].
    pub fn prepare_owned(&self, mut y: Vec<f32>, sample_rate: u32) -> Result<Vec<f32>> {
        if sample_rate == 0 {
            return Err(Error::ZeroSampleRate);
        }
        check_non_empty("log-mel", &y)?;
        check_finite("log-mel", &y)?;
        let cfg = &self.config;
        if cfg.silence == SilencePolicy::Reject && y.iter().all(|v| *v == 0.0) {
            return Err(Error::Silent {
                what: "log-mel",
                n_samples: y.len(),
            });
        }
        if cfg.normalize {
            peak_normalize(&mut y)?;
        }
        let kept = match cfg.trim_db {
            Some(top_db) => trim(&y, &TrimConfig::with_top_db(top_db))?,
            None => 0..y.len(),
        };
        let mut y = if sample_rate == cfg.sample_rate {
            y.truncate(kept.end);
            y.drain(..kept.start);
            y
        } else {
            resample_cached(&y[kept], sample_rate, cfg.sample_rate)?
        };
        if let Some(n) = cfg.n_samples() {
            pad_or_truncate_in_place(&mut y, n, cfg.crop);
        }
        Ok(y)
    }

    /// The log-mel of an owned clip, without copying it first (see
    /// [`LogMel::prepare_owned`]).
    ///
    /// # Errors
    /// As [`LogMel::extract_samples`].
    pub fn extract_owned(&self, audio: Audio) -> Result<Array2<f32>> {
        let sample_rate = audio.sample_rate();
        let y = self.prepare_owned(audio.into_samples(), sample_rate)?;
        self.spectrogram(&y)
    }

    fn spectrogram(&self, y: &[f32]) -> Result<Array2<f32>> {
        let mut mel = self.mel.compute(y)?;
        power_to_db_array_in_place(&mut mel, &self.config.db())?;
        Ok(mel)
    }

    /// The log-mel of `y` sampled at `sample_rate` Hz, shape `(n_mels, n_frames)`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::NonFinite`], [`Error::Silent`] (unless
    /// [`SilencePolicy::Keep`]), [`Error::TooShort`] when no frame fits, or a resampling error.
    pub fn extract_samples(&self, y: &[f32], sample_rate: u32) -> Result<Array2<f32>> {
        let y = self.prepare(y, sample_rate)?;
        self.spectrogram(&y)
    }
}

impl LogMel {
    /// The log-mel of `audio` (see [`LogMel::extract_samples`]).
    ///
    /// # Errors
    /// As [`LogMel::extract_samples`].
    pub fn extract(&self, audio: &Audio) -> Result<Array2<f32>> {
        self.extract_samples(audio.samples(), audio.sample_rate())
    }
}

impl FeatureExtractor for LogMel {
    type Output = Array2<f32>;

    fn extract(&self, audio: &Audio) -> Result<Array2<f32>> {
        LogMel::extract(self, audio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(a: &Array2<f32>) -> Vec<u32> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    /// The cached resampler gives the bits a fresh one gives, whatever it resampled before.
    #[test]
    fn cached_resampler_is_bit_identical_to_a_fresh_one() {
        use crate::normalize::peak_normalize;
        use crate::pad::pad_or_truncate_in_place;
        use crate::resample::Resampler;

        let logmel = LogMel::new(LogMelConfig::default()).unwrap();
        let clip = |seed: u32, len: usize| -> Vec<f32> {
            (0..len)
                .map(|n| {
                    let t = n as f32 / 44_100.0;
                    let f = 180.0 + 20.0 * seed as f32;
                    (t * f * std::f32::consts::TAU).sin() * 0.4
                        + ((n as u32).wrapping_mul(2_654_435_761 ^ seed) >> 20) as f32 / 8192.0
                        - 0.25
                })
                .collect()
        };
        let a = clip(1, 150_000);
        let b = clip(2, 61_000);
        // The pipeline by hand, with a resampler planned for this call only.
        let fresh = {
            let mut y = a.clone();
            peak_normalize(&mut y).unwrap();
            let kept = trim(&y, &TrimConfig::with_top_db(20.0)).unwrap();
            let mut y = Resampler::new(44_100, 16_000)
                .unwrap()
                .process(&y[kept])
                .unwrap();
            pad_or_truncate_in_place(&mut y, 48_000, Crop::Start);
            logmel.spectrogram(&y).unwrap()
        };
        let first = logmel.extract_samples(&a, 44_100).unwrap();
        let other = logmel.extract_samples(&b, 44_100).unwrap();
        let again = logmel.extract_samples(&a, 44_100).unwrap();
        assert_eq!(bits(&first), bits(&fresh));
        assert_eq!(bits(&again), bits(&fresh));
        assert_ne!(bits(&other), bits(&fresh));
        // Another thread has its own cache, and the same bits.
        let a2 = a.clone();
        let threaded = std::thread::spawn(move || {
            LogMel::new(LogMelConfig::default())
                .unwrap()
                .extract_samples(&a2, 44_100)
                .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(bits(&threaded), bits(&fresh));
    }

    /// The flat preset's fields land where they belong, and the fixed ones keep the values
    /// the research uses.
    #[test]
    fn preset_maps_onto_the_nested_config() {
        let flat = LogMelConfig {
            sample_rate: 22_050,
            n_fft: 1024,
            hop_length: 256,
            n_mels: 64,
            fmin: 50.0,
            fmax: Some(7000.0),
            power: 1.0,
            ..LogMelConfig::default()
        };
        let nested = flat.mel();
        assert_eq!(
            nested.stft,
            StftConfig::new(1024)
                .with_hop_length(256)
                .with_precision(Precision::F32)
        );
        assert_eq!(
            nested.mel,
            MelConfig {
                sample_rate: 22_050,
                n_mels: 64,
                fmin: 50.0,
                fmax: Some(7000.0),
                ..MelConfig::default()
            }
        );
        assert_eq!(nested.power, 1.0);
        // The defaults differ from the mel spectrogram's only in the hop and fmax.
        let mut expected = MelSpectrogramConfig::default();
        expected.stft.hop_length = Some(512);
        expected.mel.fmax = Some(8000.0);
        assert_eq!(LogMelConfig::default().mel(), expected);
    }

    #[test]
    fn config_frame_count_is_the_extractors() {
        for (hop, secs, n_fft) in [
            (512, 3.0, 2048),
            (375, 3.0, 2048),
            (160, 1.0, 400),
            (256, 0.5, 1024),
        ] {
            let config = LogMelConfig {
                hop_length: hop,
                duration_secs: Some(secs),
                n_fft,
                ..LogMelConfig::default()
            };
            let logmel = LogMel::new(config).unwrap();
            let n = config.n_samples().unwrap();
            assert_eq!(Some(config.n_frames(n)), logmel.n_frames(), "{config:?}");
            let y: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05).sin()).collect();
            assert_eq!(
                logmel.extract_samples(&y, 16_000).unwrap().dim().1,
                config.n_frames(n)
            );
        }
        assert_eq!(LogMelConfig::default().n_frames(0), 0);
    }
}
