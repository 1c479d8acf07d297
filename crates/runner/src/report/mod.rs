//! What comes back from a results folder, in one direction: `crate::run_folder` reads the run
//! folders into [`Runs`], the runs become tables ([`sweep`] and each analysis': [`speed`],
//! [`transfer`], [`probes`]), the tables and plots are written. `summary.csv` has one tidy row per run and layer, `table.md` the tables.
//! Built from whatever runs are there, so shards written by many jobs into one folder report
//! together.

mod cells;
pub mod keys;
mod probes;
mod speed;
mod sweep;
mod transfer;

use std::fmt::Write as _;
use std::path::Path;

use repalign_alignment::Report as LayerReport;
use repalign_report::Table;
use serde::Serialize;

use crate::io::write_atomic;
use crate::run_folder::Runs;

/// One row of `summary.csv`.
#[derive(Debug, Serialize)]
struct Row<'a> {
    run_id: &'a str,
    experiment: &'a str,
    dataset: &'a str,
    model: &'a str,
    depth: usize,
    width: String,
    activation: &'a str,
    init: String,
    optimizer: &'a str,
    lr: f64,
    labels: &'a str,
    seed: u64,
    layer: String,
    layer_index: Option<usize>,
    n: Option<usize>,
    p: Option<usize>,
    auc: f64,
    /// Three or more classes: the mean over class pairs of the binary auc on each pair's rows.
    pair_mean_auc: Option<f64>,
    auc_null: f64,
    k90: Option<usize>,
    top1: f64,
    top10: f64,
    kta: f64,
    train_loss: f64,
    train_acc: f64,
    test_acc: f64,
    epochs: usize,
    fitted: bool,
    status: &'a str,
    seconds: f64,
    reason: &'a str,
}

impl Runs {
    /// Every table: the sweep's, then each analysis'.
    pub fn tables(&self) -> Vec<Table> {
        let mut t = sweep::tables(self);
        t.extend(speed::tables(self));
        t.extend(transfer::tables(self));
        t.extend(probes::tables(self));
        t
    }

    /// Runs that did not finish, with their reasons.
    fn problems(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter(|r| !r.done())
            .map(|r| {
                format!(
                    "- {} {}: {}",
                    r.result.run_id,
                    r.result.status,
                    r.result.reason.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    pub fn markdown(&self) -> String {
        let mut s = format!("## {}\n\n", self.experiment);
        let done = self.runs.iter().filter(|r| r.done()).count();
        let _ = writeln!(
            s,
            "{} runs, {done} done. Cells: mean ± std over seeds (a single run shows its value). {}\n",
            self.runs.len(),
            keys::init_note(&self.runs)
        );
        for t in self.tables() {
            s.push_str(&t.markdown());
            s.push('\n');
        }
        for note in transfer::notes(self).into_iter().chain(speed::notes(self)) {
            let _ = writeln!(s, "{note}\n");
        }
        let problems = self.problems();
        if !problems.is_empty() {
            let _ = writeln!(
                s,
                "Runs without alignment results:\n{}\n",
                problems.join("\n")
            );
        }
        s
    }

    /// Every table as tidy CSV rows under one header.
    pub fn csv_tables(&self) -> String {
        let mut s = String::new();
        for (i, t) in self.tables().iter().enumerate() {
            let text = t.csv();
            s.push_str(if i == 0 {
                &text
            } else {
                text.split_once('\n').map_or("", |(_, rest)| rest)
            });
        }
        s
    }

    /// The sweep tables in LaTeX.
    pub fn latex(&self) -> String {
        sweep::tables(self)
            .iter()
            .map(Table::latex)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `summary.csv`: one row per run and layer (one row with an empty layer for a run that
    /// did not finish).
    pub fn summary_csv(&self) -> anyhow::Result<String> {
        let mut w = csv::Writer::from_writer(vec![]);
        for r in &self.runs {
            let c = &r.config;
            let row = |layer: Option<(usize, &LayerReport)>| Row {
                run_id: &r.result.run_id,
                experiment: &c.name,
                dataset: c.data.name(),
                model: c.model.kind(),
                depth: c.model.depth(),
                width: c.model.width_label(),
                activation: c.model.activation().as_str(),
                init: c.model.init_config().label(),
                optimizer: c.optimizer.name(),
                lr: c.optimizer.lr(),
                labels: c.labels.as_str(),
                seed: c.seed,
                layer: layer.map_or(String::new(), |(_, l)| l.layer.clone().unwrap_or_default()),
                layer_index: layer.map(|(i, _)| i),
                n: layer.map(|(_, l)| l.n),
                p: layer.map(|(_, l)| l.p),
                auc: layer.map_or(f64::NAN, |(_, l)| l.summary.auc),
                pair_mean_auc: layer.and_then(|(_, l)| l.pair_mean_auc),
                auc_null: layer.map_or(f64::NAN, |(_, l)| l.summary.auc_null),
                k90: layer.and_then(|(_, l)| l.summary.k90),
                top1: layer.map_or(f64::NAN, |(_, l)| l.summary.top1),
                top10: layer.map_or(f64::NAN, |(_, l)| l.summary.top10),
                kta: layer.map_or(f64::NAN, |(_, l)| l.summary.kta),
                train_loss: r.result.train_loss,
                train_acc: r.result.train_acc,
                test_acc: r.result.test_acc,
                epochs: r.result.epochs,
                fitted: r.result.fitted,
                status: r.result.status.as_str(),
                seconds: r.result.seconds,
                reason: r.result.reason.as_deref().unwrap_or(""),
            };
            if r.layers.is_empty() {
                w.serialize(row(None))?;
            }
            for (i, l) in r.layers.iter().enumerate() {
                w.serialize(row(Some((i, l))))?;
            }
        }
        Ok(String::from_utf8(
            w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?,
        )?)
    }
}

/// Writes `summary.csv`, `table.md` and the plots into `dir`.
pub fn write(dir: &Path, report: &Runs) -> anyhow::Result<()> {
    write_atomic(&dir.join("summary.csv"), report.summary_csv()?.as_bytes())?;
    write_atomic(&dir.join("table.md"), report.markdown().as_bytes())?;
    probes::write_tidy(report, dir)?;
    sweep::plots(report, dir)?;
    speed::plots(report, dir)?;
    transfer::plots(report, dir)?;
    probes::plots(report, dir)
}
