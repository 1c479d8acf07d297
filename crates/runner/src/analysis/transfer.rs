//! Transfer: the trained (source) network is frozen; on every target task we measure the
//! alignment of each frozen layer with the target labels (on the target test set), then train
//! for the same budget (full-batch Adam steps) on a few target samples:
//! - a linear head on the frozen last hidden layer ("transfer"),
//! - the same architecture from scratch ("scratch"),
//! - a linear head on the raw input ("raw").
//!
//! Transfer gain = test accuracy of transfer - test accuracy of scratch: positive when the
//! source features help, negative when they hurt. The same difference in test loss is recorded
//! too (`gain_loss`), but with a few samples the scratch network overfits and its test loss
//! grows without bound, so accuracy is the reliable measure.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;
use repalign_alignment::measure;
use repalign_data::{Classes, Dataset, DatasetName, LabelMode, Task, TaskConfig, Teacher};
use repalign_models::{MlpConfig, Model, ModelConfig};
use repalign_optim::OptimizerConfig;
use serde::{Deserialize, Serialize};

use super::{Layer, layers, write_csv};
use crate::experiment::{LossKind, RunConfig, TrainConfig, TransferTargets};
use crate::measure::{Evaluation, evaluate_test, targets};
use crate::train::{Status, train_and_watch};

/// One target task (`transfer.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferRow {
    pub target: String,
    pub rho: Option<f64>,
    /// Alignment of the frozen last hidden layer with the target labels.
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
    pub input_auc: f64,
    pub transfer_loss: f64,
    pub transfer_acc: f64,
    pub scratch_loss: f64,
    pub scratch_acc: f64,
    pub raw_loss: f64,
    pub raw_acc: f64,
    /// `transfer_acc - scratch_acc`.
    pub gain: f64,
    /// `scratch_loss - transfer_loss`.
    pub gain_loss: f64,
}

/// Every layer on every target (`transfer_alignment.csv`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlignmentRow {
    pub target: String,
    pub layer: String,
    pub layer_index: usize,
    pub auc: f64,
    pub auc_null: f64,
    pub k90: Option<usize>,
}

/// A binary task as plain rows.
fn binary_task(
    shape: [usize; 3],
    train_x: Vec<f32>,
    train_y: Vec<u32>,
    test_x: Vec<f32>,
    test_y: Vec<u32>,
) -> Task {
    Task {
        shape,
        num_classes: 2,
        classes: vec![0, 1],
        train_x,
        train_y_true: train_y.clone(),
        train_y,
        test_x,
        test_y,
        label_mode: LabelMode::True,
    }
}

/// Trains `model` on `task` for `budget` full-batch Adam steps and evaluates it on the test set.
fn fit(
    run: &RunConfig,
    model: ModelConfig,
    task: &Task,
    budget: usize,
    lr: f64,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let mut r = run.clone();
    r.model = model;
    r.optimizer = OptimizerConfig::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    r.train = TrainConfig {
        epochs: budget,
        batch_size: task.train_len(),
        loss: Some(LossKind::Logistic),
        stop: None,
        measure_every: 0,
    };
    r.analysis = None;
    let trained = train_and_watch(&r, task, device, &mut |_| {}, &mut |_, _| Ok(()))?;
    if trained.status != Status::Done {
        return Ok(Evaluation {
            loss: f64::NAN,
            acc: f64::NAN,
        });
    }
    evaluate_test(
        &trained.model,
        task,
        LossKind::Logistic,
        run.measure.batch_size,
        device,
    )
}

/// The index of the network's last hidden layer (pooled views aside; the input when there is
/// no hidden layer).
fn last(layers: &[Layer]) -> usize {
    layers
        .iter()
        .rposition(|l| !repalign_models::is_pooled_view(&l.name))
        .expect("the input is always there")
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    run: &RunConfig,
    source: &Task,
    model: &Model,
    data: Option<&Dataset>,
    device: &Device,
    dir: &Path,
    targets_config: &TransferTargets,
    target_train: usize,
    budget: usize,
    lr: f64,
) -> anyhow::Result<()> {
    // (name, rho, target task on raw inputs)
    let mut tasks: Vec<(String, Option<f64>, Task)> = Vec::new();
    match targets_config {
        TransferTargets::Rho(rhos) => {
            let cfg = run
                .data
                .teacher
                .as_ref()
                .context("transfer with rho targets needs [data.teacher]")?;
            let teacher = Teacher::new(cfg);
            let x_train = teacher.inputs(target_train, run.seed, "target-train");
            let x_test = teacher.inputs(cfg.test, run.seed, "target-test");
            for &rho in rhos {
                let w = teacher.target(rho, run.seed);
                let task = binary_task(
                    source.shape,
                    x_train.clone(),
                    teacher.labels(&w, &x_train),
                    x_test.clone(),
                    teacher.labels(&w, &x_test),
                );
                tasks.push((format!("rho={rho}"), Some(rho), task));
            }
        }
        TransferTargets::Classes(pairs) => {
            let data = data
                .filter(|d| d.name != DatasetName::Teacher)
                .context("class targets need an image dataset")?;
            for pair in pairs {
                let config = TaskConfig {
                    classes: Classes::List(pair.to_vec()),
                    train_per_class: Some(target_train),
                    test_per_class: None,
                    draw_seed: run.seed,
                };
                tasks.push((
                    format!("{}-{}", pair[0], pair[1]),
                    None,
                    Task::draw(data, &config, LabelMode::True, 0)?,
                ));
            }
        }
    }
    let d = source.input_len();
    let batch = run.measure.batch_size;
    let options = run.measure.options();
    let mut rows = Vec::new();
    let mut align_rows = Vec::new();
    for (name, rho, target) in tasks {
        if target.train_y.iter().all(|&y| y == target.train_y[0]) {
            anyhow::bail!(
                "target {name}: its {} training samples all have one label; use more (target_train)",
                target.train_len()
            );
        }
        let test_layers = layers(model, &target.test_x, d, batch, device)?;
        let y_test = targets(&target.test_y, 2)?;
        let mut summaries = Vec::new();
        for (i, l) in test_layers.iter().enumerate() {
            let s = measure(&l.values, l.p, &y_test, options)?.summary();
            align_rows.push(AlignmentRow {
                target: name.clone(),
                layer: l.name.clone(),
                layer_index: i,
                auc: s.auc,
                auc_null: s.auc_null,
                k90: s.k90,
            });
            summaries.push(s);
        }
        let train_layers = layers(model, &target.train_x, d, batch, device)?;
        let li = last(&test_layers);
        let (ltr, lte) = (&train_layers[li], &test_layers[li]);
        let features = binary_task(
            [1, 1, ltr.p],
            ltr.values.clone(),
            target.train_y.clone(),
            lte.values.clone(),
            target.test_y.clone(),
        );
        let head = ModelConfig::Mlp(MlpConfig::new(0, 1));
        let transfer = fit(run, head.clone(), &features, budget, lr, device)
            .with_context(|| format!("target {name}: head"))?;
        let raw_task = binary_task(
            [1, 1, d],
            target.train_x.clone(),
            target.train_y.clone(),
            target.test_x.clone(),
            target.test_y.clone(),
        );
        let raw = fit(run, head, &raw_task, budget, lr, device)
            .with_context(|| format!("target {name}: raw head"))?;
        let scratch = fit(run, run.model.clone(), &target, budget, lr, device)
            .with_context(|| format!("target {name}: scratch"))?;
        let s = &summaries[li];
        rows.push(TransferRow {
            target: name,
            rho,
            auc: s.auc,
            auc_null: s.auc_null,
            k90: s.k90,
            input_auc: summaries[0].auc,
            transfer_loss: transfer.loss,
            transfer_acc: transfer.acc,
            scratch_loss: scratch.loss,
            scratch_acc: scratch.acc,
            raw_loss: raw.loss,
            raw_acc: raw.acc,
            gain: transfer.acc - scratch.acc,
            gain_loss: scratch.loss - transfer.loss,
        });
    }
    write_csv(&dir.join("transfer.csv"), &rows)?;
    write_csv(&dir.join("transfer_alignment.csv"), &align_rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::tests::{blobs, cpu, tiny_run};

    #[test]
    fn a_linear_head_learns_separable_features_within_its_budget() {
        let task = blobs(80, 11);
        let run = tiny_run(
            "kind = \"mlp\"\ndepth = 1\nwidth = 4",
            "name = \"adam\"\nlr = 0.01",
            1,
        );
        let head = ModelConfig::Mlp(MlpConfig::new(0, 1));
        let fitted = fit(&run, head.clone(), &task, 100, 0.05, &cpu()).unwrap();
        assert!(fitted.acc >= 0.95, "{fitted:?}");
        // A budget of zero steps is chance level at best.
        let untrained = fit(&run, head, &task, 1, 1e-9, &cpu()).unwrap();
        assert!(untrained.acc < fitted.acc);
    }
}
