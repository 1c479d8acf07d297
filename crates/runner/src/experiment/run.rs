//! One fully resolved run: every table of a file, checked, and the id its folder is named by.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use repalign_data::{LabelMode, TaskConfig};
use repalign_models::ModelConfig;
use repalign_optim::OptimizerConfig;
use repalign_train::TrainConfig;
use serde::{Deserialize, Serialize};

use super::analysis::AnalysisConfig;
use super::data::DataConfig;
use super::measure::MeasureConfig;

/// One fully resolved run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub labels: LabelMode,
    #[serde(default)]
    pub seed: u64,
    pub data: DataConfig,
    #[serde(default)]
    pub task: TaskConfig,
    pub model: ModelConfig,
    pub optimizer: OptimizerConfig,
    pub train: TrainConfig,
    #[serde(default)]
    pub measure: MeasureConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisConfig>,
}

impl RunConfig {
    /// Checks values no type can rule out, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_name(&self.name)?;
        self.train.validate().map_err(|e| anyhow!(e))?;
        if self.measure.batch_size == 0 {
            bail!("measure.batch_size must be at least 1");
        }
        if self.measure.max_rows == Some(0) {
            bail!("measure.max_rows = 0: it must be at least 1 (or absent: every row)");
        }
        self.task.validate()?;
        if let DataConfig::Teacher(t) = &self.data {
            t.validate()?;
        }
        if let Some(c) = self
            .task
            .listed_classes()
            .filter(|_| self.data.images().is_some())
        {
            self.train
                .loss_for(c)
                .check_classes(c)
                .map_err(|e| anyhow!(e))?;
        }
        self.optimizer.validate().context("optimizer")?;
        if let Some(analysis) = &self.analysis {
            analysis.validate(&self.data).context("analysis")?;
        }
        Ok(())
    }

    /// The model with its weights file resolved: a relative path is looked up in the data
    /// folder `data`, an absolute one is used as it is. The run's identity keeps the path as
    /// written, so a run id does not depend on where the data lives.
    pub fn model_in(&self, data: &Path) -> ModelConfig {
        let mut model = self.model.clone();
        if let ModelConfig::EfficientNet(e) = &mut model
            && let repalign_models::Weights::File(f) = &mut e.weights
            && f.is_relative()
        {
            *f = data.join(&*f);
        }
        model
    }

    /// Checks that the weights file the model names (resolved in `data`, see
    /// [`RunConfig::model_in`]) is there.
    pub fn check_weights(&self, data: &Path) -> anyhow::Result<()> {
        let (ModelConfig::EfficientNet(written), ModelConfig::EfficientNet(resolved)) =
            (&self.model, &self.model_in(data))
        else {
            return Ok(());
        };
        let (repalign_models::Weights::File(w), repalign_models::Weights::File(f)) =
            (&written.weights, &resolved.weights)
        else {
            return Ok(());
        };
        if f.is_file() {
            return Ok(());
        }
        let hint = if w.is_relative() && w.is_file() {
            format!(
                " (a relative path is looked up in the data folder; {} exists here: write it relative to the data folder, or absolute)",
                w.display()
            )
        } else {
            String::new()
        };
        bail!(
            "model.weights = {}: {} does not exist{hint}. `scripts/fetch-data.sh {}` fetches EfficientNet-Lite0's weights; weights = \"random\" needs none",
            w.display(),
            f.display(),
            data.display()
        )
    }

    /// Canonical JSON of the config: the identity of a run.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("configs serialise")
    }

    /// A readable, stable id: the model, optimizer, label mode and seed, then a hash of the
    /// whole config, so the same config always lands in the same directory.
    pub fn run_id(&self) -> String {
        let json = self.canonical_json();
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in json.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        format!(
            "{}-d{}-w{}-{}-{}-s{}-{:08x}",
            self.model.kind(),
            self.model.depth(),
            self.model.width_label(),
            self.optimizer.name(),
            self.labels.as_str(),
            self.seed,
            (h >> 32) as u32
        )
    }
}

/// The longest experiment name.
const MAX_NAME: usize = 100;

/// An experiment's name becomes a folder under `runs/`: one path component of letters, digits,
/// `-`, `_` and `.` (not first), so it can neither escape the results root nor be empty.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "name = {name:?}: the name becomes a folder under runs/, so it must be 1-{MAX_NAME} letters, digits, '-', '_' or '.' (not first), e.g. \"sweep-depth\""
        );
    }
    Ok(())
}
