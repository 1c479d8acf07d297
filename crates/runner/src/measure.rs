//! After training: one streaming pass over the training set feeds the input and every hidden
//! layer, batch by batch, into the alignment accumulators (never holding all activations), and
//! gives the training loss and accuracy.

use anyhow::Context;
use burn::tensor::{Device, Tensor};
use rayon::prelude::*;
use repalign_alignment::{
    Accumulator, AlignError, ClassAccumulator, Options, Report, Spectrum, Targets,
    Task as TargetTask,
};
use repalign_data::Task;
use repalign_models::Model;

use repalign_train::{Evaluation, LossKind, batch_loss, gather, predictions, scalar};

use crate::experiment::MeasureConfig;

/// Alignment targets for labels `0..num_classes`: binary for two classes (label 0 is -1),
/// centred one-vs-rest for more.
pub fn targets(labels: &[u32], num_classes: usize) -> anyhow::Result<Targets> {
    let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    let task = if num_classes == 2 {
        TargetTask::Binary
    } else {
        TargetTask::Multiclass
    };
    Ok(Targets::new(task, &y)?)
}

/// One layer's accumulators. Binary targets: one accumulator. Three or more classes: one per
/// class, which gives the centred multi-class spectrum and every class pair's. When the model
/// runs on the GPU, the spectrum is accumulated on the device through the alignment crate's
/// Gram kernel (the activations never leave it); for three or more classes the pairs are
/// measured on the host from the activations read back.
enum LayerAccumulator {
    Host(Accumulator),
    Classes(ClassAccumulator),
    #[cfg(feature = "wgpu")]
    Device(
        repalign_alignment::gpu::DeviceAccumulator,
        Option<ClassAccumulator>,
    ),
}

/// The accumulators of a layer of `p` features, for `targets`.
fn class_accumulator(p: usize, targets: &Targets, options: Options) -> Option<ClassAccumulator> {
    (targets.task() == TargetTask::Multiclass && targets.columns() >= 3).then(|| {
        ClassAccumulator::new(p, targets.classes(), options)
            .expect("targets have at least two classes")
    })
}

impl LayerAccumulator {
    fn new(p: usize, targets: &Targets, options: Options, device: &Device) -> Self {
        #[cfg(feature = "wgpu")]
        if crate::backend::Backend::Wgpu
            .device()
            .is_ok_and(|gpu| &gpu == device)
        {
            return LayerAccumulator::Device(
                repalign_alignment::gpu::DeviceAccumulator::new(
                    p,
                    targets.columns(),
                    options,
                    device,
                ),
                class_accumulator(p, targets, options),
            );
        }
        let _ = device;
        LayerAccumulator::host(p, targets, options)
    }

    /// Accumulators on the host (for the input).
    fn host(d: usize, targets: &Targets, options: Options) -> Self {
        match class_accumulator(d, targets, options) {
            Some(classes) => LayerAccumulator::Classes(classes),
            None => LayerAccumulator::Host(Accumulator::new(d, targets.columns(), options)),
        }
    }

    /// Adds a batch of host values (row-major), the rows of the targets and the labels.
    fn push_values(&mut self, h: &[f32], y: &[f64], labels: &[f64]) -> anyhow::Result<()> {
        match self {
            LayerAccumulator::Host(acc) => acc.push(h, y)?,
            LayerAccumulator::Classes(acc) => acc.push(h, labels)?,
            #[cfg(feature = "wgpu")]
            LayerAccumulator::Device(..) => {
                anyhow::bail!("a device accumulator takes device tensors")
            }
        }
        Ok(())
    }

    /// Adds a batch: the layer's values `h`, the rows of the targets and the labels.
    fn push(&mut self, h: Tensor<2>, y: &[f64], labels: &[f64]) -> anyhow::Result<()> {
        #[cfg(feature = "wgpu")]
        if let LayerAccumulator::Device(acc, classes) = self {
            if let Some(classes) = classes {
                classes.push(&repalign_train::values(h.clone()), labels)?;
            }
            return Ok(acc.push(h, y)?);
        }
        self.push_values(&repalign_train::values(h), y, labels)
    }

    /// The spectrum, and for three or more classes the mean auc over class pairs.
    fn finish(self) -> Result<(Spectrum, Option<f64>), AlignError> {
        match self {
            LayerAccumulator::Host(acc) => Ok((acc.finish()?, None)),
            LayerAccumulator::Classes(acc) => {
                let (whole, pairs) = acc.finish_with_pair_mean(None)?;
                Ok((whole, Some(pairs)))
            }
            #[cfg(feature = "wgpu")]
            LayerAccumulator::Device(acc, classes) => {
                let pair = match &classes {
                    Some(c) => Some(c.pair_mean_auc(None)?),
                    None => None,
                };
                Ok((acc.finish()?, pair))
            }
        }
    }
}

/// The alignment of the input and of every hidden layer with the labels the model was trained
/// on (`task.train_y`), and the training loss and accuracy (on the first `max_rows` rows when
/// set).
pub fn measure_layers(
    model: &Model,
    task: &Task,
    kind: LossKind,
    config: &MeasureConfig,
    device: &Device,
) -> anyhow::Result<(Vec<Report>, Evaluation)> {
    let targets = targets(&task.train_y, task.num_classes)?;
    let d = task.input_len();
    let options = config.options();
    let names: Vec<String> = std::iter::once("input".to_string())
        .chain(model.layer_names())
        .collect();
    let mut input = LayerAccumulator::host(d, &targets, options);
    let labels: Vec<f64> = task.train_y.iter().map(|&l| f64::from(l)).collect();
    let mut layers: Vec<Option<LayerAccumulator>> = (1..names.len()).map(|_| None).collect();
    let (mut loss_sum, mut correct) = (0.0, 0usize);
    let n = config
        .max_rows
        .map_or(task.train_len(), |m| m.min(task.train_len()));
    let all: Vec<usize> = (0..n).collect();
    for (b, idx) in all.chunks(config.batch_size).enumerate() {
        let (start, end) = (idx[0], idx[idx.len() - 1] + 1);
        let y = targets.rows(start, end);
        input
            .push_values(&task.train_x[start * d..end * d], y, &labels[start..end])
            .context("input")?;
        let out = model.forward(gather(&task.train_x, d, idx, device));
        for (k, h) in out.hidden.into_iter().enumerate() {
            let [_, p] = h.dims();
            let acc = layers[k]
                .get_or_insert_with(|| LayerAccumulator::new(p, &targets, options, device));
            acc.push(h, y, &labels[start..end])
                .with_context(|| format!("{} (batch {b})", names[k + 1]))?;
        }
        let labels = &task.train_y[start..end];
        loss_sum += scalar(batch_loss(kind, out.logits.clone(), labels, device)) * idx.len() as f64;
        correct += predictions(out.logits)
            .iter()
            .zip(labels)
            .filter(|(p, t)| p == t)
            .count();
    }
    let grid = config.grid.grid();
    let task_kind = targets.task();
    let (spectrum, pairs) = input.finish().context("input")?;
    let mut reports = vec![
        Report::new(&spectrum, task_kind, &grid, options)
            .with_pair_mean_auc(pairs)
            .with_layer("input"),
    ];
    // The layers' eigendecompositions are independent: one per core at a time.
    let spectra: Vec<_> = layers
        .into_par_iter()
        .map(|acc| acc.map(LayerAccumulator::finish))
        .collect();
    for (measured, name) in spectra.into_iter().zip(names.iter().skip(1)) {
        let (spectrum, pairs) = measured
            .context("no batches")?
            .with_context(|| name.clone())?;
        reports.push(
            Report::new(&spectrum, task_kind, &grid, options)
                .with_pair_mean_auc(pairs)
                .with_layer(name.clone()),
        );
    }
    Ok((
        reports,
        Evaluation {
            loss: loss_sum / n as f64,
            acc: correct as f64 / n as f64,
        },
    ))
}

#[cfg(test)]
mod tests {
    use repalign_alignment::{Grid, Options, measure};
    use repalign_data::blobs;

    use super::*;
    use crate::testing::{cpu, tiny_run, train};

    #[test]
    fn streamed_layers_equal_the_measure_on_whole_matrices() {
        let task = blobs(150, 6);
        let run = tiny_run(
            "kind = \"mlp\"\ndepth = 2\nwidth = 12",
            "name = \"adam\"\nlr = 0.01",
            3,
        );
        let device = cpu();
        let model = train(&run, &task, &device).model;
        // Batches of 40 rows: the hidden layers (p = 13) switch to the Gram path mid-stream.
        let cfg = MeasureConfig {
            batch_size: 40,
            ..MeasureConfig::default()
        };
        let (reports, eval) =
            measure_layers(&model, &task, LossKind::Logistic, &cfg, &device).unwrap();
        assert_eq!(
            reports
                .iter()
                .map(|r| r.layer.clone().unwrap())
                .collect::<Vec<_>>(),
            vec!["input", "hidden1", "hidden2"]
        );
        let targets = targets(&task.train_y, 2).unwrap();
        let whole_input = measure(&task.train_x, 8, &targets, Options::default()).unwrap();
        assert!((reports[0].summary.auc - whole_input.summary().auc).abs() < 1e-12);
        // Hidden layer 2 from one forward pass over everything.
        let x = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(task.train_x.clone(), [150, 8]),
            &device,
        );
        let h = repalign_train::values(model.forward(x).hidden[1].clone());
        let whole = measure(&h, 12, &targets, Options::default()).unwrap();
        let r = &reports[2];
        assert_eq!(r.p, 13);
        assert!(
            (r.summary.auc - whole.summary().auc).abs() < 1e-6,
            "{} vs {}",
            r.summary.auc,
            whole.summary().auc
        );
        assert_eq!(r.curve.thresholds, Grid::default().thresholds());
        assert!(eval.acc > 0.5 && eval.loss.is_finite());
    }
}
