//! `[analysis]`: what to do with a trained network besides measuring it, and each analysis'
//! settings (run by `crate::analysis`, reported by `crate::report`).

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::data::DataConfig;

/// What to do with a trained network besides measuring it (`kind = "..."` in a file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AnalysisConfig {
    /// Learning speed of linear models on each frozen layer.
    LearningSpeed(SpeedConfig),
    /// Transfer to target tasks.
    Transfer(TransferConfig),
    /// Probes of every layer with binary tasks on held-out images.
    Probes(ProbesConfig),
}

impl AnalysisConfig {
    /// Checks the settings against the run (its data, say), naming the field.
    pub fn validate(&self, data: &DataConfig) -> anyhow::Result<()> {
        match self {
            AnalysisConfig::LearningSpeed(c) => c.validate(),
            AnalysisConfig::Transfer(c) => c.validate(data),
            AnalysisConfig::Probes(c) => c.validate(data),
        }
    }
}

fn steps_1000() -> u32 {
    1000
}
fn one() -> f64 {
    1.0
}
fn half() -> f64 {
    0.5
}

/// `kind = "learning-speed"`: gradient descent of a linear model on each frozen layer (and the
/// input), against the true training labels: squared loss (measured, and predicted from the
/// spectrum) and logistic loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedConfig {
    #[serde(default = "steps_1000")]
    pub steps: u32,
    /// `eta = step_fraction / sigma_1^2` of each representation.
    #[serde(default = "one")]
    pub step_fraction: f64,
    /// Loss level, as a fraction of the loss at `w = 0`, for the steps-to-level table.
    #[serde(default = "half")]
    pub level: f64,
}

impl SpeedConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.steps == 0 {
            anyhow::bail!("steps = 0: it must be at least 1");
        }
        if !(self.step_fraction > 0.0 && self.step_fraction <= 2.0) {
            anyhow::bail!(
                "step_fraction = {}: it must lie in (0, 2] (gradient descent diverges beyond 2 / sigma_1^2)",
                self.step_fraction
            );
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            anyhow::bail!(
                "level = {}: it must be a fraction of the initial loss in (0, 1)",
                self.level
            );
        }
        Ok(())
    }
}

fn fifty() -> usize {
    50
}
fn budget_200() -> usize {
    200
}
fn lr_head() -> f64 {
    1e-2
}

/// Target tasks of a transfer analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum TransferTargets {
    /// Teacher targets of these similarities `rho` to the source teacher (teacher data only).
    Rho(Vec<f64>),
    /// Binary tasks on these class pairs of the same dataset.
    Classes(Vec<[u8; 2]>),
}

/// `kind = "transfer"`: freeze the network; on each target task, measure every layer's
/// alignment with the target labels (on the target test set) and compare a linear head on the
/// last hidden layer, trained on `target_train` samples, with the same network trained from
/// scratch on them and with a head on the raw input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferConfig {
    pub targets: TransferTargets,
    /// Target training samples (per class for class targets).
    #[serde(default = "fifty")]
    pub target_train: usize,
    /// Full-batch Adam steps for every head and for the scratch network.
    #[serde(default = "budget_200")]
    pub budget: usize,
    #[serde(default = "lr_head")]
    pub lr: f64,
}

impl TransferConfig {
    pub fn validate(&self, data: &DataConfig) -> anyhow::Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("lr = {}: it must be a finite number > 0", self.lr);
        }
        if self.target_train == 0 || self.budget == 0 {
            bail!(
                "target_train = {} and budget = {} must both be at least 1",
                self.target_train,
                self.budget
            );
        }
        let teacher = matches!(data, DataConfig::Teacher(_));
        match &self.targets {
            TransferTargets::Rho(r) if !teacher => bail!(
                "targets.rho = {r:?} needs dataset = \"teacher\" (use targets.classes for images)"
            ),
            TransferTargets::Rho(r) if r.iter().any(|x| !(-1.0..=1.0).contains(x)) => {
                bail!("every targets.rho must lie in [-1, 1], got {r:?}")
            }
            TransferTargets::Classes(_) if teacher => {
                bail!("class pairs need an image dataset, not the teacher")
            }
            _ => Ok(()),
        }
    }
}

/// `kind = "probes"`: the alignment of every layer with binary tasks on held-out (test) images
/// of class pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesConfig {
    pub pairs: Vec<[u8; 2]>,
    /// Also the task of every class (the row `pair = "all"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_classes: bool,
    /// Held-out images per class, drawn with seed 0 (default: every test image of the class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_class: Option<usize>,
}

impl ProbesConfig {
    pub fn validate(&self, data: &DataConfig) -> anyhow::Result<()> {
        if matches!(data, DataConfig::Teacher(_)) {
            bail!("class pairs need an image dataset, not the teacher");
        }
        if self.pairs.is_empty() && !self.all_classes {
            bail!("pairs = []: name at least one pair of classes, e.g. [[0, 1]]");
        }
        if self.per_class == Some(0) {
            bail!("per_class = 0: it must be at least 1 (or absent: every test image)");
        }
        if let Some(p) = self.pairs.iter().find(|p| p[0] == p[1]) {
            bail!("pairs: {p:?} names one class twice");
        }
        Ok(())
    }
}
