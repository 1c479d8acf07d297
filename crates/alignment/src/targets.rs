//! Targets as an n x c matrix `Y` (row-major), built from raw labels.
//!
//! - Binary: any two distinct values; the smaller becomes -1, the larger +1 (c = 1).
//! - Multi-class with c classes: centred one-vs-rest columns,
//!   `Y[j, k] = 2 (1[label_j = k] - pi_k)` with `pi_k = n_k / n` and class `k` the k-th smallest
//!   value: the one-vs-rest +-1 column minus its mean (`2 pi_k - 1`), so
//!   `||Y||_F^2 = 4 n sum_k pi_k (1 - pi_k)` (3.6 n for 10 balanced classes). Uncentred columns
//!   share a constant component that the bias column alone captures: a representation that
//!   maps every input to one vector would score 0.64 on 10 balanced classes. Centred, it scores
//!   0, and a balanced 2-class task scores exactly its binary auc. Even a perfect code reaches
//!   only about 1/3 on 10 classes (the c - 1 class directions share the spectrum): compare
//!   multi-class aucs with each other, never with binary ones.
//! - Regression: min-max scaled to [-1, 1] (c = 1).

use serde::{Deserialize, Serialize};

use crate::AlignError;

/// The kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Two distinct label values, encoded as -1 / +1 in one column.
    Binary,
    /// Integer class labels, centred one-vs-rest columns, one per class.
    Multiclass,
    /// Real targets, min-max scaled to [-1, 1] in one column.
    Regression,
}

impl Task {
    /// Lower-case name, as used on the command line and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Task::Binary => "binary",
            Task::Multiclass => "multiclass",
            Task::Regression => "regression",
        }
    }

    /// The task a set of labels most likely is: binary for two distinct values, multi-class for
    /// 3..=`max_classes` distinct integers, otherwise `None` (the caller must say).
    pub fn infer(labels: &[f64], max_classes: usize) -> Option<Task> {
        let distinct = distinct_sorted(labels);
        if distinct.len() == 2 {
            Some(Task::Binary)
        } else if distinct.len() > 2
            && distinct.len() <= max_classes
            && distinct.iter().all(|v| v.fract() == 0.0)
        {
            Some(Task::Multiclass)
        } else {
            None
        }
    }
}

/// Encoded targets: an n x c matrix in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    task: Task,
    n: usize,
    columns: usize,
    values: Vec<f64>,
    classes: Vec<f64>,
}

fn check_finite(labels: &[f64]) -> Result<(), AlignError> {
    if labels.is_empty() {
        return Err(AlignError::Empty {
            what: "no labels".into(),
        });
    }
    match labels.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(AlignError::NonFiniteLabel {
            row,
            value: labels[row],
        }),
        None => Ok(()),
    }
}

fn distinct_sorted(labels: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = labels.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn list(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().take(5).map(|v| v.to_string()).collect();
    if values.len() > 5 {
        format!("{}, ...", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

impl Targets {
    /// Binary targets from any two distinct values: the smaller becomes -1.
    pub fn binary(labels: &[f64]) -> Result<Self, AlignError> {
        check_finite(labels)?;
        let classes = distinct_sorted(labels);
        if classes.len() != 2 {
            return Err(AlignError::NotBinary {
                found: classes.len(),
                values: list(&classes),
            });
        }
        let values = labels
            .iter()
            .map(|&v| if v == classes[0] { -1.0 } else { 1.0 })
            .collect();
        Ok(Targets {
            task: Task::Binary,
            n: labels.len(),
            columns: 1,
            values,
            classes,
        })
    }

    /// Centred one-vs-rest columns `2 (1[label = k] - pi_k)`, one per distinct integer class, in
    /// ascending class order.
    pub fn multiclass(labels: &[f64]) -> Result<Self, AlignError> {
        check_finite(labels)?;
        if let Some(row) = labels.iter().position(|v| v.fract() != 0.0) {
            return Err(AlignError::NonIntegerClass {
                row,
                value: labels[row],
            });
        }
        let classes = distinct_sorted(labels);
        if classes.len() < 2 {
            return Err(AlignError::TooFewClasses {
                found: classes.len(),
            });
        }
        let (n, c) = (labels.len(), classes.len());
        let index: Vec<usize> = labels
            .iter()
            .map(|v| classes.partition_point(|x| x < v))
            .collect();
        let mut counts = vec![0usize; c];
        index.iter().for_each(|&k| counts[k] += 1);
        let pi: Vec<f64> = counts.iter().map(|&m| m as f64 / n as f64).collect();
        let mut values = Vec::with_capacity(n * c);
        for &k in &index {
            values.extend((0..c).map(|m| 2.0 * (f64::from(u8::from(m == k)) - pi[m])));
        }
        Ok(Targets {
            task: Task::Multiclass,
            n: labels.len(),
            columns: c,
            values,
            classes,
        })
    }

    /// Regression targets, min-max scaled to [-1, 1].
    pub fn regression(targets: &[f64]) -> Result<Self, AlignError> {
        check_finite(targets)?;
        let lo = targets.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = targets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo == hi {
            return Err(AlignError::ConstantRegression { value: lo });
        }
        let values = targets
            .iter()
            .map(|&v| (2.0 * (v - lo) / (hi - lo) - 1.0).clamp(-1.0, 1.0))
            .collect();
        Ok(Targets {
            task: Task::Regression,
            n: targets.len(),
            columns: 1,
            values,
            classes: vec![lo, hi],
        })
    }

    /// Builds targets of the given kind.
    pub fn new(task: Task, labels: &[f64]) -> Result<Self, AlignError> {
        match task {
            Task::Binary => Self::binary(labels),
            Task::Multiclass => Self::multiclass(labels),
            Task::Regression => Self::regression(labels),
        }
    }

    /// Targets from an already encoded row-major n x c matrix (no checks on the values beyond
    /// finiteness). Used for synthetic targets.
    pub fn from_matrix(task: Task, values: Vec<f64>, columns: usize) -> Result<Self, AlignError> {
        check_finite(&values)?;
        if columns == 0 || !values.len().is_multiple_of(columns) {
            return Err(AlignError::RaggedBatch {
                len: values.len(),
                width: columns,
            });
        }
        Ok(Targets {
            task,
            n: values.len() / columns,
            columns,
            values,
            classes: vec![],
        })
    }

    /// The kind of target these are.
    pub fn task(&self) -> Task {
        self.task
    }

    /// Number of rows n.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of target columns c (1 for binary and regression).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Class values in ascending order (binary: `[negative, positive]`; regression: `[min, max]`).
    pub fn classes(&self) -> &[f64] {
        &self.classes
    }

    /// The whole encoded matrix, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Encoded rows `start..end`, row-major.
    pub fn rows(&self, start: usize, end: usize) -> &[f64] {
        &self.values[start * self.columns..end * self.columns]
    }

    /// `||Y||_F^2`.
    pub fn energy(&self) -> f64 {
        self.values.iter().map(|v| v * v).sum()
    }
}
