//! The probes analysis' tables, the results folder's tidy `probes.csv`, and the plots.

use std::collections::BTreeMap;
use std::path::Path;

use repalign_report::plot::{LinePlot, Series, line_plot, points};
use repalign_report::{Cell, Table};
use serde::Serialize;

use super::keys::{Arch, Axes};
use crate::run_folder::{ALL_CLASSES, ProbeRow, RunEntry, Runs, names, write_rows};

/// Rows are (architecture, layer), columns the pairs and their mean: the auc, then the linear
/// probe's held-out accuracy.
pub fn tables(report: &Runs) -> Vec<Table> {
    let mut t = table(
        report,
        "probes: auc of every layer on tasks of held-out images",
        &|p| Some(p.auc),
    );
    t.extend(table(
        report,
        "probes: held-out accuracy of a linear probe (ridge, fitted on half the images, scored on the other half)",
        &|p| p.probe_acc,
    ));
    t
}

fn table(report: &Runs, title: &str, pick: &dyn Fn(&ProbeRow) -> Option<f64>) -> Vec<Table> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    let axes = Axes::of(&report.runs);
    let mut rows: BTreeMap<(Arch, usize), String> = BTreeMap::new();
    let mut pairs: Vec<String> = Vec::new();
    for r in &done {
        let a = axes.arch(&r.config);
        for p in r.analysis.probes.iter().filter(|p| pick(p).is_some()) {
            rows.entry((a.clone(), p.layer_index)).or_insert_with(|| {
                format!("{} / {} {}", axes.arch_label(&a), p.layer_index, p.layer)
            });
            if !pairs.contains(&p.pair) {
                pairs.push(p.pair.clone());
            }
        }
    }
    if rows.is_empty() {
        return vec![];
    }
    let cells = rows
        .keys()
        .map(|(a, li)| {
            let of = |pair: Option<&String>| {
                let v: Vec<f64> = done
                    .iter()
                    .filter(|r| axes.arch(&r.config) == *a)
                    .flat_map(|r| r.analysis.probes.iter())
                    .filter(|p| {
                        p.layer_index == *li && pair.map_or(p.pair != ALL_CLASSES, |q| &p.pair == q)
                    })
                    .filter_map(pick)
                    .collect();
                Cell::of(&v)
            };
            pairs
                .iter()
                .map(|p| of(Some(p)))
                .chain(std::iter::once(of(None)))
                .collect()
        })
        .collect();
    let mut columns = pairs;
    columns.push("mean over pairs".into());
    vec![Table::new(
        title,
        "architecture / layer",
        rows.into_values().collect(),
        columns,
        cells,
    )]
}

/// One row of the results folder's `probes.csv`: a run, a task and a layer.
#[derive(Debug, Serialize)]
struct TidyRow<'a> {
    run_id: &'a str,
    experiment: &'a str,
    dataset: &'a str,
    model: &'a str,
    /// `pretrained` or `random` for a pretrained architecture, `trained` for a network trained
    /// by the run.
    weights: &'a str,
    width: String,
    seed: u64,
    pair: &'a str,
    layer: &'a str,
    layer_index: usize,
    n: usize,
    p: usize,
    auc: f64,
    pair_mean_auc: Option<f64>,
    auc_null: f64,
    k90: Option<usize>,
    top1: f64,
    probe_acc: Option<f64>,
}

/// `probes.csv` at the top of the results folder: every run's probe rows, tidy (none when no
/// run has probes).
pub fn write_tidy(report: &Runs, dir: &Path) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for r in report.runs.iter().filter(|r| r.done()) {
        let c = &r.config;
        let weights = match &c.model {
            repalign_models::ModelConfig::EfficientNet(e) => e.weights.label(),
            _ if c.train.epochs == 0 => "random",
            _ => "trained",
        };
        for p in &r.analysis.probes {
            rows.push(TidyRow {
                run_id: &r.result.run_id,
                experiment: &c.name,
                dataset: c.data.name(),
                model: c.model.kind(),
                weights,
                width: c.model.width_label(),
                seed: c.seed,
                pair: &p.pair,
                layer: &p.layer,
                layer_index: p.layer_index,
                n: p.n,
                p: p.p,
                auc: p.auc,
                pair_mean_auc: p.pair_mean_auc,
                auc_null: p.auc_null,
                k90: p.k90,
                top1: p.top1,
                probe_acc: p.probe_acc,
            });
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    write_rows(&dir.join(names::PROBES), &rows)
}

/// `probes.{svg,png}`: auc against layer per architecture, mean over pairs and seeds.
pub fn plots(report: &Runs, dir: &Path) -> anyhow::Result<()> {
    let axes = Axes::of(&report.runs);
    let mut lines: BTreeMap<Arch, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in report.runs.iter().filter(|r| r.done()) {
        for p in r.analysis.probes.iter().filter(|p| p.pair != ALL_CLASSES) {
            lines
                .entry(axes.arch(&r.config))
                .or_default()
                .entry(p.layer_index)
                .or_default()
                .push(p.auc);
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let max_layer = lines
        .values()
        .flat_map(|l| l.keys())
        .copied()
        .max()
        .unwrap_or(0);
    let series: Vec<Series> = lines
        .into_iter()
        .map(|(a, pts)| Series {
            label: axes.arch_label(&a),
            points: points(pts),
        })
        .collect();
    let title = format!(
        "{}: auc of every layer on binary tasks of held-out images",
        report.experiment
    );
    Ok(line_plot(
        dir,
        "probes",
        &LinePlot {
            title: &title,
            x_desc: "layer index (0 = input)",
            x_range: (-0.3, max_layer as f64 + 0.3),
            series: &series,
            null: &[],
            refs: &[],
        },
    )?)
}
