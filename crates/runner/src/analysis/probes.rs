//! Probes: the alignment of the input and every layer of a trained network with binary tasks
//! (class a vs class b) on the held-out test images of those classes.

use std::path::Path;

use burn::tensor::Device;
use repalign_alignment::measure;
use repalign_data::{Classes, Dataset, LabelMode, Task, TaskConfig};
use repalign_models::Model;
use serde::{Deserialize, Serialize};

use super::{layers, write_csv};
use crate::experiment::RunConfig;
use crate::measure::targets;

/// One layer on one binary task (`probes.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRow {
    /// `a-b`.
    pub pair: String,
    pub layer: String,
    pub layer_index: usize,
    pub n: usize,
    pub p: usize,
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub top1: f64,
}

pub fn run(
    run: &RunConfig,
    model: &Model,
    data: &Dataset,
    device: &Device,
    dir: &Path,
    pairs: &[[u8; 2]],
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for pair in pairs {
        let config = TaskConfig {
            classes: Classes::List(pair.to_vec()),
            train_per_class: Some(1),
            test_per_class: None,
            draw_seed: 0,
        };
        let task = Task::draw(data, &config, LabelMode::True, 0)?;
        let y = targets(&task.test_y, 2)?;
        for (i, layer) in layers(
            model,
            &task.test_x,
            task.input_len(),
            run.measure.batch_size,
            device,
        )?
        .into_iter()
        .enumerate()
        {
            let s = measure(&layer.values, layer.p, &y, run.measure.options())?;
            let m = s.summary();
            rows.push(ProbeRow {
                pair: format!("{}-{}", pair[0], pair[1]),
                layer: layer.name,
                layer_index: i,
                n: s.n,
                p: s.p,
                auc: m.auc,
                auc_null: m.auc_null,
                k90: m.k90,
                top1: m.top1,
            });
        }
    }
    write_csv(&dir.join("probes.csv"), &rows)
}
