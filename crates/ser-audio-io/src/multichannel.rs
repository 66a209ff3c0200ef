//! [`MultiChannelAudio`]: interleaved `f32` frames with their channel count and sample rate.

use ser_dsp::Audio;

use crate::error::{Error, Result};

/// Audio with its channels kept: interleaved `f32` samples, a channel count (at least 1) and
/// a sample rate in Hz (never 0).
///
/// A *frame* is one instant across all channels, so `samples().len() == frames() * channels()`
/// and sample `c` of frame `i` sits at index `i * channels() + c`.
///
/// ```
/// use ser_audio_io::MultiChannelAudio;
/// // Two frames of stereo: (L, R) = (0.5, -0.5), then (1.0, 0.0).
/// let stereo = MultiChannelAudio::new(vec![0.5, -0.5, 1.0, 0.0], 2, 16_000)?;
/// assert_eq!(stereo.frames(), 2);
/// assert_eq!(stereo.frame(1), Some(&[1.0, 0.0][..]));
/// assert_eq!(stereo.to_mono().samples(), &[0.0, 0.5]);
/// # Ok::<(), ser_audio_io::Error>(())
/// ```
///
/// `Debug` prints the layout, not the samples (this type travels inside errors).
#[derive(Clone, PartialEq)]
pub struct MultiChannelAudio {
    /// The interleaved samples with the (validated, non-zero) rate.
    interleaved: Audio,
    /// At least 1.
    channels: usize,
}

impl MultiChannelAudio {
    /// Wraps interleaved `samples` of `channels` channels taken at `sample_rate` Hz.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] if `channels` is 0, `sample_rate` is 0, or `samples.len()` is
    /// not a multiple of `channels`.
    pub fn new(samples: Vec<f32>, channels: usize, sample_rate: u32) -> Result<Self> {
        let n_samples = samples.len();
        let invalid = |reason| Error::InvalidLayout {
            n_samples,
            channels,
            sample_rate,
            reason,
        };
        if channels == 0 {
            return Err(invalid("the channel count must be at least 1"));
        }
        if !n_samples.is_multiple_of(channels) {
            return Err(invalid(
                "the sample count must be a multiple of the channel count",
            ));
        }
        let Ok(interleaved) = Audio::new(samples, sample_rate) else {
            return Err(invalid("the sample rate must be positive"));
        };
        Ok(Self {
            interleaved,
            channels,
        })
    }

    /// Wraps mono audio as one channel (no copy).
    pub fn from_mono(audio: Audio) -> Self {
        Self {
            interleaved: audio,
            channels: 1,
        }
    }

    /// The interleaved samples.
    pub fn samples(&self) -> &[f32] {
        self.interleaved.samples()
    }

    /// Takes the interleaved samples out.
    pub fn into_samples(self) -> Vec<f32> {
        self.interleaved.into_samples()
    }

    /// The number of channels (at least 1).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The sample rate in Hz (never 0).
    pub fn sample_rate(&self) -> u32 {
        self.interleaved.sample_rate()
    }

    /// The number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.interleaved.len() / self.channels
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.interleaved.is_empty()
    }

    /// The duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate())
    }

    /// The samples of frame `index` (one per channel), or `None` past the end.
    pub fn frame(&self, index: usize) -> Option<&[f32]> {
        let start = index.checked_mul(self.channels)?;
        self.samples().get(start..start.checked_add(self.channels)?)
    }

    /// Iterates over the frames, each a slice of `channels()` samples.
    pub fn iter_frames(&self) -> std::slice::ChunksExact<'_, f32> {
        self.samples().chunks_exact(self.channels)
    }

    /// Channel `index` alone, as mono audio, or `None` if there is no such channel.
    pub fn channel(&self, index: usize) -> Option<Audio> {
        if index >= self.channels {
            return None;
        }
        let samples = self
            .iter_frames()
            .filter_map(|frame| frame.get(index).copied())
            .collect();
        Some(self.interleaved.clone().with_samples(samples))
    }

    /// The mono downmix: the mean of the channels of each frame.
    ///
    /// This is `librosa.to_mono` (`np.mean(y, axis=0)` in `float32`): the channels are summed in
    /// order in `f32`, then divided by the channel count, so the result equals librosa's bit for
    /// bit. One channel is returned as is.
    pub fn to_mono(&self) -> Audio {
        let mut mono = Vec::with_capacity(self.frames());
        downmix_into(self.samples(), self.channels, &mut mono);
        self.interleaved.clone().with_samples(mono)
    }

    /// Like [`to_mono`](Self::to_mono), without copying when there is one channel.
    pub fn into_mono(self) -> Audio {
        if self.channels == 1 {
            return self.interleaved;
        }
        let mut mono = Vec::with_capacity(self.frames());
        downmix_into(self.samples(), self.channels, &mut mono);
        self.interleaved.with_samples(mono)
    }
}

impl std::fmt::Debug for MultiChannelAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiChannelAudio")
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate())
            .field("frames", &self.frames())
            .finish_non_exhaustive()
    }
}

impl From<Audio> for MultiChannelAudio {
    fn from(audio: Audio) -> Self {
        Self::from_mono(audio)
    }
}

/// Appends the per-frame mean of `interleaved` (`channels` samples per frame) to `out`.
///
/// Sums in channel order in `f32`, starting from the first channel (so `-0.0` stays `-0.0`,
/// as in numpy), then divides by the channel count: `librosa.to_mono` exactly. A trailing
/// partial frame is ignored; `channels == 0` appends nothing.
pub(crate) fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    match channels {
        0 => {}
        1 => out.extend_from_slice(interleaved),
        _ => {
            // Exact for any realistic count (< 2^24 channels).
            let count = channels as f32;
            out.extend(
                interleaved
                    .chunks_exact(channels)
                    .map(|frame| match frame.split_first() {
                        Some((first, rest)) => rest.iter().fold(*first, |acc, &x| acc + x) / count,
                        None => 0.0,
                    }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_bad_layout_is_rejected() {
        assert!(matches!(
            MultiChannelAudio::new(vec![0.0; 3], 2, 16_000),
            Err(Error::InvalidLayout {
                n_samples: 3,
                channels: 2,
                ..
            })
        ));
        assert!(matches!(
            MultiChannelAudio::new(vec![0.0; 4], 0, 16_000),
            Err(Error::InvalidLayout { channels: 0, .. })
        ));
        assert!(matches!(
            MultiChannelAudio::new(vec![0.0; 4], 2, 0),
            Err(Error::InvalidLayout { sample_rate: 0, .. })
        ));
    }

    #[test]
    fn accessors_stereo_are_consistent() {
        let a = MultiChannelAudio::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 8).unwrap();
        assert_eq!(a.frames(), 3);
        assert_eq!(a.channels(), 2);
        assert_eq!(a.sample_rate(), 8);
        assert_eq!(a.duration_secs(), 3.0 / 8.0);
        assert_eq!(a.frame(2), Some(&[5.0, 6.0][..]));
        assert_eq!(a.frame(3), None);
        assert_eq!(a.frame(usize::MAX), None);
        assert_eq!(a.channel(1).unwrap().samples(), &[2.0, 4.0, 6.0]);
        assert!(a.channel(2).is_none());
        assert_eq!(a.iter_frames().count(), 3);
        assert_eq!(a.to_mono().samples(), &[1.5, 3.5, 5.5]);
        assert_eq!(a.clone().into_mono(), a.to_mono());
        assert!(!a.is_empty());
    }

    #[test]
    fn downmix_three_channels_divides_not_multiplies() {
        // (a + b + c) / 3 in f32, not (a + b + c) * (1/3).
        let frame = [0.1f32, 0.2, 0.7];
        let mut out = Vec::new();
        downmix_into(&frame, 3, &mut out);
        assert_eq!(out, vec![(0.1f32 + 0.2 + 0.7) / 3.0]);
    }

    #[test]
    fn downmix_negative_zero_is_kept() {
        let mut out = Vec::new();
        downmix_into(&[-0.0, -0.0], 2, &mut out);
        assert!(out[0] == 0.0 && out[0].is_sign_negative());
    }

    #[test]
    fn debug_shows_the_layout_not_the_samples() {
        let a = MultiChannelAudio::new(vec![0.0; 20_000], 2, 8_000).unwrap();
        assert_eq!(
            format!("{a:?}"),
            "MultiChannelAudio { channels: 2, sample_rate: 8000, frames: 10000, .. }"
        );
    }

    #[test]
    fn from_mono_round_trips() {
        let mono = Audio::new(vec![0.25, -0.5], 22_050).unwrap();
        let multi = MultiChannelAudio::from(mono.clone());
        assert_eq!(multi.channels(), 1);
        assert_eq!(multi.to_mono(), mono);
        assert_eq!(multi.into_mono(), mono);
    }
}
