//! Sample-rate conversion with [rubato]'s synchronous FFT resampler.
//!
//! The output of a whole clip has `ceil(len * to / from)` samples and is aligned with the
//! input (rubato's start-up delay is removed), the same length rule as `librosa.resample`.
//! Equal rates are returned unchanged.
//!
//! The preset is rubato's `Fft` with a Blackman-Harris² anti-aliasing window and sub-chunks
//! of about [`SUB_CHUNK_FRAMES`] input frames: a long FFT block gives a steep low-pass
//! (see `docs/parity.md` for the measured distance to soxr's `HQ` preset). A whole clip is
//! resampled straight from the input slice into one output buffer; [`StreamingResampler`]
//! takes the input in pieces of any size, for inputs that do not fit in memory.
//! [`resample_cached`] keeps the plans of the last few rate pairs per thread (bounded in
//! count and in block length), for loops over many clips.

use std::cell::RefCell;

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _, WindowFunction};

use crate::error::{Error, Result, check_finite};

/// The approximate FFT sub-chunk length, in input frames, of the high-quality preset.
pub const SUB_CHUNK_FRAMES: usize = 1024;

/// The sample rates `ser` accepts from files and configurations: 1 kHz to 768 kHz. Files
/// whose header declares another rate are refused by `ser-audio-io`, and configurations by
/// their constructors, so that a hostile header (a rate of 4 GHz, or 1 Hz) cannot make the
/// resampler plan gigabytes.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// The longest FFT block, in samples, a resampler may plan (4 Mi samples, 16 MB per buffer).
/// The block sizes follow the rates divided by their greatest common divisor; every pair of
/// rates in [`SAMPLE_RATES`] needs at most about 3.2 M samples, so only pairs outside it
/// (or far apart and nearly coprime) can be refused, with [`Error::ResamplerTooLarge`].
pub const MAX_FFT_BLOCK: usize = 1 << 22;

/// `rate` if it is in [`SAMPLE_RATES`].
///
/// # Errors
/// [`Error::ZeroSampleRate`] for 0, [`Error::SampleRateOutOfRange`] otherwise.
pub fn check_sample_rate(rate: u32) -> Result<u32> {
    if rate == 0 {
        Err(Error::ZeroSampleRate)
    } else if SAMPLE_RATES.contains(&rate) {
        Ok(rate)
    } else {
        Err(Error::SampleRateOutOfRange { rate })
    }
}

/// A planned resampler from one fixed rate to another.
///
/// ```
/// use ser_dsp::Resampler;
/// let mut r = Resampler::new(48_000, 16_000)?;
/// let y: Vec<f32> = (0..48_000).map(|n| (n as f32 * 0.01).sin()).collect();
/// assert_eq!(r.process(&y)?.len(), 16_000);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
pub struct Resampler {
    from: u32,
    to: u32,
    inner: Option<Fft<f32>>,
    /// The FFT block length in frames (0 for a copy): what [`resample_cached`] budgets.
    block_frames: usize,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The largest prime factor of `n` (1 for `n <= 1`), by trial division (`O(√n)`).
///
/// FFTs of lengths whose prime factors are all small are several times faster than those of
/// lengths with a large prime factor, so this ranks candidate block lengths: the resampler
/// here picks its FFT blocks with it, and `ser-augment`'s pitch shift its resampling ratio.
///
/// ```
/// use ser_dsp::resample::largest_prime_factor;
/// assert_eq!(largest_prime_factor(1536), 3); // 2^9 · 3
/// assert_eq!(largest_prime_factor(1026), 19); // 2 · 3^3 · 19
/// assert_eq!(largest_prime_factor(1), 1);
/// ```
pub fn largest_prime_factor(mut n: usize) -> usize {
    let mut largest = 1;
    let mut p = 2;
    while p * p <= n {
        while n.is_multiple_of(p) {
            largest = p;
            n /= p;
        }
        p += 1;
    }
    if n > 1 { n } else { largest }
}

/// The number of minimum blocks per FFT block: at least [`SUB_CHUNK_FRAMES`] input frames,
/// input and output block sizes both even, and among the candidates up to twice that long,
/// the one whose FFT lengths have the smallest largest prime factor (FFTs of smooth lengths
/// are several times faster: 48 -> 16 kHz with blocks of 1026 = 2·3³·19 input frames took
/// 0.61 ms per 3 s, with 1152 = 2⁷·3² it takes less than half, see docs/benchmarks.md).
fn blocks_per_fft(min_in: usize, min_out: usize) -> usize {
    let first = SUB_CHUNK_FRAMES.div_ceil(min_in).max(1);
    (first..=2 * first)
        .filter(|k| (k * min_in).is_multiple_of(2) && (k * min_out).is_multiple_of(2))
        .min_by_key(|k| largest_prime_factor(k * min_in).max(largest_prime_factor(k * min_out)))
        .unwrap_or(2 * first)
}

/// Plans rubato's `Fft` with FFT blocks of about [`SUB_CHUNK_FRAMES`] input frames whose
/// input and output sizes are both even and FFT-friendly ([`blocks_per_fft`]).
///
/// rubato's filter is centred on input frame `fft_size_in / 2` (integer division) and it
/// reports a delay of `fft_size_out / 2` output frames: with an odd block size the two
/// disagree by half a sample, which shows as a fractional delay (measured: only 12 dB of
/// agreement with soxr on a 6 kHz tone at 44.1 -> 16 kHz). Even sizes keep it exact.
///
/// Returns the plan and its block length in frames (the longer of the input and output
/// blocks), which is at most [`MAX_FFT_BLOCK`].
fn make_fft(from: u32, to: u32, fixed: FixedSync) -> Result<(Fft<f32>, usize)> {
    let g = gcd(from, to);
    let (min_in, min_out) = ((from / g) as usize, (to / g) as usize);
    let blocks = blocks_per_fft(min_in, min_out);
    let frames = blocks.saturating_mul(min_in.max(min_out));
    if frames > MAX_FFT_BLOCK {
        return Err(Error::ResamplerTooLarge {
            from,
            to,
            frames,
            limit: MAX_FFT_BLOCK,
        });
    }
    Fft::new_custom(
        from as usize,
        to as usize,
        blocks * min_in,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        fixed,
    )
    .map(|fft| (fft, frames))
    .map_err(|source| Error::ResamplerConstruction { from, to, source })
}

/// The rubato resampler for a rate pair and its block length in frames, `None` when the
/// rates are equal (a copy).
fn plan(from: u32, to: u32) -> Result<Option<(Fft<f32>, usize)>> {
    if from == 0 || to == 0 {
        return Err(Error::ZeroSampleRate);
    }
    if from == to {
        Ok(None)
    } else {
        make_fft(from, to, FixedSync::Input).map(Some)
    }
}

/// The output length of a whole clip, `librosa.resample`'s rule:
/// `ceil(len * (to / from))` in `f64` (so 44100 samples from 44.1 to 48 kHz give 48001, as
/// librosa).
pub fn resampled_len(len: usize, from: u32, to: u32) -> usize {
    let ratio = f64::from(to) / f64::from(from.max(1));
    (len as f64 * ratio).ceil() as usize
}

impl Resampler {
    /// Plans a resampler from `from` Hz to `to` Hz: any pair of positive rates whose FFT
    /// blocks fit in [`MAX_FFT_BLOCK`], which includes every pair in [`SAMPLE_RATES`]. The
    /// plan's memory and the time per input sample are then bounded whatever the rates.
    ///
    /// # Errors
    /// [`Error::ZeroSampleRate`] for a zero rate, [`Error::ResamplerTooLarge`] for a pair
    /// that would need longer blocks, [`Error::ResamplerConstruction`] if rubato refuses
    /// the pair.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let (inner, block_frames) = match plan(from, to)? {
            Some((fft, frames)) => (Some(fft), frames),
            None => (None, 0),
        };
        Ok(Self {
            from,
            to,
            inner,
            block_frames,
        })
    }

    /// The input rate in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// The output rate in Hz.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Resamples a whole clip: `ceil(len * to / from)` samples, aligned with the input.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a NaN or infinite sample; [`Error::Resample`] if rubato fails.
    pub fn process(&mut self, y: &[f32]) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        self.process_into(y, &mut out)?;
        Ok(out)
    }

    /// [`Resampler::process`] into a reused buffer (cleared first).
    ///
    /// # Errors
    /// As [`Resampler::process`].
    pub fn process_into(&mut self, y: &[f32], out: &mut Vec<f32>) -> Result<()> {
        check_finite("resample", y)?;
        out.clear();
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(y);
            return Ok(());
        };
        if y.is_empty() {
            return Ok(());
        }
        inner.reset();
        let needed = inner.process_all_needed_output_len(y.len());
        out.resize(needed, 0.0);
        let input = mono_in(y)?;
        let mut output = mono_out(out.as_mut_slice())?;
        let (_, produced) = inner.process_all_into_buffer(&input, &mut output, y.len(), None)?;
        // rubato rounds its own f64 ratio; keep librosa's length (they differ by at most one
        // sample past the end of the signal, when `len * ratio` is within an ulp of an integer).
        out.truncate(produced);
        out.resize(resampled_len(y.len(), self.from, self.to), 0.0);
        Ok(())
    }
}

/// Resamples a whole clip from `from` Hz to `to` Hz (a copy when the rates are equal).
///
/// # Errors
/// As [`Resampler::new`] and [`Resampler::process`].
pub fn resample(y: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    Resampler::new(from, to)?.process(y)
}

/// The most planned resamplers each thread keeps for [`resample_cached`].
pub const CACHED_RESAMPLERS: usize = 8;

/// The most FFT block frames, summed over its resamplers, that each thread keeps for
/// [`resample_cached`] (2^18): a plan's memory grows with its block, so rate pairs with
/// long blocks (far apart and nearly coprime, up to [`MAX_FFT_BLOCK`]) cannot pin much
/// memory in the cache. Every pair of common rates needs a block of at most a few thousand
/// frames.
pub const CACHED_BLOCK_FRAMES: usize = 1 << 18;

/// [`resample`] through a per-thread cache of planned resamplers, so that a loop over many
/// clips at the same rates plans once per thread: planning costs about as much as resampling
/// a 3 s clip. The output is bit-identical to [`resample`]'s: a resampler is reset before
/// each clip ([`Resampler::process`]).
///
/// The cache holds at most [`CACHED_RESAMPLERS`] resamplers and [`CACHED_BLOCK_FRAMES`]
/// block frames per thread, dropping the least recently used first; a pair whose block alone
/// exceeds the budget is planned for the call and not kept, as by [`resample`]. A pair is
/// checked as by [`Resampler::new`] when it is planned, so the cache admits only plans that
/// [`MAX_FFT_BLOCK`] allows.
///
/// ```
/// let y: Vec<f32> = (0..44_100).map(|n| (n as f32 * 0.01).sin()).collect();
/// let once = ser_dsp::resample::resample_cached(&y, 44_100, 16_000)?; // plans
/// let again = ser_dsp::resample::resample_cached(&y, 44_100, 16_000)?; // reuses the plan
/// assert_eq!(once, again);
/// assert_eq!(once, ser_dsp::resample(&y, 44_100, 16_000)?);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
///
/// # Errors
/// As [`resample`].
pub fn resample_cached(y: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    CACHE.with(|cell| {
        // Only a re-entrant call (none today) finds the cache borrowed.
        let Ok(mut cache) = cell.try_borrow_mut() else {
            return resample(y, from, to);
        };
        let mut r = match cache.iter().position(|r| r.from == from && r.to == to) {
            Some(i) => cache.remove(i),
            None => Resampler::new(from, to)?,
        };
        let out = r.process(y);
        keep(&mut cache, r);
        out
    })
}

thread_local! {
    /// [`resample_cached`]'s planned resamplers, least recently used first.
    static CACHE: RefCell<Vec<Resampler>> = const { RefCell::new(Vec::new()) };
}

/// Puts `r` back as the most recently used entry of `cache`, then drops the least recently
/// used ones until the cache is within [`CACHED_RESAMPLERS`] and [`CACHED_BLOCK_FRAMES`].
/// A copy (equal rates) is not worth an entry.
fn keep(cache: &mut Vec<Resampler>, r: Resampler) {
    if r.block_frames == 0 || r.block_frames > CACHED_BLOCK_FRAMES {
        return;
    }
    cache.push(r);
    let mut frames: usize = cache.iter().map(|r| r.block_frames).sum();
    while cache.len() > CACHED_RESAMPLERS || frames > CACHED_BLOCK_FRAMES {
        frames -= cache.remove(0).block_frames;
    }
}

/// A resampler fed in pieces of any size; its concatenated output equals
/// [`Resampler::process`] on the whole input (same length, same alignment) up to rubato's
/// rounding, while holding only one FFT block of input.
///
/// ```
/// use ser_dsp::StreamingResampler;
/// let mut r = StreamingResampler::new(44_100, 16_000)?;
/// let mut out = Vec::new();
/// for piece in vec![0.0f32; 44_100].chunks(1000) {
///     r.push(piece, &mut out)?;
/// }
/// r.finish(&mut out)?;
/// assert_eq!(out.len(), 16_000);
/// # Ok::<(), ser_dsp::Error>(())
/// ```
pub struct StreamingResampler {
    from: u32,
    to: u32,
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    block: Vec<f32>,
    to_trim: usize,
    consumed: usize,
    produced: usize,
}

impl std::fmt::Debug for StreamingResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingResampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("consumed", &self.consumed)
            .field("produced", &self.produced)
            .finish()
    }
}

impl StreamingResampler {
    /// Plans a streaming resampler from `from` Hz to `to` Hz.
    ///
    /// # Errors
    /// As [`Resampler::new`].
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let inner = plan(from, to)?.map(|(fft, _)| fft);
        let (block, to_trim) = match &inner {
            Some(r) => (vec![0.0; r.output_frames_max()], r.output_delay()),
            None => (Vec::new(), 0),
        };
        Ok(Self {
            from,
            to,
            inner,
            pending: Vec::new(),
            block,
            to_trim,
            consumed: 0,
            produced: 0,
        })
    }

    /// Feeds `input`, appending the output that is ready to `out`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (nothing is consumed then) or [`Error::Resample`].
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        check_finite("resample", input)?;
        self.consumed += input.len();
        let Some(inner) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            self.produced += input.len();
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut offset = 0;
        loop {
            let need = inner.input_frames_next();
            if self.pending.len() - offset < need {
                break;
            }
            let (n_in, n_out) = run_block(
                inner,
                &self.pending[offset..offset + need],
                &mut self.block,
                None,
            )?;
            offset += n_in;
            emit(
                &self.block[..n_out],
                &mut self.to_trim,
                &mut self.produced,
                out,
            );
        }
        self.pending.drain(..offset);
        Ok(())
    }

    /// Flushes the rest: after this, `out` holds `ceil(total_in * to / from)` samples in all.
    /// The resampler is reset and can take a new stream.
    ///
    /// # Errors
    /// [`Error::Resample`].
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        let expected = resampled_len(self.consumed, self.from, self.to);
        if let Some(inner) = self.inner.as_mut() {
            let mut partial = Some(self.pending.len());
            while self.produced < expected {
                let need = inner.input_frames_next();
                let mut buf = std::mem::take(&mut self.pending);
                buf.resize(need.max(buf.len()), 0.0);
                let (_, n_out) = run_block(inner, &buf[..need], &mut self.block, partial)?;
                partial = Some(0);
                let wanted = n_out.min(expected - self.produced + self.to_trim);
                emit(
                    &self.block[..wanted],
                    &mut self.to_trim,
                    &mut self.produced,
                    out,
                );
            }
            inner.reset();
            self.to_trim = inner.output_delay();
        }
        self.pending.clear();
        self.consumed = 0;
        self.produced = 0;
        Ok(())
    }
}

fn run_block(
    inner: &mut Fft<f32>,
    input: &[f32],
    block: &mut [f32],
    partial: Option<usize>,
) -> Result<(usize, usize)> {
    let inp = mono_in(input)?;
    let mut outp = mono_out(block)?;
    let indexing = partial.map(|p| Indexing::new().partial_len(p));
    Ok(inner.process_into_buffer(&inp, &mut outp, indexing.as_ref())?)
}

/// A one-channel rubato view of `y` (no copy).
fn mono_in(y: &[f32]) -> Result<SequentialSlice<&[f32]>> {
    SequentialSlice::new(y, 1, y.len()).map_err(|_| Error::ShapeMismatch {
        what: "resample input",
        expected: vec![1, y.len()],
        got: vec![y.len()],
    })
}

/// A one-channel writable rubato view of `y` (no copy).
fn mono_out(y: &mut [f32]) -> Result<SequentialSlice<&mut [f32]>> {
    let n = y.len();
    SequentialSlice::new_mut(y, 1, n).map_err(|_| Error::ShapeMismatch {
        what: "resample output",
        expected: vec![1, n],
        got: vec![n],
    })
}

fn emit(block: &[f32], to_trim: &mut usize, produced: &mut usize, out: &mut Vec<f32>) {
    let skip = (*to_trim).min(block.len());
    *to_trim -= skip;
    out.extend_from_slice(&block[skip..]);
    *produced += block.len() - skip;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_whole_clip() {
        let y: Vec<f32> = (0..30_000)
            .map(|n| (n as f32 * 0.031).sin() * 0.5)
            .collect();
        for (from, to) in [(48_000, 16_000), (22_050, 16_000), (16_000, 44_100)] {
            let whole = resample(&y, from, to).unwrap();
            let mut s = StreamingResampler::new(from, to).unwrap();
            let mut out = Vec::new();
            for piece in y.chunks(777) {
                s.push(piece, &mut out).unwrap();
            }
            s.finish(&mut out).unwrap();
            assert_eq!(out.len(), whole.len(), "{from}->{to}");
            let err = out
                .iter()
                .zip(&whole)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-5, "{from}->{to}: {err}");
        }
    }

    #[test]
    fn fft_blocks_are_even_and_smooth() {
        assert_eq!(largest_prime_factor(1026), 19);
        assert_eq!(largest_prime_factor(1536), 3);
        for (from, to) in [
            (48_000u32, 16_000u32),
            (44_100, 16_000),
            (22_050, 16_000),
            (16_000, 44_100),
            (8000, 16_000),
            (44_100, 44_099),
        ] {
            let g = gcd(from, to);
            let (i, o) = ((from / g) as usize, (to / g) as usize);
            let k = blocks_per_fft(i, o);
            assert!(k * i >= SUB_CHUNK_FRAMES.min(2 * i) || k * i >= i);
            assert_eq!((k * i) % 2, 0, "{from}->{to}");
            assert_eq!((k * o) % 2, 0, "{from}->{to}");
        }
        assert_eq!(blocks_per_fft(3, 1) * 3, 1152); // 2^7 * 3^2
    }

    fn bits(y: &[f32]) -> Vec<u32> {
        y.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn cached_is_bit_identical_to_fresh() {
        let a: Vec<f32> = (0..20_011)
            .map(|n| (n as f32 * 0.037).sin() * 0.6)
            .collect();
        let b: Vec<f32> = (0..9_001)
            .map(|n| ((n * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        for (from, to) in [(44_100, 16_000), (48_000, 16_000), (16_000, 22_050)] {
            let fresh = resample(&a, from, to).unwrap();
            // A miss, then hits whose resampler has just seen another clip.
            for y in [&a, &b, &a, &a] {
                let cached = resample_cached(y, from, to).unwrap();
                assert_eq!(bits(&cached), bits(&resample(y, from, to).unwrap()));
            }
            assert_eq!(bits(&resample_cached(&a, from, to).unwrap()), bits(&fresh));
        }
        // Equal rates: a copy, not cached.
        assert_eq!(resample_cached(&a, 16_000, 16_000).unwrap(), a);
        // Errors are those of a fresh plan.
        assert!(matches!(
            resample_cached(&a, 0, 16_000),
            Err(Error::ZeroSampleRate)
        ));
    }

    #[test]
    fn cache_is_bounded_in_count_and_block_frames() {
        let entry = |from: u32, block_frames: usize| Resampler {
            from,
            to: 1,
            inner: None,
            block_frames,
        };
        let froms = |cache: &[Resampler]| cache.iter().map(|r| r.from).collect::<Vec<_>>();
        let mut cache = Vec::new();
        for from in 1..=20 {
            keep(&mut cache, entry(from, 1000));
        }
        // The most recent CACHED_RESAMPLERS, oldest first.
        assert_eq!(froms(&cache), (13..=20).collect::<Vec<_>>());
        // A copy or a block over the budget is not kept.
        keep(&mut cache, entry(21, 0));
        keep(&mut cache, entry(22, CACHED_BLOCK_FRAMES + 1));
        assert_eq!(froms(&cache), (13..=20).collect::<Vec<_>>());
        // Long blocks evict the oldest until the frames fit.
        keep(&mut cache, entry(23, CACHED_BLOCK_FRAMES / 2));
        keep(&mut cache, entry(24, CACHED_BLOCK_FRAMES / 2));
        assert_eq!(froms(&cache), vec![23, 24]);
        keep(&mut cache, entry(25, 1));
        assert_eq!(froms(&cache), vec![24, 25]);

        // Through resample_cached: many rate pairs leave at most CACHED_RESAMPLERS plans.
        let y = vec![0.25f32; 3000];
        for to in (8_000..28_000).step_by(1000) {
            resample_cached(&y, 16_000, to).unwrap();
        }
        CACHE.with(|c| {
            let cache = c.borrow();
            assert_eq!(cache.len(), CACHED_RESAMPLERS);
            assert!(cache.iter().map(|r| r.block_frames).sum::<usize>() <= CACHED_BLOCK_FRAMES);
            assert_eq!(cache.last().map(|r| r.to), Some(27_000));
        });
    }

    #[test]
    fn lengths_follow_librosa() {
        assert_eq!(resampled_len(10, 3, 2), 7);
        assert_eq!(resample(&[0.0; 1000], 44_100, 16_000).unwrap().len(), 363);
        assert_eq!(resample(&[], 48_000, 16_000).unwrap().len(), 0);
    }
}
