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
use crate::progress::EpochProgress;
use crate::run_folder::{self, ConfigRecord, RunResult, RunStatus, Versions};

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
    /// The compute threads of the pool the run trains on.
    pub threads: usize,
    /// The data folder, where a relative weights path is looked up.
    pub data_dir: &'a Path,
}

/// The folder of a run's checkpoints.
pub fn checkpoints(dir: &Path, run: &RunConfig, every: Duration) -> Checkpoints {
    Checkpoints::new(dir.join("checkpoint"), every, run.run_id())
}

/// The run's task: drawn from its dataset, or generated for the teacher problem.
pub fn task(run: &RunConfig, data: Option<&Dataset>) -> anyhow::Result<Task> {
    Ok(match (&run.data, data) {
        (DataConfig::Teacher(cfg), _) => Teacher::new(cfg).source_task(cfg, run.labels, run.seed),
        (DataConfig::Images(_), Some(data)) => Task::draw(data, &run.task, run.labels, run.seed)?,
        (DataConfig::Images(name), None) => anyhow::bail!("no dataset loaded for {name}"),
    })
}

/// The most parameters a model may have: 2^30 (4 GiB as f32; an optimizer's state doubles or
/// triples it).
const MAX_PARAMETERS: u128 = 1 << 30;
/// The most bytes one batch's activations may take (values, gradients and a temporary, f32).
const MAX_BATCH_BYTES: u128 = 8 << 30;
/// The most bytes the measure of one layer may hold at once.
const MAX_MEASURE_BYTES: u128 = 8 << 30;

/// `313.6 GB`.
fn bytes(b: u128) -> String {
    format!("{:.1} GB", b as f64 / 1e9)
}

/// Refuses, before anything is allocated, a run whose model, batches or measure no machine
/// this tool is for can hold, naming the setting to change.
pub fn check_sizes(run: &RunConfig, task: &Task) -> anyhow::Result<()> {
    let kind = run.train.loss_for(task.num_classes);
    let sizes = run
        .model
        .sizes(task.shape, kind.outputs(task.num_classes))
        .context("model")?;
    if sizes.parameters > MAX_PARAMETERS {
        anyhow::bail!(
            "model: {} parameters for this task ({} as f32); this tool trains at most {MAX_PARAMETERS}: lower model.width, model.channels or model.dense",
            sizes.parameters,
            bytes(4 * sizes.parameters)
        );
    }
    let input = task.input_len() as u128;
    let per_sample: u128 = input + sizes.hidden.iter().map(|(_, w)| w).sum::<u128>();
    let batch = run.train.batch_size.max(run.measure.batch_size) as u128;
    if 12 * per_sample * batch > MAX_BATCH_BYTES {
        anyhow::bail!(
            "train.batch_size = {} / measure.batch_size = {}: one batch's activations take {} (at most {}): lower them",
            run.train.batch_size,
            run.measure.batch_size,
            bytes(12 * per_sample * batch),
            bytes(MAX_BATCH_BYTES)
        );
    }
    let n = run
        .measure
        .max_rows
        .map_or(task.train_len(), |m| m.min(task.train_len()));
    let c = if task.num_classes == 2 {
        1
    } else {
        task.num_classes
    };
    let layers = std::iter::once(("input".to_string(), input)).chain(sizes.hidden);
    for (name, width) in layers {
        let d = usize::try_from(width).unwrap_or(usize::MAX);
        let need = repalign_alignment::Accumulator::memory_bound(n, d, c, run.measure.options());
        if need > MAX_MEASURE_BYTES {
            anyhow::bail!(
                "measure: layer {name} has {width} features; measuring it on {n} rows holds {} (at most {}): set measure.max_rows or use a narrower layer",
                bytes(need),
                bytes(MAX_MEASURE_BYTES)
            );
        }
    }
    Ok(())
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
    run_folder::create(dir)?;
    run_folder::write_json(
        &dir.join(run_folder::names::CONFIG),
        &ConfigRecord {
            run_id: run_id.clone(),
            config: run,
            seed: run.seed,
            backend: ctx.backend.name(),
            kernels: ctx.backend.kernels(),
            subnormals: repalign_subnormals::current().describe(),
            threads: ctx.threads,
            data_source: ctx.source.to_string(),
            versions: Versions::current(),
        },
    )?;
    let task = task(run, ctx.data)?;
    check_sizes(run, &task)?;
    let kind = run.train.loss_for(task.num_classes);
    let mut observer = RunObserver {
        bar,
        task: &task,
        kind,
        measure: &run.measure,
        device: ctx.device,
        history: Vec::new(),
    };
    let model = run.model_in(ctx.data_dir);
    let setup = Setup {
        model: &model,
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
        run_folder::write_alignment_history(dir, &history)?;
    }
    run_folder::write_metrics(dir, &trained.history)?;
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
            run_folder::write_alignment(dir, &reports)?;
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
                reason: Some(format!(
                    "the training loss became {loss} in epoch {epoch} (after {epochs} complete epochs)"
                )),
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
    run_folder::write_json(&dir.join(run_folder::names::RESULT), &result)?;
    checkpoints
        .clear()
        .with_context(|| format!("removing {}", checkpoints.dir().display()))?;
    Ok((result, reports))
}

/// `result.json` for a run that could not finish, so the sweep goes on and the reason stays.
pub fn record_failure(run: &RunConfig, dir: &Path, e: &anyhow::Error) -> anyhow::Result<()> {
    run_folder::create(dir)?;
    run_folder::write_json(
        &dir.join(run_folder::names::RESULT),
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
