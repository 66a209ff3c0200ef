//! Classification metrics and training histories.
//!
//! [`ClassificationReport`] follows scikit-learn 1.9's `classification_report`,
//! `precision_recall_fscore_support(labels=range(n_classes), zero_division=0)`,
//! `confusion_matrix(labels=range(n_classes))` and `balanced_accuracy_score`. For a class
//! `c` with `tp` true positives, `support` true occurrences and `predicted` predictions:
//!
//! - precision = `tp / predicted` (0 when the class is never predicted),
//! - recall = `tp / support` (0 when the class is absent from the truth),
//! - F1 = `2 tp / (support + predicted)` (0 when both are 0), the same value as
//!   `2 P R / (P + R)`, written as scikit-learn computes it.
//!
//! The macro average is the plain mean over **all** classes (a class that is neither present
//! nor predicted counts with 0), the weighted average weighs each class by its support.
//! Balanced accuracy, the "unweighted accuracy" (UA) of the speech-emotion literature, is the
//! mean recall over the classes present in the truth. The golden test
//! (`crates/ser-models/tests/metrics.rs`) checks all of these against scikit-learn, see
//! `fixtures/scripts/make_golden_metrics.py`.
//!
//! [`History`] records one [`EpochRecord`] per training epoch.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Why a [`ClassificationReport`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The predictions (or the groups) do not have one entry per true label.
    #[error("{what} has {got} entries, but there are {expected} true labels")]
    LengthMismatch {
        /// What has the wrong length: `"predicted"` or `"groups"`.
        what: &'static str,
        /// The number of true labels.
        expected: usize,
        /// The number of entries given.
        got: usize,
    },
    /// There are no labels at all.
    #[error("no labels: cannot compute metrics on an empty set")]
    Empty,
    /// The list of class names is empty.
    #[error("no classes: the list of class names is empty")]
    NoClasses,
    /// A label is not a valid class index.
    #[error("{what}[{position}] = {index} is not a class index (there are {n_classes} classes)")]
    ClassOutOfRange {
        /// Where the label is: `"truth"` or `"predicted"`.
        what: &'static str,
        /// Its position in that slice.
        position: usize,
        /// The offending label.
        index: usize,
        /// The number of classes.
        n_classes: usize,
    },
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class name.
    pub class: String,
    /// Correct predictions of the class over all predictions of it (0 if never predicted).
    pub precision: f64,
    /// Correct predictions of the class over its true occurrences (0 if it never occurs).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// The number of true occurrences of the class.
    pub support: usize,
}

/// Averages of precision, recall and F1 over classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1.
    pub f1: f64,
}

/// The headline metrics of one group of samples (for example one corpus).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// The number of samples in the group.
    pub support: usize,
    /// The fraction of correct predictions.
    pub accuracy: f64,
    /// Mean recall over the classes present in the group's truth (UA).
    pub balanced_accuracy: f64,
    /// Macro F1 over the classes that occur in the group's truth or predictions
    /// (scikit-learn's `f1_score(average="macro")` without `labels`), so that a corpus
    /// without some emotion is not penalised for it unless the model predicts it.
    pub macro_f1: f64,
}

/// Metrics of a single-label classifier on a labelled set; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// The class names, in class-index order.
    pub classes: Vec<String>,
    /// The number of samples.
    pub total: usize,
    /// The fraction of correct predictions (weighted accuracy, WA).
    pub accuracy: f64,
    /// Mean recall over the classes with support > 0 (unweighted accuracy, UA).
    pub balanced_accuracy: f64,
    /// Per-class metrics, in class-index order.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean over all classes.
    pub macro_avg: Averages,
    /// Mean over all classes weighted by support.
    pub weighted_avg: Averages,
    /// The macro-averaged F1 (equal to `macro_avg.f1`).
    pub macro_f1: f64,
    /// Counts: `confusion[true_class][predicted_class]`.
    pub confusion: Vec<Vec<usize>>,
    /// Headline metrics per group (empty when no groups were given).
    pub per_group: BTreeMap<String, GroupMetrics>,
}

/// Per-class counts taken from a confusion matrix.
struct Counts {
    tp: Vec<usize>,
    support: Vec<usize>,
    predicted: Vec<usize>,
}

impl Counts {
    fn new(confusion: &[Vec<usize>]) -> Self {
        let n = confusion.len();
        let mut tp = vec![0; n];
        let mut support = vec![0; n];
        let mut predicted = vec![0; n];
        for (t, row) in confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                support[t] += count;
                predicted[p] += count;
                if t == p {
                    tp[t] += count;
                }
            }
        }
        Self {
            tp,
            support,
            predicted,
        }
    }

    /// Precision, recall and F1 of class `c`, with zero division giving 0.
    fn prf(&self, c: usize) -> (f64, f64, f64) {
        let ratio = |num: usize, den: usize| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let (tp, support, predicted) = (self.tp[c], self.support[c], self.predicted[c]);
        (
            ratio(tp, predicted),
            ratio(tp, support),
            ratio(2 * tp, support + predicted),
        )
    }

    /// Mean recall over the classes with support > 0.
    fn balanced_accuracy(&self) -> f64 {
        let recalls: Vec<f64> = (0..self.tp.len())
            .filter(|&c| self.support[c] > 0)
            .map(|c| self.tp[c] as f64 / self.support[c] as f64)
            .collect();
        mean(&recalls)
    }

    fn accuracy(&self) -> f64 {
        let total: usize = self.support.iter().sum();
        let correct: usize = self.tp.iter().sum();
        if total == 0 {
            0.0
        } else {
            correct as f64 / total as f64
        }
    }
}

/// The arithmetic mean (0 for an empty slice).
fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn confusion_matrix(truth: &[usize], predicted: &[usize], n: usize) -> Vec<Vec<usize>> {
    let mut m = vec![vec![0; n]; n];
    for (&t, &p) in truth.iter().zip(predicted) {
        if let Some(cell) = m.get_mut(t).and_then(|row| row.get_mut(p)) {
            *cell += 1;
        }
    }
    m
}

impl ClassificationReport {
    /// Builds the report from true and predicted class indices (`0..classes.len()`), with
    /// optional group names (one per sample, e.g. the corpus) for [`Self::per_group`].
    ///
    /// # Errors
    /// [`MetricsError::NoClasses`] for an empty `classes`, [`MetricsError::Empty`] for no
    /// labels, [`MetricsError::LengthMismatch`] when `predicted` or `groups` do not have
    /// `truth.len()` entries, and [`MetricsError::ClassOutOfRange`] for a label that is not
    /// below `classes.len()`.
    pub fn from_predictions(
        truth: &[usize],
        predicted: &[usize],
        classes: &[&str],
        groups: Option<&[&str]>,
    ) -> Result<Self, MetricsError> {
        let n = classes.len();
        if n == 0 {
            return Err(MetricsError::NoClasses);
        }
        if truth.is_empty() {
            return Err(MetricsError::Empty);
        }
        if predicted.len() != truth.len() {
            return Err(MetricsError::LengthMismatch {
                what: "predicted",
                expected: truth.len(),
                got: predicted.len(),
            });
        }
        if let Some(g) = groups {
            if g.len() != truth.len() {
                return Err(MetricsError::LengthMismatch {
                    what: "groups",
                    expected: truth.len(),
                    got: g.len(),
                });
            }
        }
        for (what, labels) in [("truth", truth), ("predicted", predicted)] {
            if let Some((position, &index)) = labels.iter().enumerate().find(|(_, l)| **l >= n) {
                return Err(MetricsError::ClassOutOfRange {
                    what,
                    position,
                    index,
                    n_classes: n,
                });
            }
        }

        let confusion = confusion_matrix(truth, predicted, n);
        let counts = Counts::new(&confusion);
        let per_class: Vec<ClassMetrics> = classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let (precision, recall, f1) = counts.prf(c);
                ClassMetrics {
                    class: (*name).to_string(),
                    precision,
                    recall,
                    f1,
                    support: counts.support[c],
                }
            })
            .collect();
        let column =
            |f: fn(&ClassMetrics) -> f64| -> Vec<f64> { per_class.iter().map(f).collect() };
        let (precisions, recalls, f1s) = (
            column(|m| m.precision),
            column(|m| m.recall),
            column(|m| m.f1),
        );
        let macro_avg = Averages {
            precision: mean(&precisions),
            recall: mean(&recalls),
            f1: mean(&f1s),
        };
        let total = truth.len();
        let weighted = |values: &[f64]| -> f64 {
            let sum: f64 = values
                .iter()
                .zip(&counts.support)
                .map(|(v, &s)| v * s as f64)
                .sum();
            sum / total as f64
        };
        let weighted_avg = Averages {
            precision: weighted(&precisions),
            recall: weighted(&recalls),
            f1: weighted(&f1s),
        };

        let mut per_group = BTreeMap::new();
        if let Some(groups) = groups {
            let mut members: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
            for ((&g, &t), &p) in groups.iter().zip(truth).zip(predicted) {
                let entry = members.entry(g).or_default();
                entry.0.push(t);
                entry.1.push(p);
            }
            for (name, (t, p)) in members {
                per_group.insert(name.to_string(), group_metrics(&t, &p, n));
            }
        }

        Ok(Self {
            classes: classes.iter().map(|c| (*c).to_string()).collect(),
            total,
            accuracy: counts.accuracy(),
            balanced_accuracy: counts.balanced_accuracy(),
            macro_f1: macro_avg.f1,
            per_class,
            macro_avg,
            weighted_avg,
            confusion,
            per_group,
        })
    }

    /// The confusion matrix with each row divided by its sum (the recall of each true class
    /// spread over the predictions); rows of absent classes are all 0.
    pub fn normalized_confusion(&self) -> Vec<Vec<f64>> {
        self.confusion
            .iter()
            .map(|row| {
                let sum: usize = row.iter().sum();
                row.iter()
                    .map(|&c| if sum == 0 { 0.0 } else { c as f64 / sum as f64 })
                    .collect()
            })
            .collect()
    }

    /// Column labels for the classes: the first four characters of each name (or fewer for
    /// short names), falling back to `c<index>` where two names would share a label.
    pub fn short_class_names(&self) -> Vec<String> {
        let short: Vec<String> = self
            .classes
            .iter()
            .map(|c| c.chars().take(4).collect())
            .collect();
        short
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.is_empty() || short.iter().filter(|o| *o == s).count() > 1 {
                    format!("c{i}")
                } else {
                    s.clone()
                }
            })
            .collect()
    }

    /// A plain-text rendering: a table like scikit-learn's `classification_report(digits=3)`,
    /// the balanced accuracy, the confusion matrix (rows true, columns predicted, column
    /// labels from [`Self::short_class_names`]) and one line per group.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let name_width = self
            .classes
            .iter()
            .map(|c| c.chars().count())
            .chain([12])
            .max()
            .unwrap_or(12);
        let w = name_width;
        // Writing to a String cannot fail.
        let _ = writeln!(
            s,
            "{:>w$} {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        );
        for m in &self.per_class {
            let _ = writeln!(
                s,
                "{:>w$} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                m.class, m.precision, m.recall, m.f1, m.support
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>w$} {:>9} {:>9} {:>9.3} {:>9}",
            "accuracy", "", "", self.accuracy, self.total
        );
        for (label, a) in [
            ("macro avg", &self.macro_avg),
            ("weighted avg", &self.weighted_avg),
        ] {
            let _ = writeln!(
                s,
                "{:>w$} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                label, a.precision, a.recall, a.f1, self.total
            );
        }
        let _ = writeln!(s, "\nbalanced accuracy (UA): {:.3}", self.balanced_accuracy);

        let short = self.short_class_names();
        let max_count = self.confusion.iter().flatten().copied().max().unwrap_or(0);
        let cw = short
            .iter()
            .map(|c| c.chars().count())
            .chain([max_count.to_string().len()])
            .max()
            .unwrap_or(1)
            + 1;
        let _ = writeln!(s, "\nconfusion matrix (rows: true, columns: predicted)");
        let _ = write!(s, "{:>w$}", "");
        for c in &short {
            let _ = write!(s, " {c:>cw$}");
        }
        let _ = writeln!(s);
        for (name, row) in self.classes.iter().zip(&self.confusion) {
            let _ = write!(s, "{name:>w$}");
            for count in row {
                let _ = write!(s, " {count:>cw$}");
            }
            let _ = writeln!(s);
        }

        if !self.per_group.is_empty() {
            let gw = self
                .per_group
                .keys()
                .map(|g| g.chars().count())
                .max()
                .unwrap_or(0);
            let _ = writeln!(s, "\nper group:");
            for (g, m) in &self.per_group {
                let _ = writeln!(
                    s,
                    "  {g:<gw$}  n={:<6} accuracy {:.3}  UA {:.3}  macro-F1 {:.3}",
                    m.support, m.accuracy, m.balanced_accuracy, m.macro_f1
                );
            }
        }
        s
    }
}

/// Metrics of one group; labels are already known to be below `n`.
fn group_metrics(truth: &[usize], predicted: &[usize], n: usize) -> GroupMetrics {
    let confusion = confusion_matrix(truth, predicted, n);
    let counts = Counts::new(&confusion);
    let f1s: Vec<f64> = (0..n)
        .filter(|&c| counts.support[c] > 0 || counts.predicted[c] > 0)
        .map(|c| counts.prf(c).2)
        .collect();
    GroupMetrics {
        support: truth.len(),
        accuracy: counts.accuracy(),
        balanced_accuracy: counts.balanced_accuracy(),
        macro_f1: mean(&f1s),
    }
}

/// What happened in one training epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch number (the training loop decides whether it counts from 0 or 1).
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training accuracy over the epoch (fraction, 0 to 1).
    pub train_accuracy: f64,
    /// Validation loss after the epoch, if there is a validation set.
    pub val_loss: Option<f64>,
    /// Validation accuracy (fraction) after the epoch, if there is a validation set.
    pub val_accuracy: Option<f64>,
    /// The learning rate used in the epoch (the last one if it changed within the epoch).
    pub learning_rate: f64,
    /// Wall-clock duration of the epoch, in seconds.
    pub seconds: f64,
    /// The speaker head's accuracy on the epoch's training batches, with speaker-adversarial
    /// training ([`crate::adversary`]); `None` without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_accuracy: Option<f64>,
}

/// The per-epoch records of a training run, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a record.
    pub fn push(&mut self, record: EpochRecord) {
        self.epochs.push(record);
    }

    /// The best record: the lowest validation loss if any epoch has one, else the lowest
    /// training loss. NaN losses are ignored and ties go to the earlier epoch; `None` when
    /// there is no usable record.
    pub fn best(&self) -> Option<&EpochRecord> {
        let lowest = |key: fn(&EpochRecord) -> Option<f64>| {
            self.epochs
                .iter()
                .filter_map(|r| key(r).filter(|v| !v.is_nan()).map(|v| (v, r)))
                .fold(
                    None,
                    |best: Option<(f64, &EpochRecord)>, (v, r)| match best {
                        Some((b, _)) if b <= v => best,
                        _ => Some((v, r)),
                    },
                )
                .map(|(_, r)| r)
        };
        lowest(|r| r.val_loss).or_else(|| lowest(|r| Some(r.train_loss)))
    }

    /// The `epoch` number of [`Self::best`].
    pub fn best_epoch(&self) -> Option<usize> {
        self.best().map(|r| r.epoch)
    }
}
