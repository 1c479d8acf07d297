//! Learning speed: gradient descent of a linear model on each frozen representation (the input
//! and every hidden layer), against the true training labels, from `w = 0` with step
//! `eta = step_fraction / sigma_1^2`. The squared loss is measured and predicted exactly from
//! the spectrum; the logistic loss is measured.

use std::path::Path;

use burn::tensor::Device;
use repalign_alignment::{Targets, logistic_descent, measure, phi_rows, squared_descent};
use repalign_data::Task;
use repalign_models::Model;
use serde::{Deserialize, Serialize};

use super::{layers, write_csv};
use crate::experiment::RunConfig;
use crate::measure::targets;

/// One step of one representation (`learning_speed.csv`).
#[derive(Debug, Serialize, Deserialize)]
pub struct StepRow {
    pub layer: String,
    pub layer_index: usize,
    pub step: u32,
    /// Squared loss over its value at `w = 0`.
    pub squared: f64,
    pub squared_predicted: f64,
    /// Logistic loss over its value at `w = 0` (binary tasks).
    pub logistic: Option<f64>,
}

/// One representation (`learning_speed_summary.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryRow {
    pub layer: String,
    pub layer_index: usize,
    pub p: usize,
    /// Alignment with the true labels.
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub eta: f64,
    /// First step whose squared loss is at most `level` times the initial loss.
    pub steps_squared: Option<u32>,
    pub steps_logistic: Option<u32>,
    pub final_squared: f64,
    /// Largest `|predicted - measured| / measured` over all steps.
    pub max_relative_deviation: f64,
}

fn first_below(losses: &[f64], level: f64) -> Option<u32> {
    losses
        .iter()
        .position(|l| *l <= level * losses[0])
        .map(|t| t as u32)
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    run: &RunConfig,
    task: &Task,
    model: &Model,
    device: &Device,
    dir: &Path,
    steps: u32,
    step_fraction: f64,
    level: f64,
) -> anyhow::Result<()> {
    let y: Targets = targets(&task.train_y_true, task.num_classes)?;
    let n = task.train_len();
    let options = run.measure.options();
    let mut step_rows = Vec::new();
    let mut summary = Vec::new();
    for (i, layer) in layers(
        model,
        &task.train_x,
        task.input_len(),
        run.measure.batch_size,
        device,
    )?
    .into_iter()
    .enumerate()
    {
        let spectrum = measure(&layer.values, layer.p, &y, options)?;
        let s = spectrum.summary();
        let eta = step_fraction * spectrum.max_step();
        let phi = phi_rows(&layer.values, n, layer.p, options);
        let squared = squared_descent(&phi, y.values(), n, eta, steps);
        let logistic =
            (y.columns() == 1).then(|| logistic_descent(&phi, y.values(), n, eta, steps));
        let mut max_dev: f64 = 0.0;
        for (t, m) in squared.iter().enumerate() {
            let p = spectrum.predicted_squared_loss(eta, t as u32);
            max_dev = max_dev.max((p - m).abs() / m.max(f64::MIN_POSITIVE));
            step_rows.push(StepRow {
                layer: layer.name.clone(),
                layer_index: i,
                step: t as u32,
                squared: m / squared[0],
                squared_predicted: p / squared[0],
                logistic: logistic.as_ref().map(|l| l[t] / l[0]),
            });
        }
        summary.push(SummaryRow {
            layer: layer.name.clone(),
            layer_index: i,
            p: spectrum.p,
            auc: s.auc,
            auc_null: s.auc_null,
            k90: s.k90,
            eta,
            steps_squared: first_below(&squared, level),
            steps_logistic: logistic.as_ref().and_then(|l| first_below(l, level)),
            final_squared: squared[squared.len() - 1] / squared[0],
            max_relative_deviation: max_dev,
        });
    }
    write_csv(&dir.join("learning_speed.csv"), &step_rows)?;
    write_csv(&dir.join("learning_speed_summary.csv"), &summary)
}
