//! Helpers for the runner's unit tests: a CPU device, a small run config, and training it.

use burn::tensor::Device;
use repalign_data::{Task, TaskConfig};
use repalign_train::{Setup, Trained, Trainer};

use crate::experiment::{RunConfig, parse};

#[allow(deprecated)]
pub fn cpu() -> Device {
    Device::ndarray()
}

/// A run of `model` and `optimizer` (TOML bodies of their tables) for `epochs` epochs of batch 16.
pub fn tiny_run(model: &str, optimizer: &str, epochs: usize) -> RunConfig {
    let text = format!(
        "name = \"tiny\"\n[data]\ndataset = \"mnist\"\n[model]\n{model}\n[optimizer]\n{optimizer}\n[train]\nepochs = {epochs}\nbatch_size = 16\n"
    );
    let mut r = parse(&text).unwrap().remove(0);
    r.task = TaskConfig::default();
    r
}

/// Trains `run` on `task`.
pub fn train(run: &RunConfig, task: &Task, device: &Device) -> Trained {
    let setup = Setup {
        model: &run.model,
        optimizer: &run.optimizer,
        train: &run.train,
        seed: run.seed,
    };
    Trainer::new(setup, device).run(task, &mut ()).unwrap()
}
