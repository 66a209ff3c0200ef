//! Fundamental frequency (f0) estimation, as librosa 0.11: YIN ([`yin`], `librosa.yin`)
//! and probabilistic YIN ([`pyin`], `librosa.pyin`).
//!
//! Both frame the signal (`frame_length` samples every `hop_length`, zero-padded by
//! `frame_length / 2` on both sides when `center`) and compute, per frame, the cumulative
//! mean normalised difference function of de Cheveigné and Kawahara (2002, eq. 8) over the
//! periods `floor(sr / fmax) ..= min(ceil(sr / fmin), frame_length - 1)`. YIN takes its
//! first trough below one threshold; pYIN (Mauch and Dixon, 2014) weighs every trough
//! under a beta distribution of thresholds, maps them to a grid of pitch bins and decodes
//! the most likely voiced/unvoiced pitch path with Viterbi.
//!
//! | file | what |
//! |---|---|
//! | `difference.rs` | framing, the difference function and its normalisation, troughs, parabolic refinement (shared) |
//! | `yin.rs` | [`YinConfig`], [`yin`] |
//! | `pyin.rs` | [`PyinConfig`], [`Pyin`], [`pyin`]: trough probabilities, observation probabilities |
//! | `viterbi.rs` | pYIN's transition matrix (`transition_local` ⊗ `transition_loop`) and a banded Viterbi equal to librosa's dense one |
//! | `numeric.rs` | numpy's pairwise sum, the regularized incomplete beta (scipy's `beta.cdf`), `ln Γ` |

mod difference;
mod numeric;
mod pyin;
mod viterbi;
mod yin;

pub use pyin::{FillNa, MAX_THRESHOLDS, Pyin, PyinConfig, pyin};
pub use yin::{YinConfig, yin};

use crate::error::{Error, Result, invalid};

/// librosa's `note_to_hz('C2')`, the `fmin` librosa's docs recommend.
pub const C2_HZ: f64 = 65.406_391_325_149_66;
/// librosa's `note_to_hz('C7')`, the `fmax` librosa's docs recommend.
pub const C7_HZ: f64 = 2_093.004_522_404_789;

/// Checks what YIN and pYIN share, as librosa's `__check_yin_params` (`0 < fmin < fmax <=
/// sample_rate / 2`, `sample_rate / fmin < frame_length - 1`) plus a hop > 0, and returns
/// `(min_period, max_period)` in samples.
fn check_periods(
    sample_rate: u32,
    fmin: f64,
    fmax: f64,
    frame_length: usize,
    hop: usize,
) -> Result<(usize, usize)> {
    if sample_rate == 0 {
        return Err(Error::ZeroSampleRate);
    }
    let sr = f64::from(sample_rate);
    if !(fmin.is_finite() && fmin > 0.0) {
        return Err(invalid("fmin", fmin, "must be finite and > 0"));
    }
    if !fmax.is_finite() || fmax > sr / 2.0 {
        return Err(invalid(
            "fmax",
            fmax,
            "must be finite and at most the Nyquist frequency",
        ));
    }
    if fmin >= fmax {
        return Err(invalid("fmin", fmin, "must be less than fmax"));
    }
    if frame_length < 3 || sr / fmin >= (frame_length - 1) as f64 {
        return Err(invalid(
            "frame_length",
            frame_length,
            "too short for fmin: sample_rate / fmin must be < frame_length - 1",
        ));
    }
    if hop == 0 {
        return Err(invalid("hop_length", 0, "must be > 0"));
    }
    // 2 <= min_period < max_period <= frame_length - 1: fmax <= sr / 2 gives the first;
    // floor(sr / fmax) <= sr / fmax < sr / fmin <= ceil(sr / fmin) and
    // sr / fmin < frame_length - 1 give the second.
    let min_period = (sr / fmax).floor() as usize;
    let max_period = ((sr / fmin).ceil() as usize).min(frame_length - 1);
    Ok((min_period, max_period))
}

/// The number of frames of `n_samples` samples, or `None` when the (padded) input is
/// shorter than one frame.
fn n_frames(n_samples: usize, frame_length: usize, hop: usize, center: bool) -> Option<usize> {
    let padded = if center {
        n_samples + 2 * (frame_length / 2)
    } else {
        n_samples
    };
    (padded >= frame_length && hop > 0).then(|| 1 + (padded - frame_length) / hop)
}
