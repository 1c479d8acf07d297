//! Training: the loop, its losses, stop rules and statuses, seeded initialisation, evaluation
//! and checkpoints.
//!
//! [`Trainer`] takes what training needs and nothing else: a [`Setup`] (model config,
//! optimizer config, [`TrainConfig`], seed), a device and a [`repalign_data::Task`]; an
//! [`Observer`] sees every epoch and, every `measure_every` epochs, the model. With
//! [`Checkpoints`] a run saves its state as it goes (through burn-train's `FileCheckpointer`)
//! and a run killed at epoch k resumes from its last checkpoint, ending exactly as an
//! uninterrupted run would.
//!
//! ```no_run
//! # use repalign_train::*;
//! # fn demo(task: &repalign_data::Task, model: &repalign_models::ModelConfig,
//! #         optimizer: &repalign_optim::OptimizerConfig, device: &burn::tensor::Device)
//! # -> Result<(), TrainError> {
//! let train = TrainConfig::new(100, 64);
//! let setup = Setup { model, optimizer, train: &train, seed: 0 };
//! let trained = Trainer::new(setup, device).run(task, &mut ())?;
//! let kind = train.loss_for(task.num_classes);
//! let test = evaluate(&trained.model, &task.test_x, &task.test_y, kind, 500, device);
//! # Ok(()) }
//! ```
//!
//! This crate never prints; progress goes through the observer.

#![warn(missing_docs)]

mod checkpoint;
mod config;
mod eval;
mod fit;
mod init;
mod loss;
mod stats;

pub use checkpoint::Checkpoints;
pub use config::{LossKind, StopRule, TrainConfig};
pub use eval::{Evaluation, evaluate};
pub use fit::{Observer, Setup, Status, Trained, Trainer};
pub use init::init_model;
pub use loss::{batch_loss, gather, predictions, scalar, values};
pub use stats::EpochStats;

use std::path::PathBuf;

/// Why a run could not train.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The model config cannot be built for this task.
    #[error("model: {0}")]
    Model(#[from] repalign_models::ModelError),
    /// The optimizer settings are out of range.
    #[error("optimizer: {0}")]
    Optimizer(#[from] repalign_optim::OptimError),
    /// A training setting that makes no sense.
    #[error("{0}")]
    Config(String),
    /// A checkpoint could not be written or read.
    #[error("checkpoint in {}: {reason}", dir.display())]
    Checkpoint {
        /// The checkpoint folder.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The observer failed (a measure during training, say).
    #[error(transparent)]
    Observer(Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests;
