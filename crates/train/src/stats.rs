//! What one epoch of training looked like: read by the loop's observers, written into
//! checkpoints and `metrics.csv`.

use serde::{Deserialize, Serialize};

/// What one epoch looked like.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    /// Mean loss over the epoch's minibatches.
    pub loss: f64,
    /// Accuracy over the epoch's minibatches (measured as they were trained on).
    pub train_acc: f64,
}
