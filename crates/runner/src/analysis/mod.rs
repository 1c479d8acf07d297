//! Analyses run on a trained network after its alignment is measured (the `[analysis]` table):
//! learning speed of linear models on frozen layers, transfer to target tasks, and probes of
//! every layer with binary tasks on held-out images. Each writes a tidy CSV into the run folder;
//! `runner report` gathers them.

pub mod probes;
pub mod speed;
pub mod transfer;

use std::path::Path;

use burn::tensor::Device;
use repalign_data::{Dataset, Task};
use repalign_models::Model;
use serde::Serialize;

use crate::experiment::{AnalysisConfig, RunConfig};
use crate::io::write_atomic;
use crate::train::gather;

/// Runs `config` on a trained model and writes its files into `dir`.
pub fn run(
    config: &AnalysisConfig,
    run: &RunConfig,
    task: &Task,
    model: &Model,
    data: Option<&Dataset>,
    device: &Device,
    dir: &Path,
) -> anyhow::Result<()> {
    match config {
        AnalysisConfig::LearningSpeed {
            steps,
            step_fraction,
            level,
        } => speed::run(
            run,
            task,
            model,
            device,
            dir,
            *steps,
            *step_fraction,
            *level,
        ),
        AnalysisConfig::Transfer {
            targets,
            target_train,
            budget,
            lr,
        } => transfer::run(
            run,
            task,
            model,
            data,
            device,
            dir,
            targets,
            *target_train,
            *budget,
            *lr,
        ),
        AnalysisConfig::Probes { pairs } => {
            let data = data.ok_or_else(|| anyhow::anyhow!("probes need an image dataset"))?;
            probes::run(run, model, data, device, dir, pairs)
        }
    }
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
            let v: Vec<f32> = h
                .into_data()
                .convert::<f32>()
                .try_to_vec()
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            out[k + 1].p = p;
            out[k + 1].values.extend(v);
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
