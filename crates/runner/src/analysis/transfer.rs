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
use repalign_data::{Classes, LabelMode, Task, TaskConfig, Teacher};
use repalign_models::{MlpConfig, ModelConfig};
use repalign_optim::OptimizerConfig;
use repalign_train::{Evaluation, LossKind, Setup, Status, TrainConfig, Trainer, evaluate};

use super::common::{Layer, Trained, layers};
use crate::experiment::{DataConfig, TransferConfig, TransferTargets};
use crate::measure::targets;
use crate::run_folder::{AlignmentRow, TransferRow, names, write_rows};

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

/// Trains `model` on `task` for `budget` full-batch Adam steps (logistic loss, seeded by
/// `seed`) and evaluates it on the test set; NaN when training diverged.
fn fit(
    model: &ModelConfig,
    task: &Task,
    budget: usize,
    lr: f64,
    seed: u64,
    batch: usize,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let optimizer = OptimizerConfig::Adam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    let train = TrainConfig {
        loss: Some(LossKind::Logistic),
        ..TrainConfig::new(budget, task.train_len())
    };
    let setup = Setup {
        model,
        optimizer: &optimizer,
        train: &train,
        seed,
    };
    let trained = Trainer::new(setup, device)
        .init_on(&crate::backend::init_device(device))
        .run(task, &mut ())?;
    if !matches!(trained.status, Status::Done { .. }) {
        return Ok(Evaluation::NONE);
    }
    Ok(evaluate(
        &trained.model,
        &task.test_x,
        &task.test_y,
        LossKind::Logistic,
        batch,
        device,
    ))
}

/// The index of the network's last hidden layer (pooled views aside; the input when there is
/// no hidden layer).
fn last(layers: &[Layer]) -> usize {
    layers
        .iter()
        .rposition(|l| !repalign_models::is_pooled_view(&l.name))
        .expect("the input is always there")
}

pub fn run(config: &TransferConfig, t: &Trained<'_>, dir: &Path) -> anyhow::Result<()> {
    let TransferConfig {
        targets: ref targets_config,
        target_train,
        budget,
        lr,
    } = *config;
    let Trained {
        run,
        task: source,
        model,
        data,
        device,
    } = *t;
    // (name, rho, target task on raw inputs)
    let mut tasks: Vec<(String, Option<f64>, Task)> = Vec::new();
    match targets_config {
        TransferTargets::Rho(rhos) => {
            let DataConfig::Teacher(cfg) = &run.data else {
                anyhow::bail!("transfer with rho targets needs [data.teacher]");
            };
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
            let data = data.context("class targets need an image dataset")?;
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
        let fit = |model: &ModelConfig, task: &Task| {
            fit(model, task, budget, lr, run.seed, batch, device)
        };
        let transfer = fit(&head, &features).with_context(|| format!("target {name}: head"))?;
        let raw_task = binary_task(
            [1, 1, d],
            target.train_x.clone(),
            target.train_y.clone(),
            target.test_x.clone(),
            target.test_y.clone(),
        );
        let raw = fit(&head, &raw_task).with_context(|| format!("target {name}: raw head"))?;
        let scratch =
            fit(&run.model, &target).with_context(|| format!("target {name}: scratch"))?;
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
    write_rows(&dir.join(names::TRANSFER), &rows)?;
    write_rows(&dir.join(names::TRANSFER_ALIGNMENT), &align_rows)
}

#[cfg(test)]
mod tests {
    use repalign_data::blobs;

    use super::*;
    use crate::testing::cpu;

    #[test]
    fn a_linear_head_learns_separable_features_within_its_budget() {
        let task = blobs(80, 11);
        let head = ModelConfig::Mlp(MlpConfig::new(0, 1));
        let fitted = fit(&head, &task, 100, 0.05, 0, 500, &cpu()).unwrap();
        assert!(fitted.acc >= 0.95, "{fitted:?}");
        // A budget of one tiny step is chance level at best.
        let untrained = fit(&head, &task, 1, 1e-9, 0, 500, &cpu()).unwrap();
        assert!(untrained.acc < fitted.acc);
    }
}
