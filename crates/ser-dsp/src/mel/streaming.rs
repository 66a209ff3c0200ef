//! The push-style streaming mel spectrogram: [`StreamingMelSpectrogram`].

use ndarray::Array2;

use super::{MelSpectrogram, MelSpectrogramConfig};
use crate::error::Result;
use crate::stft::{StreamingStft, spectrum_power};

/// A push-style streaming mel spectrogram whose columns are bit-identical to
/// [`MelSpectrogram::compute`]'s on the whole stream.
///
/// It runs a [`StreamingStft`] (see there when frames are emitted, how the edges are padded
/// and how much memory is kept) and projects each frame as [`MelSpectrogram`] does, with the
/// same arithmetic. [`push`](StreamingMelSpectrogram::push) a chunk of any size and get the
/// mel columns it completes; [`finish`](StreamingMelSpectrogram::finish) to get the last ones
/// and start a new stream.
///
/// There is no streaming log-mel: `power_to_db` with `ref = max` or `top_db` needs the
/// maximum of the whole spectrogram. With a constant reference and no `top_db`, apply
/// [`power_to_db_in_place`](crate::power_to_db_in_place) to each column.
///
/// ```
/// use ser_dsp::{MelSpectrogram, MelSpectrogramConfig};
/// let mel = MelSpectrogram::new(MelSpectrogramConfig::default())?;
/// let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.05).sin()).collect();
/// let mut stream = mel.streaming();
/// let mut columns = Vec::new();
/// for chunk in y.chunks(160) {
///     columns.push(stream.push(chunk)?);
/// }
/// columns.push(stream.finish()?);
/// let views: Vec<_> = columns.iter().map(|c| c.view()).collect();
/// let streamed = ndarray::concatenate(ndarray::Axis(1), &views).unwrap();
/// assert_eq!(streamed, mel.compute(&y)?);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StreamingMelSpectrogram {
    mel: MelSpectrogram,
    stream: StreamingStft,
    power: Vec<f32>,
    column: Vec<f32>,
}

impl MelSpectrogram {
    /// A streaming mel spectrogram with this extractor's configuration, plans and filterbank
    /// (a clone).
    pub fn streaming(&self) -> StreamingMelSpectrogram {
        StreamingMelSpectrogram {
            mel: self.clone(),
            stream: self.stft.streaming(),
            power: vec![0.0; self.stft.n_bins()],
            column: vec![0.0; self.filterbank.n_mels()],
        }
    }
}

impl StreamingMelSpectrogram {
    /// Plans the STFT and builds the filterbank, as [`MelSpectrogram::new`].
    ///
    /// # Errors
    /// As [`MelSpectrogram::new`].
    pub fn new(config: MelSpectrogramConfig) -> Result<Self> {
        Ok(MelSpectrogram::new(config)?.streaming())
    }

    /// The offline extractor this stream reproduces.
    pub fn mel_spectrogram(&self) -> &MelSpectrogram {
        &self.mel
    }

    /// The number of mel bands (rows of each output).
    pub fn n_mels(&self) -> usize {
        self.mel.filterbank.n_mels()
    }

    /// The number of samples pushed since the stream started.
    pub fn n_samples(&self) -> usize {
        self.stream.n_samples()
    }

    /// The number of columns emitted since the stream started.
    pub fn n_frames_emitted(&self) -> usize {
        self.stream.n_frames_emitted()
    }

    /// Forgets the stream: the next `push` starts a new one.
    pub fn reset(&mut self) {
        self.stream.reset();
    }

    /// Feeds `samples` and calls `f(t, column)` for every mel column they complete, in order,
    /// with its index in the stream and its `n_mels` values. Allocates nothing.
    ///
    /// Returns the number of columns emitted.
    ///
    /// # Errors
    /// As [`StreamingStft::push_with`]: [`Error::NonFinite`](crate::Error::NonFinite), the
    /// chunk being rejected whole.
    pub fn push_with<F>(&mut self, samples: &[f32], mut f: F) -> Result<usize>
    where
        F: FnMut(usize, &[f32]),
    {
        let Self {
            mel,
            stream,
            power,
            column,
        } = self;
        stream.push_sparse(samples, |t, s| {
            project(mel, s, power, column);
            f(t, column);
        })
    }

    /// Ends the stream: calls `f(t, column)` for the remaining columns, then resets the
    /// stream.
    ///
    /// Returns the number of columns emitted.
    ///
    /// # Errors
    /// As [`StreamingStft::finish_with`].
    pub fn finish_with<F>(&mut self, mut f: F) -> Result<usize>
    where
        F: FnMut(usize, &[f32]),
    {
        let Self {
            mel,
            stream,
            power,
            column,
        } = self;
        stream.finish_sparse(|t, s| {
            project(mel, s, power, column);
            f(t, column);
        })
    }

    /// Feeds `samples`; returns the mel columns they complete, shape `(n_mels, n_new_frames)`
    /// (possibly no column).
    ///
    /// # Errors
    /// As [`StreamingMelSpectrogram::push_with`].
    pub fn push(&mut self, samples: &[f32]) -> Result<Array2<f32>> {
        let n = self.stream.n_new_frames(samples)?;
        let first = self.stream.n_frames_emitted();
        let mut out = Array2::zeros((self.n_mels(), n));
        self.push_with(samples, |t, c| {
            out.column_mut(t - first)
                .iter_mut()
                .zip(c)
                .for_each(|(o, v)| *o = *v);
        })?;
        Ok(out)
    }

    /// Ends the stream; returns the remaining mel columns, shape `(n_mels, n_remaining)`, and
    /// resets the stream.
    ///
    /// # Errors
    /// As [`StreamingMelSpectrogram::finish_with`].
    pub fn finish(&mut self) -> Result<Array2<f32>> {
        let n = self.stream.n_remaining_frames();
        let first = self.stream.n_frames_emitted();
        let mut out = Array2::zeros((self.n_mels(), n));
        self.finish_with(|t, c| {
            out.column_mut(t - first)
                .iter_mut()
                .zip(c)
                .for_each(|(o, v)| *o = *v);
        })?;
        Ok(out)
    }
}

/// One mel column from one frame's spectrum (`None`: a frame that read only zeros), as
/// [`MelSpectrogram::compute_into`] does it.
fn project(
    mel: &MelSpectrogram,
    spectrum: Option<&[realfft::num_complex::Complex32]>,
    power: &mut [f32],
    column: &mut [f32],
) {
    match spectrum {
        Some(s) => {
            let (lo, hi) = mel.filterbank.support();
            spectrum_power(&s[lo..hi], mel.config.power, &mut power[lo..hi]);
            mel.filterbank.project(power, column);
        }
        None => column.fill(0.0),
    }
}
