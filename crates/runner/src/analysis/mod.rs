//! Analyses run on a trained network after its alignment is measured (the `[analysis]` table
//! of an experiment): learning speed of linear models on frozen layers, transfer to target
//! tasks, and probes of every layer with binary tasks on held-out images.
//!
//! Each analysis is one module that owns its config, its run step (which writes tidy CSV files
//! into the run folder), its rows (read back by `runner report`), its tables, notes and plots.
//! This file is the one place they are registered: [`AnalysisConfig`] (what a file may ask
//! for), [`Results`] (what a run folder holds), and the dispatch below.

pub mod probes;
pub mod speed;
pub mod transfer;

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;
use repalign_data::{Dataset, Task};
use repalign_models::Model;
use repalign_report::{Cell, Table};
use repalign_train::gather;
use serde::{Deserialize, Serialize};

use crate::experiment::RunConfig;
use crate::io::write_atomic;
use crate::report::Report;

/// What to do with a trained network besides measuring it (`kind = "..."` in a file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AnalysisConfig {
    /// See [`speed`].
    LearningSpeed(speed::Config),
    /// See [`transfer`].
    Transfer(transfer::Config),
    /// See [`probes`].
    Probes(probes::Config),
}

impl AnalysisConfig {
    /// Checks the settings against the run (its data, say), naming the field.
    pub fn validate(&self, run: &RunConfig) -> anyhow::Result<()> {
        match self {
            AnalysisConfig::LearningSpeed(c) => c.validate(run),
            AnalysisConfig::Transfer(c) => c.validate(run),
            AnalysisConfig::Probes(c) => c.validate(run),
        }
    }
}

/// What a run needs to be analysed.
pub struct Trained<'a> {
    pub run: &'a RunConfig,
    /// The task it was trained on.
    pub task: &'a Task,
    pub model: &'a Model,
    /// The image dataset the task was drawn from, if any.
    pub data: Option<&'a Dataset>,
    pub device: &'a Device,
}

/// Runs `config` on a trained model and writes its files into `dir`.
pub fn run(config: &AnalysisConfig, trained: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    match config {
        AnalysisConfig::LearningSpeed(c) => speed::run(c, trained, dir),
        AnalysisConfig::Transfer(c) => transfer::run(c, trained, dir),
        AnalysisConfig::Probes(c) => probes::run(c, trained, dir),
    }
}

/// What the analyses wrote into one run folder (each empty when absent).
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub speed: speed::Results,
    pub transfer: Vec<transfer::TransferRow>,
    pub probes: Vec<probes::ProbeRow>,
}

impl Results {
    /// Reads the analysis files of the run folder `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<Results> {
        Ok(Results {
            speed: speed::Results::read(dir)?,
            transfer: read_rows(&dir.join(transfer::FILE))?,
            probes: read_rows(&dir.join(probes::FILE))?,
        })
    }
}

/// The analyses' tables, in registry order.
pub fn tables(report: &Report) -> Vec<Table> {
    let mut t = speed::tables(report);
    t.extend(transfer::tables(report));
    t.extend(probes::tables(report));
    t
}

/// Lines under the tables (a correlation, a largest deviation).
pub fn notes(report: &Report) -> Vec<String> {
    let mut n = transfer::notes(report);
    n.extend(speed::notes(report));
    n
}

/// The analyses' tidy files at the top of a results folder.
pub fn files(report: &Report, dir: &Path) -> anyhow::Result<()> {
    probes::write_tidy(report, dir)
}

/// The analyses' plots.
pub fn plots(report: &Report, dir: &Path) -> anyhow::Result<()> {
    speed::plots(report, dir)?;
    transfer::plots(report, dir)?;
    probes::plots(report, dir)
}

/// One representation of a set of inputs: a name and row-major `n x p` values.
pub struct Layer {
    pub name: String,
    pub p: usize,
    pub values: Vec<f32>,
}

/// The input and every hidden layer of `model` on row-major inputs `x` (`n x d`), computed in
/// batches of `batch` rows.
pub fn layers(
    model: &Model,
    x: &[f32],
    d: usize,
    batch: usize,
    device: &Device,
) -> anyhow::Result<Vec<Layer>> {
    let n = x.len() / d;
    let names = model.layer_names();
    let mut out: Vec<Layer> = std::iter::once(Layer {
        name: "input".into(),
        p: d,
        values: x.to_vec(),
    })
    .chain(names.iter().map(|nm| Layer {
        name: nm.clone(),
        p: 0,
        values: Vec::new(),
    }))
    .collect();
    let all: Vec<usize> = (0..n).collect();
    for idx in all.chunks(batch.max(1)) {
        let f = model.forward(gather(x, d, idx, device));
        for (k, h) in f.hidden.into_iter().enumerate() {
            let [_, p] = h.dims();
            out[k + 1].p = p;
            out[k + 1].values.extend(repalign_train::values(h));
        }
    }
    Ok(out)
}

/// Writes rows as a CSV file, atomically.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in rows {
        w.serialize(r)?;
    }
    write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}

/// Rows of a CSV file in a run folder, none when the file is absent.
pub fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    if !path.is_file() {
        return Ok(vec![]);
    }
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    r.deserialize()
        .collect::<Result<Vec<T>, _>>()
        .with_context(|| format!("{}", path.display()))
}

/// Reads one number (or none) off an item.
pub type Pick<'a, T> = &'a dyn Fn(&T) -> Option<f64>;

/// One row per name, one column per pick: the finite values of the items carrying that name.
pub fn cells_by_row<T>(
    rows: &[String],
    items: &[(String, &T)],
    picks: &[Pick<'_, T>],
) -> Vec<Vec<Option<Cell>>> {
    rows.iter()
        .map(|row| {
            picks
                .iter()
                .map(|pick| {
                    let values: Vec<f64> = items
                        .iter()
                        .filter(|(name, _)| name == row)
                        .filter_map(|(_, item)| pick(item))
                        .filter(|v| v.is_finite())
                        .collect();
                    Cell::of(&values)
                })
                .collect()
        })
        .collect()
}
