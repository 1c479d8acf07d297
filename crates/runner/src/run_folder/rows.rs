//! The analyses' rows: one CSV file each in the run folder (see [`super::names`]).

use serde::{Deserialize, Serialize};

/// One step of one representation (`learning_speed.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRow {
    pub layer: String,
    pub layer_index: usize,
    pub step: u32,
    /// Squared loss over its value at `w = 0`.
    pub squared: f64,
    pub squared_predicted: f64,
    /// Logistic loss over its value at `w = 0` (binary tasks).
    pub logistic: Option<f64>,
}

/// One representation (`learning_speed_summary.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryRow {
    pub layer: String,
    pub layer_index: usize,
    pub p: usize,
    /// Alignment with the true labels.
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub eta: f64,
    /// First step whose squared loss is at most `level` times the initial loss.
    pub steps_squared: Option<u32>,
    pub steps_logistic: Option<u32>,
    pub final_squared: f64,
    /// Largest `|predicted - measured| / measured` over all steps.
    pub max_relative_deviation: f64,
}

/// One target task (`transfer.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferRow {
    pub target: String,
    pub rho: Option<f64>,
    /// Alignment of the frozen last hidden layer with the target labels.
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub input_auc: f64,
    pub transfer_loss: f64,
    pub transfer_acc: f64,
    pub scratch_loss: f64,
    pub scratch_acc: f64,
    pub raw_loss: f64,
    pub raw_acc: f64,
    /// `transfer_acc - scratch_acc`.
    pub gain: f64,
    /// `scratch_loss - transfer_loss`.
    pub gain_loss: f64,
}

/// Every layer on every target (`transfer_alignment.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlignmentRow {
    pub target: String,
    pub layer: String,
    pub layer_index: usize,
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
}

/// The `pair` of the task of every class in `probes.csv`. Means over pairs leave it out: its
/// auc (centred one-vs-rest targets) is on another scale, about 1/3 at most for 10 classes.
pub const ALL_CLASSES: &str = "all";

/// One layer on one task (`probes.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRow {
    /// `a-b`, or `all` for the task of every class.
    pub pair: String,
    pub layer: String,
    pub layer_index: usize,
    pub n: usize,
    pub p: usize,
    pub auc: f64,
    /// The task of every class: the mean over class pairs of the binary auc on each pair's
    /// rows (none for a pair, and in folders written before it existed).
    #[serde(default)]
    pub pair_mean_auc: Option<f64>,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub top1: f64,
    /// Held-out accuracy of a linear probe (none in folders written before probes existed).
    #[serde(default)]
    pub probe_acc: Option<f64>,
}
