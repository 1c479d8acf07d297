//! Analyses run on a trained network after its alignment is measured (the `[analysis]` table
//! of an experiment, configured in `crate::experiment`): learning speed of linear models on
//! frozen layers, transfer to target tasks, and probes of every layer with binary tasks on
//! held-out images.
//!
//! Each analysis runs and writes its rows into the run folder (`crate::run_folder`); the report
//! (`crate::report`) reads them back and builds the tables, notes and plots.

mod common;
mod probes;
mod speed;
mod transfer;

use std::path::Path;

pub use common::Trained;

use crate::experiment::AnalysisConfig;

/// Runs `config` on a trained model and writes its files into `dir`.
pub fn run(config: &AnalysisConfig, trained: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    match config {
        AnalysisConfig::LearningSpeed(c) => speed::run(c, trained, dir),
        AnalysisConfig::Transfer(c) => transfer::run(c, trained, dir),
        AnalysisConfig::Probes(c) => probes::run(c, trained, dir),
    }
}
