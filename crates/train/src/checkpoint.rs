//! Checkpoints of a run in progress, so that a run killed at epoch k resumes from its last
//! checkpoint and ends exactly as an uninterrupted run would.
//!
//! A checkpoint at epoch `k` is three files in one folder:
//! - `model-k.bpk`: the model's parameters (and batch-norm statistics), with their ids;
//! - `optim-k.bpk`: the optimizer's state (Adam's moments and step count, SGD's velocity,
//!   RMSProp's averages), keyed by those ids;
//! - `state-k.json`, written last: the epoch, the epoch history so far, the observer's own
//!   state, and the key of the run it belongs to. A checkpoint without it is incomplete and
//!   ignored.
//!
//! The two records are written by burn-train's `FileCheckpointer` (burnpack files, written to a
//! temporary file and renamed, values kept bit for bit). The minibatch order needs no file: it
//! is a seeded stream, replayed up to epoch `k` on resume. Older checkpoints are deleted once a
//! newer one is complete.

use std::path::{Path, PathBuf};
use std::time::Duration;

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::train::checkpoint::{Checkpointer, FileCheckpointer};
use repalign_models::Model;
use serde::{Deserialize, Serialize};

use crate::{EpochStats, TrainError};

/// Where and how often a run saves its progress.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
    every: Duration,
    key: String,
}

/// The training state a checkpoint holds besides the two records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Saved {
    key: String,
    pub epoch: usize,
    pub history: Vec<EpochStats>,
    /// What the observer asked to keep ([`crate::Observer::state`]).
    pub observer: serde_json::Value,
}

impl Checkpoints {
    /// Checkpoints in `dir`, saved at the end of an epoch once `every` has passed since the
    /// last one (zero: every epoch). `key` names the run (a checkpoint with another key is
    /// never restored).
    pub fn new(dir: impl Into<PathBuf>, every: Duration, key: impl Into<String>) -> Self {
        Checkpoints {
            dir: dir.into(),
            every,
            key: key.into(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn every(&self) -> Duration {
        self.every
    }

    fn state_path(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("state-{epoch}.json"))
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> TrainError {
        TrainError::Checkpoint {
            dir: self.dir.clone(),
            reason: format!("{what}: {e}"),
        }
    }

    /// Epochs with a complete checkpoint (`state-k.json` present), newest last.
    fn epochs(&self) -> Vec<usize> {
        let mut v: Vec<usize> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.strip_prefix("state-")?
                            .strip_suffix(".json")?
                            .parse()
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// The epoch a run would resume after: its newest complete checkpoint's, if any.
    pub fn resumable_epoch(&self) -> Option<usize> {
        self.latest().map(|s| s.epoch)
    }

    /// The newest complete checkpoint of this run, if any.
    pub(crate) fn latest(&self) -> Option<Saved> {
        let epoch = *self.epochs().last()?;
        let text = std::fs::read_to_string(self.state_path(epoch)).ok()?;
        let saved: Saved = serde_json::from_str(&text).ok()?;
        (saved.key == self.key && saved.epoch == epoch).then_some(saved)
    }

    /// Saves the state at the end of `saved.epoch`, then deletes older checkpoints.
    pub(crate) fn save(
        &self,
        model: &Model,
        optim: &ModuleOptimizer,
        epoch: usize,
        history: &[EpochStats],
        observer: serde_json::Value,
    ) -> Result<(), TrainError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.error("creating the folder", e))?;
        let models = FileCheckpointer::new(&self.dir, "model");
        let optims = FileCheckpointer::new(&self.dir, "optim");
        models
            .save(epoch, model.clone().into_record())
            .map_err(|e| self.error("saving the model", e))?;
        optims
            .save(epoch, optim.to_record())
            .map_err(|e| self.error("saving the optimizer", e))?;
        let saved = Saved {
            key: self.key.clone(),
            epoch,
            history: history.to_vec(),
            observer,
        };
        let text = serde_json::to_string(&saved).map_err(|e| self.error("state", e))?;
        let path = self.state_path(epoch);
        let tmp = self.dir.join(format!("state-{epoch}.json.tmp"));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| self.error("writing the state", e))?;
        for old in self.epochs().into_iter().filter(|&k| k != epoch) {
            let _ = std::fs::remove_file(self.state_path(old));
            let _ = Checkpointer::<ModuleRecord>::delete(&models, old);
            let _ = Checkpointer::<OptimizerRecord>::delete(&optims, old);
        }
        Ok(())
    }

    /// Loads checkpoint `epoch` into a freshly built `model` and `optim` of the same configs.
    pub(crate) fn restore(
        &self,
        epoch: usize,
        model: Model,
        optim: ModuleOptimizer,
    ) -> Result<(Model, ModuleOptimizer), TrainError> {
        let record: ModuleRecord = FileCheckpointer::new(&self.dir, "model")
            .restore(epoch)
            .map_err(|e| self.error("reading the model", e))?;
        let model = model
            .try_load_record(record)
            .map_err(|e| self.error("loading the model", e))?;
        let record: OptimizerRecord = FileCheckpointer::new(&self.dir, "optim")
            .restore(epoch)
            .map_err(|e| self.error("reading the optimizer", e))?;
        Ok((model, optim.load_record(record)))
    }

    /// Removes the folder and everything in it (once the run is complete).
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
