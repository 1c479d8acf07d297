//! The training loop: burn's autodiff and optimizers, seeded minibatches, stop rules, and a
//! `diverged` status instead of a panic when the loss stops being finite.
//!
//! A hand-written loop rather than burn-train's `Learner`: every run needs the hidden layers of
//! the forward pass, a stop rule on training accuracy and loss, and many small runs in one
//! process, none of which the learner's fixed train/valid step shape gives without fighting it.

use anyhow::Context;
use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use repalign_data::{Rng, Task};
use repalign_models::Model;

pub use crate::experiment::{LossKind, RunConfig};

/// Touches every parameter so that its (lazy) initialisation happens now.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Serialises seeding and weight initialisation across threads.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What one epoch looked like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    pub epoch: usize,
    /// Mean loss over the epoch's minibatches.
    pub loss: f64,
    /// Accuracy over the epoch's minibatches (measured as they were trained on).
    pub train_acc: f64,
}

/// How training ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Done,
    Diverged { epoch: usize, loss: f64 },
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Diverged { .. } => "diverged",
        }
    }
}

/// A trained model and its history.
pub struct Trained {
    pub model: Model,
    pub history: Vec<EpochStats>,
    pub status: Status,
    /// Whether training ended because the stop rule was met (not the epoch budget).
    pub stopped: bool,
}

/// The loss a run uses: its config's, or logistic for two classes and cross-entropy for more.
pub fn loss_kind(run: &RunConfig, num_classes: usize) -> LossKind {
    run.train.loss.unwrap_or(if num_classes == 2 {
        LossKind::Logistic
    } else {
        LossKind::CrossEntropy
    })
}

/// Logits per sample: 1 for a binary task under the logistic or squared loss, else one per class.
pub fn outputs(kind: LossKind, num_classes: usize) -> usize {
    match kind {
        LossKind::Logistic => 1,
        LossKind::Squared if num_classes == 2 => 1,
        _ => num_classes,
    }
}

/// Rows `idx` of a row-major matrix with `width` columns, as a `[idx.len(), width]` tensor.
pub fn gather(x: &[f32], width: usize, idx: &[usize], device: &Device) -> Tensor<2> {
    let mut rows = Vec::with_capacity(idx.len() * width);
    for &i in idx {
        rows.extend_from_slice(&x[i * width..(i + 1) * width]);
    }
    Tensor::from_data(TensorData::new(rows, [idx.len(), width]), device)
}

/// The mean loss of a batch.
///
/// # Shapes
/// - `logits`: `[batch, outputs]`; `labels`: `batch` class indices
pub fn batch_loss(kind: LossKind, logits: Tensor<2>, labels: &[u32], device: &Device) -> Tensor<1> {
    let [batch, outputs] = logits.dims();
    match kind {
        LossKind::Logistic => {
            // softplus(-s z) with s = +-1, written stably: relu(-s z) + ln(1 + exp(-|s z|)).
            let s = signs(labels, device); // [batch]
            let m = logits.reshape([batch]).mul(s).neg(); // -s z
            let soft = burn::tensor::activation::relu(m.clone()) + m.abs().neg().exp().log1p();
            soft.mean()
        }
        LossKind::CrossEntropy => {
            let targets: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
            let targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [batch]), device);
            CrossEntropyLossConfig::new()
                .init(device)
                .forward(logits, targets)
        }
        LossKind::Squared => {
            let target = if outputs == 1 {
                signs(labels, device).reshape([batch, 1])
            } else {
                let mut t = vec![-1.0f32; batch * outputs];
                for (i, &l) in labels.iter().enumerate() {
                    t[i * outputs + l as usize] = 1.0;
                }
                Tensor::from_data(TensorData::new(t, [batch, outputs]), device)
            };
            (logits - target).square().sum_dim(1).mean().mul_scalar(0.5)
        }
    }
}

fn signs(labels: &[u32], device: &Device) -> Tensor<1> {
    let s: Vec<f32> = labels
        .iter()
        .map(|&l| if l == 1 { 1.0 } else { -1.0 })
        .collect();
    Tensor::from_data(TensorData::new(s, [labels.len()]), device)
}

/// Predicted classes from logits (one logit: positive means class 1).
pub fn predictions(logits: Tensor<2>) -> anyhow::Result<Vec<u32>> {
    let [_, outputs] = logits.dims();
    if outputs == 1 {
        let z: Vec<f32> = logits
            .into_data()
            .try_to_vec()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(z.into_iter().map(|v| u32::from(v > 0.0)).collect())
    } else {
        let idx = logits.argmax(1).into_data().convert::<i64>();
        let idx: Vec<i64> = idx.try_to_vec().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(idx.into_iter().map(|v| v as u32).collect())
    }
}

/// The value of a one-element tensor.
pub fn scalar(t: Tensor<1>) -> anyhow::Result<f64> {
    let v: Vec<f32> = t
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(v[0] as f64)
}

/// Trains a fresh model of `run` on `task`. `on_epoch` sees every epoch as it ends.
#[cfg(test)]
pub fn train(
    run: &RunConfig,
    task: &Task,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> anyhow::Result<Trained> {
    train_and_watch(run, task, device, on_epoch, &mut |_, _| Ok(()))
}

/// [`train`], also handing the model (without autodiff) to `watch` after every
/// `train.measure_every`-th epoch.
pub fn train_and_watch(
    run: &RunConfig,
    task: &Task,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats),
    watch: &mut dyn FnMut(usize, &Model) -> anyhow::Result<()>,
) -> anyhow::Result<Trained> {
    let ad = device.clone().autodiff();
    let kind = loss_kind(run, task.num_classes);
    let mut model = {
        // burn's seed is global to the backend: seeding and drawing the initial weights under
        // one lock keeps runs in parallel threads reproducible.
        let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Weights are drawn on a CPU backend when one is compiled in (each backend has its own
        // random stream), so a seed means the same start on every backend.
        let host = crate::backend::init_device(device);
        let on = if host == *device {
            ad.clone()
        } else {
            host.clone()
        };
        on.seed(run.seed);
        let model = run
            .model
            .init(task.shape, outputs(kind, task.num_classes), &on)
            .context("model")?;
        // burn draws parameters lazily, on first use: draw them all now, under the lock.
        model.visit(&mut Materialize);
        if host == *device {
            model
        } else {
            // Moved as plain tensors, then tracked by autodiff on the training device.
            model.to_device(device).train()
        }
    };
    let mut optim = run.optimizer.init().context("optimizer")?;
    let lr = run.optimizer.lr();
    let width = task.input_len();
    let mut rng = Rng::derive(run.seed, "minibatches");
    let mut history = Vec::with_capacity(run.train.epochs);
    let mut stopped = false;
    for epoch in 1..=run.train.epochs {
        let order = rng.permutation(task.train_len());
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        for idx in order.chunks(run.train.batch_size) {
            let x = gather(&task.train_x, width, idx, &ad);
            let y: Vec<u32> = idx.iter().map(|&i| task.train_y[i]).collect();
            let logits = model.logits(x);
            let loss = batch_loss(kind, logits.clone(), &y, &ad);
            let value = scalar(loss.clone())?;
            if !value.is_finite() {
                return Ok(Trained {
                    model,
                    history,
                    status: Status::Diverged { epoch, loss: value },
                    stopped: false,
                });
            }
            loss_sum += value * idx.len() as f64;
            correct += predictions(logits.detach())?
                .iter()
                .zip(&y)
                .filter(|(p, t)| p == t)
                .count();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
        }
        let n = task.train_len() as f64;
        let stats = EpochStats {
            epoch,
            loss: loss_sum / n,
            train_acc: correct as f64 / n,
        };
        history.push(stats);
        on_epoch(&stats);
        let every = run.train.measure_every;
        if every > 0 && epoch.is_multiple_of(every) {
            watch(epoch, &model.valid())?;
        }
        if let Some(stop) = run.train.stop
            && stats.train_acc >= stop.train_acc
            && stats.loss < stop.loss
        {
            stopped = true;
            break;
        }
    }
    Ok(Trained {
        model: model.valid(),
        history,
        status: Status::Done,
        stopped,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use repalign_data::{LabelMode, Rng, TaskConfig};

    use super::*;
    use crate::experiment::parse;

    #[allow(deprecated)]
    pub fn cpu() -> Device {
        Device::ndarray()
    }

    /// Two Gaussian blobs in 2 x 2 x 2 = 8 dimensions, separable by a wide margin.
    pub fn blobs(n: usize, seed: u64) -> Task {
        let mut rng = Rng::new(seed);
        let mut x = Vec::with_capacity(n * 8);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let label = (i % 2) as u32;
            let centre = if label == 1 { 1.5 } else { -1.5 };
            for j in 0..8 {
                x.push((if j < 2 { centre } else { 0.0 } + 0.5 * rng.normal()) as f32);
            }
            y.push(label);
        }
        Task {
            shape: [2, 2, 2],
            num_classes: 2,
            classes: vec![0, 1],
            train_x: x.clone(),
            train_y: y.clone(),
            train_y_true: y.clone(),
            test_x: x,
            test_y: y,
            label_mode: LabelMode::True,
        }
    }

    pub fn tiny_run(model: &str, optimizer: &str, epochs: usize) -> RunConfig {
        let text = format!(
            "name = \"tiny\"\n[data]\ndataset = \"mnist\"\n[model]\n{model}\n[optimizer]\n{optimizer}\n[train]\nepochs = {epochs}\nbatch_size = 16\n"
        );
        let mut r = parse(&text).unwrap().remove(0);
        r.task = TaskConfig::default();
        r
    }

    #[test]
    fn logistic_loss_matches_a_direct_f64_computation() {
        let d = cpu();
        let z = [-3.0f32, 0.5, 40.0, -40.0];
        let labels = [0u32, 1, 0, 1];
        let logits = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [4, 1]), &d);
        let got = scalar(batch_loss(LossKind::Logistic, logits, &labels, &d)).unwrap();
        // ln(1 + exp(-s z)) with s = +-1, in f64.
        let want: f64 = z
            .iter()
            .zip(labels)
            .map(|(&z, l)| (1.0 + (-(if l == 1 { 1.0 } else { -1.0 }) * z as f64).exp()).ln())
            .sum::<f64>()
            / 4.0;
        assert!((got - want).abs() < 1e-5 * want, "{got} vs {want}");
        // Squared loss on +-1 targets: 1/2 mean (z - s)^2.
        let logits = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, -2.0], [2, 1]), &d);
        let got = scalar(batch_loss(LossKind::Squared, logits, &[1, 1], &d)).unwrap();
        assert!((got - 0.5 * (0.25 + 9.0) / 2.0).abs() < 1e-6, "{got}");
    }

    #[test]
    fn a_small_mlp_learns_a_separable_task() {
        let task = blobs(200, 1);
        let run = tiny_run(
            "kind = \"mlp\"\ndepth = 2\nwidth = 16",
            "name = \"adam\"\nlr = 0.01",
            15,
        );
        let mut epochs = 0;
        let t = train(&run, &task, &cpu(), &mut |_| epochs += 1).unwrap();
        assert_eq!(t.status, Status::Done);
        assert_eq!(epochs, 15);
        let last = t.history.last().unwrap();
        assert!(last.train_acc >= 0.97, "train accuracy {}", last.train_acc);
        assert!(last.loss < t.history[0].loss, "loss went down");
    }

    #[test]
    fn the_stop_rule_ends_training_early() {
        let task = blobs(200, 2);
        let mut run = tiny_run(
            "kind = \"mlp\"\ndepth = 1\nwidth = 16",
            "name = \"sgd\"\nlr = 0.1\nmomentum = 0.9",
            200,
        );
        run.train.stop = Some(crate::experiment::StopRule {
            train_acc: 1.0,
            loss: 0.05,
        });
        let t = train(&run, &task, &cpu(), &mut |_| {}).unwrap();
        let last = t.history.last().unwrap();
        assert!(t.stopped);
        assert!(
            t.history.len() < 200,
            "stopped after {} epochs",
            t.history.len()
        );
        assert!(last.train_acc >= 1.0 && last.loss < 0.05);
    }

    #[test]
    fn training_is_reproducible_from_the_seed() {
        let task = blobs(64, 3);
        let run = tiny_run(
            "kind = \"mlp\"\ndepth = 1\nwidth = 8",
            "name = \"rmsprop\"\nlr = 0.001",
            3,
        );
        let a = train(&run, &task, &cpu(), &mut |_| {}).unwrap().history;
        let b = train(&run, &task, &cpu(), &mut |_| {}).unwrap().history;
        assert_eq!(a, b);
        let other = RunConfig { seed: 1, ..run };
        let c = train(&other, &task, &cpu(), &mut |_| {}).unwrap().history;
        assert_ne!(a, c);
    }

    /// Regression: burn draws parameters lazily, so without materialising them under the init
    /// lock, runs trained in parallel threads drew from each other's seeded stream.
    #[test]
    fn runs_in_parallel_threads_match_the_same_runs_alone() {
        let task = blobs(48, 7);
        let runs: Vec<RunConfig> = (0..6)
            .map(|seed| RunConfig {
                seed,
                ..tiny_run(
                    "kind = \"mlp\"\ndepth = 2\nwidth = 8",
                    "name = \"sgd\"\nlr = 0.05",
                    2,
                )
            })
            .collect();
        let alone: Vec<Vec<EpochStats>> = runs
            .iter()
            .map(|r| train(r, &task, &cpu(), &mut |_| {}).unwrap().history)
            .collect();
        for _ in 0..3 {
            let together: Vec<Vec<EpochStats>> = std::thread::scope(|s| {
                let handles: Vec<_> = runs
                    .iter()
                    .map(|r| s.spawn(|| train(r, &task, &cpu(), &mut |_| {}).unwrap().history))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(together, alone);
        }
    }

    #[test]
    fn a_huge_step_diverges_with_a_status_not_a_panic() {
        let task = blobs(64, 4);
        let run = tiny_run(
            "kind = \"mlp\"\ndepth = 2\nwidth = 8\nactivation = \"identity\"",
            "name = \"sgd\"\nlr = 1e30",
            50,
        );
        let t = train(&run, &task, &cpu(), &mut |_| {}).unwrap();
        assert!(
            matches!(t.status, Status::Diverged { .. }),
            "{:?}",
            t.status
        );
        assert_eq!(t.status.as_str(), "diverged");
    }

    #[test]
    fn measure_every_hands_over_the_model_on_schedule() {
        let task = blobs(32, 6);
        let mut run = tiny_run(
            "kind = \"mlp\"\ndepth = 1\nwidth = 4",
            "name = \"adam\"\nlr = 0.01",
            7,
        );
        run.train.measure_every = 3;
        let mut seen = vec![];
        train_and_watch(&run, &task, &cpu(), &mut |_| {}, &mut |epoch, model| {
            assert_eq!(model.layer_names(), vec!["hidden1"]);
            seen.push(epoch);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![3, 6]);
    }

    /// burn's flex backend is offered beside ndarray: the same runs must give the same losses.
    #[cfg(feature = "flex")]
    #[test]
    fn flex_and_ndarray_train_the_same_mlp_and_cnn() {
        let task = blobs(64, 9);
        for model in [
            "kind = \"mlp\"\ndepth = 2\nwidth = 16",
            "kind = \"cnn\"\ndepth = 2\nchannels = 3\npool_every = 0\nbatch_norm = true",
        ] {
            let run = tiny_run(model, "name = \"adam\"\nlr = 0.01", 4);
            let a = train(&run, &task, &cpu(), &mut |_| {}).unwrap().history;
            let b = train(&run, &task, &Device::flex(), &mut |_| {})
                .unwrap()
                .history;
            for (x, y) in a.iter().zip(&b) {
                // f32 kernels that sum in different orders: agreement to ~1e-5 relative.
                assert!(
                    (x.loss - y.loss).abs() <= 1e-4 * x.loss.max(1e-3),
                    "{model}: {x:?} vs {y:?}"
                );
            }
        }
    }

    /// The backend switch: the same run trains on wgpu (Vulkan; llvmpipe on a machine without a
    /// GPU) as on the CPU. `cargo test -p runner --features wgpu wgpu`.
    #[cfg(feature = "wgpu")]
    #[test]
    fn wgpu_trains_the_same_run_as_the_cpu() {
        let task = blobs(64, 9);
        let gpu = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        for model in [
            "kind = \"mlp\"\ndepth = 2\nwidth = 16\nhidden_bias = false",
            "kind = \"cnn\"\ndepth = 1\nchannels = 3\npool_every = 1",
        ] {
            let run = tiny_run(model, "name = \"adam\"\nlr = 0.01", 3);
            let a = train(&run, &task, &cpu(), &mut |_| {}).unwrap().history;
            let b = train(&run, &task, &gpu, &mut |_| {}).unwrap().history;
            for (x, y) in a.iter().zip(&b) {
                // Same initial weights (drawn on the CPU), f32 kernels that sum in other orders.
                assert!(
                    (x.loss - y.loss).abs() <= 1e-4 * x.loss.max(1e-3),
                    "{model}: {x:?} vs {y:?}"
                );
                assert_eq!(x.train_acc, y.train_acc, "{model}");
            }
        }
    }

    #[test]
    fn a_cnn_trains_too() {
        let task = blobs(64, 5);
        let run = tiny_run(
            "kind = \"cnn\"\ndepth = 1\nchannels = 4\npool_every = 0",
            "name = \"adam\"\nlr = 0.01",
            10,
        );
        let t = train(&run, &task, &cpu(), &mut |_| {}).unwrap();
        assert!(
            t.history.last().unwrap().train_acc >= 0.9,
            "{:?}",
            t.history.last()
        );
    }
}
