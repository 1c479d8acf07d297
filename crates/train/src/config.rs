//! What training needs besides the model and the optimizer: epochs, batch size, loss and stop
//! rule (the `[train]` table of an experiment file).

use serde::{Deserialize, Serialize};

/// The training loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Binary logistic loss on one logit (BCE with logits on 0/1 targets).
    Logistic,
    /// Softmax cross-entropy on one logit per class.
    CrossEntropy,
    /// `1/2 (z - y)^2` on +-1 targets (one-vs-rest columns for several classes).
    Squared,
}

impl LossKind {
    /// Checks that this loss can train a task of `num_classes` classes: the logistic loss needs
    /// exactly two (the squared loss takes one-vs-rest columns for more).
    pub fn check_classes(self, num_classes: usize) -> Result<(), String> {
        match self {
            LossKind::Logistic if num_classes != 2 => Err(format!(
                "train.loss = \"logistic\" needs a task of 2 classes, this one has {num_classes} (use \"cross_entropy\" or \"squared\")"
            )),
            _ => Ok(()),
        }
    }

    /// Logits per sample: 1 for a binary task under the logistic or squared loss, else one per
    /// class.
    pub fn outputs(self, num_classes: usize) -> usize {
        match self {
            LossKind::Logistic => 1,
            LossKind::Squared if num_classes == 2 => 1,
            _ => num_classes,
        }
    }
}

/// Stop once both hold at the end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRule {
    /// Training accuracy (on the epoch's minibatches) at least this.
    pub train_acc: f64,
    /// Mean training loss of the epoch below this.
    pub loss: f64,
}

fn batch_64() -> usize {
    64
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Most epochs (0: no training; the network is measured as built, a pretrained network or
    /// the control at initialisation).
    pub epochs: usize,
    /// Minibatch size (the last batch of an epoch may be smaller).
    #[serde(default = "batch_64")]
    pub batch_size: usize,
    /// Default: logistic for two classes, cross-entropy for more.
    #[serde(default)]
    pub loss: Option<LossKind>,
    /// Stop early once the rule holds (none: train every epoch).
    #[serde(default)]
    pub stop: Option<StopRule>,
    /// Also hand the model to the observer every this many epochs (0: only at the end).
    #[serde(default)]
    pub measure_every: usize,
}

impl TrainConfig {
    /// `epochs` epochs of minibatches of `batch_size`, the default loss, no stop rule.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        TrainConfig {
            epochs,
            batch_size,
            loss: None,
            stop: None,
            measure_every: 0,
        }
    }

    /// Checks every value no type rules out, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("train.batch_size must be at least 1".into());
        }
        if let Some(stop) = self.stop {
            if !(0.0..=1.0).contains(&stop.train_acc) {
                return Err(format!(
                    "train.stop.train_acc = {}: it must be a fraction in [0, 1]",
                    stop.train_acc
                ));
            }
            if !(stop.loss.is_finite() && stop.loss > 0.0) {
                return Err(format!(
                    "train.stop.loss = {}: it must be a finite number > 0",
                    stop.loss
                ));
            }
        }
        Ok(())
    }

    /// The loss of this config: its own, or logistic for two classes and cross-entropy for
    /// more.
    pub fn loss_for(&self, num_classes: usize) -> LossKind {
        self.loss.unwrap_or(if num_classes == 2 {
            LossKind::Logistic
        } else {
            LossKind::CrossEntropy
        })
    }
}
