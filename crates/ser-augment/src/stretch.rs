//! Time-stretching and pitch-shifting with `librosa.effects.time_stretch` and
//! `librosa.effects.pitch_shift` semantics (librosa 0.11; librosa 1.0 rewrote its phase
//! vocoder, so this follows 0.11).
//!
//! [`time_stretch`] is librosa's phase vocoder on a centred STFT with `n_fft = 2048`,
//! `hop_length = 512` and a Hann window:
//!
//! ```text
//! D          = stft(y)                                   (1025, n_frames), + 2 zero columns
//! steps      = 0, rate, 2 rate, … < n_frames             (np.arange(0, n_frames, rate))
//! φ[k]       = hop · 2π k / n_fft                         expected phase advance
//! out[:, t]  = ((1-α)|D[:, i]| + α|D[:, i+1]|) · exp(j acc)     i = ⌊step⌋, α = step - i
//! dφ         = ∠D[:, i+1] - ∠D[:, i] - φ;  dφ -= 2π round(dφ / 2π)
//! acc       += φ + dφ                                     (acc starts at ∠D[:, 0])
//! y'         = istft(out, length = round(len / rate))
//! ```
//!
//! The columns `out[:, t]` are made one at a time and handed to `ser-dsp`'s inverse STFT
//! ([`Stft::inverse_with`]), so the output spectrogram is never stored.
//!
//! As in librosa, the angles and the accumulated phase are `float32` and the update is
//! computed in `float64`, then rounded to `float32`: the rounding of the accumulator is part
//! of librosa's output (it reaches 0.016 rad after a hundred frames in the top bins), so it
//! is reproduced rather than improved on. Angles and sines use polynomial approximations
//! accurate to ~1e-7 (the float32 rounding), which vectorise; see `tests/parity.rs` for the
//! measured agreement.
//!
//! [`pitch_shift`] time-stretches by `rate = 2^(-n_steps / bins_per_octave)`, resamples from
//! `sample_rate / rate` to `sample_rate` and cuts or zero-pads to the input length, as
//! librosa. librosa resamples with soxr (`soxr_hq`) at a fractional input rate; here the
//! ratio `rate` is approximated by a ratio of two block lengths `l_out / l_in`
//! ([`resample_ratio`]: both even, `l_in` in `1024..=8192`, relative error at most 1e-6 where
//! such a pair exists, else at most ~1.3e-5, and among those the pair with the smallest prime
//! factors so that the FFTs are fast) and resampled with `ser-dsp`'s rubato FFT resampler
//! (planned resamplers are cached per thread by [`resample_cached`]). An error of 1e-5 is
//! 0.02 cents of pitch and half a sample of drift over 3 s; ±2 semitones get (3648, 3250),
//! error 4.5e-7.
//!
//! Speed: the STFT is planned once per process and the resampler once per thread and ratio
//! (`ser-dsp`'s cache keeps the last few ratios), and each thread keeps its work buffers between calls, sized by the
//! longest clip it has seen: 8 KiB per input STFT frame and 4 KiB per output frame (≈ 1.3 MiB
//! for a 3 s clip at 16 kHz slowed by 0.8).
//! Measured figures against librosa and audiomentations are in docs/benchmarks.md.

use std::cell::RefCell;
use std::f64::consts::PI;
use std::sync::OnceLock;

use rand::{Rng, RngExt};
use ser_dsp::num_complex::Complex32;
use ser_dsp::resample::{largest_prime_factor, resample_cached};
use ser_dsp::{Audio, IstftScratch, Precision, Stft, StftConfig, StftScratch};

use crate::Transform;
use crate::error::{Error, Result, check_finite};
use crate::record::{Applied, Record};

/// The FFT length of the phase vocoder (librosa's default).
pub const STRETCH_N_FFT: usize = 2048;
/// The hop length of the phase vocoder (librosa's default, `n_fft / 4`).
pub const STRETCH_HOP_LENGTH: usize = 512;
/// The largest output accepted, in samples (2^31): a longer one is a parameter mistake.
const MAX_OUTPUT: f64 = (1u64 << 31) as f64;

const N_BINS: usize = STRETCH_N_FFT / 2 + 1;
const TIME_STRETCH: &str = "time_stretch";
const PITCH_SHIFT: &str = "pitch_shift";

/// Stretches `y` in time by `rate` (`rate > 1` is faster, shorter) without changing its pitch,
/// as `librosa.effects.time_stretch(y, rate=rate)` (librosa 0.11); see the module docs.
///
/// The output has `round(len / rate)` samples (ties to even, as Python's `round`); it is
/// empty when that rounds to 0.
///
/// ```
/// let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.17).sin()).collect();
/// let slow = ser_augment::time_stretch(&y, 0.8)?;
/// assert_eq!(slow.len(), 20_000);
/// # Ok::<(), ser_augment::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] if `rate` is not finite and positive or the output would
/// exceed 2^31 samples, [`Error::Empty`] for no samples, [`Error::NonFinite`] for a NaN or
/// infinite sample (or samples so large, near `f32::MAX`, that the output overflows),
/// [`Error::Dsp`] if the STFT fails.
pub fn time_stretch(y: &[f32], rate: f32) -> Result<Vec<f32>> {
    check_rate(TIME_STRETCH, "rate", rate, f64::from(rate), y.len())?;
    check_input(TIME_STRETCH, y)?;
    stretch(y, f64::from(rate), TIME_STRETCH)
}

fn check_input(transform: &'static str, y: &[f32]) -> Result<()> {
    if y.is_empty() {
        return Err(Error::Empty { transform });
    }
    check_finite(transform, y)
}

fn check_rate(
    transform: &'static str,
    param: &'static str,
    shown: f32,
    rate: f64,
    len: usize,
) -> Result<()> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(Error::InvalidParameter {
            transform,
            param,
            value: shown.to_string(),
            reason: "the stretch rate must be finite and positive",
        });
    }
    if len as f64 / rate > MAX_OUTPUT {
        return Err(Error::InvalidParameter {
            transform,
            param,
            value: shown.to_string(),
            reason: "the output would exceed 2^31 samples",
        });
    }
    Ok(())
}

/// Rounds to the nearest integer, ties to even, for |x| < 2^51 (vectorises, unlike
/// `f64::round_ties_even` on baseline x86-64).
#[inline(always)]
fn round_even(x: f64) -> f64 {
    (x + ROUND_MAGIC) - ROUND_MAGIC
}

/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `atan2(y, x)` in `f32`, within ~2e-7 rad (numpy's `np.angle` of `complex64`; 0 at 0).
/// Branch-free so that it vectorises.
#[inline(always)]
fn atan2_f32(y: f32, x: f32) -> f32 {
    const C: [f32; 9] = [
        0.999_999_99,
        -0.333_331_27,
        0.199_936_29,
        -0.142_114_15,
        0.106_710_85,
        -0.075_686_02,
        0.043_456_07,
        -0.016_543_48,
        0.002_969_903,
    ];
    let ax = x.abs();
    let ay = y.abs();
    let big = ax.max(ay);
    let small = ax.min(ay);
    let a = if big > 0.0 { small / big } else { 0.0 };
    let s = a * a;
    // Estrin's scheme: short dependency chains.
    let s2 = s * s;
    let s4 = s2 * s2;
    let p = (C[0] + C[1] * s)
        + s2 * (C[2] + C[3] * s)
        + s4 * ((C[4] + C[5] * s) + s2 * (C[6] + C[7] * s) + s4 * C[8]);
    let r = a * p;
    let r = if ay > ax {
        std::f32::consts::FRAC_PI_2 - r
    } else {
        r
    };
    let r = if x < 0.0 { std::f32::consts::PI - r } else { r };
    // Copy the sign of y (atan2(±0, x) = ±0 or ±π, as libm).
    f32::from_bits(r.to_bits() | (y.to_bits() & 0x8000_0000))
}

/// `(sin x, cos x)` of an `f32` angle of any size up to ~1e9, within ~1e-7 (the argument
/// is reduced in `f64`). Branch-free so that it vectorises.
#[inline(always)]
fn sincos_f32(x: f32) -> (f32, f32) {
    let xd = f64::from(x);
    let qm = xd * (2.0 / PI) + ROUND_MAGIC;
    let quadrant = qm.to_bits() as u32;
    let q = qm - ROUND_MAGIC;
    let r = (xd - q * (PI / 2.0)) as f32;
    let r2 = r * r;
    let r4 = r2 * r2;
    // Taylor polynomials on |r| <= π/4 (errors below 3e-7 and 3e-8), Estrin's scheme.
    // Coefficients as constants: a division by a constant is not turned into a product.
    const S3: f32 = -1.0 / 6.0;
    const S5: f32 = 1.0 / 120.0;
    const S7: f32 = -1.0 / 5040.0;
    const S9: f32 = 1.0 / 362_880.0;
    const C4: f32 = 1.0 / 24.0;
    const C6: f32 = -1.0 / 720.0;
    const C8: f32 = 1.0 / 40_320.0;
    const C10: f32 = -1.0 / 3_628_800.0;
    let s = r * ((1.0 + S3 * r2) + r4 * ((S5 + S7 * r2) + r4 * S9));
    let c = (1.0 - 0.5 * r2) + r4 * ((C4 + C6 * r2) + r4 * (C8 + C10 * r2));
    let odd = quadrant & 1 != 0;
    let (s1, c1) = (if odd { c } else { s }, if odd { s } else { c });
    let s2 = f32::from_bits(s1.to_bits() ^ ((quadrant & 2) << 30));
    let c2 = f32::from_bits(c1.to_bits() ^ ((quadrant.wrapping_add(1) & 2) << 30));
    (s2, c2)
}

/// The plans and constants of the phase vocoder, made once per process.
struct Plan {
    /// The forward and inverse STFT (`ser-dsp`'s, inverse included).
    stft: Stft,
    /// `hop · 2π k / n_fft`, librosa's `phi_advance`.
    phi: Vec<f64>,
}

fn plan(transform: &'static str) -> Result<&'static Plan> {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    if let Some(p) = PLAN.get() {
        return Ok(p);
    }
    let config = StftConfig::new(STRETCH_N_FFT)
        .with_hop_length(STRETCH_HOP_LENGTH)
        .with_precision(Precision::F32);
    let stft = Stft::new(config).map_err(|source| Error::Dsp { transform, source })?;
    let phi = (0..N_BINS)
        .map(|k| STRETCH_HOP_LENGTH as f64 * (k as f64 * (2.0 * PI / STRETCH_N_FFT as f64)))
        .collect();
    Ok(PLAN.get_or_init(|| Plan { stft, phi }))
}

/// Per-thread buffers reused across calls (the clips of a data loader have similar lengths),
/// so that the hot path does not allocate, or fault in, fresh pages.
#[derive(Default)]
struct Scratch {
    stft: Option<StftScratch>,
    istft: Option<IstftScratch>,
    mag: Vec<f32>,
    ang: Vec<f32>,
    acc: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The phase vocoder and inverse STFT, for validated input.
fn stretch(y: &[f32], rate: f64, transform: &'static str) -> Result<Vec<f32>> {
    let len_out = round_even(y.len() as f64 / rate) as usize;
    if len_out == 0 {
        return Ok(Vec::new());
    }
    let plan = plan(transform)?;
    let out = SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => stretch_with(plan, y, rate, len_out, transform, &mut scratch),
        Err(_) => stretch_with(plan, y, rate, len_out, transform, &mut Scratch::default()),
    })?;
    // Finite input near f32::MAX can overflow in the STFT (found by tests/proptest.rs).
    check_finite(transform, &out)?;
    Ok(out)
}

fn stretch_with(
    plan: &Plan,
    y: &[f32],
    rate: f64,
    len_out: usize,
    transform: &'static str,
    sc: &mut Scratch,
) -> Result<Vec<f32>> {
    let dsp = |source| Error::Dsp { transform, source };
    let stft = &plan.stft;
    let n_frames = stft.n_frames(y.len());
    // Magnitudes and angles of every frame, frame-major, plus librosa's 2 zero columns.
    let n_in = (n_frames + 2) * N_BINS;
    for v in [&mut sc.mag, &mut sc.ang] {
        v.clear();
        v.resize(n_in, 0.0);
    }
    let stft_scratch = sc.stft.get_or_insert_with(|| stft.make_scratch());
    let (mag, ang) = (&mut sc.mag, &mut sc.ang);
    stft.for_each_frame(y, stft_scratch, |t, s| {
        let range = t * N_BINS..(t + 1) * N_BINS;
        for (m, c) in mag[range.clone()].iter_mut().zip(s) {
            *m = (c.re * c.re + c.im * c.im).sqrt();
        }
        for (a, c) in ang[range].iter_mut().zip(s) {
            *a = atan2_f32(c.im, c.re);
        }
    })
    .map_err(dsp)?;

    // np.arange(0, n_frames, rate) has ceil(n_frames / rate) steps; ser-dsp's istft (librosa's)
    // asks only for the first ceil((length + n_fft) / hop) of them, so only those are made.
    let n_steps = (n_frames as f64 / rate).ceil() as usize;
    sc.acc.clear();
    sc.acc.extend_from_slice(&sc.ang[..N_BINS]);
    let (mag, ang, acc) = (&sc.mag, &sc.ang, &mut sc.acc);
    let istft_scratch = sc.istft.get_or_insert_with(|| stft.make_inverse_scratch());
    let two_pi = 2.0 * PI;
    // Multiplying by the reciprocal instead of dividing (numpy) changes the rounded quotient
    // only within an ulp of a half-integer, i.e. never in practice.
    let inv_two_pi = 1.0 / two_pi;
    stft.inverse_with(n_steps, Some(len_out), istft_scratch, |t, spectrum| {
        let step = t as f64 * rate;
        let i = step as usize;
        let alpha = step - i as f64;
        let (beta32, alpha32) = ((1.0 - alpha) as f32, alpha as f32);
        let (m0, m1) = mag[i * N_BINS..(i + 2) * N_BINS].split_at(N_BINS);
        let (a0, a1) = ang[i * N_BINS..(i + 2) * N_BINS].split_at(N_BINS);
        // Output column: interpolated magnitude, accumulated phase.
        for (((o, &p), &x0), &x1) in spectrum.iter_mut().zip(acc.iter()).zip(m0).zip(m1) {
            let m = beta32 * x0 + alpha32 * x1;
            let (s, c) = sincos_f32(p);
            *o = Complex32::new(m * c, m * s);
        }
        // Phase advance, wrapped, accumulated in f64 and rounded to f32 (as numpy does).
        // `phi + ((x - phi) - 2π n)` is `x - 2π n` up to an ulp of `phi` (< 3e-13 rad), far
        // below the float32 rounding of the accumulator that follows.
        for (((a, &p), &x0), &x1) in acc.iter_mut().zip(&plan.phi).zip(a0).zip(a1) {
            let x = f64::from(x1 - x0);
            let n = round_even((x - p) * inv_two_pi);
            *a = (f64::from(*a) + (x - two_pi * n)) as f32;
        }
    })
    .map_err(dsp)
}

/// Shifts the pitch of `y` by `n_steps` steps of `1 / bins_per_octave` octave (semitones for
/// 12) without changing its length, as `librosa.effects.pitch_shift(y, sr=sample_rate,
/// n_steps=n_steps, bins_per_octave=bins_per_octave)` (librosa 0.11, `soxr_hq`); the
/// resampling differs from soxr's, see the module docs.
///
/// ```
/// let y: Vec<f32> = (0..16_000).map(|n| (n as f32 * 0.17).sin()).collect();
/// let up = ser_augment::pitch_shift(&y, 16_000, 2.0, 12)?;
/// assert_eq!(up.len(), y.len());
/// # Ok::<(), ser_augment::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] if `sample_rate` or `bins_per_octave` is 0, or `n_steps` is
/// not finite or shifts by more than 6 octaves, [`Error::Empty`] for no samples,
/// [`Error::NonFinite`] for a NaN or infinite sample (or samples so large that the output
/// overflows), [`Error::Dsp`] if the STFT or the resampler fails.
pub fn pitch_shift(
    y: &[f32],
    sample_rate: u32,
    n_steps: f32,
    bins_per_octave: u32,
) -> Result<Vec<f32>> {
    if sample_rate == 0 {
        return Err(invalid(PITCH_SHIFT, "sample_rate", "0", "must be positive"));
    }
    if bins_per_octave == 0 {
        return Err(invalid(
            PITCH_SHIFT,
            "bins_per_octave",
            "0",
            "must be positive",
        ));
    }
    let octaves = f64::from(n_steps) / f64::from(bins_per_octave);
    if !(octaves.is_finite() && octaves.abs() <= 6.0) {
        return Err(invalid(
            PITCH_SHIFT,
            "n_steps",
            &n_steps.to_string(),
            "must be finite and shift by at most 6 octaves",
        ));
    }
    check_input(PITCH_SHIFT, y)?;
    let rate = (-octaves).exp2();
    check_rate(PITCH_SHIFT, "n_steps", n_steps, rate, y.len())?;
    let stretched = stretch(y, rate, PITCH_SHIFT)?;
    let mut out = if stretched.is_empty() || n_steps == 0.0 {
        stretched
    } else {
        let (l_in, l_out) = resample_ratio(rate);
        resample_cached(&stretched, l_in, l_out).map_err(|source| Error::Dsp {
            transform: PITCH_SHIFT,
            source,
        })?
    };
    out.resize(y.len(), 0.0);
    check_finite(PITCH_SHIFT, &out)?;
    Ok(out)
}

fn invalid(
    transform: &'static str,
    param: &'static str,
    value: &str,
    reason: &'static str,
) -> Error {
    Error::InvalidParameter {
        transform,
        param,
        value: value.to_string(),
        reason,
    }
}

/// The ratio error [`resample_ratio`] accepts before it looks for the fastest FFT sizes:
/// 1e-6 relative, 0.05 samples of drift over 3 s at 16 kHz. (A drift of half a sample, from an
/// error of 1e-5, already costs 16 dB of waveform agreement with librosa on speech.)
const RATIO_TOLERANCE: f64 = 1e-6;

/// Block lengths `(l_in, l_out)` with `l_out / l_in ≈ ratio` (the output-to-input rate ratio of
/// a resampling), both even with `l_in` in `1024..=8192`. Among the pairs whose relative error
/// `|l_out / l_in / ratio - 1|` is within 1e-6, the one with the smallest largest prime factor
/// (fast FFTs), then the shortest; if there is none (about 3% of ratios within ±2 semitones),
/// the most accurate pair with prime factors at most 61 (~1.3e-5 at worst for ratios within
/// ±1 octave). An exact small ratio such as 1/2 gives an exact pair. Used by [`pitch_shift`] to
/// resample by an irrational ratio with an integer-rate resampler.
pub fn resample_ratio(ratio: f64) -> (u32, u32) {
    let mut fallback = (2048u32, ((2048.0 * ratio / 2.0).round() as u32).max(1) * 2);
    let mut fallback_err = f64::INFINITY;
    let mut fast: Option<(usize, (u32, u32))> = None;
    for l_in in (1024u32..=8192).step_by(2) {
        let l_out = ((f64::from(l_in) * ratio / 2.0).round() as u32).max(1) * 2;
        let err = (f64::from(l_out) / f64::from(l_in) / ratio - 1.0).abs();
        if err <= RATIO_TOLERANCE {
            let p = largest_prime_factor(l_in as usize).max(largest_prime_factor(l_out as usize));
            if fast.is_none_or(|(best, _)| p < best) {
                fast = Some((p, (l_in, l_out)));
            }
        } else if err < fallback_err
            && largest_prime_factor(l_in as usize) <= 61
            && largest_prime_factor(l_out as usize) <= 61
        {
            fallback = (l_in, l_out);
            fallback_err = err;
        }
    }
    fast.map_or(fallback, |(_, pair)| pair)
}

/// Random time-stretch of a waveform ([`time_stretch`]) by a rate drawn uniformly from
/// `[min_rate, max_rate]`; recorded as `time_stretch(rate=…)`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeStretch {
    /// The smallest rate (slowest).
    pub min_rate: f32,
    /// The largest rate (fastest).
    pub max_rate: f32,
}

impl TimeStretch {
    /// A stretch with a rate drawn uniformly from `[min_rate, max_rate]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if a rate is not finite and positive, or
    /// `min_rate > max_rate`.
    pub fn new(min_rate: f32, max_rate: f32) -> Result<Self> {
        for (param, v) in [("min_rate", min_rate), ("max_rate", max_rate)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    TIME_STRETCH,
                    param,
                    &v.to_string(),
                    "must be finite and positive",
                ));
            }
        }
        if min_rate > max_rate {
            return Err(invalid(
                TIME_STRETCH,
                "min_rate",
                &min_rate.to_string(),
                "must be at most max_rate",
            ));
        }
        Ok(Self { min_rate, max_rate })
    }

    /// The usual research range, rates in `[0.8, 1.2]`.
    pub fn research() -> Self {
        Self {
            min_rate: 0.8,
            max_rate: 1.2,
        }
    }

    /// Always the same rate.
    ///
    /// # Errors
    /// As [`TimeStretch::new`].
    pub fn fixed(rate: f32) -> Result<Self> {
        Self::new(rate, rate)
    }
}

impl Transform<Audio> for TimeStretch {
    fn name(&self) -> &'static str {
        TIME_STRETCH
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        let rate = if self.min_rate < self.max_rate {
            rng.random_range(self.min_rate..=self.max_rate)
        } else {
            self.min_rate
        };
        let y = time_stretch(x.samples(), rate)?;
        record.push(Applied::new(TIME_STRETCH).with("rate", f64::from(rate)));
        Audio::new(y, x.sample_rate()).map_err(|source| Error::Dsp {
            transform: TIME_STRETCH,
            source,
        })
    }
}

/// How [`PitchShift`] draws its number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Steps {
    /// A whole number of steps, uniform over the integers in the range.
    Whole,
    /// Any real number of steps, uniform over the range.
    #[default]
    Fractional,
}

/// Random pitch shift of a waveform ([`pitch_shift`]) by `n_steps` drawn from
/// `[min_steps, max_steps]`; recorded as `pitch_shift(n_steps=…)`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PitchShift {
    /// The lowest shift, in steps.
    pub min_steps: f32,
    /// The highest shift, in steps.
    pub max_steps: f32,
    /// Whole or fractional steps.
    pub steps: Steps,
    /// Steps per octave (12: semitones).
    pub bins_per_octave: u32,
}

impl PitchShift {
    /// A shift drawn from `[min_steps, max_steps]` as `steps` says.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if a bound is not finite or shifts by more than 6 octaves,
    /// `min_steps > max_steps`, `bins_per_octave` is 0, or [`Steps::Whole`] is asked for a
    /// range without an integer.
    pub fn new(min_steps: f32, max_steps: f32, steps: Steps, bins_per_octave: u32) -> Result<Self> {
        if bins_per_octave == 0 {
            return Err(invalid(
                PITCH_SHIFT,
                "bins_per_octave",
                "0",
                "must be positive",
            ));
        }
        for (param, v) in [("min_steps", min_steps), ("max_steps", max_steps)] {
            if !(v.is_finite() && (f64::from(v) / f64::from(bins_per_octave)).abs() <= 6.0) {
                return Err(invalid(
                    PITCH_SHIFT,
                    param,
                    &v.to_string(),
                    "must be finite and shift by at most 6 octaves",
                ));
            }
        }
        if min_steps > max_steps {
            return Err(invalid(
                PITCH_SHIFT,
                "min_steps",
                &min_steps.to_string(),
                "must be at most max_steps",
            ));
        }
        if steps == Steps::Whole && min_steps.ceil() > max_steps.floor() {
            return Err(invalid(
                PITCH_SHIFT,
                "min_steps",
                &min_steps.to_string(),
                "the range holds no whole number of steps",
            ));
        }
        Ok(Self {
            min_steps,
            max_steps,
            steps,
            bins_per_octave,
        })
    }

    /// The usual research range: `[-2, 2]` semitones, fractional.
    pub fn research() -> Self {
        Self {
            min_steps: -2.0,
            max_steps: 2.0,
            steps: Steps::Fractional,
            bins_per_octave: 12,
        }
    }

    /// Always `n_steps` semitones.
    ///
    /// # Errors
    /// As [`PitchShift::new`].
    pub fn fixed(n_steps: f32) -> Result<Self> {
        Self::new(n_steps, n_steps, Steps::Fractional, 12)
    }

    fn draw(&self, rng: &mut dyn Rng) -> f32 {
        match self.steps {
            Steps::Fractional if self.min_steps < self.max_steps => {
                rng.random_range(self.min_steps..=self.max_steps)
            }
            Steps::Fractional => self.min_steps,
            Steps::Whole => {
                let (lo, hi) = (self.min_steps.ceil() as i32, self.max_steps.floor() as i32);
                if lo < hi {
                    rng.random_range(lo..=hi) as f32
                } else {
                    lo as f32
                }
            }
        }
    }
}

impl Transform<Audio> for PitchShift {
    fn name(&self) -> &'static str {
        PITCH_SHIFT
    }

    fn apply(&self, x: &Audio, rng: &mut dyn Rng, record: &mut Record) -> Result<Audio> {
        let n_steps = self.draw(rng);
        let y = pitch_shift(x.samples(), x.sample_rate(), n_steps, self.bins_per_octave)?;
        record.push(Applied::new(PITCH_SHIFT).with("n_steps", f64::from(n_steps)));
        Audio::new(y, x.sample_rate()).map_err(|source| Error::Dsp {
            transform: PITCH_SHIFT,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atan2_matches_libm() {
        let mut worst = 0.0f32;
        for i in 0..2000 {
            for j in 0..20 {
                let y = (i as f32 - 1000.0) * 0.013;
                let x = (j as f32 - 10.0) * 0.37;
                worst = worst.max((atan2_f32(y, x) - y.atan2(x)).abs());
            }
        }
        assert!(worst < 5e-7, "{worst}");
        assert_eq!(atan2_f32(0.0, 0.0), 0.0);
    }

    #[test]
    fn sincos_matches_libm() {
        let mut worst = 0.0f64;
        for i in 0..100_000 {
            let x = (i as f32 - 30_000.0) * 2.345;
            let (s, c) = sincos_f32(x);
            let xd = f64::from(x);
            worst = worst
                .max((f64::from(s) - xd.sin()).abs())
                .max((f64::from(c) - xd.cos()).abs());
        }
        assert!(worst < 3e-7, "{worst}");
    }

    #[test]
    fn resample_ratio_is_close() {
        for steps in [-12.0f64, -2.0, -0.37, 0.5, 2.0, 7.0, 12.0] {
            let r = (-steps / 12.0).exp2();
            let (a, b) = resample_ratio(r);
            assert!(a % 2 == 0 && b % 2 == 0);
            assert!(
                (f64::from(b) / f64::from(a) / r - 1.0).abs() < 2e-5,
                "{steps}"
            );
        }
        assert_eq!(resample_ratio(0.5), (1024, 512));
    }
}
