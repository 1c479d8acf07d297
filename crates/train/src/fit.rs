//! The training loop: seeded minibatches of the training set, burn's autodiff and optimizers,
//! a stop rule on training accuracy and loss, a `Diverged` status instead of a panic when the
//! loss stops being finite, and checkpoints that make a killed run resume exactly.
//!
//! Epoch `e` visits the training rows in the `e`-th permutation of a stream seeded by the run's
//! seed (`Rng::derive(seed, "minibatches")`), in batches of `batch_size` (the last one smaller).
//! An epoch's loss and accuracy are those of its minibatches as they were trained on.
//!
//! A hand-written loop rather than burn-train's `Learner`: every run needs the hidden layers of
//! the forward pass for the measure, a stop rule on training accuracy and loss, and many small
//! runs in one process in parallel threads, none of which the learner's fixed train/valid step
//! gives without fighting it. burn-train writes the checkpoints.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use repalign_data::{Rng, Task};
use repalign_models::{Model, ModelConfig};
use repalign_optim::OptimizerConfig;

use crate::loss::{batch_loss, correct, gather, scalar};
use crate::{Checkpoints, EpochStats, TrainConfig, TrainError, init_model};

/// What training needs: the model, the optimizer, the schedule and the seed (of the initial
/// weights and of the minibatch order).
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The architecture and its initialisation.
    pub model: &'a ModelConfig,
    /// The optimizer and its settings.
    pub optimizer: &'a OptimizerConfig,
    /// Epochs, batch size, loss and stop rule.
    pub train: &'a TrainConfig,
    /// Seeds the initial weights and the minibatch order.
    pub seed: u64,
}

/// How training ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Every epoch ran, or the stop rule ended training.
    Done {
        /// The stop rule ended training (rather than the epoch budget).
        stopped: bool,
    },
    /// The loss stopped being finite.
    Diverged {
        /// The epoch in which it happened (1-based).
        epoch: usize,
        /// The loss of the batch that diverged.
        loss: f64,
    },
}

/// A trained model and its history.
pub struct Trained {
    /// Without autodiff, ready to evaluate.
    pub model: Model,
    /// Every epoch, in order (resumed runs included).
    pub history: Vec<EpochStats>,
    /// How training ended.
    pub status: Status,
    /// The epoch a checkpoint resumed from (none: trained from the start).
    pub resumed_from: Option<usize>,
}

/// Sees training as it goes: every epoch, the model every `measure_every` epochs, and, for
/// checkpoints, a state to keep and restore.
pub trait Observer {
    /// An epoch just ended.
    fn epoch(&mut self, _stats: &EpochStats) {}
    /// The model (without autodiff) after every `train.measure_every`-th epoch.
    fn watch(&mut self, _epoch: usize, _model: &Model) -> Result<(), TrainError> {
        Ok(())
    }
    /// What a checkpoint should keep of this observer (what `watch` gathered so far).
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Restores what [`Observer::state`] gave, when a run resumes from a checkpoint.
    fn restore(&mut self, _state: serde_json::Value) -> Result<(), TrainError> {
        Ok(())
    }
}

/// An observer that does nothing.
impl Observer for () {}

/// Trains a model: built from `setup` (or restored from a checkpoint), on `task`'s training
/// rows and labels, on `device`.
#[derive(Debug, Clone)]
pub struct Trainer<'a> {
    setup: Setup<'a>,
    device: Device,
    init_device: Device,
    checkpoints: Option<Checkpoints>,
}

impl<'a> Trainer<'a> {
    /// Trains on `device` (a plain device; autodiff is added), drawing weights there.
    pub fn new(setup: Setup<'a>, device: &Device) -> Self {
        Trainer {
            setup,
            device: device.clone(),
            init_device: device.clone(),
            checkpoints: None,
        }
    }

    /// Draws the initial weights on `device` instead (see [`init_model`]).
    pub fn init_on(mut self, device: &Device) -> Self {
        self.init_device = device.clone();
        self
    }

    /// Saves checkpoints, and resumes from the newest one when there is one.
    pub fn checkpoints(mut self, checkpoints: Checkpoints) -> Self {
        self.checkpoints = Some(checkpoints);
        self
    }

    /// Runs the loop.
    pub fn run(&self, task: &Task, observer: &mut dyn Observer) -> Result<Trained, TrainError> {
        let Setup {
            model: model_config,
            optimizer,
            train,
            seed,
        } = self.setup;
        train.validate().map_err(TrainError::Config)?;
        let kind = train.loss_for(task.num_classes);
        kind.check_classes(task.num_classes)
            .map_err(TrainError::Config)?;
        let ad = self.device.clone().autodiff();
        let mut model = init_model(
            model_config,
            task.shape,
            kind.outputs(task.num_classes),
            seed,
            &self.device,
            &self.init_device,
        )?;
        let mut optim = optimizer.init()?;
        let mut history = Vec::with_capacity(train.epochs);
        let mut rng = Rng::derive(seed, "minibatches");
        let n = task.train_len();
        let mut first = 1;
        let mut resumed_from = None;
        if let Some(saved) = self.checkpoints.as_ref().and_then(|c| c.latest())
            && let Some(c) = &self.checkpoints
            && saved.epoch < train.epochs
        {
            (model, optim) = c.restore(saved.epoch, model, optim)?;
            observer.restore(saved.observer)?;
            // The minibatch order of the epochs already trained, replayed.
            for _ in 0..saved.epoch {
                rng.permutation(n);
            }
            for s in &saved.history {
                observer.epoch(s);
            }
            history = saved.history;
            first = saved.epoch + 1;
            resumed_from = Some(saved.epoch);
        }
        let lr = optimizer.lr();
        let width = task.input_len();
        let mut last_save = Instant::now();
        for epoch in first..=train.epochs {
            let order = rng.permutation(n);
            let (mut loss_sum, mut right) = (0.0, 0usize);
            for idx in order.chunks(train.batch_size) {
                let x = gather(&task.train_x, width, idx, &ad);
                let y: Vec<u32> = idx.iter().map(|&i| task.train_y[i]).collect();
                let logits = model.logits(x);
                let loss = batch_loss(kind, logits.clone(), &y, &ad);
                let value = scalar(loss.clone());
                if !value.is_finite() {
                    return Ok(Trained {
                        model: model.valid(),
                        history,
                        status: Status::Diverged { epoch, loss: value },
                        resumed_from,
                    });
                }
                loss_sum += value * idx.len() as f64;
                right += correct(logits.detach(), &y);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
            }
            let stats = EpochStats {
                epoch,
                loss: loss_sum / n as f64,
                train_acc: right as f64 / n as f64,
            };
            history.push(stats);
            observer.epoch(&stats);
            let every = train.measure_every;
            if every > 0 && epoch.is_multiple_of(every) {
                observer.watch(epoch, &model.valid())?;
            }
            if let Some(stop) = train.stop
                && stats.train_acc >= stop.train_acc
                && stats.loss < stop.loss
            {
                return Ok(Trained {
                    model: model.valid(),
                    history,
                    status: Status::Done { stopped: true },
                    resumed_from,
                });
            }
            if let Some(c) = &self.checkpoints
                && epoch < train.epochs
                && last_save.elapsed() >= c.every()
            {
                c.save(&model, &optim, epoch, &history, observer.state())?;
                last_save = Instant::now();
            }
        }
        Ok(Trained {
            model: model.valid(),
            history,
            status: Status::Done { stopped: false },
            resumed_from,
        })
    }
}
