//! The training loss: cross-entropy, optionally weighted per class, and the balanced
//! class weights that weighting uses. (The L2 penalty on the weights is the model's,
//! [`Model::l2_penalty`](crate::Model::l2_penalty).)

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
