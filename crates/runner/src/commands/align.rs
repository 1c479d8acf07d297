//! `runner align`: the measure on a feature file.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use repalign_alignment::{ClassAccumulator, Grid, Options, Report, Targets, Task, measure};

use crate::backend::Backend;
use crate::cli::{AlignArgs, GridArg, TaskArg};
use repalign_data::{Matrix, read_matrix, read_vector};

use crate::io::write_atomic;

/// Most distinct integer labels a multi-class task is inferred for.
const MAX_INFERRED_CLASSES: usize = 1000;

/// A validated plan: everything read and checked before the measure runs.
struct Plan {
    features: Matrix,
    targets: Targets,
    grid: Grid,
    options: Options,
}

fn plan(args: &AlignArgs) -> anyhow::Result<Plan> {
    let features = read_matrix(&args.features)?;
    let labels = read_vector(&args.labels)?;
    let lshown = args.labels.display();
    if labels.len() != features.rows {
        bail!(
            "{lshown}: {} labels for {} rows (rows of {})",
            labels.len(),
            features.rows,
            args.features.display()
        );
    }
    let task = match args.task {
        Some(TaskArg::Binary) => Task::Binary,
        Some(TaskArg::Multiclass) => Task::Multiclass,
        Some(TaskArg::Regression) => Task::Regression,
        None => Task::infer(&labels, MAX_INFERRED_CLASSES).with_context(|| {
            format!(
                "{lshown}: cannot tell the task from the labels (binary needs 2 distinct values, \
                 multiclass up to {MAX_INFERRED_CLASSES} distinct integers): pass --task binary|multiclass|regression"
            )
        })?,
    };
    let targets = Targets::new(task, &labels).with_context(|| format!("{lshown}"))?;
    Ok(Plan {
        features,
        targets,
        grid: match args.grid {
            GridArg::Normalized => Grid::default(),
            GridArg::Demo => Grid::Demo,
        },
        options: Options {
            bias_column: !args.no_bias_column,
            row_normalize: !args.no_row_normalize,
        },
    })
}

pub fn run(args: &AlignArgs) -> anyhow::Result<ExitCode> {
    let plan = plan(args)?;
    let f = &plan.features;
    let spectrum = match args.backend.unwrap_or(Backend::Cpu) {
        Backend::Cpu | Backend::Flex => measure(&f.data, f.cols, &plan.targets, plan.options),
        Backend::Wgpu => on_device(&plan)?,
    }
    .with_context(|| format!("{}", args.features.display()))?;
    let report = Report::new(&spectrum, plan.targets.task(), &plan.grid, plan.options)
        .with_pair_mean_auc(
            pair_mean_auc(&plan).with_context(|| format!("{}", args.features.display()))?,
        );
    let json = serde_json::to_string(&report)?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &report, &json)?;
    }
    if args.json {
        crate::io::emit(&format!("{json}\n"))?;
    } else {
        crate::io::emit(&human(args, &plan, &report))?;
        if let Some(dir) = &args.out {
            crate::io::emit(&format!(
                "wrote {}/alignment.json and curve.csv\n",
                dir.display()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// For three or more classes, the mean over class pairs of the binary auc on each pair's rows.
fn pair_mean_auc(plan: &Plan) -> anyhow::Result<Option<f64>> {
    let t = &plan.targets;
    if t.task() != Task::Multiclass || t.classes().len() < 3 {
        return Ok(None);
    }
    let f = &plan.features;
    let c = t.columns();
    // The class of each row: the column where its centred target is positive.
    let labels: Vec<f64> = (0..t.len())
        .map(|j| {
            let row = t.rows(j, j + 1);
            let k = (0..c).find(|&k| row[k] > 0.0).unwrap_or(0);
            t.classes()[k]
        })
        .collect();
    let mut acc = ClassAccumulator::new(f.cols, t.classes(), plan.options)?;
    acc.push(&f.data, &labels)?;
    Ok(Some(acc.pair_mean_auc(None)?))
}

/// The measure with the Gram accumulated on the GPU: the features go up in f32, batch by batch
/// (each small enough for any device's buffers), and never come back.
#[cfg(feature = "wgpu")]
fn on_device(
    plan: &Plan,
) -> anyhow::Result<Result<repalign_alignment::Spectrum, repalign_alignment::AlignError>> {
    use burn::tensor::{Tensor, TensorData};
    use repalign_alignment::gpu::{DeviceAccumulator, batch_rows};
    let device = Backend::Wgpu.device()?;
    let f = &plan.features;
    let (d, c) = (f.cols, plan.targets.columns());
    let mut acc = DeviceAccumulator::new(d, c, plan.options, &device);
    let step = batch_rows(d);
    for start in (0..f.rows).step_by(step) {
        let end = (start + step).min(f.rows);
        let values: Vec<f32> = f.data[start * d..end * d]
            .iter()
            .map(|&v| v as f32)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(values, [end - start, d]), &device);
        if let Err(e) = acc.push(x, plan.targets.rows(start, end)) {
            return Ok(Err(e));
        }
    }
    Ok(acc.finish())
}

#[cfg(not(feature = "wgpu"))]
fn on_device(
    _plan: &Plan,
) -> anyhow::Result<Result<repalign_alignment::Spectrum, repalign_alignment::AlignError>> {
    // Names the cargo feature to rebuild with.
    Err(Backend::Wgpu
        .device()
        .err()
        .unwrap_or_else(|| anyhow::anyhow!("--backend wgpu: not compiled in")))
}

fn write_outputs(dir: &Path, report: &Report, json: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_atomic(&dir.join("alignment.json"), json.as_bytes())?;
    write_atomic(&dir.join("curve.csv"), curve_csv(report).as_bytes())
}

/// `threshold,alignment,null` rows of the reported curve.
pub fn curve_csv(report: &Report) -> String {
    let c = &report.curve;
    let mut out = String::from("threshold,alignment,null\n");
    for ((t, a), z) in c.thresholds.iter().zip(&c.alignment).zip(&c.null) {
        let _ = writeln!(out, "{t},{a},{z}");
    }
    out
}

fn human(args: &AlignArgs, plan: &Plan, r: &Report) -> String {
    let mut s = String::new();
    let d = plan.features.cols;
    let bias = if plan.options.bias_column {
        " + bias"
    } else {
        ""
    };
    let classes = plan.targets.classes();
    let task = match plan.targets.task() {
        Task::Binary => format!("binary ({} -> -1, {} -> +1)", classes[0], classes[1]),
        Task::Multiclass => format!(
            "multiclass ({} classes, centred one-vs-rest; a perfect code reaches about {:.2})",
            classes.len(),
            // c - 1 class directions share the spectrum: ~1/sqrt(c - 1) of the area at best.
            1.0 / ((classes.len() - 1) as f64).sqrt()
        ),
        Task::Regression => format!(
            "regression (min-max scaled from [{}, {}])",
            classes[0], classes[1]
        ),
    };
    let _ = writeln!(s, "features   {}", args.features.display());
    let _ = writeln!(
        s,
        "n = {}  p = {} ({d} features{bias})  rank = {}",
        r.n, r.p, r.rank
    );
    let _ = writeln!(s, "task       {task}  ||Y||^2 = {}", r.label_energy);
    let m = &r.summary;
    let k90 = m.k90.map_or("unreached".to_string(), |k| k.to_string());
    let _ = writeln!(
        s,
        "auc {:.4}  (null {:.4})  k90 {k90}  top1 {:.4}  top10 {:.4}  kta {:.4}",
        m.auc, m.auc_null, m.top1, m.top10, m.kta
    );
    if let Some(pairs) = r.pair_mean_auc {
        let _ = writeln!(
            s,
            "pair_mean_auc {pairs:.4}  (mean over class pairs of the binary auc on each pair's rows)"
        );
    }
    let (name, step) = match plan.grid {
        Grid::Demo => ("tau", 6),
        Grid::Normalized { points } => ("t = tau/sqrt(n)", (points / 10).max(1)),
    };
    let _ = writeln!(s, "curve A/||Y||^2 on the {} grid ({name}):", r.curve.grid);
    let _ = writeln!(s, "  {:>9}  {:>9}  {:>9}", "threshold", "alignment", "null");
    let c = &r.curve;
    let e = r.label_energy;
    for i in (0..c.thresholds.len()).step_by(step) {
        let _ = writeln!(
            s,
            "  {:>9.3}  {:>9.4}  {:>9.4}",
            c.thresholds[i],
            c.alignment[i] / e,
            c.null[i] / e
        );
    }
    s
}
