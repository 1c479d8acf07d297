//! Learning speed: gradient descent of a linear model on each frozen representation (the input
//! and every hidden layer), against the true training labels, from `w = 0` with step
//! `eta = step_fraction / sigma_1^2`. The squared loss is measured and predicted exactly from
//! the spectrum; the logistic loss is measured.

use std::path::Path;

use repalign_alignment::{Targets, logistic_descent, measure, phi_rows, squared_descent};

use super::common::{Trained, layers};
use crate::experiment::SpeedConfig;
use crate::measure::targets;
use crate::run_folder::{StepRow, SummaryRow, names, write_rows};

fn first_below(losses: &[f64], level: f64) -> Option<u32> {
    losses
        .iter()
        .position(|l| *l <= level * losses[0])
        .map(|t| t as u32)
}

pub fn run(config: &SpeedConfig, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let SpeedConfig {
        steps,
        step_fraction,
        level,
    } = *config;
    let Trained {
        run,
        task,
        model,
        device,
        ..
    } = *t;
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
    write_rows(&dir.join(names::SPEED_STEPS), &step_rows)?;
    write_rows(&dir.join(names::SPEED_SUMMARY), &summary)
}
