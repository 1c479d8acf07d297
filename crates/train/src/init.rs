//! Seeded initialisation that is reproducible across threads and backends.
//!
//! burn's seed is global to a backend, and burn draws parameters lazily (on first use). So the
//! seed is set and every parameter is drawn under one process-wide lock: runs in parallel
//! threads then never draw from each other's stream. Weights are drawn on `init_device` (the
//! runner passes a CPU backend whenever one is compiled in, since each backend has its own
//! random stream) and moved to the training device, so a seed means the same start everywhere.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use repalign_models::{Model, ModelConfig, ModelError};

/// Touches every parameter so that its (lazy) initialisation happens now.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Serialises seeding and weight initialisation across threads.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A model of `config` for images of `shape` and `outputs` logits, its weights drawn from
/// `seed` on `init_device`, tracked by autodiff on `device` (a plain device: autodiff is added
/// here).
pub fn init_model(
    config: &ModelConfig,
    shape: [usize; 3],
    outputs: usize,
    seed: u64,
    device: &Device,
    init_device: &Device,
) -> Result<Model, ModelError> {
    let ad = device.clone().autodiff();
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let on = if init_device == device {
        ad
    } else {
        init_device.clone()
    };
    on.seed(seed);
    let model = config.init(shape, outputs, &on)?;
    // burn draws parameters lazily, on first use: draw them all now, under the lock.
    model.visit(&mut Materialize);
    Ok(if init_device == device {
        model
    } else {
        // Moved as plain tensors, then tracked by autodiff on the training device.
        model.to_device(device).train()
    })
}
