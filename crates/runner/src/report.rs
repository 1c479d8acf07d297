//! What comes back from a results folder: `summary.csv` (one tidy row per run and layer),
//! `table.md` (the architecture tables), and the plots. Built from whatever runs are there, so
//! shards written by many jobs into one folder report together.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use repalign_alignment::Report as LayerReport;
use serde::Serialize;

use crate::analysis::probes::ProbeRow;
use crate::analysis::speed::SummaryRow as SpeedRow;
use crate::analysis::transfer::TransferRow;
use crate::experiment::{AnalysisConfig, RunConfig};
use crate::io::write_atomic;
use crate::output::RunResult;

/// One run found in a results folder.
#[derive(Debug, Clone)]
pub struct RunEntry {
    pub config: RunConfig,
    pub result: RunResult,
    /// Input first, then every hidden layer (empty unless the run is done).
    pub layers: Vec<LayerReport>,
    /// The run's folder.
    pub dir: std::path::PathBuf,
    pub speed: Vec<SpeedRow>,
    pub transfer: Vec<TransferRow>,
    pub probes: Vec<ProbeRow>,
}

/// Rows of a CSV file in a run folder, none when the file is absent.
fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    if !path.is_file() {
        return Ok(vec![]);
    }
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    r.deserialize()
        .collect::<Result<Vec<T>, _>>()
        .with_context(|| format!("{}", path.display()))
}

impl RunEntry {
    pub fn done(&self) -> bool {
        self.result.status == "done" && !self.layers.is_empty()
    }
    /// The network's last hidden layer (pooled views of conv blocks aside; the input for a
    /// network without hidden layers).
    pub fn last(&self) -> &LayerReport {
        self.layers
            .iter()
            .rev()
            .find(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")))
            .expect("done runs have layers")
    }
}

/// All runs of a results folder.
#[derive(Debug, Clone)]
pub struct Report {
    pub experiment: String,
    pub runs: Vec<RunEntry>,
}

/// Reads every `*/result.json` (and `alignment.json`) under `dir`.
pub fn build(dir: &Path) -> anyhow::Result<Report> {
    let mut runs = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("result.json").is_file())
        .collect();
    paths.sort();
    for path in paths {
        let read = |name: &str| {
            std::fs::read_to_string(path.join(name))
                .with_context(|| format!("reading {}", path.join(name).display()))
        };
        let result: RunResult = serde_json::from_str(&read("result.json")?)
            .with_context(|| format!("{}/result.json", path.display()))?;
        let config: RunConfig = serde_json::from_value(result.config.clone())
            .with_context(|| format!("{}/result.json: config", path.display()))?;
        let layers = if result.status == "done" {
            serde_json::from_str(&read("alignment.json")?)
                .with_context(|| format!("{}/alignment.json", path.display()))?
        } else {
            vec![]
        };
        runs.push(RunEntry {
            config,
            result,
            layers,
            speed: read_rows(&path.join("learning_speed_summary.csv"))?,
            transfer: read_rows(&path.join("transfer.csv"))?,
            probes: read_rows(&path.join("probes.csv"))?,
            dir: path,
        });
    }
    let experiment = runs
        .first()
        .map_or_else(|| "empty".to_string(), |r| r.config.name.clone());
    Ok(Report { experiment, runs })
}

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

/// Reads one number (or none) off a row.
type Pick<'a, T> = &'a dyn Fn(&T) -> Option<f64>;

/// Mean, sample standard deviation and count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Cell {
    /// `mean{pm}std` to 3 decimals (just the mean for a single value), or `none`.
    fn show(cell: &Option<Cell>, pm: &str, none: &str) -> String {
        match cell {
            Some(c) if c.n > 1 => format!("{:.3}{pm}{:.3}", c.mean, c.std),
            Some(c) => format!("{:.3}", c.mean),
            None => none.to_string(),
        }
    }

    pub fn of(values: &[f64]) -> Option<Cell> {
        if values.is_empty() {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Cell {
            mean,
            std: var.sqrt(),
            n,
        })
    }
}

/// A table of cells with row and column labels.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub corner: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub cells: Vec<Vec<Option<Cell>>>,
    /// Cells are fractions of runs (means of 0/1 values), shown as `k/n`.
    pub counts: bool,
}

impl Table {
    fn show(&self, cell: &Option<Cell>, pm: &str, none: &str) -> String {
        match cell {
            Some(c) if self.counts => {
                format!("{}/{}", (c.mean * c.n as f64).round() as usize, c.n)
            }
            _ => Cell::show(cell, pm, none),
        }
    }

    fn markdown(&self) -> String {
        let mut s = format!("### {}\n\n| {} |", self.title, self.corner);
        for c in &self.columns {
            let _ = write!(s, " {c} |");
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(self.columns.len()));
        s.push('\n');
        for (r, row) in self.rows.iter().zip(&self.cells) {
            let _ = write!(s, "| {r} |");
            for cell in row {
                let _ = write!(s, " {} |", self.show(cell, " ± ", "–"));
            }
            s.push('\n');
        }
        s
    }

    fn csv(&self) -> String {
        let mut s = String::from("table,row,column,mean,std,n\n");
        for (r, row) in self.rows.iter().zip(&self.cells) {
            for (c, cell) in self.columns.iter().zip(row) {
                if let Some(x) = cell {
                    let _ = writeln!(
                        s,
                        "\"{}\",\"{r}\",\"{c}\",{},{},{}",
                        self.title, x.mean, x.std, x.n
                    );
                }
            }
        }
        s
    }

    fn latex(&self) -> String {
        let esc = |t: &str| t.replace('_', "\\_").replace('%', "\\%");
        let mut s = format!(
            "% {}\n\\begin{{tabular}}{{l{}}}\n\\hline\n{}",
            esc(&self.title),
            "c".repeat(self.columns.len()),
            esc(&self.corner)
        );
        for c in &self.columns {
            let _ = write!(s, " & {}", esc(c));
        }
        s.push_str(" \\\\\n\\hline\n");
        for (r, row) in self.rows.iter().zip(&self.cells) {
            s.push_str(&esc(r));
            for cell in row {
                match cell {
                    Some(_) => {
                        let _ = write!(s, " & ${}$", self.show(cell, " \\pm ", ""));
                    }
                    None => s.push_str(" & --"),
                }
            }
            s.push_str(" \\\\\n");
        }
        s.push_str("\\hline\n\\end{tabular}\n");
        s
    }
}

fn optimizer_rank(name: &str) -> usize {
    match name {
        "sgd" => 0,
        "adam" => 1,
        "rmsprop" => 2,
        _ => 3,
    }
}

/// Sort key and label of an architecture; plain `depth d` when only the depth varies.
pub(crate) fn architectures(
    runs: &[RunEntry],
) -> impl Fn(&RunConfig) -> ((String, String, usize, String), String) {
    let family = |c: &RunConfig| {
        (
            c.model.kind().to_string(),
            c.model.activation().as_str().to_string(),
            c.model.width_label(),
        )
    };
    let one_family = runs
        .windows(2)
        .all(|w| family(&w[0].config) == family(&w[1].config));
    move |c: &RunConfig| {
        let (kind, act, width) = family(c);
        let d = c.model.depth();
        let label = if one_family {
            format!("depth {d}")
        } else {
            let w = if kind == "cnn" { "c" } else { "w" };
            format!("{kind} {act} d{d} {w}{width}")
        };
        ((kind, act, d, width), label)
    }
}

/// Column key and label: optimizer (with its lr when one optimizer has several) x labels, and
/// the initialisation when the runs use several.
pub(crate) fn columns(
    runs: &[RunEntry],
) -> impl Fn(&RunConfig) -> ((usize, u64, String, usize), String) {
    let mut lrs: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut inits = Vec::new();
    for r in runs {
        let v = lrs.entry(r.config.optimizer.name()).or_default();
        let lr = r.config.optimizer.lr().to_bits();
        if !v.contains(&lr) {
            v.push(lr);
        }
        let init = r.config.model.init_config();
        if !inits.contains(&init) {
            inits.push(init);
        }
    }
    let many: Vec<&'static str> = lrs
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, _)| k)
        .collect();
    let many_inits = inits.len() > 1;
    move |c: &RunConfig| {
        let name = c.optimizer.name();
        let lr = c.optimizer.lr();
        let opt = if many.contains(&name) {
            format!("{name} lr={lr}")
        } else {
            name.to_string()
        };
        let labels = c.labels.as_str();
        let init = c.model.init_config().label();
        let (init_key, init_label) = if many_inits {
            // PyTorch's default first.
            (
                format!("{}{init}", u8::from(init != "pytorch")),
                format!(" ({init} init)"),
            )
        } else {
            (String::new(), String::new())
        };
        (
            (
                optimizer_rank(name),
                lr.to_bits(),
                init_key,
                usize::from(labels == "random"),
            ),
            format!("{opt} {labels}{init_label}"),
        )
    }
}

/// The initialisations of the runs, in words, for the line every table carries.
fn init_note(runs: &[RunEntry]) -> String {
    let mut inits: Vec<repalign_models::Init> = Vec::new();
    for r in runs {
        let init = r.config.model.init_config();
        if !inits.contains(&init) {
            inits.push(init);
        }
    }
    // PyTorch's default first, then by name.
    inits.sort_by_key(|i| (*i != repalign_models::Init::PYTORCH, i.label()));
    let labels: Vec<String> = inits
        .into_iter()
        .map(|init| {
            if init == repalign_models::Init::PYTORCH {
                "pytorch (PyTorch's default: every weight and bias U(±1/sqrt(fan_in)))".to_string()
            } else if init == repalign_models::Init::HE_UNIFORM {
                "he-uniform (hidden weights U(±gain sqrt(3/fan_in)), gain sqrt(2) for ReLU; zero biases; PyTorch's default for the head)".to_string()
            } else {
                format!(
                    "{} (hidden weights {}, head {}, biases {})",
                    init.label(),
                    init.hidden.as_str(),
                    init.head.as_str(),
                    init.bias.as_str()
                )
            }
        })
        .collect();
    format!("Initialisation: {}.", labels.join("; "))
}

impl Report {
    /// Last hidden layer `auc` by architecture and optimizer x labels, with the input's `auc`
    /// as a reference row.
    pub fn tables(&self) -> Vec<Table> {
        let done: Vec<&RunEntry> = self.runs.iter().filter(|r| r.done()).collect();
        if done.is_empty() {
            return vec![];
        }
        let arch = architectures(&self.runs);
        let col = columns(&self.runs);
        let mut col_keys: BTreeMap<_, String> = BTreeMap::new();
        let mut arch_keys: BTreeMap<_, String> = BTreeMap::new();
        for r in &done {
            let (ck, cl) = col(&r.config);
            col_keys.insert(ck, cl);
            let (ak, al) = arch(&r.config);
            arch_keys.insert(ak, al);
        }
        let col_list: Vec<_> = col_keys.into_iter().collect();
        let arch_list: Vec<_> = arch_keys.into_iter().collect();
        let gather = |pick: &dyn Fn(&RunEntry) -> Option<f64>,
                      arch_label: Option<&str>,
                      col_label: &str|
         -> Option<Cell> {
            let v: Vec<f64> = done
                .iter()
                .filter(|r| {
                    arch_label.is_none_or(|a| arch(&r.config).1 == a)
                        && col(&r.config).1 == col_label
                })
                .filter_map(|r| pick(r))
                .collect();
            Cell::of(&v)
        };
        // `input` (when given) is the same quantity read off the input layer, as a reference row.
        let make = |title: &str,
                    pick: &dyn Fn(&RunEntry) -> Option<f64>,
                    input: Option<Pick<'_, RunEntry>>|
         -> Table {
            let mut rows = vec![];
            let mut cells = vec![];
            if let Some(input) = input {
                rows.push("input".to_string());
                cells.push(
                    col_list
                        .iter()
                        .map(|(_, c)| gather(input, None, c))
                        .collect(),
                );
            }
            for (_, a) in &arch_list {
                rows.push(a.clone());
                cells.push(
                    col_list
                        .iter()
                        .map(|(_, c)| gather(pick, Some(a), c))
                        .collect(),
                );
            }
            Table {
                title: title.to_string(),
                corner: "architecture".into(),
                rows,
                columns: col_list.iter().map(|(_, c)| c.clone()).collect(),
                cells,
                counts: false,
            }
        };
        let mut tables = vec![
            make(
                "auc of the last hidden layer (mean ± std over seeds)",
                &|r| Some(r.last().summary.auc),
                Some(&|r| Some(r.layers[0].summary.auc)),
            ),
            make(
                "auc_null of the last hidden layer (the level a random direction reaches)",
                &|r| Some(r.last().summary.auc_null),
                Some(&|r| Some(r.layers[0].summary.auc_null)),
            ),
            make(
                "final training accuracy",
                &|r| Some(r.result.train_acc),
                None,
            ),
            Table {
                counts: true,
                ..make(
                    "runs that fit their training labels (met the stop rule; without one: 100% training accuracy after training)",
                    &|r| Some(f64::from(u8::from(r.result.fitted))),
                    None,
                )
            },
        ];
        // Per layer: rows are (architecture, layer).
        let mut rows = vec![];
        let mut cells = vec![];
        for (_, a) in &arch_list {
            let depth = done
                .iter()
                .filter(|r| arch(&r.config).1 == *a)
                .map(|r| r.layers.len())
                .max()
                .unwrap_or(0);
            for li in 0..depth {
                let name = done
                    .iter()
                    .find(|r| arch(&r.config).1 == *a && r.layers.len() > li)
                    .and_then(|r| r.layers[li].layer.clone())
                    .unwrap_or_default();
                rows.push(format!("{a} / {li} {name}"));
                cells.push(
                    col_list
                        .iter()
                        .map(|(_, c)| {
                            gather(&|r| r.layers.get(li).map(|l| l.summary.auc), Some(a), c)
                        })
                        .collect(),
                );
            }
        }
        tables.push(Table {
            title: "auc of every layer (0 = input)".into(),
            corner: "architecture / layer".into(),
            rows,
            columns: col_list.iter().map(|(_, c)| c.clone()).collect(),
            cells,
            counts: false,
        });
        tables
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
            init_note(&self.runs)
        );
        for t in self.tables() {
            s.push_str(&t.markdown());
            s.push('\n');
        }
        for t in self.analysis_tables() {
            s.push_str(&t.markdown());
            s.push('\n');
        }
        if let Some(rho) = self.transfer_spearman() {
            let _ = writeln!(
                s,
                "Spearman rank correlation: {rho:.2} (alignment of the last hidden layer with the target vs transfer gain in test accuracy, over {} target x seed points)\n",
                self.transfer_points().len()
            );
        }
        if let Some(dev) = self.speed_deviation() {
            let _ = writeln!(
                s,
                "Squared loss predicted from the spectrum vs measured gradient descent: largest relative deviation {dev:.1e} over every representation and step.\n"
            );
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

    pub fn csv_tables(&self) -> String {
        let mut s = String::new();
        for (i, t) in self
            .tables()
            .iter()
            .chain(self.analysis_tables().iter())
            .enumerate()
        {
            let text = t.csv();
            s.push_str(if i == 0 {
                &text
            } else {
                text.split_once('\n').map_or("", |(_, rest)| rest)
            });
        }
        s
    }

    pub fn latex(&self) -> String {
        self.tables()
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
                dataset: c.data.dataset.as_str(),
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
                status: &r.result.status,
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
pub fn write(dir: &Path, report: &Report) -> anyhow::Result<()> {
    write_atomic(&dir.join("summary.csv"), report.summary_csv()?.as_bytes())?;
    write_atomic(&dir.join("table.md"), report.markdown().as_bytes())?;
    crate::plot::report_plots(dir, report)
}

/// One row per name, one column per pick: the finite values of the items carrying that name.
fn cells_by_row<T>(
    rows: &[String],
    items: &[(String, &T)],
    picks: &[Pick<'_, T>],
) -> Vec<Vec<Option<Cell>>> {
    rows.iter()
        .map(|row| {
            picks
                .iter()
                .map(|pick| {
                    let values: Vec<f64> = items
                        .iter()
                        .filter(|(name, _)| name == row)
                        .filter_map(|(_, item)| pick(item))
                        .filter(|v| v.is_finite())
                        .collect();
                    Cell::of(&values)
                })
                .collect()
        })
        .collect()
}

/// Spearman's rank correlation (average ranks for ties); `None` for fewer than 3 points or a
/// constant variable.
pub fn spearman(points: &[(f64, f64)]) -> Option<f64> {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for k in i..=j {
                r[idx[k]] = avg;
            }
            i = j + 1;
        }
        r
    }
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let a = ranks(&pts.iter().map(|p| p.0).collect::<Vec<_>>());
    let b = ranks(&pts.iter().map(|p| p.1).collect::<Vec<_>>());
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

impl Report {
    /// `(alignment of the last hidden layer with the target, transfer gain)` for every target
    /// of every done run.
    pub fn transfer_points(&self) -> Vec<(String, f64, f64)> {
        self.runs
            .iter()
            .filter(|r| r.done())
            .flat_map(|r| r.transfer.iter().map(|t| (t.target.clone(), t.auc, t.gain)))
            .collect()
    }

    pub fn transfer_spearman(&self) -> Option<f64> {
        let pts: Vec<(f64, f64)> = self.transfer_points().iter().map(|p| (p.1, p.2)).collect();
        spearman(&pts)
    }

    fn speed_deviation(&self) -> Option<f64> {
        self.runs
            .iter()
            .flat_map(|r| r.speed.iter().map(|s| s.max_relative_deviation))
            .reduce(f64::max)
    }

    /// Tables of the learning-speed, transfer and probe analyses present in the folder.
    pub fn analysis_tables(&self) -> Vec<Table> {
        let done: Vec<&RunEntry> = self.runs.iter().filter(|r| r.done()).collect();
        let mut tables = Vec::new();
        // --- learning speed: rows are representations.
        let speed: Vec<(String, &SpeedRow)> = done
            .iter()
            .flat_map(|r| {
                r.speed.iter().map(move |s| {
                    let name = if s.layer_index == 0 {
                        "input".to_string()
                    } else {
                        format!("{}-label net: {}", r.config.labels.as_str(), s.layer)
                    };
                    (name, s)
                })
            })
            .collect();
        if !speed.is_empty() {
            let level = done.iter().find_map(|r| match &r.config.analysis {
                Some(AnalysisConfig::LearningSpeed { level, steps, .. }) => Some((*level, *steps)),
                _ => None,
            });
            let (level, steps) = level.unwrap_or((f64::NAN, 0));
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
            let picks: [Pick<'_, SpeedRow>; 4] = [
                &|s| Some(s.auc),
                &|s| s.steps_squared.map(f64::from),
                &|s| s.steps_logistic.map(f64::from),
                &|s| Some(s.final_squared),
            ];
            let cells = cells_by_row(
                &names.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
                &speed,
                &picks,
            );
            tables.push(Table {
                title: "learning speed of a linear model on fixed representations (gradient descent from w = 0, eta = 1 / sigma_1^2, true labels)".into(),
                corner: "representation".into(),
                rows: names.into_iter().map(|(_, n)| n).collect(),
                columns,
                cells,
                counts: false,
            });
        }
        // --- transfer: rows are targets.
        let transfer: Vec<&TransferRow> = done.iter().flat_map(|r| r.transfer.iter()).collect();
        if !transfer.is_empty() {
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
            let cells = cells_by_row(
                &targets.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
                &named,
                &picks,
            );
            tables.push(Table {
                title: "transfer to target tasks (mean ± std over seeds)".into(),
                corner: "target".into(),
                rows: targets.into_iter().map(|(_, n)| n).collect(),
                columns: columns.iter().map(|c| c.to_string()).collect(),
                cells,
                counts: false,
            });
        }
        // --- probes: rows are (architecture, layer), columns pairs.
        let arch = architectures(&self.runs);
        let mut probe_rows: Vec<((String, usize), String)> = Vec::new();
        let mut pairs: Vec<String> = Vec::new();
        for r in &done {
            for p in &r.probes {
                let key = (
                    (arch(&r.config).1, p.layer_index),
                    format!("{} / {} {}", arch(&r.config).1, p.layer_index, p.layer),
                );
                if !probe_rows.contains(&key) {
                    probe_rows.push(key);
                }
                if !pairs.contains(&p.pair) {
                    pairs.push(p.pair.clone());
                }
            }
        }
        if !probe_rows.is_empty() {
            probe_rows.sort();
            let mut columns = pairs.clone();
            columns.push("mean over pairs".into());
            let cells = probe_rows
                .iter()
                .map(|((a, li), _)| {
                    let of = |pair: Option<&String>| {
                        let v: Vec<f64> = done
                            .iter()
                            .filter(|r| &arch(&r.config).1 == a)
                            .flat_map(|r| r.probes.iter())
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
            tables.push(Table {
                title: "probes: auc of every layer on binary tasks of held-out images".into(),
                corner: "architecture / layer".into(),
                rows: probe_rows.into_iter().map(|(_, n)| n).collect(),
                columns,
                cells,
                counts: false,
            });
        }
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::spearman;

    #[test]
    fn spearman_of_known_cases() {
        assert_eq!(
            spearman(&[(1.0, 10.0), (2.0, 20.0), (3.0, 35.0)]),
            Some(1.0)
        );
        assert_eq!(spearman(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]), Some(-1.0));
        // Ranks (1, 2, 3, 4) vs (2, 1, 4, 3): 1 - 6 * 4 / (4 * 15) = 0.6
        let r = spearman(&[(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)]).unwrap();
        assert!((r - 0.6).abs() < 1e-12);
        // Ties get average ranks; a constant variable has no correlation.
        assert_eq!(spearman(&[(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]), None);
        assert_eq!(spearman(&[(1.0, 1.0), (2.0, 2.0)]), None);
        let t = spearman(&[(1.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 3.0)]).unwrap();
        assert!(t > 0.8 && t < 1.0, "{t}");
    }
}
