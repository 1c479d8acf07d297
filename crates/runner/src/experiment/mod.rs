//! Experiment files: one TOML file describes a run (and, with `[sweep]`, a grid of runs).
//!
//! ```toml
//! name = "demo"
//! labels = "true"            # or "random": a seeded shuffle of the training labels
//! seed = 0                   # initialisation, minibatch order and the label shuffle
//! [data]
//! dataset = "mnist"          # mnist | fashion-mnist | digits | cifar10
//! [task]
//! classes = [0, 1]           # two classes: binary; more, or "all": multi-class
//! train_per_class = 500
//! draw_seed = 0
//! [model]
//! kind = "mlp"               # or "cnn"
//! depth = 3
//! width = 128
//! hidden_bias = false
//! [optimizer]
//! name = "adam"              # sgd | adam | rmsprop
//! lr = 1e-3
//! [train]
//! epochs = 100
//! batch_size = 64
//! [measure]
//! grid = "demo"              # or "normalized"
//! ```

mod analysis;
mod data;
mod measure;
mod run;
mod suggest;
mod sweep;
#[cfg(test)]
mod tests;

pub use analysis::{AnalysisConfig, ProbesConfig, SpeedConfig, TransferConfig, TransferTargets};
pub use data::DataConfig;
pub use measure::MeasureConfig;
pub use run::RunConfig;
pub use sweep::load;
#[cfg(test)]
pub use sweep::parse;
