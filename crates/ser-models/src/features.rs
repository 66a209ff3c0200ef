//! From log-mel spectrograms (dB, `[n_mels, frames]`, as `ser-dsp`'s `LogMel` gives them)
//! to a model's input tensor `[B, C, n_mels, frames]`.

use candle_core::{Device, Tensor};
use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2};

use crate::config::{BandPrior, DELTA_WIDTH, InputMode, InputSpec};
use crate::error::{Error, Result};

/// ImageNet's per-channel mean (RGB), as torchvision normalises.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet's per-channel standard deviation (RGB).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Mean and standard deviation of every value of `features` (for [`InputMode::LogMel`]),
/// in f64.
///
/// # Errors
/// [`Error::NothingToNormalize`] when there is nothing to measure;
/// [`Error::NonFiniteInput`] naming the spectrogram and value that is not finite.
pub fn fit_normalization<'a>(
    features: impl IntoIterator<Item = ArrayView2<'a, f32>>,
) -> Result<(f32, f32)> {
    let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
    for (index, f) in features.into_iter().enumerate() {
        for (pos, &v) in f.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFiniteInput {
                    what: format!("training spectrogram {index}, value {pos}"),
                });
            }
            let v = f64::from(v);
            n += 1.0;
            s += v;
            s2 += v * v;
        }
    }
    if n == 0.0 {
        return Err(Error::NothingToNormalize);
    }
    let mean = s / n;
    let std = (s2 / n - mean * mean).max(0.0).sqrt();
    Ok((mean as f32, if std > 1e-6 { std as f32 } else { 1.0 }))
}

/// Linear resampling of the frame axis to `frames` columns; `x` itself, uncopied, when it
/// already has them.
fn resize_frames(x: ArrayView2<'_, f32>, frames: usize) -> CowArray<'_, f32, Ix2> {
    let (rows, cols) = x.dim();
    if cols == frames {
        return CowArray::from(x);
    }
    let mut out = Array2::zeros((rows, frames));
    let scale = if frames > 1 {
        (cols - 1) as f64 / (frames - 1) as f64
    } else {
        0.0
    };
    for j in 0..frames {
        let pos = j as f64 * scale;
        let j0 = (pos.floor() as usize).min(cols - 1);
        let j1 = (j0 + 1).min(cols - 1);
        let t = (pos - j0 as f64) as f32;
        for r in 0..rows {
            out[[r, j]] = x[[r, j0]] * (1.0 - t) + x[[r, j1]] * t;
        }
    }
    CowArray::from(out)
}

/// One spectrogram's input channels, `C · n_mels · frames` values in `[C, n_mels, frames]`
/// order.
///
/// # Errors
/// [`Error::InputShape`] when the mel bands differ from the spec or a spectrogram is
/// empty; [`Error::NonFiniteInput`] for NaN or infinite values.
pub fn input_channels(x: ArrayView2<f32>, spec: &InputSpec, index: usize) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    input_channels_into(x, spec, index, &mut out)?;
    Ok(out)
}

/// [`input_channels`], appended to `out` (the batch's buffer) instead of a new vector, so
/// each value is written once, straight from the spectrogram. `out` is unchanged on error.
fn input_channels_into(
    x: ArrayView2<f32>,
    spec: &InputSpec,
    index: usize,
    out: &mut Vec<f32>,
) -> Result<()> {
    let (m, f) = x.dim();
    if m != spec.n_mels || f == 0 {
        return Err(Error::InputShape {
            expected: format!("[{}, frames ≥ 1] log-mel spectrograms", spec.n_mels),
            got: vec![m, f],
        });
    }
    if let Some(pos) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFiniteInput {
            what: format!("spectrogram {index}, value {pos}"),
        });
    }
    let x = resize_frames(x, spec.frames);
    let start = out.len();
    match spec.mode {
        InputMode::LogMel { mean, std } => out.extend(x.iter().map(|v| (v - mean) / std)),
        InputMode::LogMelSpeakerCmvn => out.extend(x.iter()),
        InputMode::LogMelCmvn => {
            out.extend(x.iter());
            let frames = x.ncols();
            for band in out[start..].chunks_exact_mut(frames) {
                standardize_band(band);
            }
        }
        InputMode::Magma { imagenet } => {
            let (lo, hi) = x
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let range = if hi > lo { hi - lo } else { 1.0 };
            let n = x.len();
            out.resize(start + 3 * n, 0.0);
            let image = &mut out[start..];
            for (i, v) in x.iter().enumerate() {
                let c = colorous::MAGMA.eval_continuous(f64::from((v - lo) / range));
                for (ch, byte) in [c.r, c.g, c.b].into_iter().enumerate() {
                    let mut y = f32::from(byte) / 255.0;
                    if imagenet {
                        y = (y - IMAGENET_MEAN[ch]) / IMAGENET_STD[ch];
                    }
                    image[ch * n + i] = y;
                }
            }
        }
    }
    if let Err(e) = append_deltas(spec, start, out) {
        out.truncate(start);
        return Err(e);
    }
    Ok(())
}

/// Appends the [`InputSpec::deltas`] of the log-mel channel `out[start..]` (`[n_mels,
/// frames]`, normalised) as further channels: delta, then delta-delta.
fn append_deltas(spec: &InputSpec, start: usize, out: &mut Vec<f32>) -> Result<()> {
    spec.check_deltas()?;
    if spec.deltas == 0 {
        return Ok(());
    }
    let base = ArrayView2::from_shape((spec.n_mels, spec.frames), &out[start..])
        .map_err(|e| Error::config("input", format!("{spec:?}"), e))?
        .to_owned();
    for order in 1..=spec.deltas {
        let d = ser_dsp::delta(
            base.view(),
            &ser_dsp::DeltaConfig::new(order).with_width(DELTA_WIDTH),
        )?;
        out.extend(d.iter());
    }
    Ok(())
}

/// A batch tensor `[B, C, n_mels, frames]` on `device` from spectrograms
/// (`[n_mels, frames]` each; other frame counts are resized linearly).
///
/// # Errors
/// As [`input_channels`]; [`Error::EmptyBatch`] for an empty batch.
pub fn batch_tensor<'a>(
    items: impl IntoIterator<Item = ArrayView2<'a, f32>>,
    spec: &InputSpec,
    device: &Device,
) -> Result<Tensor> {
    let items = items.into_iter();
    let expected = items.size_hint().0;
    let mut data = Vec::new();
    let mut b = 0;
    for (i, x) in items.enumerate() {
        input_channels_into(x, spec, i, &mut data)?;
        if i == 0 {
            // Room for the rest, now that one item has shown its size.
            data.reserve(data.len() * expected.saturating_sub(1));
        }
        b += 1;
    }
    if b == 0 {
        return Err(Error::EmptyBatch);
    }
    Ok(Tensor::from_vec(
        data,
        (b, spec.channels(), spec.n_mels, spec.frames),
        device,
    )?)
}

/// The variance floor of [`InputMode::LogMelCmvn`], in dB².
pub const CMVN_VARIANCE_FLOOR: f64 = 1.0;

/// Per-band mean and variance of log-mel frames, gathered over many spectrograms (a
/// speaker's clips, or the windows of a recording so far), for
/// [`InputMode::LogMelSpeakerCmvn`]. Sums are kept in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct BandStats {
    frames: u64,
    prior_frames: f64,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl BandStats {
    /// No frames yet, for `n_mels` bands.
    pub fn new(n_mels: usize) -> Self {
        Self {
            frames: 0,
            prior_frames: 0.0,
            sum: vec![0.0; n_mels],
            sum_sq: vec![0.0; n_mels],
        }
    }

    /// No frames yet, starting from `prior` (if any) as `prior.frames` frames of the
    /// population: [`new`](Self::new) when `prior` is `None`.
    pub fn with_prior(n_mels: usize, prior: Option<&BandPrior>) -> Self {
        let mut s = Self::new(n_mels);
        if let Some(p) = prior {
            let w = f64::from(p.frames);
            s.prior_frames = w;
            for (band, (m, v)) in p.mean.iter().zip(&p.var).enumerate().take(n_mels) {
                let (m, v) = (f64::from(*m), f64::from(*v));
                s.sum[band] = w * m;
                s.sum_sq[band] = w * (v + m * m);
            }
        }
        s
    }

    /// The per-band mean and variance of the frames gathered so far (no prior), as a
    /// [`BandPrior`] of weight `frames`; `None` before any frame.
    pub fn to_prior(&self, frames: f32) -> Option<BandPrior> {
        if self.frames == 0 || self.prior_frames != 0.0 {
            return None;
        }
        let n = self.frames as f64;
        let mean: Vec<f32> = self.sum.iter().map(|s| (s / n) as f32).collect();
        let var = self
            .sum
            .iter()
            .zip(&self.sum_sq)
            .map(|(s, q)| (q / n - (s / n).powi(2)).max(0.0) as f32)
            .collect();
        Some(BandPrior { mean, var, frames })
    }

    /// `x` standardised on its own: by `prior` (if any) and `x`'s frames, as a recognizer
    /// standardises a single clip.
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn standardize_alone(x: ArrayView2<f32>, prior: Option<&BandPrior>) -> Result<Array2<f32>> {
        let mut stats = Self::with_prior(x.nrows(), prior);
        stats.add(x)?;
        stats.standardize(x)
    }

    /// Frames gathered so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    fn check(&self, x: ArrayView2<f32>) -> Result<()> {
        if x.nrows() != self.sum.len() || x.ncols() == 0 {
            return Err(Error::InputShape {
                expected: format!("[{}, frames ≥ 1] log-mel spectrograms", self.sum.len()),
                got: x.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// Adds every frame of `x` (`[n_mels, frames]`).
    ///
    /// # Errors
    /// [`Error::InputShape`] for another band count or no frames;
    /// [`Error::NonFiniteInput`] for NaN or infinite values (nothing is added then).
    pub fn add(&mut self, x: ArrayView2<f32>) -> Result<()> {
        self.check(x)?;
        if let Some(pos) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteInput {
                what: format!("band statistics input, value {pos}"),
            });
        }
        for (band, row) in x.outer_iter().enumerate() {
            for &v in row {
                let v = f64::from(v);
                self.sum[band] += v;
                self.sum_sq[band] += v * v;
            }
        }
        self.frames += x.ncols() as u64;
        Ok(())
    }

    /// `x` with every band standardised by these statistics (the prior's frames and the
    /// gathered ones together): `(v − mean) / sqrt(var + CMVN_VARIANCE_FLOOR)`. With
    /// neither, `x`'s own statistics are used.
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn standardize(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.check(x)?;
        let n = self.frames as f64 + self.prior_frames;
        if n <= 0.0 {
            let mut own = Self::new(x.nrows());
            own.add(x)?;
            return own.standardize(x);
        }
        let mut y = x.to_owned();
        for (band, mut row) in y.outer_iter_mut().enumerate() {
            let mean = self.sum[band] / n;
            let var = (self.sum_sq[band] / n - mean * mean).max(0.0);
            let scale = 1.0 / (var + CMVN_VARIANCE_FLOOR).sqrt();
            row.mapv_inplace(|v| ((f64::from(v) - mean) * scale) as f32);
        }
        Ok(y)
    }
}

/// Standardises one mel band in place: `(v − mean) / sqrt(var + CMVN_VARIANCE_FLOOR)`,
/// the statistics in f64 over the band's frames.
fn standardize_band(band: &mut [f32]) {
    let n = band.len() as f64;
    let mean = band.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = band
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let scale = 1.0 / (var + CMVN_VARIANCE_FLOOR).sqrt();
    for v in band {
        *v = ((f64::from(*v) - mean) * scale) as f32;
    }
}

/// [`batch_tensor`] over the items of a `[B, n_mels, frames]` array.
///
/// # Errors
/// As [`batch_tensor`].
pub fn batch_tensor_3d(
    features: &ndarray::Array3<f32>,
    spec: &InputSpec,
    device: &Device,
) -> Result<Tensor> {
    batch_tensor(features.axis_iter(Axis(0)), spec, device)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::InputMode;

    #[test]
    fn deltas_follow_the_normalised_channel() {
        // Band 0 is 2t dB, band 1 is t² dB; with mean 0 and std 2 the channel is t and t²/2.
        let frames = 12;
        let x = Array2::from_shape_fn((2, frames), |(b, t)| {
            let t = t as f32;
            if b == 0 { 2.0 * t } else { t * t }
        });
        let spec = InputSpec {
            mode: InputMode::LogMel {
                mean: 0.0,
                std: 2.0,
            },
            n_mels: 2,
            frames,
            deltas: 2,
        };
        assert_eq!(spec.channels(), 3);
        let y = input_channels(x.view(), &spec, 0).unwrap();
        assert_eq!(y.len(), 3 * 2 * frames);
        let at = |c: usize, b: usize, t: usize| y[(c * 2 + b) * frames + t];
        for t in 0..frames {
            assert_eq!(at(0, 0, t), t as f32);
            // The delta of t is 1; of t²/2 it is t, and near the ends (width 9, librosa's
            // 'interp') the slope of the first or last full window: 4 and frames - 5.
            assert!((at(1, 0, t) - 1.0).abs() < 1e-5, "frame {t}");
            let slope = t.clamp(4, frames - 5) as f32;
            assert!(
                (at(1, 1, t) - slope).abs() < 1e-4,
                "frame {t}: {}",
                at(1, 1, t)
            );
            // The delta-delta of t is 0; of t²/2 it is 1.
            assert!(at(2, 0, t).abs() < 1e-5, "frame {t}");
            assert!((at(2, 1, t) - 1.0).abs() < 1e-4, "frame {t}");
        }
        // One order: two channels, the first two of the above.
        let one = InputSpec { deltas: 1, ..spec };
        assert_eq!(
            input_channels(x.view(), &one, 0).unwrap(),
            y[..2 * 2 * frames]
        );
    }

    #[test]
    fn deltas_are_refused_where_they_cannot_be() {
        let x = Array2::<f32>::zeros((2, 12));
        let mut out = vec![7.0];
        let magma = InputSpec {
            mode: InputMode::Magma { imagenet: false },
            n_mels: 2,
            frames: 12,
            deltas: 1,
        };
        assert!(input_channels_into(x.view(), &magma, 0, &mut out).is_err());
        assert_eq!(out, [7.0], "nothing appended on error");
        // Fewer frames than the fit's width.
        let short = InputSpec {
            mode: InputMode::LogMelCmvn,
            n_mels: 2,
            frames: 5,
            deltas: 1,
        };
        assert!(input_channels_into(x.view(), &short, 0, &mut out).is_err());
        assert_eq!(out, [7.0]);
        // A model refuses them before anything is built.
        for (input, field) in [
            (magma, "input.deltas"),
            (short, "input.frames"),
            (
                InputSpec {
                    deltas: 3,
                    frames: 94,
                    ..short
                },
                "input.deltas",
            ),
        ] {
            let cfg = crate::ModelConfig {
                input,
                ..crate::ModelConfig::research(crate::Architecture::CnnBlstmAttn)
            };
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn cmvn_standardises_each_band_over_its_frames() {
        // Band 0 ramps, band 1 is constant (padding), band 2 alternates around -40 dB.
        let x = ndarray::array![
            [-10.0f32, -20.0, -30.0, -40.0],
            [-80.0, -80.0, -80.0, -80.0],
            [-35.0, -45.0, -35.0, -45.0],
        ];
        let spec = InputSpec {
            mode: InputMode::LogMelCmvn,
            n_mels: 3,
            frames: 4,
            deltas: 0,
        };
        let y = input_channels(x.view(), &spec, 0).unwrap();
        // Band 0: mean -25, variance 125; band 2: mean -40, variance 25.
        let s0 = (125.0f64 + CMVN_VARIANCE_FLOOR).sqrt();
        let s2 = (25.0f64 + CMVN_VARIANCE_FLOOR).sqrt();
        let want = [
            15.0 / s0,
            5.0 / s0,
            -5.0 / s0,
            -15.0 / s0,
            0.0,
            0.0,
            0.0,
            0.0,
            5.0 / s2,
            -5.0 / s2,
            5.0 / s2,
            -5.0 / s2,
        ];
        for (i, (a, b)) in y.iter().zip(want).enumerate() {
            assert!((f64::from(*a) - b).abs() < 1e-6, "value {i}: {a} vs {b}");
        }
        // A level change of the whole utterance (another microphone gain) changes nothing.
        let louder = x.mapv(|v| v + 12.0);
        assert_eq!(input_channels(louder.view(), &spec, 0).unwrap(), y);
        // Frames are resized to the spec first, then standardised.
        let long = ndarray::Array2::from_shape_fn((3, 9), |(m, t)| (m * 10 + t) as f32);
        let y = input_channels(long.view(), &spec, 0).unwrap();
        for band in y.chunks(4) {
            let mean: f32 = band.iter().sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-5, "{band:?}");
        }
    }

    #[test]
    fn band_stats_pool_frames_and_standardise_like_cmvn() {
        let a = ndarray::array![[-10.0f32, -20.0], [-60.0, -60.0]];
        let b = ndarray::array![[-30.0f32, -40.0, -50.0], [-60.0, -70.0, -50.0]];
        let mut s = BandStats::new(2);
        // No frames yet: the spectrogram's own statistics, as LogMelCmvn.
        let spec = InputSpec {
            mode: InputMode::LogMelCmvn,
            n_mels: 2,
            frames: 3,
            deltas: 0,
        };
        let alone = s.standardize(b.view()).unwrap();
        assert_eq!(
            alone.iter().copied().collect::<Vec<_>>(),
            input_channels(b.view(), &spec, 0).unwrap()
        );
        s.add(a.view()).unwrap();
        s.add(b.view()).unwrap();
        assert_eq!(s.frames(), 5);
        let y = s.standardize(a.view()).unwrap();
        // Band 0 over five frames: mean -30, variance 200; band 1: mean -60, variance 40.
        let s0 = (200.0f64 + CMVN_VARIANCE_FLOOR).sqrt();
        let s1 = (40.0f64 + CMVN_VARIANCE_FLOOR).sqrt();
        let want = [20.0 / s0, 10.0 / s0, 0.0, 0.0];
        for (got, want) in y.iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{y:?}");
        }
        assert!((f64::from(s.standardize(b.view()).unwrap()[[1, 1]]) + 10.0 / s1).abs() < 1e-6);
        // Wrong shapes and non-finite values are errors; nothing is added then.
        assert!(s.add(ndarray::Array2::zeros((3, 4)).view()).is_err());
        assert!(s.add(ndarray::Array2::zeros((2, 0)).view()).is_err());
        assert!(
            s.standardize(ndarray::Array2::zeros((3, 4)).view())
                .is_err()
        );
        let mut nan = a.clone();
        nan[[1, 0]] = f32::NAN;
        assert!(s.add(nan.view()).is_err());
        assert_eq!(s.frames(), 5);
        // The model takes speaker-standardised values as they are.
        let spec = InputSpec {
            mode: InputMode::LogMelSpeakerCmvn,
            n_mels: 2,
            frames: 2,
            deltas: 0,
        };
        assert_eq!(
            input_channels(y.view(), &spec, 0).unwrap(),
            y.iter().copied().collect::<Vec<_>>()
        );
    }
}
