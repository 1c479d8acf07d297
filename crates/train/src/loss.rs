//! Losses on a batch of logits, predicted classes, and the rows of a batch as a tensor.
//!
//! With logits `z` and labels `l` in `0..c`:
//! - logistic (one logit): `softplus(-s z)` with `s = +1` for class 1 and `-1` for class 0,
//!   computed as `relu(-s z) + ln(1 + exp(-|s z|))`;
//! - cross-entropy: softmax cross-entropy on `c` logits;
//! - squared: `1/2 ||z - t||^2` with `t` the +-1 target (one column, or one-vs-rest columns).
//!
//! Every loss is the mean over the batch.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::LossKind;

/// Rows `idx` of a row-major matrix with `width` columns, as a `[idx.len(), width]` tensor.
pub fn gather(x: &[f32], width: usize, idx: &[usize], device: &Device) -> Tensor<2> {
    let mut rows = Vec::with_capacity(idx.len() * width);
    for &i in idx {
        rows.extend_from_slice(&x[i * width..(i + 1) * width]);
    }
    Tensor::from_data(TensorData::new(rows, [idx.len(), width]), device)
}

/// The mean loss of a batch.
///
/// # Shapes
/// - `logits`: `[batch, outputs]`; `labels`: `batch` class indices
pub fn batch_loss(kind: LossKind, logits: Tensor<2>, labels: &[u32], device: &Device) -> Tensor<1> {
    let [batch, outputs] = logits.dims();
    match kind {
        LossKind::Logistic => {
            // softplus(-s z) with s = +-1, written stably: relu(-s z) + ln(1 + exp(-|s z|)).
            let s = signs(labels, device); // [batch]
            let m = logits.reshape([batch]).mul(s).neg(); // -s z
            let soft = burn::tensor::activation::relu(m.clone()) + m.abs().neg().exp().log1p();
            soft.mean()
        }
        LossKind::CrossEntropy => {
            let targets: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
            let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [batch]), device);
            CrossEntropyLossConfig::new()
                .init(device)
                .forward(logits, targets)
        }
        LossKind::Squared => {
            let target = if outputs == 1 {
                signs(labels, device).reshape([batch, 1])
            } else {
                let mut t = vec![-1.0f32; batch * outputs];
                for (i, &l) in labels.iter().enumerate() {
                    t[i * outputs + l as usize] = 1.0;
                }
                Tensor::from_data(TensorData::new(t, [batch, outputs]), device)
            };
            (logits - target).square().sum_dim(1).mean().mul_scalar(0.5)
        }
    }
}

fn signs(labels: &[u32], device: &Device) -> Tensor<1> {
    let s: Vec<f32> = labels
        .iter()
        .map(|&l| if l == 1 { 1.0 } else { -1.0 })
        .collect();
    Tensor::from_data(TensorData::new(s, [labels.len()]), device)
}

/// Predicted classes from logits (one logit: positive means class 1).
pub fn predictions(logits: Tensor<2>) -> Vec<u32> {
    let [_, outputs] = logits.dims();
    if outputs == 1 {
        values(logits.reshape([-1]))
            .into_iter()
            .map(|v| u32::from(v > 0.0))
            .collect()
    } else {
        logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("argmax gives integers")
            .into_iter()
            .map(|v| v as u32)
            .collect()
    }
}

/// A tensor's values as `f32` (read back to the host).
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

/// The value of a one-element tensor.
pub fn scalar(t: Tensor<1>) -> f64 {
    values(t)[0] as f64
}

/// How many predictions equal their labels.
pub(crate) fn correct(logits: Tensor<2>, labels: &[u32]) -> usize {
    predictions(logits)
        .iter()
        .zip(labels)
        .filter(|(p, t)| p == t)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)]
    fn cpu() -> Device {
        Device::ndarray()
    }

    #[test]
    fn logistic_loss_matches_a_direct_f64_computation() {
        let d = cpu();
        let z = [-3.0f32, 0.5, 40.0, -40.0];
        let labels = [0u32, 1, 0, 1];
        let logits = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [4, 1]), &d);
        let got = scalar(batch_loss(LossKind::Logistic, logits, &labels, &d));
        // ln(1 + exp(-s z)) with s = +-1, in f64.
        let want: f64 = z
            .iter()
            .zip(labels)
            .map(|(&z, l)| (1.0 + (-(if l == 1 { 1.0 } else { -1.0 }) * z as f64).exp()).ln())
            .sum::<f64>()
            / 4.0;
        assert!((got - want).abs() < 1e-5 * want, "{got} vs {want}");
        // Squared loss on +-1 targets: 1/2 mean (z - s)^2.
        let logits = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, -2.0], [2, 1]), &d);
        let got = scalar(batch_loss(LossKind::Squared, logits, &[1, 1], &d));
        assert!((got - 0.5 * (0.25 + 9.0) / 2.0).abs() < 1e-6, "{got}");
    }

    #[test]
    fn predictions_of_one_logit_and_of_many() {
        let d = cpu();
        let one = Tensor::<2>::from_data(TensorData::new(vec![-1.0f32, 2.0, 0.0], [3, 1]), &d);
        assert_eq!(predictions(one), vec![0, 1, 0]);
        let many = Tensor::<2>::from_data(
            TensorData::new(vec![0.1f32, 0.9, 0.0, 3.0, -1.0, 2.0], [2, 3]),
            &d,
        );
        assert_eq!(predictions(many), vec![1, 0]);
        assert_eq!(
            LossKind::Squared.outputs(2) + LossKind::Squared.outputs(5),
            6
        );
    }
}
