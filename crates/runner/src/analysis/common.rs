//! What every analysis starts from: the trained network and its representations.

use burn::tensor::Device;
use repalign_data::{Dataset, Task};
use repalign_models::Model;
use repalign_train::gather;

use crate::experiment::RunConfig;

/// What a run needs to be analysed.
pub struct Trained<'a> {
    pub run: &'a RunConfig,
    /// The task it was trained on.
    pub task: &'a Task,
    pub model: &'a Model,
    /// The image dataset the task was drawn from, if any.
    pub data: Option<&'a Dataset>,
    pub device: &'a Device,
}

/// One representation of a set of inputs: a name and row-major `n x p` values.
pub struct Layer {
    pub name: String,
    pub p: usize,
    pub values: Vec<f32>,
}

/// The input and every hidden layer of `model` on row-major inputs `x` (`n x d`), computed in
/// batches of `batch` rows.
pub fn layers(
    model: &Model,
    x: &[f32],
    d: usize,
    batch: usize,
    device: &Device,
) -> anyhow::Result<Vec<Layer>> {
    let n = x.len() / d;
    let names = model.layer_names();
    let mut out: Vec<Layer> = std::iter::once(Layer {
        name: "input".into(),
        p: d,
        values: x.to_vec(),
    })
    .chain(names.iter().map(|nm| Layer {
        name: nm.clone(),
        p: 0,
        values: Vec::new(),
    }))
    .collect();
    let all: Vec<usize> = (0..n).collect();
    for idx in all.chunks(batch.max(1)) {
        let f = model.forward(gather(x, d, idx, device));
        for (k, h) in f.hidden.into_iter().enumerate() {
            let [_, p] = h.dims();
            out[k + 1].p = p;
            out[k + 1].values.extend(repalign_train::values(h));
        }
    }
    Ok(out)
}
