//! `runner run FILE`: train and measure every run of an experiment file. The flags and the file
//! become a checked [`Plan`] (which runs, where, in what state, on which backend); then the plan
//! is listed (`--dry-run`) or executed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use repalign_alignment::Report;
use repalign_data::{Dataset, DatasetName, Source};

use crate::backend::Backend;
use crate::cli::{RunArgs, Shard};
use crate::experiment::{self, RunConfig};
use crate::job::{self, RunEnv};
use crate::progress::Progress;
use crate::run_folder::{self, Previous, RunResult};

/// The folder `--data` defaults to; when a dataset is not there, MNIST comes from the embedded
/// subset.
pub const DEFAULT_DATA: &str = "data";

/// Loads a dataset the way every command does: from `--data DIR` when given (an error names
/// the fetch command when it is missing there), else from `data/` or the embedded subset.
pub fn load_dataset(name: DatasetName, data: Option<&Path>) -> anyhow::Result<Dataset> {
    Ok(match data {
        Some(dir) => repalign_data::load(name, dir, false)?,
        None => repalign_data::load(name, Path::new(DEFAULT_DATA), true)?,
    })
}

/// Where a run stands in its results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A finished result (done or diverged) for this config is there.
    Done,
    /// It failed before (the reason): it is tried again.
    Failed(String),
    /// Its result files no longer load (why): it is redone.
    Broken(String),
    /// Killed before: it resumes from its checkpoint of this epoch.
    Resumes(usize),
    /// Killed before any checkpoint: it is redone from the start.
    Partial,
    Pending,
}

/// One run of the plan.
struct Planned {
    /// 0-based index in the experiment's grid.
    index: usize,
    config: RunConfig,
    dir: PathBuf,
    state: State,
}

/// Everything `runner run` will do, checked before any work starts.
struct Plan {
    name: String,
    out: PathBuf,
    /// Runs in the whole grid.
    total: usize,
    shard: Option<Shard>,
    /// This invocation's runs (the shard's, or all), in grid order.
    runs: Vec<Planned>,
    backend: Backend,
    jobs: usize,
    /// Compute threads of each job's pool.
    threads: usize,
    data_dir: Option<PathBuf>,
    checkpoint_every: Duration,
}

impl Plan {
    fn new(args: &RunArgs) -> anyhow::Result<Plan> {
        let grid = experiment::load(&args.file)?;
        let name = grid[0].name.clone();
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&name));
        let checkpoint_every = Duration::from_secs_f64(args.checkpoint_every);
        let total = grid.len();
        let runs: Vec<Planned> = grid
            .into_iter()
            .enumerate()
            .filter(|(i, _)| args.shard.is_none_or(|s| s.contains(*i)))
            .map(|(index, config)| {
                let dir = run_folder::run_dir(&out, &config);
                let resumes =
                    || job::checkpoints(&dir, &config, checkpoint_every).resumable_epoch();
                let state = match run_folder::previous(&dir, &config) {
                    Previous::Complete(_) => State::Done,
                    Previous::Failed(r) => State::Failed(r.reason.unwrap_or_default()),
                    Previous::Broken(why) => State::Broken(why),
                    Previous::Nothing => match resumes() {
                        Some(k) => State::Resumes(k),
                        None if dir.exists() => State::Partial,
                        None => State::Pending,
                    },
                };
                Planned {
                    index,
                    config,
                    dir,
                    state,
                }
            })
            .collect();
        let backend = args.backend.unwrap_or_else(Backend::default_compiled);
        let todo = runs.iter().filter(|r| r.state != State::Done).count();
        let data = args.data.as_deref().unwrap_or(Path::new(DEFAULT_DATA));
        for r in runs.iter().filter(|r| r.state != State::Done) {
            r.config.check_weights(data)?;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // One job per core, each on one thread: a sweep's small GEMMs gain nothing from a
        // second thread (sweep-depth: 481 s as 2 jobs of 1 thread, 957 s as 1 job of 2 threads,
        // README). One run alone gets every core.
        let jobs = args.jobs.unwrap_or(cores).clamp(1, todo.max(1));
        let threads = args.threads.unwrap_or(cores / jobs).max(1);
        Ok(Plan {
            name,
            out,
            total,
            shard: args.shard,
            runs,
            backend,
            jobs,
            threads,
            data_dir: args.data.clone(),
            checkpoint_every,
        })
    }

    fn todo(&self) -> Vec<&Planned> {
        self.runs
            .iter()
            .filter(|r| r.state != State::Done)
            .collect()
    }

    fn shard_note(&self) -> String {
        self.shard.map_or(String::new(), |s| {
            format!(
                " (shard {}/{}: {} of {} runs)",
                s.k,
                s.n,
                self.runs.len(),
                self.total
            )
        })
    }

    /// `--dry-run`: every run of the plan and what would happen to it.
    fn listing(&self) -> String {
        let mut s = format!(
            "{}: {} runs{} in {}\n",
            self.name,
            self.runs.len(),
            self.shard_note(),
            self.out.display()
        );
        for r in &self.runs {
            let what = match &r.state {
                State::Done => "done".to_string(),
                State::Failed(why) => format!("to run again (failed before: {why})"),
                State::Broken(why) => format!("to run again (its results no longer load: {why})"),
                State::Resumes(k) => format!("to run (killed before; resumes after epoch {k})"),
                State::Partial => "to run (killed before, redone from the start)".to_string(),
                State::Pending => "to run".to_string(),
            };
            let _ = writeln!(s, "  {:>4}  {}  {what}", r.index + 1, r.config.run_id());
        }
        let todo = self.todo().len();
        let _ = writeln!(s, "{} done, {todo} to run", self.runs.len() - todo);
        s
    }

    /// Every dataset the runs to do need, loaded once before any training, so a missing one
    /// stops nothing midway; with the text that says where each came from.
    fn load_data(&self) -> anyhow::Result<HashMap<DatasetName, (Dataset, String)>> {
        let mut datasets = HashMap::new();
        for r in self.todo() {
            let Some(name) = r.config.data.images() else {
                continue;
            };
            if datasets.contains_key(&name) {
                continue;
            }
            let data = load_dataset(name, self.data_dir.as_deref())?;
            let source = match &data.source {
                Source::Embedded => format!("{} from the {}", data.name, data.source),
                Source::Files(_) => format!("{} from {}", data.name, data.source),
            };
            eprintln!("data: {source}");
            datasets.insert(name, (data, source));
        }
        Ok(datasets)
    }

    fn execute(self) -> anyhow::Result<ExitCode> {
        let device = self.backend.device()?;
        let datasets = self.load_data()?;
        let todo = self.todo();
        for r in &todo {
            if let State::Broken(why) = &r.state {
                eprintln!(
                    "warning: {}: its results no longer load ({why}); running it again",
                    r.config.run_id()
                );
            }
        }
        run_folder::create(&self.out)?;
        // Each job computes on its own pool, so jobs x threads never exceeds what was asked for;
        // its workers flush subnormals as they start.
        let pools = job_pools(self.jobs, self.threads)?;
        eprintln!(
            "{}: {} runs{}, {} already done, {} to run on {} ({} kernels) with {} job(s) of {} thread(s), results in {}",
            self.name,
            self.runs.len(),
            self.shard_note(),
            self.runs.len() - todo.len(),
            todo.len(),
            self.backend.name(),
            self.backend.kernels(),
            self.jobs,
            self.threads,
            self.out.display()
        );
        let start = Instant::now();
        let progress = Progress::new(todo.len());
        let next = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let single = Mutex::new(None);
        std::thread::scope(|scope| {
            for pool in &pools {
                scope.spawn(|| {
                    pool.install(|| {
                        while let Some(planned) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                            let run = &planned.config;
                            let (data, source) = match run.data.images() {
                                Some(name) => {
                                    let (d, s) = &datasets[&name];
                                    (Some(d), s.clone())
                                }
                                None => (None, "teacher (synthetic)".to_string()),
                            };
                            let env = RunEnv {
                                data,
                                source: &source,
                                backend: self.backend,
                                device: &device,
                                checkpoint_every: self.checkpoint_every,
                                threads: self.threads,
                                data_dir: self
                                    .data_dir
                                    .as_deref()
                                    .unwrap_or(Path::new(DEFAULT_DATA)),
                            };
                            let bar = progress.run(&run.run_id(), run.train.epochs);
                            // A panic is a bug to fix at its source; here it fails one run, not the
                            // sweep.
                            let attempt =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    job::run_one(run, &env, &planned.dir, bar)
                                }))
                                .unwrap_or_else(|payload| {
                                    let what = payload
                                        .downcast_ref::<&str>()
                                        .map(|s| s.to_string())
                                        .or_else(|| payload.downcast_ref::<String>().cloned())
                                        .unwrap_or_else(|| "unknown".into());
                                    Err(anyhow::anyhow!(
                                        "internal error (a bug, please report it): {what}"
                                    ))
                                });
                            if attempt.is_err() {
                                failed.fetch_add(1, Ordering::SeqCst);
                            }
                            let outcome = match attempt {
                                Ok((result, reports)) => {
                                    if todo.len() == 1 {
                                        *single.lock().unwrap_or_else(|p| p.into_inner()) = Some(
                                            summary_table(run, &result, &reports, &planned.dir),
                                        );
                                    }
                                    outcome_line(&result, &reports)
                                }
                                Err(e) => match job::record_failure(run, &planned.dir, &e) {
                                    Ok(()) => format!("failed: {e:#}"),
                                    Err(w) => {
                                        format!(
                                            "failed: {e:#} (and writing its result failed: {w:#})"
                                        )
                                    }
                                },
                            };
                            progress.finished(&run.run_id(), &outcome);
                        }
                    })
                });
            }
        });
        progress.finish();
        if let Some(table) = single.into_inner().unwrap_or_else(|p| p.into_inner()) {
            crate::io::emit(&table)?;
        }
        let report = crate::run_folder::read_all(&self.out)?;
        if !report.runs.is_empty() {
            crate::report::write(&self.out, &report)?;
            if self.total > 1 {
                crate::io::emit(&report.markdown())?;
            }
        }
        let failed = failed.into_inner();
        eprintln!(
            "{}: {} runs finished in {} (wall time of this invocation){}; tables and plots in {}",
            self.name,
            todo.len(),
            crate::progress::clock(start.elapsed().as_secs_f64()),
            if failed > 0 {
                format!(", {failed} failed (they run again on the next `runner run`)")
            } else {
                String::new()
            },
            self.out.display()
        );
        Ok(if failed > 0 {
            ExitCode::from(RUNS_FAILED)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// One rayon pool of `threads` compute threads per job; every worker flushes subnormals to zero
/// as it starts ([`repalign_subnormals::pool`]). A job runs inside its pool (`install`), so
/// burn-flex's, gemm's and faer's parallel loops split its work over those threads only.
fn job_pools(jobs: usize, threads: usize) -> anyhow::Result<Vec<rayon::ThreadPool>> {
    (0..jobs)
        .map(|_| repalign_subnormals::pool(threads))
        .collect::<Result<Vec<_>, _>>()
        .context("starting the jobs' thread pools")
}

/// The exit code of a `runner run` in which at least one run failed (1 is any other error).
pub const RUNS_FAILED: u8 = 2;

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan::new(args)?;
    if args.dry_run {
        crate::io::emit(&plan.listing())?;
        return Ok(ExitCode::SUCCESS);
    }
    plan.execute()
}

/// The network's last hidden layer of a run's reports (pooled views aside).
fn last_layer(reports: &[Report]) -> Option<&Report> {
    reports
        .iter()
        .rev()
        .find(|l| !repalign_models::is_pooled_view(l.layer.as_deref().unwrap_or("")))
}

fn outcome_line(r: &RunResult, reports: &[Report]) -> String {
    match last_layer(reports) {
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
        None => format!("{}: {}", r.status, r.reason.as_deref().unwrap_or("")),
    }
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

#[cfg(test)]
mod tests {
    use repalign_data::blobs;
    use repalign_train::{EpochStats, Observer, Setup, Trainer};

    use super::job_pools;
    use crate::testing::tiny_run;

    /// Checks, at the end of every epoch, that the thread training and every worker of its pool
    /// read a subnormal times 1 as 0.
    struct Flushed {
        epochs: usize,
        everywhere: bool,
    }

    impl Observer for Flushed {
        fn epoch(&mut self, _stats: &EpochStats) {
            let workers = rayon::broadcast(|_| !repalign_subnormals::subnormal_survives());
            self.epochs += 1;
            self.everywhere &= workers.iter().all(|&w| w)
                && workers.len() == 2
                && !repalign_subnormals::subnormal_survives();
        }
    }

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn subnormals_are_flushed_on_every_thread_of_a_job_while_it_trains() {
        // A fresh thread (the test harness's threads have the default mode) starts the jobs'
        // pools and trains inside one, as `runner run` does.
        std::thread::spawn(|| {
            let pools = job_pools(2, 2).unwrap();
            assert_eq!(pools.len(), 2);
            let run = tiny_run(
                "kind = \"mlp\"\ndepth = 2\nwidth = 8",
                "name = \"adam\"\nlr = 0.01",
                3,
            );
            let task = blobs(64, 3);
            let device = burn::tensor::Device::flex();
            let setup = Setup {
                model: &run.model,
                optimizer: &run.optimizer,
                train: &run.train,
                seed: 0,
            };
            let mut seen = Flushed {
                epochs: 0,
                everywhere: true,
            };
            pools[1].install(|| Trainer::new(setup, &device).run(&task, &mut seen).unwrap());
            assert_eq!(seen.epochs, 3);
            assert!(seen.everywhere);
            // The thread that started the pools was never switched: only the pools' workers are.
            assert!(repalign_subnormals::subnormal_survives());
        })
        .join()
        .unwrap();
    }
}
