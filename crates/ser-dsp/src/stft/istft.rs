//! The inverse STFT, `librosa.istft` (librosa 0.11): windowed overlap-add of the inverse
//! FFTs, divided by the window's summed square.
//!
//! ```text
//! x_t[n]  = irfft(X[:, t])[n] / n_fft · w[n]           n < n_fft (numpy's irfft scaling)
//! y[m]    = Σ_t x_t[m - t · hop]                        (overlap-add)
//! wss[m]  = Σ_t w[m - t · hop]²
//! out[m]  = y[m + p] / wss[m + p]   where wss > f32::MIN_POSITIVE, else y[m + p]
//! ```
//!
//! with `p = n_fft / 2` when `center` is set and 0 otherwise. With a `length`, only the frames
//! that reach into the first `length` output samples are transformed and the output is cut or
//! zero-padded to `length`, as librosa's `length`.
//!
//! [`Stft::inverse`] takes a whole spectrogram; [`Stft::inverse_with`] asks a closure for one
//! frame at a time, so a caller that makes its frames on the fly (a phase vocoder) never
//! materialises the spectrogram, and reuses its buffers through an [`IstftScratch`]. Both run
//! the same code, so they give the same bits.

use ndarray::ArrayView2;
use realfft::num_complex::Complex32;

use super::Stft;
use crate::error::{Error, Result};

/// Reusable buffers of an [`Stft`]'s inverse ([`Stft::inverse_with`]), so that the hot path
/// does not allocate: one frame's spectrum and samples, the FFT's scratch, and the
/// overlap-added signal and window sum, grown to the longest output seen.
#[derive(Debug, Clone, Default)]
pub struct IstftScratch {
    spectrum: Vec<Complex32>,
    frame: Vec<f32>,
    fft: Vec<Complex32>,
    ola: Vec<f32>,
    wss: Vec<f32>,
}

impl Stft {
    /// Fresh scratch buffers for this transform's inverse.
    pub fn make_inverse_scratch(&self) -> IstftScratch {
        IstftScratch {
            spectrum: self.inverse.make_input_vec(),
            frame: self.inverse.make_output_vec(),
            fft: self.inverse.make_scratch_vec(),
            ola: Vec::new(),
            wss: Vec::new(),
        }
    }

    /// The inverse STFT (`librosa.istft`): windowed overlap-add of the inverse FFTs, divided
    /// by the window's summed square where that is not tiny, with the `center` padding
    /// removed. `length` fixes the output length (zero-padded or cut), as librosa's `length`.
    ///
    /// `stft` has shape `(n_fft / 2 + 1, n_frames)`; the imaginary parts of the DC and
    /// Nyquist bins are ignored, as numpy's `irfft` does.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the bin count is not `n_fft / 2 + 1`, [`Error::Empty`] for no
    /// frames, [`Error::NonFinite`] for a non-finite value.
    pub fn inverse(
        &self,
        stft: ArrayView2<'_, Complex32>,
        length: Option<usize>,
    ) -> Result<Vec<f32>> {
        if stft.nrows() != self.n_bins() {
            return Err(Error::ShapeMismatch {
                what: "istft",
                expected: vec![self.n_bins(), stft.ncols()],
                got: vec![stft.nrows(), stft.ncols()],
            });
        }
        if let Some((index, v)) = stft
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.re.is_finite() && v.im.is_finite()))
        {
            return Err(Error::NonFinite {
                what: "istft",
                index,
                value: v.re + v.im,
            });
        }
        let mut scratch = self.make_inverse_scratch();
        self.inverse_with(stft.ncols(), length, &mut scratch, |t, spectrum| {
            spectrum
                .iter_mut()
                .zip(stft.column(t))
                .for_each(|(o, v)| *o = *v);
        })
    }

    /// The streaming form of [`Stft::inverse`]: the inverse of `n_frames` frames that
    /// `frame(t, spectrum)` writes one at a time, in order, into `spectrum` (`n_fft / 2 + 1`
    /// bins, to be overwritten entirely: it holds no useful values on entry). With a `length`,
    /// only the frames that reach into the first `length` samples are asked for (the first
    /// `min(n_frames, ceil((length + 2p) / hop))`, `p` the centring pad). Nothing but
    /// `scratch` and the output is allocated.
    ///
    /// The spectra are not checked: a non-finite bin gives non-finite samples.
    ///
    /// ```
    /// use ser_dsp::{Stft, StftConfig};
    /// let stft = Stft::new(StftConfig::new(512).with_hop_length(128))?;
    /// let y: Vec<f32> = (0..4000).map(|n| (n as f32 * 0.1).sin()).collect();
    /// let spec = stft.complex(&y)?;
    /// let mut scratch = stft.make_inverse_scratch();
    /// let back = stft.inverse_with(spec.ncols(), Some(y.len()), &mut scratch, |t, s| {
    ///     s.iter_mut().zip(spec.column(t)).for_each(|(o, v)| *o = *v);
    /// })?;
    /// assert_eq!(back, stft.inverse(spec.view(), Some(y.len()))?);
    /// assert!(back.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-4));
    /// # Ok::<(), ser_dsp::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no frames (or a `length` that needs none).
    pub fn inverse_with<F>(
        &self,
        n_frames: usize,
        length: Option<usize>,
        scratch: &mut IstftScratch,
        mut frame: F,
    ) -> Result<Vec<f32>>
    where
        F: FnMut(usize, &mut [Complex32]),
    {
        let n_fft = self.config.n_fft;
        let hop = self.hop;
        let pad = self.pad();
        let n_frames = match length {
            Some(length) => n_frames.min((length + 2 * pad).div_ceil(hop)),
            None => n_frames,
        };
        if n_frames == 0 {
            return Err(Error::Empty { what: "istft" });
        }
        let full_len = n_fft + hop * (n_frames - 1);
        let sc = scratch;
        sc.spectrum
            .resize(self.inverse.complex_len(), Complex32::new(0.0, 0.0));
        sc.frame.resize(n_fft, 0.0);
        sc.fft
            .resize(self.inverse.get_scratch_len(), Complex32::new(0.0, 0.0));
        for v in [&mut sc.ola, &mut sc.wss] {
            v.clear();
            v.resize(full_len, 0.0);
        }
        let scale = 1.0 / n_fft as f32;
        for t in 0..n_frames {
            frame(t, &mut sc.spectrum);
            // The imaginary parts of DC and Nyquist are ignored, as numpy's irfft does.
            if let Some(first) = sc.spectrum.first_mut() {
                first.im = 0.0;
            }
            if n_fft.is_multiple_of(2) {
                if let Some(last) = sc.spectrum.last_mut() {
                    last.im = 0.0;
                }
            }
            self.inverse
                .process_with_scratch(&mut sc.spectrum, &mut sc.frame, &mut sc.fft)?;
            let off = t * hop;
            // numpy's irfft scales by 1 / n_fft, then librosa multiplies by the window.
            let seg = &mut sc.ola[off..off + n_fft];
            for ((o, &x), &w) in seg.iter_mut().zip(&sc.frame).zip(&self.window) {
                *o += x * scale * w;
            }
            let seg = &mut sc.wss[off..off + n_fft];
            for (o, &w) in seg.iter_mut().zip(&self.window_sq) {
                *o += w;
            }
        }
        // Divide by the window sum where it is not tiny, drop the centring pad, cut or
        // zero-pad to the length.
        let out_len = length.unwrap_or(full_len - 2 * pad);
        let mut out = vec![0.0f32; out_len];
        let avail = full_len.saturating_sub(pad).min(out_len);
        for ((o, &v), &w) in out[..avail]
            .iter_mut()
            .zip(&sc.ola[pad..pad + avail])
            .zip(&sc.wss[pad..pad + avail])
        {
            *o = if w > f32::MIN_POSITIVE { v / w } else { v };
        }
        Ok(out)
    }
}
