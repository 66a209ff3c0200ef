//! The push-style streaming forward STFT: [`StreamingStft`].
//!
//! Samples arrive in chunks of any size; frame `t` (centred on sample `t * hop`) is emitted as
//! soon as the samples up to its end, `t * hop - p + n_fft` (`p = n_fft / 2` with `center`,
//! else 0), have arrived, and [`StreamingStft::finish`] emits the frames that read the right
//! padding. The frames are those of the offline transform of the whole stream, computed with
//! the same arithmetic (same window, same FFT plan, same precision).

use ndarray::Array2;
use realfft::num_complex::Complex32;

use super::{PadMode, Stft, StftScratch, reflect_index, spectrum_power};
use crate::error::{Error, Result, check_finite};

/// A push-style streaming STFT whose frames equal the offline [`Stft`]'s.
///
/// [`push`](StreamingStft::push) a chunk of any size (0 included) and get the frames it
/// completes; [`finish`](StreamingStft::finish) at the end of the stream to get the frames
/// that read the right padding. Together they return exactly the `Stft::n_frames(len)` frames
/// of [`Stft::complex`] on the concatenated stream, whatever the chunking:
///
/// - frame `t` is emitted once the samples up to `t * hop - p + n_fft` have arrived
///   (`p = n_fft / 2` with `center`, else 0), that is up to `t * hop + n_fft / 2` with
///   `center` and an even `n_fft`;
/// - both pad modes are handled exactly. With [`PadMode::Constant`] the left edge is known at
///   once. With [`PadMode::Reflect`] the frames that read the left padding also wait for the
///   first `p + 1` samples (the mirror of the first `p`); a stream shorter than that gets
///   them at `finish`, mirrored as `numpy.pad` does for short signals;
/// - memory is bounded: at most `n_fft + 1` samples of history are kept (the one extra
///   sample is the mirror of the right edge in reflect mode), whatever the chunk sizes.
///
/// Power and magnitude ([`push_spectrogram`](StreamingStft::push_spectrogram)) are
/// bit-identical to [`Stft::spectrogram`]. Complex bins compare equal (`==`) to
/// [`Stft::complex`]; the one possible bitwise difference is the sign of zero in frames that
/// read only zeros (the offline transform skips those only outside the signal's first and last
/// non-zero samples, which a stream cannot know in advance; here every all-zero frame is
/// skipped and emitted as `+0.0`).
///
/// An empty stream, or one too short for any frame, gives no frames (the offline transform
/// reports [`Error::Empty`] or [`Error::TooShort`] instead). `finish` starts a new stream.
///
/// ```
/// use ser_dsp::{Stft, StftConfig};
/// let stft = Stft::new(StftConfig::new(512).with_hop_length(128))?;
/// let y: Vec<f32> = (0..4000).map(|n| (n as f32 * 0.1).sin()).collect();
/// let mut stream = stft.streaming();
/// let mut n_frames = 0;
/// for chunk in y.chunks(300) {
///     n_frames += stream.push_spectrogram(chunk, 2.0)?.ncols();
/// }
/// let tail = stream.finish_spectrogram(2.0)?;
/// assert_eq!(n_frames + tail.ncols(), stft.n_frames(y.len()));
/// assert_eq!(tail, stft.power(&y)?.slice(ndarray::s![.., n_frames..]));
/// # Ok::<(), ser_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StreamingStft {
    stft: Stft,
    scratch: StftScratch,
    /// Samples `base .. base + buf.len()` of the stream.
    buf: Vec<f32>,
    base: usize,
    /// Samples accepted so far.
    seen: usize,
    /// The next frame to emit.
    next: usize,
    /// The index of the last non-zero sample seen.
    last_nonzero: Option<usize>,
    /// A zero spectrum, passed for frames that read only zeros.
    zeros: Vec<Complex32>,
}

impl Stft {
    /// A streaming transform with this STFT's configuration, plans and window (a clone: the
    /// FFT plans are shared).
    pub fn streaming(&self) -> StreamingStft {
        StreamingStft::from_stft(self.clone())
    }
}

impl StreamingStft {
    /// Plans the transform, as [`Stft::new`].
    ///
    /// # Errors
    /// As [`Stft::new`].
    pub fn new(config: super::StftConfig) -> Result<Self> {
        Ok(Self::from_stft(Stft::new(config)?))
    }

    /// A stream over a planned [`Stft`].
    pub fn from_stft(stft: Stft) -> Self {
        let scratch = stft.make_scratch();
        let zeros = vec![Complex32::new(0.0, 0.0); stft.n_bins()];
        Self {
            buf: Vec::with_capacity(stft.n_fft() + 1),
            stft,
            scratch,
            base: 0,
            seen: 0,
            next: 0,
            last_nonzero: None,
            zeros,
        }
    }

    /// The offline transform this stream reproduces.
    pub fn stft(&self) -> &Stft {
        &self.stft
    }

    /// The number of samples pushed since the stream started.
    pub fn n_samples(&self) -> usize {
        self.seen
    }

    /// The number of frames emitted since the stream started.
    pub fn n_frames_emitted(&self) -> usize {
        self.next
    }

    /// The number of frames that `push` would emit if the stream had `n_samples` samples
    /// in all (counted from the stream's start, emitted or not).
    pub fn n_frames_ready(&self, n_samples: usize) -> usize {
        let (n_fft, hop, p) = (self.stft.n_fft(), self.stft.hop, self.stft.pad());
        if self.reflects() && n_samples <= p {
            return 0;
        }
        if n_samples + p < n_fft {
            0
        } else {
            1 + (n_samples + p - n_fft) / hop
        }
    }

    /// Forgets the stream: the next `push` starts a new one.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.base = 0;
        self.seen = 0;
        self.next = 0;
        self.last_nonzero = None;
    }

    /// Feeds `samples` and calls `f(t, spectrum)` for every frame they complete, in order,
    /// with its index in the stream and its `n_fft / 2 + 1` complex bins. Allocates nothing.
    ///
    /// Returns the number of frames emitted.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (with the sample's index in the stream) if `samples` holds a NaN
    /// or an infinity; the chunk is then rejected whole and the stream is left as it was.
    pub fn push_with<F>(&mut self, samples: &[f32], mut f: F) -> Result<usize>
    where
        F: FnMut(usize, &[Complex32]),
    {
        let zeros = std::mem::take(&mut self.zeros);
        let r = self.push_sparse(samples, |t, s| f(t, s.unwrap_or(&zeros)));
        self.zeros = zeros;
        r
    }

    /// Ends the stream: calls `f(t, spectrum)` for the remaining frames (those that read the
    /// right padding), then resets the stream.
    ///
    /// Returns the number of frames emitted.
    ///
    /// # Errors
    /// [`Error::Fft`] only if the FFT fails (it does not on buffers of the planned size).
    pub fn finish_with<F>(&mut self, mut f: F) -> Result<usize>
    where
        F: FnMut(usize, &[Complex32]),
    {
        let zeros = std::mem::take(&mut self.zeros);
        let r = self.finish_sparse(|t, s| f(t, s.unwrap_or(&zeros)));
        self.zeros = zeros;
        r
    }

    /// Feeds `samples`; returns the complex bins of the frames they complete, shape
    /// `(n_fft / 2 + 1, n_new_frames)` (possibly no column).
    ///
    /// # Errors
    /// As [`StreamingStft::push_with`].
    pub fn push(&mut self, samples: &[f32]) -> Result<Array2<Complex32>> {
        let n = self.n_new_frames(samples)?;
        let first = self.next;
        let mut out = Array2::zeros((self.stft.n_bins(), n));
        self.push_with(samples, |t, s| copy_column(&mut out, t - first, s))?;
        Ok(out)
    }

    /// Ends the stream; returns the complex bins of the remaining frames, shape
    /// `(n_fft / 2 + 1, n_remaining_frames)`, and resets the stream.
    ///
    /// # Errors
    /// As [`StreamingStft::finish_with`].
    pub fn finish(&mut self) -> Result<Array2<Complex32>> {
        let n = self.n_remaining_frames();
        let first = self.next;
        let mut out = Array2::zeros((self.stft.n_bins(), n));
        self.finish_with(|t, s| copy_column(&mut out, t - first, s))?;
        Ok(out)
    }

    /// Feeds `samples`; returns `|X|^power` of the frames they complete, shape
    /// `(n_fft / 2 + 1, n_new_frames)`: `power = 1` is the magnitude, `power = 2` the power,
    /// bit-identical to [`Stft::spectrogram`].
    ///
    /// # Errors
    /// As [`StreamingStft::push_with`].
    pub fn push_spectrogram(&mut self, samples: &[f32], power: f32) -> Result<Array2<f32>> {
        let n = self.n_new_frames(samples)?;
        let first = self.next;
        let mut out = Array2::zeros((self.stft.n_bins(), n));
        let mut col = vec![0.0; self.stft.n_bins()];
        self.push_with(samples, |t, s| {
            spectrum_power(s, power, &mut col);
            copy_column(&mut out, t - first, &col);
        })?;
        Ok(out)
    }

    /// Ends the stream; returns `|X|^power` of the remaining frames and resets the stream.
    ///
    /// # Errors
    /// As [`StreamingStft::finish_with`].
    pub fn finish_spectrogram(&mut self, power: f32) -> Result<Array2<f32>> {
        let n = self.n_remaining_frames();
        let first = self.next;
        let mut out = Array2::zeros((self.stft.n_bins(), n));
        let mut col = vec![0.0; self.stft.n_bins()];
        self.finish_with(|t, s| {
            spectrum_power(s, power, &mut col);
            copy_column(&mut out, t - first, &col);
        })?;
        Ok(out)
    }

    /// The frames that `samples` would complete, after checking them.
    pub(crate) fn n_new_frames(&self, samples: &[f32]) -> Result<usize> {
        self.check(samples)?;
        Ok(self
            .n_frames_ready(self.seen + samples.len())
            .saturating_sub(self.next))
    }

    /// The frames that `finish` would emit.
    pub(crate) fn n_remaining_frames(&self) -> usize {
        self.stft.n_frames(self.seen).saturating_sub(self.next)
    }

    fn check(&self, samples: &[f32]) -> Result<()> {
        check_finite("streaming stft", samples).map_err(|e| match e {
            Error::NonFinite { what, index, value } => Error::NonFinite {
                what,
                index: self.seen + index,
                value,
            },
            other => other,
        })
    }

    fn reflects(&self) -> bool {
        self.stft.config.center && self.stft.config.pad_mode == PadMode::Reflect
    }

    /// The number of samples frame `t` waits for.
    fn need(&self, t: usize) -> usize {
        let p = self.stft.pad();
        let end = t * self.stft.hop + self.stft.n_fft() - p;
        if self.reflects() && t * self.stft.hop < p {
            end.max(p + 1)
        } else {
            end
        }
    }

    /// The first sample that frame `t` (and every later one) may read.
    fn keep_from(&self, t: usize) -> usize {
        let start = (t * self.stft.hop).saturating_sub(self.stft.pad());
        if self.reflects() {
            start.saturating_sub(1)
        } else {
            start
        }
    }

    /// As [`StreamingStft::push_with`], with `None` for a frame that reads only zeros.
    pub(crate) fn push_sparse<F>(&mut self, samples: &[f32], mut f: F) -> Result<usize>
    where
        F: FnMut(usize, Option<&[Complex32]>),
    {
        self.check(samples)?;
        let first = self.next;
        let mut rest = samples;
        loop {
            let need = self.need(self.next);
            if self.seen >= need {
                self.emit(self.next, &mut f)?;
                self.next += 1;
                self.discard();
                continue;
            }
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((need - self.seen).min(rest.len()));
            self.append(chunk);
            rest = tail;
        }
        Ok(self.next - first)
    }

    /// As [`StreamingStft::finish_with`], with `None` for a frame that reads only zeros.
    pub(crate) fn finish_sparse<F>(&mut self, mut f: F) -> Result<usize>
    where
        F: FnMut(usize, Option<&[Complex32]>),
    {
        let first = self.next;
        let n_frames = self.stft.n_frames(self.seen);
        let result = (first..n_frames).try_for_each(|t| self.emit(t, &mut f));
        self.reset();
        result.map(|()| n_frames.saturating_sub(first))
    }

    fn append(&mut self, chunk: &[f32]) {
        if let Some(i) = chunk.iter().rposition(|v| *v != 0.0) {
            self.last_nonzero = Some(self.seen + i);
        }
        // Samples before `base` are read by no frame still to come (hop > n_fft).
        let skip = self.base.saturating_sub(self.seen).min(chunk.len());
        self.buf.extend_from_slice(&chunk[skip..]);
        self.seen += chunk.len();
    }

    fn discard(&mut self) {
        let keep = self.keep_from(self.next);
        if keep <= self.base {
            return;
        }
        let drop = keep - self.base;
        if drop >= self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..drop);
        }
        self.base = keep;
    }

    /// Transforms frame `t` of the stream, all of whose samples have arrived (or, at the end,
    /// the stream's length is `self.seen`).
    fn emit<F>(&mut self, t: usize, f: &mut F) -> Result<()>
    where
        F: FnMut(usize, Option<&[Complex32]>),
    {
        let start = (t * self.stft.hop) as isize - self.stft.pad() as isize;
        // As offline, with zero padding a frame that reads only zeros is not transformed (here:
        // one after the last non-zero sample seen).
        let constant = self.stft.config.pad_mode == PadMode::Constant;
        if constant && self.last_nonzero.is_none_or(|last| (last as isize) < start) {
            f(t, None);
            return Ok(());
        }
        let Self {
            stft,
            scratch,
            buf,
            base,
            seen,
            ..
        } = self;
        let view = StreamView {
            buf,
            base: *base,
            len: *seen,
        };
        if stft.is_wide() {
            view.fill(&stft.window64, start, constant, &mut scratch.frame64);
            stft.forward64().process_with_scratch(
                &mut scratch.frame64,
                &mut scratch.spectrum64,
                &mut scratch.fft64,
            )?;
            for (o, c) in scratch.spectrum.iter_mut().zip(&scratch.spectrum64) {
                *o = Complex32::new(c.re as f32, c.im as f32);
            }
        } else {
            view.fill(&stft.window, start, constant, &mut scratch.frame);
            stft.forward.process_with_scratch(
                &mut scratch.frame,
                &mut scratch.spectrum,
                &mut scratch.fft,
            )?;
        }
        f(t, Some(&scratch.spectrum));
        Ok(())
    }
}

/// The part of the stream held in memory.
struct StreamView<'a> {
    buf: &'a [f32],
    base: usize,
    /// The stream's length so far (its whole length at the end).
    len: usize,
}

impl StreamView<'_> {
    /// The sample at `i` (in the stream), which must be held.
    fn at(&self, i: usize) -> f32 {
        self.buf
            .get(i.wrapping_sub(self.base))
            .copied()
            .unwrap_or(0.0)
    }

    /// Writes the frame starting at `start`, windowed, into `frame`, with the arithmetic of
    /// the offline `Stft::fill_frame`.
    fn fill<T: Copy + Default + std::ops::Mul<Output = T> + From<f32>>(
        &self,
        window: &[T],
        start: isize,
        constant: bool,
        frame: &mut [T],
    ) {
        for (i, (o, &w)) in frame.iter_mut().zip(window).enumerate() {
            let a = start + i as isize;
            *o = if a >= 0 && (a as usize) < self.len {
                T::from(self.at(a as usize)) * w
            } else if constant {
                T::default()
            } else {
                T::from(self.at(reflect_index(a, self.len))) * w
            };
        }
    }
}

fn copy_column<T: Copy>(out: &mut Array2<T>, j: usize, values: &[T]) {
    out.column_mut(j)
        .iter_mut()
        .zip(values)
        .for_each(|(o, v)| *o = *v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stft::StftConfig;

    #[test]
    fn history_is_bounded_by_n_fft_plus_one() {
        let configs = [
            StftConfig::new(256).with_hop_length(64),
            StftConfig::new(256)
                .with_hop_length(64)
                .with_pad_mode(PadMode::Reflect),
            StftConfig::new(255).with_hop_length(300),
            StftConfig::new(64).with_hop_length(1).with_center(false),
        ];
        for config in configs {
            let mut s = StreamingStft::new(config).unwrap();
            let y: Vec<f32> = (0..20_000).map(|n| ((n * 31) % 17) as f32 - 8.0).collect();
            let mut at = 0;
            for n in (1..).map(|i| (i * 37) % 1500) {
                if at >= y.len() {
                    break;
                }
                let end = (at + n).min(y.len());
                s.push_with(&y[at..end], |_, _| {}).unwrap();
                assert!(
                    s.buf.len() <= config.n_fft + 1,
                    "{config:?}: {}",
                    s.buf.len()
                );
                at = end;
            }
        }
    }
}
