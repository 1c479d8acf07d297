//! The one writer of run folders.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use repalign_alignment::Report;
use repalign_train::EpochStats;
use serde::Serialize;

use super::names;
use crate::experiment::RunConfig;
use crate::io::write_atomic;

pub fn run_dir(out: &Path, run: &RunConfig) -> PathBuf {
    out.join(run.run_id())
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_atomic(path, text.as_bytes())
}

pub fn write_metrics(dir: &Path, history: &[EpochStats]) -> anyhow::Result<()> {
    let mut s = String::from("epoch,loss,train_acc\n");
    for h in history {
        let _ = writeln!(s, "{},{},{}", h.epoch, h.loss, h.train_acc);
    }
    write_atomic(&dir.join(names::METRICS), s.as_bytes())
}

pub fn write_alignment(dir: &Path, reports: &[Report]) -> anyhow::Result<()> {
    write_json(&dir.join(names::ALIGNMENT), &reports)
}

/// `alignment_history.csv`: the summaries of every layer at every `measure_every`-th epoch,
/// one tidy row per epoch and layer.
pub fn write_alignment_history(dir: &Path, history: &[(usize, Vec<Report>)]) -> anyhow::Result<()> {
    let mut s = String::from("epoch,layer,layer_index,p,auc,auc_null,k90,top1,top10,kta\n");
    for (epoch, reports) in history {
        for (i, r) in reports.iter().enumerate() {
            let m = &r.summary;
            let k90 = m.k90.map_or(String::new(), |k| k.to_string());
            let _ = writeln!(
                s,
                "{epoch},{},{i},{},{},{},{k90},{},{},{}",
                r.layer.as_deref().unwrap_or(""),
                r.p,
                m.auc,
                m.auc_null,
                m.top1,
                m.top10,
                m.kta
            );
        }
    }
    write_atomic(&dir.join(names::ALIGNMENT_HISTORY), s.as_bytes())
}

pub fn create(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Writes rows as a CSV file, atomically.
pub fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in rows {
        w.serialize(r)?;
    }
    write_atomic(path, &w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}
