//! A model run over a [`BatchSource`] in evaluation mode: class probabilities for every
//! item ([`predict`], [`Predictions`]) and the mean loss and accuracy ([`evaluate_loss`]);
//! an ensemble of models, scored by the mean of their probabilities ([`predict_mean`],
//! [`Predictions::mean`]).

use std::path::{Path, PathBuf};

use candle_core::Tensor;
use ndarray::Axis;
use serde::{Deserialize, Serialize};

use crate::data::BatchSource;
use crate::error::{Error, Result};
use crate::features::batch_tensor;
use crate::layers::Mode;
use crate::loss::cross_entropy;
use crate::metrics::ClassificationReport;
use crate::models::Model;

/// Loss and accuracy of a model over a [`BatchSource`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossAccuracy {
    /// Mean cross-entropy (without the L2 penalty).
    pub loss: f64,
    /// Fraction right.
    pub accuracy: f64,
}

/// Mean cross-entropy and accuracy of `model` over `data`, in evaluation mode.
///
/// # Errors
/// As [`predict`].
pub fn evaluate_loss(model: &Model, data: &dyn BatchSource) -> Result<LossAccuracy> {
    let p = predict(model, data)?;
    Ok(LossAccuracy {
        loss: p.loss,
        accuracy: p.accuracy(),
    })
}

/// Class probabilities for every item of a [`BatchSource`], with its label and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// Softmax probabilities, one row per item.
    pub probabilities: Vec<Vec<f32>>,
    /// True labels.
    pub labels: Vec<usize>,
    /// Item ids (files).
    pub ids: Vec<PathBuf>,
    /// Mean cross-entropy.
    pub loss: f64,
}

impl Predictions {
    /// The most probable class of each item.
    pub fn predicted(&self) -> Vec<usize> {
        self.probabilities
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i)
            })
            .collect()
    }

    /// Fraction right.
    pub fn accuracy(&self) -> f64 {
        let pred = self.predicted();
        let right = pred
            .iter()
            .zip(&self.labels)
            .filter(|(p, l)| p == l)
            .count();
        right as f64 / self.labels.len().max(1) as f64
    }

    /// The ensemble of several models' predictions of the same items: the mean of their
    /// probabilities, with the mean cross-entropy of that mean.
    ///
    /// # Errors
    /// [`Error::NothingToPredict`] for no member; [`Error::Config`] when the members
    /// predicted other items, in another order, with other labels or other classes.
    pub fn mean(members: &[&Predictions]) -> Result<Predictions> {
        let first = members.first().ok_or(Error::NothingToPredict)?;
        let classes = first.probabilities.first().map_or(0, Vec::len);
        for (i, m) in members.iter().enumerate() {
            if m.ids != first.ids
                || m.labels != first.labels
                || m.probabilities.iter().any(|p| p.len() != classes)
            {
                return Err(Error::config(
                    "ensemble",
                    format!("member {}", i + 1),
                    "predicted other items or classes than member 1",
                ));
            }
        }
        let n = members.len() as f32;
        let probabilities: Vec<Vec<f32>> = (0..first.ids.len())
            .map(|i| {
                let mut row = vec![0.0f32; classes];
                for m in members {
                    for (r, p) in row.iter_mut().zip(&m.probabilities[i]) {
                        *r += p;
                    }
                }
                row.iter_mut().for_each(|r| *r /= n);
                row
            })
            .collect();
        let loss = probabilities
            .iter()
            .zip(&first.labels)
            .map(|(p, &l)| {
                -f64::from(p.get(l).copied().unwrap_or(0.0))
                    .max(f64::MIN_POSITIVE)
                    .ln()
            })
            .sum::<f64>()
            / first.labels.len().max(1) as f64;
        Ok(Predictions {
            probabilities,
            labels: first.labels.clone(),
            ids: first.ids.clone(),
            loss,
        })
    }

    /// The classification report, with per-group figures when `group_of` names each
    /// item's group (e.g. its corpus).
    ///
    /// # Errors
    /// [`Error::Metrics`].
    pub fn report(
        &self,
        classes: &[&str],
        group_of: Option<&dyn Fn(&Path) -> String>,
    ) -> Result<ClassificationReport> {
        let groups: Option<Vec<String>> = group_of.map(|g| self.ids.iter().map(|p| g(p)).collect());
        let group_refs: Option<Vec<&str>> = groups
            .as_ref()
            .map(|g| g.iter().map(String::as_str).collect());
        Ok(ClassificationReport::from_predictions(
            &self.labels,
            &self.predicted(),
            classes,
            group_refs.as_deref(),
        )?)
    }
}

/// Runs `model` in evaluation mode over `data`.
///
/// # Errors
/// Errors of `data`; [`Error::NothingToPredict`] when it yields no item; input and
/// device errors.
pub fn predict(model: &Model, data: &dyn BatchSource) -> Result<Predictions> {
    let spec = model.config().input;
    let device = model.device();
    let mut out = Predictions {
        probabilities: Vec::new(),
        labels: Vec::new(),
        ids: Vec::new(),
        loss: 0.0,
    };
    let mut sum_loss = 0.0;
    for batch in data.batches(0) {
        let batch = batch?;
        let xs = batch_tensor(batch.features.axis_iter(Axis(0)), &spec, device)?;
        let logits = model.forward_t(&xs, Mode::Eval)?;
        let labels: Vec<u32> = batch.labels.iter().map(|&l| l as u32).collect();
        let lt = Tensor::new(labels.as_slice(), device)?;
        let ce = f64::from(cross_entropy(&logits, &lt, None)?.to_scalar::<f32>()?);
        sum_loss += ce * batch.labels.len() as f64;
        let probs: Vec<Vec<f32>> = candle_nn::ops::softmax(&logits, 1)?.to_vec2()?;
        out.probabilities.extend(probs);
        out.labels.extend(batch.labels);
        out.ids.extend(batch.paths);
    }
    if out.labels.is_empty() {
        return Err(Error::NothingToPredict);
    }
    out.loss = sum_loss / out.labels.len() as f64;
    Ok(out)
}

/// Runs each of `models` (an ensemble: the same inputs, the same classes) over `data` and
/// averages their probabilities ([`Predictions::mean`]); one model is [`predict`].
///
/// # Errors
/// As [`predict`] and [`Predictions::mean`] ([`Error::NothingToPredict`] for no model).
pub fn predict_mean(models: &[Model], data: &dyn BatchSource) -> Result<Predictions> {
    let each = models
        .iter()
        .map(|m| predict(m, data))
        .collect::<Result<Vec<_>>>()?;
    Predictions::mean(&each.iter().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds(rows: Vec<Vec<f32>>, ids: &[&str]) -> Predictions {
        Predictions {
            labels: vec![0; rows.len()],
            probabilities: rows,
            ids: ids.iter().map(PathBuf::from).collect(),
            loss: 0.0,
        }
    }

    #[test]
    fn an_ensemble_averages_probabilities_of_the_same_items() {
        let a = preds(vec![vec![0.9, 0.1], vec![0.2, 0.8]], &["x", "y"]);
        let b = preds(vec![vec![0.3, 0.7], vec![0.6, 0.4]], &["x", "y"]);
        let m = Predictions::mean(&[&a, &b]).unwrap();
        let close = |u: &[f32], v: &[f32]| u.iter().zip(v).all(|(p, q)| (p - q).abs() < 1e-6);
        assert!(close(&m.probabilities[0], &[0.6, 0.4]));
        assert!(close(&m.probabilities[1], &[0.4, 0.6]));
        assert_eq!(m.predicted(), vec![0, 1]);
        // The cross-entropy of the mean: labels 0 and 0, probabilities 0.6 and 0.4.
        let ce = -(0.6f64.ln() + 0.4f64.ln()) / 2.0;
        assert!((m.loss - ce).abs() < 1e-6, "{}", m.loss);
        let other = preds(vec![vec![0.3, 0.7], vec![0.6, 0.4]], &["x", "z"]);
        assert!(Predictions::mean(&[&a, &other]).is_err());
        let fewer = preds(vec![vec![0.3], vec![0.6]], &["x", "y"]);
        assert!(Predictions::mean(&[&a, &fewer]).is_err());
        assert!(Predictions::mean(&[]).is_err());
    }
}
