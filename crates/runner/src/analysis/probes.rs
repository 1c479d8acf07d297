//! Probes: the alignment of the input and every layer of a trained network with binary tasks
//! (class a vs class b), and optionally with the task of every class, on the held-out test
//! images of those classes; beside each alignment, a linear probe's accuracy (ridge regression
//! fitted on half of those images, scored on the other half; see
//! [`repalign_alignment::ridge_probe`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::bail;
use rayon::prelude::*;
use repalign_alignment::{ClassAccumulator, halves, measure, ridge_probe};
use repalign_data::{AllClasses, Classes, LabelMode, Task, TaskConfig};
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
    /// Also the task of every class (the row `pair = "all"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_classes: bool,
    /// Held-out images per class, drawn with seed 0 (default: every test image of the class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_class: Option<usize>,
}

impl Config {
    pub fn validate(&self, run: &RunConfig) -> anyhow::Result<()> {
        if matches!(run.data, DataConfig::Teacher(_)) {
            bail!("class pairs need an image dataset, not the teacher");
        }
        if self.pairs.is_empty() && !self.all_classes {
            bail!("pairs = []: name at least one pair of classes, e.g. [[0, 1]]");
        }
        if self.per_class == Some(0) {
            bail!("per_class = 0: it must be at least 1 (or absent: every test image)");
        }
        if let Some(p) = self.pairs.iter().find(|p| p[0] == p[1]) {
            bail!("pairs: {p:?} names one class twice");
        }
        Ok(())
    }
}

/// One row per pair and layer.
pub const FILE: &str = "probes.csv";

/// The `pair` of the task of every class. Means over pairs leave it out: its auc (centred
/// one-vs-rest targets) is on another scale, about 1/3 at most for 10 classes.
const ALL: &str = "all";

/// One layer on one task (`probes.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRow {
    /// `a-b`, or `all` for the task of every class.
    pub pair: String,
    pub layer: String,
    pub layer_index: usize,
    pub n: usize,
    pub p: usize,
    pub auc: f64,
    /// The task of every class: the mean over class pairs of the binary auc on each pair's
    /// rows (none for a pair, and in folders written before it existed).
    #[serde(default)]
    pub pair_mean_auc: Option<f64>,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub top1: f64,
    /// Held-out accuracy of a linear probe (none in folders written before probes existed).
    #[serde(default)]
    pub probe_acc: Option<f64>,
}

pub fn run(config: &Config, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let Trained {
        run, model, device, ..
    } = *t;
    let data = t
        .data
        .ok_or_else(|| anyhow::anyhow!("probes need an image dataset"))?;
    let mut rows = Vec::new();
    let tasks = config
        .pairs
        .iter()
        .map(|p| (format!("{}-{}", p[0], p[1]), Classes::List(p.to_vec())))
        .chain(
            config
                .all_classes
                .then(|| (ALL.to_string(), Classes::All(AllClasses::All))),
        );
    for (name, classes) in tasks {
        let config = TaskConfig {
            classes,
            train_per_class: Some(1),
            test_per_class: config.per_class,
            draw_seed: 0,
        };
        let task = Task::draw(data, &config, LabelMode::True, 0)?;
        let y = targets(&task.test_y, task.num_classes)?;
        let labels: Vec<f64> = task.test_y.iter().map(|&l| f64::from(l)).collect();
        let (fit, score) = halves(task.test_y.len());
        let layers = layers(
            model,
            &task.test_x,
            task.input_len(),
            run.measure.batch_size,
            device,
        )?;
        // Each layer's measure and probe are independent: one per core at a time.
        let measured: Vec<_> = layers
            .par_iter()
            .map(|layer| -> anyhow::Result<_> {
                // Three or more classes: the spectrum and every pair's from one accumulator.
                let (s, pairs) = if task.num_classes >= 3 {
                    let mut classes =
                        ClassAccumulator::new(layer.p, y.classes(), run.measure.options())?;
                    classes.push(&layer.values, &labels)?;
                    let (s, pairs) = classes.finish_with_pair_mean(None)?;
                    (s, Some(pairs))
                } else {
                    (
                        measure(&layer.values, layer.p, &y, run.measure.options())?,
                        None,
                    )
                };
                let probe = ridge_probe(
                    &layer.values,
                    layer.p,
                    &task.test_y,
                    task.num_classes,
                    &fit,
                    &score,
                )?;
                Ok((s, pairs, probe))
            })
            .collect();
        for (i, (layer, result)) in layers.into_iter().zip(measured).enumerate() {
            let (s, pairs, probe) = result?;
            let m = s.summary();
            rows.push(ProbeRow {
                pair: name.clone(),
                layer: layer.name,
                layer_index: i,
                n: s.n,
                p: s.p,
                auc: m.auc,
                pair_mean_auc: pairs,
                auc_null: m.auc_null,
                k90: m.k90,
                top1: m.top1,
                probe_acc: Some(probe.accuracy),
            });
        }
    }
    write_csv(&dir.join(FILE), &rows)
}

/// Rows are (architecture, layer), columns the pairs and their mean: the auc, then the linear
/// probe's held-out accuracy.
pub fn tables(report: &Report) -> Vec<Table> {
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

fn table(report: &Report, title: &str, pick: &dyn Fn(&ProbeRow) -> Option<f64>) -> Vec<Table> {
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
                        p.layer_index == *li && pair.map_or(p.pair != ALL, |q| &p.pair == q)
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
pub fn write_tidy(report: &Report, dir: &Path) -> anyhow::Result<()> {
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
    write_csv(&dir.join(FILE), &rows)
}

/// `probes.{svg,png}`: auc against layer per architecture, mean over pairs and seeds.
pub fn plots(report: &Report, dir: &Path) -> anyhow::Result<()> {
    let axes = Axes::of(&report.runs);
    let mut lines: BTreeMap<Arch, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for r in report.runs.iter().filter(|r| r.done()) {
        for p in r.analysis.probes.iter().filter(|p| p.pair != ALL) {
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
