//! Learning speed: gradient descent of a linear model on each frozen representation (the input
//! and every hidden layer), against the true training labels, from `w = 0` with step
//! `eta = step_fraction / sigma_1^2`. The squared loss is measured and predicted exactly from
//! the spectrum; the logistic loss is measured.

use std::collections::BTreeMap;
use std::path::Path;

use repalign_alignment::{Targets, logistic_descent, measure, phi_rows, squared_descent};
use repalign_report::Table;
use repalign_report::plot::{LossLine, loss_curves};
use serde::{Deserialize, Serialize};

use super::{Pick, Trained, cells_by_row, layers, read_rows, write_csv};
use crate::experiment::RunConfig;
use crate::measure::targets;
use crate::report::{Report, RunEntry};

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
pub struct Config {
    #[serde(default = "steps_1000")]
    pub steps: u32,
    /// `eta = step_fraction / sigma_1^2` of each representation.
    #[serde(default = "one")]
    pub step_fraction: f64,
    /// Loss level, as a fraction of the loss at `w = 0`, for the steps-to-level table.
    #[serde(default = "half")]
    pub level: f64,
}

impl Config {
    pub fn validate(&self, _run: &RunConfig) -> anyhow::Result<()> {
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

/// Every step of every representation.
pub const STEPS_FILE: &str = "learning_speed.csv";
/// One row per representation.
pub const SUMMARY_FILE: &str = "learning_speed_summary.csv";

/// One step of one representation (`learning_speed.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
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

pub fn run(config: &Config, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let Config {
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
    write_csv(&dir.join(STEPS_FILE), &step_rows)?;
    write_csv(&dir.join(SUMMARY_FILE), &summary)
}

/// What a run folder holds of this analysis.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub summary: Vec<SummaryRow>,
    pub steps: Vec<StepRow>,
}

impl Results {
    pub fn read(dir: &Path) -> anyhow::Result<Results> {
        Ok(Results {
            summary: read_rows(&dir.join(SUMMARY_FILE))?,
            steps: read_rows(&dir.join(STEPS_FILE))?,
        })
    }
}

/// How a representation is named in the table and the plot: `input`, or `true-label net:
/// hidden2`.
fn representation(r: &RunEntry, layer_index: usize, layer: &str) -> String {
    if layer_index == 0 {
        "input".to_string()
    } else {
        format!("{}-label net: {layer}", r.config.labels.as_str())
    }
}

/// Rows are representations (the input, then each label mode's layers).
pub fn tables(report: &Report) -> Vec<Table> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    let speed: Vec<(String, &SummaryRow)> = done
        .iter()
        .flat_map(|r| {
            r.analysis
                .speed
                .summary
                .iter()
                .map(move |s| (representation(r, s.layer_index, &s.layer), s))
        })
        .collect();
    if speed.is_empty() {
        return vec![];
    }
    let config = done.iter().find_map(|r| match &r.config.analysis {
        Some(super::AnalysisConfig::LearningSpeed(c)) => Some((c.level, c.steps)),
        _ => None,
    });
    let (level, steps) = config.unwrap_or((f64::NAN, 0));
    // Sorted by (label mode, layer): the input, true-label layers, then random-label layers.
    let mut names: Vec<(usize, String)> = Vec::new();
    for (n, s) in &speed {
        let key = (
            usize::from(n.starts_with("random")) * 100 + s.layer_index,
            n.clone(),
        );
        if !names.contains(&key) {
            names.push(key);
        }
    }
    names.sort();
    let columns = vec![
        "auc (true labels)".to_string(),
        format!("steps to {level} x initial loss (squared)"),
        format!("steps to {level} x initial loss (logistic)"),
        format!("squared loss after {steps} steps / initial"),
    ];
    let picks: [Pick<'_, SummaryRow>; 4] = [
        &|s| Some(s.auc),
        &|s| s.steps_squared.map(f64::from),
        &|s| s.steps_logistic.map(f64::from),
        &|s| Some(s.final_squared),
    ];
    let rows: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
    let cells = cells_by_row(&rows, &speed, &picks);
    vec![Table::new(
        "learning speed of a linear model on fixed representations (gradient descent from w = 0, eta = 1 / sigma_1^2, true labels)",
        "representation",
        rows,
        columns,
        cells,
    )]
}

/// The largest deviation of the predicted squared loss from the measured one.
pub fn notes(report: &Report) -> Vec<String> {
    report
        .runs
        .iter()
        .flat_map(|r| r.analysis.speed.summary.iter().map(|s| s.max_relative_deviation))
        .reduce(f64::max)
        .map(|dev| {
            format!(
                "Squared loss predicted from the spectrum vs measured gradient descent: largest relative deviation {dev:.1e} over every representation and step."
            )
        })
        .into_iter()
        .collect()
}

/// `learning_speed.{svg,png}`: one loss curve per representation of the lowest seed's runs
/// (dashed: the random-label network's layers).
pub fn plots(report: &Report, dir: &Path) -> anyhow::Result<()> {
    let runs: Vec<&RunEntry> = report
        .runs
        .iter()
        .filter(|r| r.done() && !r.analysis.speed.steps.is_empty())
        .collect();
    let Some(seed) = runs.iter().map(|r| r.config.seed).min() else {
        return Ok(());
    };
    let mut lines: Vec<LossLine> = Vec::new();
    for r in runs.iter().filter(|r| r.config.seed == seed) {
        let mut by_layer: BTreeMap<usize, (String, Vec<(f64, f64)>)> = BTreeMap::new();
        for row in &r.analysis.speed.steps {
            by_layer
                .entry(row.layer_index)
                .or_insert_with(|| (representation(r, row.layer_index, &row.layer), vec![]))
                .1
                .push((row.step as f64 + 1.0, row.squared.max(1e-12)));
        }
        for (i, (label, points)) in by_layer {
            if i == 0 && lines.iter().any(|l| l.label == "input") {
                continue;
            }
            lines.push(LossLine {
                label,
                points,
                dashed: i > 0 && r.config.labels.as_str() == "random",
            });
        }
    }
    let title = format!(
        "{}: squared loss of gradient descent on fixed representations (seed {seed})",
        report.experiment
    );
    Ok(loss_curves(dir, "learning_speed", &title, &lines)?)
}
