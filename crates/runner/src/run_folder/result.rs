//! What `config.json` and `result.json` hold.

use serde::{Deserialize, Serialize};

use crate::experiment::RunConfig;

/// Everything `config.json` records.
#[derive(Debug, Serialize)]
pub struct ConfigRecord<'a> {
    pub run_id: String,
    pub config: &'a RunConfig,
    pub seed: u64,
    pub backend: &'static str,
    /// On flex: `repalign` (this project's convolution, batch-norm and pooling kernels) or
    /// `burn` (burn's own operations, `REPALIGN_BURN_OPS=1`).
    pub kernels: &'static str,
    /// Whether subnormal floats are flushed to zero on the threads that train (and how).
    pub subnormals: &'static str,
    /// The compute threads this run trained on.
    pub threads: usize,
    pub data_source: String,
    pub versions: Versions,
}

#[derive(Debug, Serialize)]
pub struct Versions {
    pub runner: &'static str,
    pub burn: &'static str,
    pub faer: &'static str,
}

impl Versions {
    pub fn current() -> Self {
        Versions {
            runner: env!("CARGO_PKG_VERSION"),
            burn: "0.22.1",
            faer: "0.24",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Trained and measured.
    Done,
    /// The training loss stopped being finite.
    Diverged,
    /// It could not run (the reason says why).
    Failed,
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Done => "done",
            RunStatus::Diverged => "diverged",
            RunStatus::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finished run reports in `result.json` (its presence marks the run complete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub run_id: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub epochs: usize,
    /// Whether the run fit its training labels: it met its stop rule, or, without one, ended at
    /// 100% training accuracy.
    #[serde(default)]
    pub fitted: bool,
    /// The epoch whose checkpoint this run resumed from after being killed (none: trained from
    /// the start in one go).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<usize>,
    // Metrics a run could not produce are NaN, which JSON writes as null.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub train_acc: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub test_acc: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub seconds: f64,
    /// The canonical config, to check a resumed run is the same run.
    pub config: serde_json::Value,
}

fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}
