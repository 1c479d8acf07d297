//! One run of an experiment: draw its task, train (resuming from a checkpoint when the run was
//! killed before), measure every layer, run its analysis, and write its folder (`config.json`
//! first, `result.json` last).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use burn::tensor::Device;
use repalign_alignment::Report;
use repalign_data::{Dataset, Task, Teacher};
use repalign_models::Model;
use repalign_report::plot::alignment_curves;
use repalign_train::{
    Checkpoints, EpochStats, LossKind, Observer, Setup, Status, TrainError, Trainer, evaluate,
};

use crate::backend::Backend;
use crate::experiment::{DataConfig, MeasureConfig, RunConfig};
use crate::measure::measure_layers;
use crate::output::{self, ConfigRecord, RunResult, RunStatus, Versions};
use crate::progress::EpochProgress;

/// Where a run executes and what it may reuse.
pub struct RunEnv<'a> {
    /// The image dataset, when the run draws its task from one.
    pub data: Option<&'a Dataset>,
    /// Where the data came from, for `config.json`.
    pub source: &'a str,
    pub backend: Backend,
    pub device: &'a Device,
    /// Checkpoint when this much time has passed since the last one (zero: every epoch).
    pub checkpoint_every: Duration,
}

/// The folder of a run's checkpoints.
pub fn checkpoints(dir: &Path, run: &RunConfig, every: Duration) -> Checkpoints {
    Checkpoints::new(dir.join("checkpoint"), every, run.run_id())
}

/// The run's task: drawn from its dataset, or generated for the teacher problem.
pub fn task(run: &RunConfig, data: Option<&Dataset>) -> anyhow::Result<Task> {
    Ok(match (&run.data, data) {
        (DataConfig::Teacher(cfg), _) => Teacher::new(cfg).source_task(cfg, run.labels, run.seed),
        (DataConfig::Images(_), Some(data)) => {
            Task::draw(data, &run.task, run.labels, run.seed).context("task")?
        }
        (DataConfig::Images(name), None) => anyhow::bail!("no dataset loaded for {name}"),
    })
}

/// Progress and the alignment of every layer every `measure_every` epochs, kept in checkpoints.
struct RunObserver<'a> {
    bar: EpochProgress,
    task: &'a Task,
    kind: LossKind,
    measure: &'a MeasureConfig,
    device: &'a Device,
    history: Vec<(usize, Vec<Report>)>,
}

impl Observer for RunObserver<'_> {
    fn epoch(&mut self, stats: &EpochStats) {
        self.bar.epoch(stats);
    }

    fn watch(&mut self, epoch: usize, model: &Model) -> Result<(), TrainError> {
        let (reports, _) = measure_layers(model, self.task, self.kind, self.measure, self.device)
            .map_err(|e| TrainError::Observer(e.into()))?;
        self.history.push((epoch, reports));
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        serde_json::to_value(&self.history).unwrap_or_default()
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), TrainError> {
        self.history = serde_json::from_value(state).map_err(|e| TrainError::Observer(e.into()))?;
        Ok(())
    }
}

/// Trains, measures and writes one run's directory.
pub fn run_one(
    run: &RunConfig,
    ctx: &RunEnv<'_>,
    dir: &Path,
    bar: EpochProgress,
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
            backend: ctx.backend.name(),
            data_source: ctx.source.to_string(),
            versions: Versions::current(),
        },
    )?;
    let task = task(run, ctx.data)?;
    let kind = run.train.loss_for(task.num_classes);
    let mut observer = RunObserver {
        bar,
        task: &task,
        kind,
        measure: &run.measure,
        device: ctx.device,
        history: Vec::new(),
    };
    let setup = Setup {
        model: &run.model,
        optimizer: &run.optimizer,
        train: &run.train,
        seed: run.seed,
    };
    let checkpoints = checkpoints(dir, run, ctx.checkpoint_every);
    let trained = Trainer::new(setup, ctx.device)
        .init_on(&crate::backend::init_device(ctx.device))
        .checkpoints(checkpoints.clone())
        .run(&task, &mut observer)?;
    let RunObserver { bar, history, .. } = observer;
    bar.finish();
    if !history.is_empty() {
        output::write_alignment_history(dir, &history)?;
    }
    output::write_metrics(dir, &trained.history)?;
    let epochs = trained.history.len();
    let config = serde_json::from_str(&run.canonical_json())?;
    let (reports, result) = match &trained.status {
        Status::Done { stopped } => {
            let (reports, train_eval) =
                measure_layers(&trained.model, &task, kind, &run.measure, ctx.device)?;
            let test = evaluate(
                &trained.model,
                &task.test_x,
                &task.test_y,
                kind,
                run.measure.batch_size,
                ctx.device,
            );
            output::write_alignment(dir, &reports)?;
            if let Some(analysis) = &run.analysis {
                let trained = crate::analysis::Trained {
                    run,
                    task: &task,
                    model: &trained.model,
                    data: ctx.data,
                    device: ctx.device,
                };
                crate::analysis::run(analysis, &trained, dir).context("analysis")?;
            }
            let title = format!("{}: {} ({} labels)", run.name, run_id, run.labels.as_str());
            alignment_curves(dir, "alignment", &title, &reports, &run.measure.grid.grid())?;
            let result = RunResult {
                run_id,
                status: RunStatus::Done,
                reason: None,
                epochs,
                fitted: match run.train.stop {
                    Some(_) => *stopped,
                    None => train_eval.acc >= 1.0,
                },
                resumed_from: trained.resumed_from,
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
                status: RunStatus::Diverged,
                reason: Some(format!("loss {loss} at epoch {epoch}")),
                epochs,
                fitted: false,
                resumed_from: trained.resumed_from,
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
    checkpoints
        .clear()
        .with_context(|| format!("removing {}", checkpoints.dir().display()))?;
    Ok((result, reports))
}

/// `result.json` for a run that could not finish, so the sweep goes on and the reason stays.
pub fn record_failure(run: &RunConfig, dir: &Path, e: &anyhow::Error) -> anyhow::Result<()> {
    output::create(dir)?;
    output::write_json(
        &dir.join("result.json"),
        &RunResult {
            run_id: run.run_id(),
            status: RunStatus::Failed,
            reason: Some(format!("{e:#}")),
            epochs: 0,
            fitted: false,
            resumed_from: None,
            train_loss: f64::NAN,
            train_acc: f64::NAN,
            test_acc: f64::NAN,
            seconds: f64::NAN,
            config: serde_json::from_str(&run.canonical_json())?,
        },
    )
}
