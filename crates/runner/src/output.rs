//! A run's directory: `config.json` first, then `metrics.csv`, `alignment.json` and the plots,
//! and `result.json` last. Every file is written atomically, so a run killed at any moment
//! leaves either a complete `result.json` or none (and is then redone).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use repalign_alignment::Report;
use serde::{Deserialize, Serialize};

use crate::experiment::RunConfig;
use crate::io::write_atomic;
use repalign_train::EpochStats;

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

pub fn run_dir(out: &Path, run: &RunConfig) -> PathBuf {
    out.join(run.run_id())
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_atomic(path, text.as_bytes())
}

pub fn write_metrics(dir: &Path, history: &[EpochStats]) -> anyhow::Result<()> {
    let mut s = String::from("epoch,loss,train_acc\n");
    for h in history {
        let _ = writeln!(s, "{},{},{}", h.epoch, h.loss, h.train_acc);
    }
    write_atomic(&dir.join("metrics.csv"), s.as_bytes())
}

pub fn write_alignment(dir: &Path, reports: &[Report]) -> anyhow::Result<()> {
    write_json(&dir.join("alignment.json"), &reports)
}

/// `alignment_history.csv`: the summaries of every layer at every `measure_every`-th epoch,
/// one tidy row per epoch and layer.
pub fn write_alignment_history(dir: &Path, history: &[(usize, Vec<Report>)]) -> anyhow::Result<()> {
    let mut s = String::from("epoch,layer,layer_index,p,auc,auc_null,k90,top1,top10,kta\n");
    for (epoch, reports) in history {
        for (i, r) in reports.iter().enumerate() {
            let m = &r.summary;
            let k90 = m.k90.map_or(String::new(), |k| k.to_string());
            let _ = writeln!(
                s,
                "{epoch},{},{i},{},{},{},{k90},{},{},{}",
                r.layer.as_deref().unwrap_or(""),
                r.p,
                m.auc,
                m.auc_null,
                m.top1,
                m.top10,
                m.kta
            );
        }
    }
    write_atomic(&dir.join("alignment_history.csv"), s.as_bytes())
}

/// What a run's folder holds of a previous attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Previous {
    /// Nothing (no `result.json`, or one for another config).
    Nothing,
    /// A finished run (done or diverged) whose files load.
    Complete(RunResult),
    /// A run that failed: it is tried again.
    Failed(RunResult),
    /// Result files that no longer load (the reason): the run is redone.
    Broken(String),
}

/// What `dir` holds of an earlier attempt at `run`.
pub fn previous(dir: &Path, run: &RunConfig) -> Previous {
    let path = dir.join("result.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Previous::Nothing;
    };
    let result: RunResult = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => return Previous::Broken(format!("{}: {e}", path.display())),
    };
    let want: serde_json::Value =
        serde_json::from_str(&run.canonical_json()).expect("configs serialise");
    if result.config != want {
        return Previous::Nothing;
    }
    match result.status {
        RunStatus::Failed => Previous::Failed(result),
        RunStatus::Diverged => Previous::Complete(result),
        RunStatus::Done => {
            let path = dir.join("alignment.json");
            let layers = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    serde_json::from_str::<Vec<repalign_alignment::Report>>(&t)
                        .map_err(|e| e.to_string())
                });
            match layers {
                Ok(l) if !l.is_empty() => Previous::Complete(result),
                Ok(_) => Previous::Broken(format!("{}: no layers", path.display())),
                Err(e) => Previous::Broken(format!("{}: {e}", path.display())),
            }
        }
    }
}

pub fn create(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}
