//! The sweep tables of a results folder, architecture by column (optimizer x labels x
//! initialisation): the last hidden layer's auc (the input as a reference row), its null level,
//! the final training accuracy, the runs that fit their labels, and the auc of every layer; and
//! the plots of auc against depth and against layer.

use std::collections::BTreeMap;
use std::path::Path;

use repalign_report::plot::{LinePlot, Series, line_plot, points};
use repalign_report::{Cell, Table};

use super::keys::{self, Arch, Axes, Column};
use repalign_alignment::Report as LayerReport;

use crate::run_folder::{RunEntry, Runs};

/// Reads one number (or none) off a run.
type Pick<'a> = &'a dyn Fn(&RunEntry) -> Option<f64>;

/// The sweep tables; none when no run is done.
pub fn tables(report: &Runs) -> Vec<Table> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    if done.is_empty() {
        return vec![];
    }
    let axes = Axes::of(&report.runs);
    let mut col_keys: BTreeMap<Column, String> = BTreeMap::new();
    let mut arch_keys: BTreeMap<Arch, String> = BTreeMap::new();
    for r in &done {
        let c = axes.column(&r.config);
        col_keys.insert(c.clone(), axes.column_label(&c));
        let a = axes.arch(&r.config);
        arch_keys.insert(a.clone(), axes.arch_label(&a));
    }
    let columns: Vec<String> = col_keys.values().cloned().collect();
    let gather = |pick: Pick<'_>, arch: Option<&Arch>, col: &Column| -> Option<Cell> {
        let v: Vec<f64> = done
            .iter()
            .filter(|r| {
                arch.is_none_or(|a| axes.arch(&r.config) == *a) && axes.column(&r.config) == *col
            })
            .filter_map(|r| pick(r))
            .collect();
        Cell::of(&v)
    };
    // `input` (when given) is the same quantity read off the input layer, as a reference row.
    let make = |title: &str, pick: Pick<'_>, input: Option<Pick<'_>>| -> Table {
        let mut rows = vec![];
        let mut cells = vec![];
        if let Some(input) = input {
            rows.push("input".to_string());
            cells.push(col_keys.keys().map(|c| gather(input, None, c)).collect());
        }
        for (a, label) in &arch_keys {
            rows.push(label.clone());
            cells.push(col_keys.keys().map(|c| gather(pick, Some(a), c)).collect());
        }
        Table::new(title, "architecture", rows, columns.clone(), cells)
    };
    // Tasks of three or more classes: their auc's scale, and the mean pair auc beside it.
    let classes = done
        .iter()
        .map(|r| keys::classes(&r.config))
        .max()
        .unwrap_or(2);
    let multi = (classes >= 3).then(|| format!(" ({})", keys::multiclass_note(classes)));
    let note = multi.clone().unwrap_or_default();
    // Networks measured as built (`epochs = 0`) have no training to report.
    let trained = done.iter().any(|r| r.config.train.epochs > 0);
    let last = if trained {
        "the last hidden layer"
    } else {
        "the last hidden layer, measured as built (not trained)"
    };
    let mut tables = vec![make(
        &format!("auc of {last} (mean ± std over seeds){note}"),
        &|r| Some(r.last().summary.auc),
        Some(&|r| Some(r.layers[0].summary.auc)),
    )];
    if multi.is_some() {
        tables.push(make(
            &format!("pair_mean_auc of {last}: the mean over class pairs of the binary auc on each pair's rows (comparable with binary tasks)"),
            &|r| r.last().pair_mean_auc,
            Some(&|r| r.layers[0].pair_mean_auc),
        ));
    }
    tables.push(make(
        &format!("auc_null of {last} (the level a random direction reaches)"),
        &|r| Some(r.last().summary.auc_null),
        Some(&|r| Some(r.layers[0].summary.auc_null)),
    ));
    // Shuffled labels: which runs fit within the epoch budget is chaotic (f32 sums in another
    // order, on another CPU, decide it), and the two groups' alignment differs; they are
    // reported apart, with standard errors.
    let unfitted = done
        .iter()
        .any(|r| r.config.train.epochs > 0 && !r.result.fitted);
    if unfitted {
        for (which, fit) in [
            ("runs that fit their labels", true),
            ("runs that did not fit", false),
        ] {
            tables.push(Table {
                standard_error: true,
                ..make(
                    &format!("auc of {last}, {which} only (mean ± standard error, runs){note}"),
                    &|r| (r.result.fitted == fit).then(|| r.last().summary.auc),
                    None,
                )
            });
        }
    }
    if trained {
        tables.push(make(
            "final training accuracy",
            &|r| Some(r.result.train_acc),
            None,
        ));
        tables.push(Table {
            counts: true,
            ..make(
                "runs that fit their training labels (met the stop rule; without one: 100% training accuracy after training)",
                &|r| Some(f64::from(u8::from(r.result.fitted))),
                None,
            )
        });
    }
    // Per layer: rows are (architecture, layer).
    let per_layer = |pick: &dyn Fn(&LayerReport) -> Option<f64>| {
        let mut rows = vec![];
        let mut cells = vec![];
        for (a, label) in &arch_keys {
            let of_arch = || done.iter().filter(|r| axes.arch(&r.config) == *a);
            let depth = of_arch().map(|r| r.layers.len()).max().unwrap_or(0);
            for li in 0..depth {
                let name = of_arch()
                    .find(|r| r.layers.len() > li)
                    .and_then(|r| r.layers[li].layer.clone())
                    .unwrap_or_default();
                rows.push(format!("{label} / {li} {name}"));
                cells.push(
                    col_keys
                        .keys()
                        .map(|c| gather(&|r| r.layers.get(li).and_then(pick), Some(a), c))
                        .collect(),
                );
            }
        }
        (rows, cells)
    };
    let (rows, cells) = per_layer(&|l| Some(l.summary.auc));
    tables.push(Table::new(
        format!("auc of every layer (0 = input){note}"),
        "architecture / layer",
        rows,
        columns.clone(),
        cells,
    ));
    if multi.is_some() {
        let (rows, cells) = per_layer(&|l| l.pair_mean_auc);
        tables.push(Table::new(
            "pair_mean_auc of every layer (0 = input): the mean over class pairs of the binary auc",
            "architecture / layer",
            rows,
            columns,
            cells,
        ));
    }
    tables
}

/// The plots of a results folder:
/// - `auc_vs_depth[_FAMILY].{svg,png}` when the runs span several depths: the last hidden
///   layer's `auc` against depth, one line per column with error bars over seeds, the inputs'
///   `auc` per label mode (dotted) and the null level (dashed grey);
/// - `auc_vs_layer.{svg,png}` for at most 4 architectures: `auc` against layer index (the
///   network's chain: input, blocks or hidden layers, dense layers; pooled views left out).
pub fn plots(report: &Runs, dir: &Path) -> anyhow::Result<()> {
    let done: Vec<&RunEntry> = report.runs.iter().filter(|r| r.done()).collect();
    if done.is_empty() {
        return Ok(());
    }
    let axes = Axes::of(&report.runs);
    // --- auc against depth, per model family.
    let family = |r: &RunEntry| {
        let c = &r.config.model;
        format!(
            "{} {} {}",
            c.kind(),
            c.activation().as_str(),
            c.width_label()
        )
    };
    let mut families: BTreeMap<String, Vec<&RunEntry>> = BTreeMap::new();
    for r in &done {
        families.entry(family(r)).or_default().push(r);
    }
    let many = families.len() > 1;
    for (fam, runs) in &families {
        let mut depths: Vec<usize> = runs.iter().map(|r| r.config.model.depth()).collect();
        depths.sort_unstable();
        depths.dedup();
        if depths.len() < 2 {
            continue;
        }
        let mut by_col: BTreeMap<Column, BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
        let mut nulls: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let mut inputs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for r in runs {
            let depth = r.config.model.depth();
            by_col
                .entry(axes.column(&r.config))
                .or_default()
                .entry(depth)
                .or_default()
                .push(r.last().summary.auc);
            nulls
                .entry(depth)
                .or_default()
                .push(r.last().summary.auc_null);
            inputs
                .entry(r.config.labels.as_str())
                .or_default()
                .push(r.layers[0].summary.auc);
        }
        let series: Vec<Series> = by_col
            .into_iter()
            .map(|(c, pts)| Series {
                label: axes.column_label(&c),
                points: points(pts),
            })
            .collect();
        let null: Vec<(f64, f64)> = points(nulls).iter().map(|p| (p.0, p.1)).collect();
        let refs: Vec<(String, f64)> = inputs
            .into_iter()
            .filter_map(|(l, v)| Cell::of(&v).map(|c| (format!("input, {l} labels"), c.mean)))
            .collect();
        let stem = if many {
            format!("auc_vs_depth_{}", fam.replace(' ', "_"))
        } else {
            "auc_vs_depth".to_string()
        };
        let title = format!(
            "{}: last hidden layer auc against depth ({fam})",
            report.experiment
        );
        let last = *depths.last().expect("two depths");
        line_plot(
            dir,
            &stem,
            &LinePlot {
                title: &title,
                x_desc: "depth (hidden layers or conv blocks)",
                x_range: (depths[0] as f64 - 0.3, last as f64 + 0.3),
                series: &series,
                null: &null,
                refs: &refs,
            },
        )?;
    }
    // --- auc against layer index, for a few architectures.
    let mut archs: Vec<Arch> = done.iter().map(|r| axes.arch(&r.config)).collect();
    archs.sort();
    archs.dedup();
    if archs.len() <= 4 {
        let mut lines: BTreeMap<(Arch, Column), BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
        let mut max_layers = 0;
        for r in &done {
            let line = lines
                .entry((axes.arch(&r.config), axes.column(&r.config)))
                .or_default();
            // The network's chain: pooled views of conv blocks are in the tables, not here.
            let chain: Vec<_> = r
                .layers
                .iter()
                .filter(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")))
                .collect();
            for (i, l) in chain.iter().enumerate() {
                line.entry(i).or_default().push(l.summary.auc);
            }
            max_layers = max_layers.max(chain.len());
        }
        let series: Vec<Series> = lines
            .into_iter()
            .map(|((a, c), pts)| Series {
                label: if archs.len() > 1 {
                    format!("{}, {}", axes.arch_label(&a), axes.column_label(&c))
                } else {
                    axes.column_label(&c)
                },
                points: points(pts),
            })
            .collect();
        let title = format!("{}: auc of every layer (0 = input)", report.experiment);
        line_plot(
            dir,
            "auc_vs_layer",
            &LinePlot {
                title: &title,
                x_desc: "layer index (0 = input)",
                x_range: (-0.3, max_layers as f64 - 0.7),
                series: &series,
                null: &[],
                refs: &[],
            },
        )?;
    }
    Ok(())
}
