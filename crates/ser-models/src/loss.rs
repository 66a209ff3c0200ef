//! The training loss: cross-entropy, optionally weighted per class and with label
//! smoothing, and the balanced class weights that weighting uses. (The L2 penalty on the
//! weights is the model's, [`Model::l2_penalty`](crate::Model::l2_penalty).)

use candle_core::{D, Tensor};

/// Balanced class weights `n / (k · count_c)` over `k` classes (absent classes get 0).
pub fn balanced_class_weights(labels: &[usize], classes: usize) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &l in labels {
        if l < classes {
            counts[l] += 1;
        }
    }
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    let n = labels.len() as f64;
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                (n / (present as f64 * c as f64)) as f32
            }
        })
        .collect()
}

/// Mean cross-entropy of `logits` `[B, K]` against `labels` `[B]` (u32), weighted per class
/// like PyTorch's `CrossEntropyLoss(weight=…)` when `weights` `[K]` is given.
///
/// # Errors
/// Shape and device errors.
pub fn cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?;
    match weights {
        None => picked.mean_all()?.neg(),
        Some(w) => {
            let wi = w.gather(labels, 0)?;
            let num = (&picked * &wi)?.sum_all()?;
            let den = wi.sum_all()?;
            (num / den)?.neg()
        }
    }
}

/// [`cross_entropy`] with label smoothing `epsilon`, as PyTorch's
/// `CrossEntropyLoss(weight=…, label_smoothing=ε)`: `(1 − ε)·CE + ε/K·S`, where `S` is the
/// mean over the batch of `−Σ_k w_k·log p_k` (weighted: the sum over the batch divided by
/// the sum of the labels' weights, as PyTorch's mean reduction). `epsilon` 0 is
/// [`cross_entropy`] exactly.
///
/// # Errors
/// Shape and device errors.
pub fn smoothed_cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: Option<&Tensor>,
    epsilon: f64,
) -> candle_core::Result<Tensor> {
    let ce = cross_entropy(logits, labels, weights)?;
    if epsilon == 0.0 {
        return Ok(ce);
    }
    let k = logits.dim(D::Minus1)?;
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let smooth = match weights {
        None => logp.sum(D::Minus1)?.mean_all()?.neg()?,
        Some(w) => {
            let per_item = logp.broadcast_mul(&w.unsqueeze(0)?)?.sum(D::Minus1)?;
            let den = w.gather(labels, 0)?.sum_all()?;
            (per_item.sum_all()? / den)?.neg()?
        }
    };
    (ce * (1.0 - epsilon))? + (smooth * (epsilon / k as f64))?
}
