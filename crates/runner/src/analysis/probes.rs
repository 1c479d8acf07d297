//! Probes: the alignment of the input and every layer of a trained network with binary tasks
//! (class a vs class b) on the held-out test images of those classes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::bail;
use repalign_alignment::measure;
use repalign_data::{Classes, LabelMode, Task, TaskConfig};
use repalign_report::plot::{LinePlot, Series, line_plot, points};
use repalign_report::{Cell, Table};
use serde::{Deserialize, Serialize};

use super::{Trained, layers, write_csv};
use crate::experiment::{DataConfig, RunConfig};
use crate::measure::targets;
use crate::report::keys::{Arch, Axes};
use crate::report::{Report, RunEntry};

/// `kind = "probes"`: the alignment of every layer with binary tasks on held-out (test) images
/// of class pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub pairs: Vec<[u8; 2]>,
}

impl Config {
    pub fn validate(&self, run: &RunConfig) -> anyhow::Result<()> {
        if matches!(run.data, DataConfig::Teacher(_)) {
            bail!("class pairs need an image dataset, not the teacher");
        }
        if self.pairs.is_empty() {
            bail!("pairs = []: name at least one pair of classes, e.g. [[0, 1]]");
        }
        if let Some(p) = self.pairs.iter().find(|p| p[0] == p[1]) {
            bail!("pairs: {p:?} names one class twice");
        }
        Ok(())
    }
}

/// One row per pair and layer.
pub const FILE: &str = "probes.csv";

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

pub fn run(config: &Config, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let Trained {
        run, model, device, ..
    } = *t;
    let data = t
        .data
        .ok_or_else(|| anyhow::anyhow!("probes need an image dataset"))?;
    let mut rows = Vec::new();
    for pair in &config.pairs {
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
    write_csv(&dir.join(FILE), &rows)
}

/// Rows are (architecture, layer), columns the pairs and their mean.
pub fn tables(report: &Report) -> Vec<Table> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    let axes = Axes::of(&report.runs);
    let mut rows: BTreeMap<(Arch, usize), String> = BTreeMap::new();
    let mut pairs: Vec<String> = Vec::new();
    for r in &done {
        let a = axes.arch(&r.config);
        for p in &r.analysis.probes {
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
                    .filter(|p| p.layer_index == *li && pair.is_none_or(|q| &p.pair == q))
                    .map(|p| p.auc)
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
        "probes: auc of every layer on binary tasks of held-out images",
        "architecture / layer",
        rows.into_values().collect(),
        columns,
        cells,
    )]
}

/// `probes.{svg,png}`: auc against layer per architecture, mean over pairs and seeds.
pub fn plots(report: &Report, dir: &Path) -> anyhow::Result<()> {
    let axes = Axes::of(&report.runs);
    let mut lines: BTreeMap<Arch, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in report.runs.iter().filter(|r| r.done()) {
        for p in &r.analysis.probes {
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
