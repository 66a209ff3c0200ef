//! Audio features for speech emotion recognition: the numbers of [librosa] 0.11, computed
//! many times faster, with typed errors instead of panics.
//!
//! ```
//! use ser_dsp::{Audio, LogMel, LogMelConfig};
//!
//! // One second of a 440 Hz tone at 44.1 kHz.
//! let y: Vec<f32> = (0..44_100)
//!     .map(|n| (2.0 * std::f32::consts::PI * 440.0 * n as f32 / 44_100.0).sin())
//!     .collect();
//! let audio = Audio::new(y, 44_100)?;
//!
//! // The research pipeline: normalize, trim, resample to 16 kHz, pad to 3 s, 128-band log-mel.
//! let logmel = LogMel::new(LogMelConfig::default())?;
//! let features = logmel.extract_samples(audio.samples(), audio.sample_rate())?;
//! assert_eq!(features.dim(), (128, 94)); // (n_mels, n_frames), in dB, max 0
//! assert!(features.iter().all(|v| *v <= 0.0 && *v >= -80.0));
//! # Ok::<(), ser_dsp::Error>(())
//! ```
//!
//! # Presets: research or librosa
//!
//! [`LogMelConfig::default()`] is the research pipeline ([`LogMelConfig::research()`]):
//! peak-normalised, trimmed, 3 s at 16 kHz, dB with `ref = max`, so every map peaks at 0 dB.
//! That is *not* what `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))`
//! gives: use [`LogMelConfig::librosa(sr)`](LogMelConfig::librosa) for librosa's defaults
//! (`ref = 1.0`, no normalisation, trim or fixed length, fmax = Nyquist). On
//! `fixtures/audio/speech_16k.wav` the librosa preset peaks at +29.0 dB and averages
//! -30.7 dB; the research default peaks at 0 dB and averages -62.5 dB.
//!
//! # What is inside
//!
//! | step | function or type | librosa equivalent |
//! |---|---|---|
//! | peak normalisation | [`peak_normalize`] | `y / np.max(np.abs(y))` |
//! | pre-emphasis and its inverse | [`preemphasis()`], [`deemphasis()`] (+ `_in_place`, returning `zf`) | `librosa.effects.preemphasis`, `librosa.effects.deemphasis` |
//! | silence trimming | [`trim()`] | `librosa.effects.trim` |
//! | resampling | [`resample()`], [`resample_cached`], [`Resampler`], [`StreamingResampler`] | `librosa.resample` (soxr) — rubato here |
//! | fixed length | [`pad_or_truncate`] | symmetric `np.pad` / `y[:n]` |
//! | STFT, ISTFT | [`Stft`] | `librosa.stft`, `librosa.istft` |
//! | mel filterbank | [`MelFilterbank`] | `librosa.filters.mel` |
//! | mel spectrogram | [`MelSpectrogram`] | `librosa.feature.melspectrogram` |
//! | streaming STFT and mel spectrogram (push chunks, get frames; bit-identical to offline) | [`StreamingStft`], [`StreamingMelSpectrogram`] | — |
//! | decibels | [`power_to_db()`], [`amplitude_to_db`] | `librosa.power_to_db`, `amplitude_to_db` |
//! | MFCC | [`Mfcc`] | `librosa.feature.mfcc` |
//! | delta, delta-delta | [`delta()`] | `librosa.feature.delta` |
//! | RMS level, zero-crossing rate | [`rms`], [`zero_crossing_rate`] | `librosa.feature.rms`, `zero_crossing_rate` |
//! | spectral descriptors | [`spectral_centroid`], [`spectral_bandwidth`], [`spectral_rolloff`], [`spectral_flatness`], [`spectral_contrast`] | `librosa.feature.spectral_*` |
//! | chromagram | [`chroma_stft`], [`chroma_filterbank`] (`tuning` given, or `None`: estimated) | `librosa.feature.chroma_stft`, `librosa.filters.chroma` |
//! | pitch peaks, tuning estimate | [`piptrack`], [`estimate_tuning`], [`pitch_tuning`] | `librosa.piptrack`, `librosa.estimate_tuning`, `librosa.pitch_tuning` |
//! | `f64` in and out | `Stft<f64>`, `MelFilterbank<f64>`, `MelSpectrogram<f64>` ([`Stft::plan`], [`MelFilterbank::build`], [`MelSpectrogram::plan`]), [`power_to_db()`] on `f64` ([`Sample`]) | librosa on float64 input (`dtype=np.float64`) |
//! | f0 (YIN pitch) | [`yin`] ([`YinConfig`]) | `librosa.yin` |
//! | f0, voicing and its probability (probabilistic YIN) | [`pyin`] ([`PyinConfig`], [`Pyin`]) | `librosa.pyin` |
//! | research log-mel | [`LogMel`] with [`LogMelConfig::research`] (the default) | the pipeline above, in one call |
//! | librosa's log-mel | [`LogMel`] with [`LogMelConfig::librosa`] | `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))` |
//! | per-utterance CMVN (per band, over frames) | [`cmvn()`], [`cmvn_in_place`] ([`CmvnConfig`]: mean-only option, `eps` floor) | numpy: `(x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)` |
//! | Kaldi filterbank features (Povey window, VTLN warp, energy column; `(frames, bins)`) | [`kaldi_fbank`], [`KaldiFbank`] ([`KaldiFbankConfig`]) | `torchaudio.compliance.kaldi.fbank` (not librosa) |
//! | many files | [`extract_batch`] | — |
//!
//! Parity with librosa is checked by tests against golden files that librosa wrote
//! (`fixtures/golden/ser-dsp`, made by `fixtures/scripts/make_golden.py`).
//!
//! Arrays are [`ndarray`] (re-exported) `Array2<f32>` with librosa's axis order:
//! `(frequency, time)`.
//!
//! # Cargo features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rayon` | yes | [`extract_batch`] runs on all cores |
//! | `serde` | yes | every config derives `Serialize`/`Deserialize` |
//!
//! [librosa]: https://librosa.org
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod activity;
pub mod audio;
pub mod batch;
pub mod chroma;
pub mod cmvn;
pub mod db;
pub mod delta;
pub mod emphasis;
pub mod error;
pub mod kaldi;
mod kernels;
pub mod logmel;
pub mod mel;
pub mod mfcc;
pub mod normalize;
pub mod pad;
pub mod pitch;
pub mod resample;
pub mod sample;
pub mod spectral;
pub mod stft;
pub mod trim;
pub mod tuning;
pub mod window;

pub use activity::{SpeechGate, SpeechGateConfig};
pub use audio::Audio;
pub use batch::{BatchError, extract_batch};
pub use chroma::{ChromaConfig, ChromaNorm, chroma_filterbank, chroma_stft};
pub use cmvn::{CmvnConfig, cmvn, cmvn_in_place};
pub use db::{DbConfig, Ref, amplitude_to_db, power_to_db, power_to_db_in_place};
pub use delta::{DeltaConfig, delta};
pub use emphasis::{
    PREEMPHASIS_COEF, deemphasis, deemphasis_in_place, preemphasis, preemphasis_in_place,
};
pub use error::{Error, Result};
pub use kaldi::{
    KaldiFbank, KaldiFbankConfig, KaldiWindow, kaldi_fbank, kaldi_inverse_mel_scale,
    kaldi_mel_scale, vtln_warp_freq,
};
pub use logmel::{LogMel, LogMelConfig, MAX_DURATION_SECS, SilencePolicy};
pub use mel::{
    MelConfig, MelFilterbank, MelNorm, MelScale, MelSpectrogram, MelSpectrogramConfig,
    StreamingMelSpectrogram, fft_frequencies, hz_to_mel, mel_frequencies, mel_to_hz,
};
pub use mfcc::{Mfcc, MfccConfig};
pub use ndarray;
pub use normalize::peak_normalize;
pub use pad::{Crop, pad_or_truncate, pad_or_truncate_in_place};
pub use pitch::{FillNa, Pyin, PyinConfig, YinConfig, pyin, yin};
pub use realfft::num_complex;
pub use resample::{
    MAX_FFT_BLOCK, Resampler, SAMPLE_RATES, StreamingResampler, check_sample_rate, resample,
    resample_cached,
};
pub use sample::Sample;
pub use spectral::{
    BandwidthConfig, ContrastConfig, ContrastScale, FlatnessConfig, FrameConfig, rms,
    spectral_bandwidth, spectral_centroid, spectral_contrast, spectral_flatness, spectral_rolloff,
    zero_crossing_rate,
};
pub use stft::{IstftScratch, PadMode, Precision, Stft, StftConfig, StftScratch, StreamingStft};
pub use trim::{TrimConfig, trim, trim_slice};
pub use tuning::{PiptrackConfig, TuningConfig, estimate_tuning, piptrack, pitch_tuning};
pub use window::Window;

/// Turns a waveform into features. Implemented by [`LogMel`]; implement it for your own
/// extractor to use [`extract_batch`] and the rest of `ser` with it.
///
/// Extractors are planned once (FFT plans, filterbanks) and shared across threads, hence
/// `Send + Sync`.
pub trait FeatureExtractor: Send + Sync {
    /// The features of one input (for [`LogMel`]: `Array2<f32>`, `(n_mels, n_frames)`).
    type Output: Send;

    /// Computes the features of `audio`.
    ///
    /// # Errors
    /// Whatever the extractor rejects in the data (empty, non-finite, silent, too short).
    fn extract(&self, audio: &Audio) -> Result<Self::Output>;
}

impl<T: FeatureExtractor + ?Sized> FeatureExtractor for &T {
    type Output = T::Output;
    fn extract(&self, audio: &Audio) -> Result<Self::Output> {
        (**self).extract(audio)
    }
}

impl<T: FeatureExtractor + ?Sized> FeatureExtractor for Box<T> {
    type Output = T::Output;
    fn extract(&self, audio: &Audio) -> Result<Self::Output> {
        (**self).extract(audio)
    }
}

impl<T: FeatureExtractor + ?Sized> FeatureExtractor for std::sync::Arc<T> {
    type Output = T::Output;
    fn extract(&self, audio: &Audio) -> Result<Self::Output> {
        (**self).extract(audio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send_sync<T: Send + Sync>() {}

    #[test]
    fn planned_objects_are_send_sync_and_boxable() {
        is_send_sync::<LogMel>();
        is_send_sync::<Stft>();
        is_send_sync::<MelSpectrogram>();
        is_send_sync::<Mfcc>();
        is_send_sync::<Resampler>();
        is_send_sync::<StreamingResampler>();
        is_send_sync::<Error>();
        let boxed: Box<dyn FeatureExtractor<Output = ndarray::Array2<f32>>> =
            Box::new(LogMel::new(LogMelConfig::default()).unwrap());
        let y: Vec<f32> = (0..20_000).map(|n| (n as f32 * 0.02).sin()).collect();
        let audio = Audio::new(y, 16_000).unwrap();
        assert_eq!(boxed.extract(&audio).unwrap().dim(), (128, 94));
    }

    #[test]
    fn batch_keeps_input_order_and_isolates_errors() {
        let logmel = LogMel::new(LogMelConfig::default()).unwrap();
        let lens = [16_000usize, 0, 8000, 24_000, 0, 4000];
        let results = extract_batch(&logmel, &lens, |&n| {
            let y: Vec<f32> = (0..n).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
            Audio::new(y, 16_000)
        });
        assert_eq!(results.len(), lens.len());
        for (i, (r, n)) in results.iter().zip(lens).enumerate() {
            match r {
                Ok(f) => {
                    assert!(n > 0);
                    let alone = logmel.extract_samples(
                        &(0..n)
                            .map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5)
                            .collect::<Vec<_>>(),
                        16_000,
                    );
                    assert_eq!(f, &alone.unwrap());
                }
                Err(e) => {
                    assert_eq!(n, 0);
                    assert_eq!(e.index(), i);
                }
            }
        }
    }

    #[test]
    fn absurd_configs_are_errors_not_allocations() {
        assert!(Stft::new(StftConfig::new(1 << 40)).is_err());
        let cfg = LogMelConfig {
            duration_secs: Some(1e12),
            ..LogMelConfig::default()
        };
        assert!(LogMel::new(cfg).is_err());
        let mel = MelConfig {
            n_mels: 1 << 30,
            ..MelConfig::default()
        };
        assert!(MelFilterbank::new(&mel, 2048).is_err());
        assert!(MelFilterbank::new(&MelConfig::default(), 1 << 40).is_err());
    }
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
