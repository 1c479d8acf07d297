//! The transfer analysis' table, note (rank correlation of alignment and gain) and plot.

use std::path::Path;

use repalign_report::plot::{ScatterPlot, scatter};
use repalign_report::{Table, spearman};

use super::cells::{Pick, cells_by_row};
use crate::run_folder::{Runs, TransferRow};

/// `(target, alignment of the last hidden layer with it, transfer gain)` for every target of
/// every done run.
fn points(report: &Runs) -> Vec<(String, f64, f64)> {
    report
        .runs
        .iter()
        .filter(|r| r.done())
        .flat_map(|r| {
            r.analysis
                .transfer
                .iter()
                .map(|t| (t.target.clone(), t.auc, t.gain))
        })
        .collect()
}

fn correlation(points: &[(String, f64, f64)]) -> Option<f64> {
    spearman(&points.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>())
}

/// Rows are targets (by rho, then by name).
pub fn tables(report: &Runs) -> Vec<Table> {
    let transfer: Vec<&TransferRow> = report
        .runs
        .iter()
        .filter(|r| r.done())
        .flat_map(|r| r.analysis.transfer.iter())
        .collect();
    if transfer.is_empty() {
        return vec![];
    }
    let mut targets: Vec<(u64, String)> = Vec::new();
    for t in &transfer {
        let key = (
            t.rho.map_or(0, |r| ((r + 2.0) * 1e6) as u64),
            t.target.clone(),
        );
        if !targets.contains(&key) {
            targets.push(key);
        }
    }
    targets.sort();
    let columns = [
        "auc (last layer, target labels)",
        "k90",
        "transfer gain (test accuracy)",
        "gain in test loss",
        "transfer acc",
        "scratch acc",
        "raw-input head acc",
        "input auc",
    ];
    let picks: [Pick<'_, TransferRow>; 8] = [
        &|t| Some(t.auc),
        &|t| t.k90.map(|k| k as f64),
        &|t| Some(t.gain),
        &|t| Some(t.gain_loss),
        &|t| Some(t.transfer_acc),
        &|t| Some(t.scratch_acc),
        &|t| Some(t.raw_acc),
        &|t| Some(t.input_auc),
    ];
    let named: Vec<(String, &TransferRow)> =
        transfer.iter().map(|t| (t.target.clone(), *t)).collect();
    let rows: Vec<String> = targets.into_iter().map(|(_, n)| n).collect();
    let cells = cells_by_row(&rows, &named, &picks);
    vec![Table::new(
        "transfer to target tasks (mean ± std over seeds)",
        "target",
        rows,
        columns.iter().map(|c| c.to_string()).collect(),
        cells,
    )]
}

/// The rank correlation between alignment with the target and transfer gain.
pub fn notes(report: &Runs) -> Vec<String> {
    let points = points(report);
    correlation(&points)
        .map(|rho| {
            format!(
                "Spearman rank correlation: {rho:.2} (alignment of the last hidden layer with the target vs transfer gain in test accuracy, over {} target x seed points)",
                points.len()
            )
        })
        .into_iter()
        .collect()
}

/// `transfer.{svg,png}`: gain against alignment, one point per target and seed.
pub fn plots(report: &Runs, dir: &Path) -> anyhow::Result<()> {
    let points = points(report);
    if points.is_empty() {
        return Ok(());
    }
    let title = format!(
        "{}: transfer gain against alignment (Spearman rank correlation: {})",
        report.experiment,
        correlation(&points).map_or("n/a".into(), |r| format!("{r:.2}"))
    );
    Ok(scatter(
        dir,
        "transfer",
        &ScatterPlot {
            title: &title,
            x_desc: "alignment of the frozen last hidden layer with the target labels (auc)",
            y_desc: "transfer gain (transfer - scratch test accuracy)",
            points: &points,
        },
    )?)
}
