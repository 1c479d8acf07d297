//! `runner run FILE`: train and measure every run of an experiment file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use repalign_alignment::Report;
use repalign_data::{Dataset, DatasetName, Source, Task, Teacher};

use crate::backend::Backend;
use crate::cli::RunArgs;
use crate::experiment::{self, RunConfig};
use crate::measure::{evaluate_test, measure_layers};
use crate::output::{self, ConfigRecord, RunResult, Versions};
use crate::plot;
use crate::progress::Progress;
use crate::train::{self, Status};

/// The folder `--data` defaults to; when a dataset is not there, MNIST comes from the embedded
/// subset.
pub const DEFAULT_DATA: &str = "data";

/// Loads a dataset the way every command does: from `--data DIR` when given (an error names
/// the fetch command when it is missing there), else from `data/` or the embedded subset.
pub fn load_dataset(
    name: repalign_data::DatasetName,
    data: Option<&Path>,
) -> anyhow::Result<Dataset> {
    Ok(match data {
        Some(dir) => repalign_data::load(name, dir, false)?,
        None => repalign_data::load(name, Path::new(DEFAULT_DATA), true)?,
    })
}

/// Where a run stands in its results folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `result.json` for this config is there.
    Done,
    /// The folder exists without a result: the run was killed; it is redone from the start.
    Partial,
    Pending,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let runs = experiment::load(&args.file)?;
    let name = runs[0].name.clone();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(&name));
    let selected: Vec<(usize, &RunConfig)> = runs
        .iter()
        .enumerate()
        .filter(|(i, _)| args.shard.is_none_or(|s| s.contains(*i)))
        .collect();
    let states: Vec<State> = selected
        .iter()
        .map(|(_, r)| {
            let dir = output::run_dir(&out, r);
            if output::completed(&dir, r).is_some() {
                State::Done
            } else if dir.exists() {
                State::Partial
            } else {
                State::Pending
            }
        })
        .collect();
    let todo: Vec<&RunConfig> = selected
        .iter()
        .zip(&states)
        .filter(|(_, s)| **s != State::Done)
        .map(|((_, r), _)| *r)
        .collect();
    let shard_note = args.shard.map_or(String::new(), |s| {
        format!(
            " (shard {}/{}: {} of {} runs)",
            s.k,
            s.n,
            selected.len(),
            runs.len()
        )
    });
    if args.dry_run {
        crate::io::emit(&format!(
            "{name}: {} runs{shard_note} in {}\n",
            selected.len(),
            out.display()
        ));
        for ((i, r), s) in selected.iter().zip(&states) {
            let what = match s {
                State::Done => "done",
                State::Partial => "to run (killed before, redone from the start)",
                State::Pending => "to run",
            };
            crate::io::emit(&format!("  {:>4}  {}  {what}\n", i + 1, r.run_id()));
        }
        crate::io::emit(&format!(
            "{} done, {} to run\n",
            selected.len() - todo.len(),
            todo.len()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let backend = args.backend.unwrap_or_else(Backend::default_compiled);
    let device = backend.device()?;
    // Every dataset is loaded once, before any training, so a missing one stops nothing midway.
    let mut datasets = std::collections::HashMap::new();
    for r in todo
        .iter()
        .filter(|r| r.data.dataset != DatasetName::Teacher)
    {
        if let std::collections::hash_map::Entry::Vacant(e) = datasets.entry(r.data.dataset) {
            let data = load_dataset(r.data.dataset, args.data.as_deref())?;
            let source = match &data.source {
                Source::Embedded => format!("{} from the {}", data.name, data.source),
                Source::Files(_) => format!("{} from {}", data.name, data.source),
            };
            eprintln!("data: {source}");
            e.insert((data, source));
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, todo.len().max(1));
    eprintln!(
        "{name}: {} runs{shard_note}, {} already done, {} to run on {} with {jobs} job(s), results in {}",
        selected.len(),
        selected.len() - todo.len(),
        todo.len(),
        backend.name(),
        out.display()
    );
    let start = Instant::now();
    let progress = Progress::new(todo.len());
    let next = AtomicUsize::new(0);
    let single = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(run) = todo.get(i) else { break };
                    let (data, source) = match datasets.get(&run.data.dataset) {
                        Some((d, s)) => (Some(d), s.clone()),
                        None => (None, "teacher (synthetic)".to_string()),
                    };
                    let dir = output::run_dir(&out, run);
                    let outcome =
                        match run_one(run, data, &source, backend, &device, &dir, &progress) {
                            Ok((result, reports)) => {
                                let line = outcome_line(&result, &reports);
                                if todo.len() == 1 {
                                    *single.lock().unwrap_or_else(|p| p.into_inner()) =
                                        Some(summary_table(run, &result, &reports, &dir));
                                }
                                line
                            }
                            Err(e) => match record_failure(run, &dir, &e) {
                                Ok(()) => format!("failed: {e:#}"),
                                Err(w) => {
                                    format!("failed: {e:#} (and writing its result failed: {w:#})")
                                }
                            },
                        };
                    progress.finished(&run.run_id(), &outcome);
                }
            });
        }
    });
    progress.finish();
    if let Some(table) = single.into_inner().unwrap_or_else(|p| p.into_inner()) {
        crate::io::emit(&table);
    }
    let report = crate::report::build(&out)?;
    crate::report::write(&out, &report)?;
    if runs.len() > 1 {
        crate::io::emit(&report.markdown());
    }
    eprintln!(
        "{name}: {} runs finished in {} (wall time of this invocation); tables and plots in {}",
        todo.len(),
        crate::progress::clock(start.elapsed().as_secs_f64()),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `result.json` for a run that could not finish, so the sweep goes on and the reason stays.
fn record_failure(run: &RunConfig, dir: &Path, e: &anyhow::Error) -> anyhow::Result<()> {
    output::create(dir)?;
    output::write_json(
        &dir.join("result.json"),
        &RunResult {
            run_id: run.run_id(),
            status: "failed".into(),
            reason: Some(format!("{e:#}")),
            epochs: 0,
            fitted: false,
            train_loss: f64::NAN,
            train_acc: f64::NAN,
            test_acc: f64::NAN,
            seconds: f64::NAN,
            config: serde_json::from_str(&run.canonical_json())?,
        },
    )
}

fn outcome_line(r: &RunResult, reports: &[Report]) -> String {
    let last = reports
        .iter()
        .rev()
        .find(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")));
    match last {
        Some(last) => format!(
            "{} after {} epochs in {:.1}s: train acc {:.3}, {} auc {:.3} (input {:.3})",
            r.status,
            r.epochs,
            r.seconds,
            r.train_acc,
            last.layer.as_deref().unwrap_or("last"),
            last.summary.auc,
            reports[0].summary.auc
        ),
        None => format!(
            "{} after {} epochs: {}",
            r.status,
            r.epochs,
            r.reason.as_deref().unwrap_or("")
        ),
    }
}

/// Trains, measures and writes one run's directory.
pub fn run_one(
    run: &RunConfig,
    data: Option<&Dataset>,
    source: &str,
    backend: Backend,
    device: &burn::tensor::Device,
    dir: &Path,
    progress: &Progress,
) -> anyhow::Result<(RunResult, Vec<Report>)> {
    let start = Instant::now();
    let run_id = run.run_id();
    output::create(dir)?;
    output::write_json(
        &dir.join("config.json"),
        &ConfigRecord {
            run_id: run_id.clone(),
            config: run,
            seed: run.seed,
            backend: backend.name(),
            data_source: source.to_string(),
            versions: Versions::current(),
        },
    )?;
    let task = match (&run.data.teacher, data) {
        (Some(cfg), _) => Teacher::new(cfg).source_task(cfg, run.labels, run.seed),
        (None, Some(data)) => Task::draw(data, &run.task, run.labels, run.seed).context("task")?,
        (None, None) => anyhow::bail!("no dataset for {}", run.data.dataset),
    };
    let kind = train::loss_kind(run, task.num_classes);
    let mut bar = progress.run(&run_id, run.train.epochs);
    let mut history: Vec<(usize, Vec<Report>)> = Vec::new();
    let trained = train::train_and_watch(
        run,
        &task,
        device,
        &mut |s| bar.epoch(s),
        &mut |epoch, model| {
            let (reports, _) = measure_layers(model, &task, kind, &run.measure, device)?;
            history.push((epoch, reports));
            Ok(())
        },
    )?;
    bar.finish();
    if !history.is_empty() {
        output::write_alignment_history(dir, &history)?;
    }
    output::write_metrics(dir, &trained.history)?;
    let epochs = trained.history.len();
    let config = serde_json::from_str(&run.canonical_json())?;
    let (reports, result) = match &trained.status {
        Status::Done => {
            let (reports, train_eval) =
                measure_layers(&trained.model, &task, kind, &run.measure, device)?;
            let test = evaluate_test(&trained.model, &task, kind, run.measure.batch_size, device)?;
            output::write_alignment(dir, &reports)?;
            if let Some(analysis) = &run.analysis {
                crate::analysis::run(analysis, run, &task, &trained.model, data, device, dir)
                    .context("analysis")?;
            }
            let title = format!("{}: {} ({} labels)", run.name, run_id, run.labels.as_str());
            plot::alignment_curves(dir, "alignment", &title, &reports, &run.measure.grid.grid())?;
            let result = RunResult {
                run_id,
                status: trained.status.as_str().into(),
                reason: None,
                epochs,
                fitted: match run.train.stop {
                    Some(_) => trained.stopped,
                    None => train_eval.acc >= 1.0,
                },
                train_loss: train_eval.loss,
                train_acc: train_eval.acc,
                test_acc: test.acc,
                seconds: start.elapsed().as_secs_f64(),
                config,
            };
            (reports, result)
        }
        Status::Diverged { epoch, loss } => {
            let result = RunResult {
                run_id,
                status: trained.status.as_str().into(),
                reason: Some(format!("loss {loss} at epoch {epoch}")),
                epochs,
                fitted: false,
                train_loss: *loss,
                train_acc: f64::NAN,
                test_acc: f64::NAN,
                seconds: start.elapsed().as_secs_f64(),
                config,
            };
            (vec![], result)
        }
    };
    output::write_json(&dir.join("result.json"), &result)?;
    Ok((result, reports))
}

fn summary_table(run: &RunConfig, r: &RunResult, reports: &[Report], dir: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n{} ({})", run.name, r.run_id);
    let _ = writeln!(
        s,
        "status {}  epochs {}  train loss {:.4}  train acc {:.4}  test acc {:.4}  {:.1} s",
        r.status, r.epochs, r.train_loss, r.train_acc, r.test_acc, r.seconds
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(s, "reason: {reason}");
    }
    if !reports.is_empty() {
        let _ = writeln!(s, "| layer | p | auc | auc_null | k90 | top1 |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for rep in reports {
            let m = &rep.summary;
            let k90 = m.k90.map_or("unreached".into(), |k| k.to_string());
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {:.4} | {k90} | {:.4} |",
                rep.layer.as_deref().unwrap_or("?"),
                rep.p,
                m.auc,
                m.auc_null,
                m.top1
            );
        }
    }
    let _ = writeln!(s, "results in {}", dir.display());
    s
}
