//! The learning-speed analysis' table, note and plot.

use std::collections::BTreeMap;
use std::path::Path;

use repalign_report::Table;
use repalign_report::plot::{LossLine, loss_curves};

use super::cells::{Pick, cells_by_row};
use crate::experiment::AnalysisConfig;
use crate::run_folder::{RunEntry, Runs, SummaryRow};

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
pub fn tables(report: &Runs) -> Vec<Table> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    let speed: Vec<(String, &SummaryRow)> = done
        .iter()
        .flat_map(|r| {
            r.analysis
                .speed_summary
                .iter()
                .map(move |s| (representation(r, s.layer_index, &s.layer), s))
        })
        .collect();
    if speed.is_empty() {
        return vec![];
    }
    let config = done.iter().find_map(|r| match &r.config.analysis {
        Some(AnalysisConfig::LearningSpeed(c)) => Some((c.level, c.steps)),
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
pub fn notes(report: &Runs) -> Vec<String> {
    report
        .runs
        .iter()
        .flat_map(|r| r.analysis.speed_summary.iter().map(|s| s.max_relative_deviation))
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
pub fn plots(report: &Runs, dir: &Path) -> anyhow::Result<()> {
    let runs: Vec<&RunEntry> = report
        .runs
        .iter()
        .filter(|r| r.done() && !r.analysis.speed_steps.is_empty())
        .collect();
    let Some(seed) = runs.iter().map(|r| r.config.seed).min() else {
        return Ok(());
    };
    let mut lines: Vec<LossLine> = Vec::new();
    for r in runs.iter().filter(|r| r.config.seed == seed) {
        let mut by_layer: BTreeMap<usize, (String, Vec<(f64, f64)>)> = BTreeMap::new();
        for row in &r.analysis.speed_steps {
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
