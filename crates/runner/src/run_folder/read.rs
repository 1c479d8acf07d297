//! The one reader of run folders: a previous attempt at a run, and every run of a results folder
//! with what its analyses wrote.

use std::path::Path;

use anyhow::Context;
use repalign_alignment::Report as LayerReport;

use super::names;
use super::result::{RunResult, RunStatus};
use super::rows::{ProbeRow, StepRow, SummaryRow, TransferRow};
use crate::experiment::RunConfig;

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
    let path = dir.join(names::RESULT);
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
            let path = dir.join(names::ALIGNMENT);
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

/// One run found in a results folder.
#[derive(Debug, Clone)]
pub struct RunEntry {
    pub config: RunConfig,
    pub result: RunResult,
    /// Input first, then every hidden layer (empty unless the run is done).
    pub layers: Vec<LayerReport>,
    /// What its analysis wrote (empty without one).
    pub analysis: AnalysisResults,
}

impl RunEntry {
    pub fn done(&self) -> bool {
        self.result.status == RunStatus::Done && !self.layers.is_empty()
    }

    /// The network's last hidden layer (pooled views of conv blocks aside; the input for a
    /// network without hidden layers).
    pub fn last(&self) -> &LayerReport {
        self.layers
            .iter()
            .rev()
            .find(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")))
            .expect("done runs have layers")
    }
}

/// All runs of a results folder.
#[derive(Debug, Clone)]
pub struct Runs {
    pub experiment: String,
    pub runs: Vec<RunEntry>,
}

/// Reads every `*/result.json` (and `alignment.json`, and the analysis' files) under `dir`. A
/// folder whose files do not load is skipped with a warning on stderr (the rest still
/// report); a run found twice (a copied folder) counts once.
pub fn read_all(dir: &Path) -> anyhow::Result<Runs> {
    let mut runs: Vec<RunEntry> = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(names::RESULT).is_file())
        .collect();
    paths.sort();
    for path in paths {
        match read_run(&path) {
            Ok(entry) => {
                if let Some(first) = runs.iter().find(|r| r.result.run_id == entry.result.run_id) {
                    eprintln!(
                        "warning: {} holds run {} again (a copy?); it is counted once",
                        path.display(),
                        first.result.run_id
                    );
                } else {
                    runs.push(entry);
                }
            }
            Err(e) => eprintln!("warning: skipping {}: {e:#}", path.display()),
        }
    }
    let experiment = runs
        .first()
        .map_or_else(|| "empty".to_string(), |r| r.config.name.clone());
    Ok(Runs { experiment, runs })
}

/// One run folder.
fn read_run(path: &Path) -> anyhow::Result<RunEntry> {
    let read = |name: &str| {
        std::fs::read_to_string(path.join(name))
            .with_context(|| format!("reading {}", path.join(name).display()))
    };
    let result: RunResult = serde_json::from_str(&read(names::RESULT)?)
        .with_context(|| format!("{}/{}", path.display(), names::RESULT))?;
    let config: RunConfig = serde_json::from_value(result.config.clone())
        .with_context(|| format!("{}/{}: config", path.display(), names::RESULT))?;
    let layers = if result.status == RunStatus::Done {
        serde_json::from_str(&read(names::ALIGNMENT)?)
            .with_context(|| format!("{}/{}", path.display(), names::ALIGNMENT))?
    } else {
        vec![]
    };
    Ok(RunEntry {
        config,
        result,
        layers,
        analysis: AnalysisResults::read(path)?,
    })
}

/// What the analyses wrote into one run folder (each empty when absent).
#[derive(Debug, Clone, Default)]
pub struct AnalysisResults {
    /// Learning speed, one row per representation.
    pub speed_summary: Vec<SummaryRow>,
    /// Learning speed, every step.
    pub speed_steps: Vec<StepRow>,
    pub transfer: Vec<TransferRow>,
    pub probes: Vec<ProbeRow>,
}

impl AnalysisResults {
    /// Reads the analysis files of the run folder `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<AnalysisResults> {
        Ok(AnalysisResults {
            speed_summary: read_rows(&dir.join(names::SPEED_SUMMARY))?,
            speed_steps: read_rows(&dir.join(names::SPEED_STEPS))?,
            transfer: read_rows(&dir.join(names::TRANSFER))?,
            probes: read_rows(&dir.join(names::PROBES))?,
        })
    }
}

/// Rows of a CSV file in a run folder, none when the file is absent.
fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    if !path.is_file() {
        return Ok(vec![]);
    }
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    r.deserialize()
        .collect::<Result<Vec<T>, _>>()
        .with_context(|| format!("{}", path.display()))
}
