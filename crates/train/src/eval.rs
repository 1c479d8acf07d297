//! Loss and accuracy of a model on a set of rows, in batches, without autodiff.

use burn::tensor::Device;
use repalign_models::Model;

use crate::LossKind;
use crate::loss::{batch_loss, correct, gather, scalar};

/// Loss and accuracy of a model on a set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss per sample.
    pub loss: f64,
    /// Fraction of samples predicted right.
    pub acc: f64,
}

impl Evaluation {
    /// What an empty set gives: NaN for both.
    pub const NONE: Evaluation = Evaluation {
        loss: f64::NAN,
        acc: f64::NAN,
    };
}

/// Loss and accuracy of `model` on row-major inputs `x` (`n x width`) with labels `y`, in
/// batches of `batch` rows (NaN for an empty set).
pub fn evaluate(
    model: &Model,
    x: &[f32],
    y: &[u32],
    kind: LossKind,
    batch: usize,
    device: &Device,
) -> Evaluation {
    let n = y.len();
    if n == 0 {
        return Evaluation::NONE;
    }
    let width = x.len() / n;
    let all: Vec<usize> = (0..n).collect();
    let (mut loss_sum, mut right) = (0.0, 0usize);
    for idx in all.chunks(batch.max(1)) {
        let logits = model.logits(gather(x, width, idx, device));
        let labels: Vec<u32> = idx.iter().map(|&i| y[i]).collect();
        loss_sum += scalar(batch_loss(kind, logits.clone(), &labels, device)) * idx.len() as f64;
        right += correct(logits, &labels);
    }
    Evaluation {
        loss: loss_sum / n as f64,
        acc: right as f64 / n as f64,
    }
}
