//! The loop on small separable problems: learning, stop rule, reproducibility across threads and
//! backends, divergence, the observer's schedule, and exact resumption from checkpoints.

use std::time::Duration;

use burn::tensor::Device;
use repalign_data::{Task, blobs};
use repalign_models::ModelConfig;
use repalign_optim::OptimizerConfig;

use crate::*;

#[allow(deprecated)]
fn cpu() -> Device {
    Device::ndarray()
}

fn model(text: &str) -> ModelConfig {
    toml::from_str(text).unwrap()
}

fn optimizer(text: &str) -> OptimizerConfig {
    toml::from_str(text).unwrap()
}

fn train(
    m: &ModelConfig,
    o: &OptimizerConfig,
    t: &TrainConfig,
    seed: u64,
    task: &Task,
    device: &Device,
) -> Trained {
    let setup = Setup {
        model: m,
        optimizer: o,
        train: t,
        seed,
    };
    Trainer::new(setup, device).run(task, &mut ()).unwrap()
}

#[test]
fn a_small_mlp_learns_a_separable_task() {
    let task = blobs(200, 1);
    let m = model("kind = \"mlp\"\ndepth = 2\nwidth = 16");
    let o = optimizer("name = \"adam\"\nlr = 0.01");
    let t = train(&m, &o, &TrainConfig::new(15, 16), 0, &task, &cpu());
    assert_eq!(t.status, Status::Done { stopped: false });
    assert_eq!(t.history.len(), 15);
    let last = t.history.last().unwrap();
    assert!(last.train_acc >= 0.97, "train accuracy {}", last.train_acc);
    assert!(last.loss < t.history[0].loss, "loss went down");
    let e = evaluate(
        &t.model,
        &task.test_x,
        &task.test_y,
        LossKind::Logistic,
        7,
        &cpu(),
    );
    assert!(e.acc >= 0.97 && e.loss.is_finite(), "{e:?}");
    assert!(
        evaluate(&t.model, &[], &[], LossKind::Logistic, 7, &cpu())
            .acc
            .is_nan()
    );
}

#[test]
fn the_stop_rule_ends_training_early() {
    let task = blobs(200, 2);
    let m = model("kind = \"mlp\"\ndepth = 1\nwidth = 16");
    let o = optimizer("name = \"sgd\"\nlr = 0.1\nmomentum = 0.9");
    let mut cfg = TrainConfig::new(200, 16);
    cfg.stop = Some(StopRule {
        train_acc: 1.0,
        loss: 0.05,
    });
    let t = train(&m, &o, &cfg, 0, &task, &cpu());
    let last = t.history.last().unwrap();
    assert_eq!(t.status, Status::Done { stopped: true });
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
    let m = model("kind = \"mlp\"\ndepth = 1\nwidth = 8");
    let o = optimizer("name = \"rmsprop\"\nlr = 0.001");
    let cfg = TrainConfig::new(3, 16);
    let a = train(&m, &o, &cfg, 0, &task, &cpu()).history;
    let b = train(&m, &o, &cfg, 0, &task, &cpu()).history;
    assert_eq!(a, b);
    let c = train(&m, &o, &cfg, 1, &task, &cpu()).history;
    assert_ne!(a, c);
}

/// Regression: burn draws parameters lazily, so without materialising them under the init
/// lock, runs trained in parallel threads drew from each other's seeded stream.
#[test]
fn runs_in_parallel_threads_match_the_same_runs_alone() {
    let task = blobs(48, 7);
    let m = model("kind = \"mlp\"\ndepth = 2\nwidth = 8");
    let o = optimizer("name = \"sgd\"\nlr = 0.05");
    let cfg = TrainConfig::new(2, 16);
    let alone: Vec<Vec<EpochStats>> = (0..6)
        .map(|seed| train(&m, &o, &cfg, seed, &task, &cpu()).history)
        .collect();
    for _ in 0..3 {
        let together: Vec<Vec<EpochStats>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|seed| {
                    let (m, o, cfg, task) = (&m, &o, &cfg, &task);
                    s.spawn(move || train(m, o, cfg, seed, task, &cpu()).history)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(together, alone);
    }
}

#[test]
fn a_huge_step_diverges_with_a_status_not_a_panic() {
    let task = blobs(64, 4);
    let m = model("kind = \"mlp\"\ndepth = 2\nwidth = 8\nactivation = \"identity\"");
    let o = optimizer("name = \"sgd\"\nlr = 1e30");
    let t = train(&m, &o, &TrainConfig::new(50, 16), 0, &task, &cpu());
    assert!(
        matches!(t.status, Status::Diverged { .. }),
        "{:?}",
        t.status
    );
}

struct Watcher {
    seen: Vec<usize>,
    epochs: Vec<usize>,
    /// Fail in `watch` at this epoch (a crash after the checkpoint of the epoch before).
    fail_at: Option<usize>,
}

impl Observer for Watcher {
    fn epoch(&mut self, s: &EpochStats) {
        self.epochs.push(s.epoch);
    }
    fn watch(&mut self, epoch: usize, model: &repalign_models::Model) -> Result<(), TrainError> {
        assert!(!model.layer_names().is_empty());
        if self.fail_at == Some(epoch) {
            return Err(TrainError::Observer("killed".into()));
        }
        self.seen.push(epoch);
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        serde_json::json!(self.seen)
    }
    fn restore(&mut self, state: serde_json::Value) -> Result<(), TrainError> {
        self.seen = serde_json::from_value(state).map_err(|e| TrainError::Observer(e.into()))?;
        Ok(())
    }
}

#[test]
fn the_observer_sees_every_epoch_and_the_model_on_schedule() {
    let task = blobs(32, 6);
    let m = model("kind = \"mlp\"\ndepth = 1\nwidth = 4");
    let o = optimizer("name = \"adam\"\nlr = 0.01");
    let mut cfg = TrainConfig::new(7, 16);
    cfg.measure_every = 3;
    let mut w = Watcher {
        seen: vec![],
        epochs: vec![],
        fail_at: None,
    };
    let setup = Setup {
        model: &m,
        optimizer: &o,
        train: &cfg,
        seed: 0,
    };
    Trainer::new(setup, &cpu()).run(&task, &mut w).unwrap();
    assert_eq!(w.seen, vec![3, 6]);
    assert_eq!(w.epochs, (1..=7).collect::<Vec<_>>());
}

fn parameters(model: &repalign_models::Model) -> Vec<f32> {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::Tensor;
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.extend(values(p.val()));
        }
    }
    let mut c = Collect(vec![]);
    model.visit(&mut c);
    c.0
}

/// A run that dies at epoch 5 (after its checkpoint of epoch 4) resumes from that checkpoint
/// and ends bit for bit where an uninterrupted run ends: weights, batch-norm statistics,
/// optimizer state and minibatch order all come back. Every optimizer, an MLP and a CNN with
/// batch norm, on ndarray and flex.
#[test]
fn a_run_killed_midway_resumes_from_its_checkpoint_exactly() {
    let task = blobs(40, 8);
    for (backend, device) in [("ndarray", cpu()), ("flex", Device::flex())] {
        for (m, o) in [
            (
                "kind = \"mlp\"\ndepth = 2\nwidth = 6",
                "name = \"adam\"\nlr = 0.01",
            ),
            (
                "kind = \"mlp\"\ndepth = 1\nwidth = 5",
                "name = \"sgd\"\nlr = 0.05\nmomentum = 0.9",
            ),
            (
                "kind = \"cnn\"\ndepth = 1\nchannels = 2\npool_every = 0\nbatch_norm = true\ndense = [4]",
                "name = \"rmsprop\"\nlr = 0.01",
            ),
        ] {
            let (m, o) = (model(m), optimizer(o));
            let mut cfg = TrainConfig::new(8, 16);
            cfg.measure_every = 1;
            let setup = Setup {
                model: &m,
                optimizer: &o,
                train: &cfg,
                seed: 5,
            };
            let watcher = |fail_at| Watcher {
                seen: vec![],
                epochs: vec![],
                fail_at,
            };
            let mut whole = watcher(None);
            let want = Trainer::new(setup, &device).run(&task, &mut whole).unwrap();
            let dir = std::env::temp_dir().join(format!(
                "repalign-train-ckpt-{}-{backend}-{}",
                std::process::id(),
                m.kind()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let ckpt = Checkpoints::new(&dir, Duration::ZERO, "run-a");
            let trainer = Trainer::new(setup, &device).checkpoints(ckpt.clone());
            let mut first = watcher(Some(5));
            assert!(trainer.run(&task, &mut first).is_err());
            // Only the newest complete checkpoint is kept.
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            assert_eq!(files, ["model-4.bpk", "optim-4.bpk", "state-4.json"]);
            // Another run's key never resumes from it.
            let other = Trainer::new(setup, &device)
                .checkpoints(Checkpoints::new(&dir, Duration::from_secs(3600), "run-b"))
                .run(&task, &mut ())
                .unwrap();
            assert_eq!(other.resumed_from, None);
            let mut second = watcher(None);
            let got = trainer.run(&task, &mut second).unwrap();
            assert_eq!(got.resumed_from, Some(4), "{backend} {m:?}");
            assert_eq!(got.history, want.history, "{backend} {m:?}");
            assert_eq!(got.status, want.status);
            assert_eq!(second.seen, whole.seen, "the observer's state came back");
            assert_eq!(second.epochs, whole.epochs);
            assert_eq!(
                parameters(&got.model),
                parameters(&want.model),
                "{backend} {m:?}"
            );
            ckpt.clear().unwrap();
            assert!(!dir.exists());
        }
    }
}

/// burn's flex backend is offered beside ndarray: the same runs must give the same losses.
#[test]
fn flex_and_ndarray_train_the_same_mlp_and_cnn() {
    let task = blobs(64, 9);
    for m in [
        "kind = \"mlp\"\ndepth = 2\nwidth = 16",
        "kind = \"cnn\"\ndepth = 2\nchannels = 3\npool_every = 0\nbatch_norm = true",
        // flex runs this one through repalign-models' conv, batch-norm and pooling kernels
        "kind = \"cnn\"\ndepth = 1\nchannels = 3\npool_every = 1\nbatch_norm = true",
    ] {
        let (m, o) = (model(m), optimizer("name = \"adam\"\nlr = 0.01"));
        let cfg = TrainConfig::new(4, 16);
        let a = train(&m, &o, &cfg, 0, &task, &cpu()).history;
        let b = train(&m, &o, &cfg, 0, &task, &Device::flex()).history;
        for (x, y) in a.iter().zip(&b) {
            // f32 kernels that sum in different orders: agreement to ~1e-5 relative.
            assert!(
                (x.loss - y.loss).abs() <= 1e-4 * x.loss.max(1e-3),
                "{m:?}: {x:?} vs {y:?}"
            );
        }
    }
}

#[test]
fn a_cnn_trains_too() {
    let task = blobs(64, 5);
    let m = model("kind = \"cnn\"\ndepth = 1\nchannels = 4\npool_every = 0");
    let o = optimizer("name = \"adam\"\nlr = 0.01");
    let t = train(&m, &o, &TrainConfig::new(10, 16), 0, &task, &cpu());
    assert!(
        t.history.last().unwrap().train_acc >= 0.9,
        "{:?}",
        t.history.last()
    );
}

/// The same run trains on wgpu (Vulkan; llvmpipe on a machine without a GPU) as on the CPU,
/// its weights drawn on the CPU. `cargo test -p repalign-train --features wgpu gpu`.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_trains_the_same_run_as_the_cpu() {
    let task = blobs(64, 9);
    let gpu = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    for m in [
        "kind = \"mlp\"\ndepth = 2\nwidth = 16\nhidden_bias = false",
        "kind = \"cnn\"\ndepth = 1\nchannels = 3\npool_every = 1",
    ] {
        let (m, o) = (model(m), optimizer("name = \"adam\"\nlr = 0.01"));
        let cfg = TrainConfig::new(3, 16);
        let setup = Setup {
            model: &m,
            optimizer: &o,
            train: &cfg,
            seed: 0,
        };
        let a = Trainer::new(setup, &cpu())
            .run(&task, &mut ())
            .unwrap()
            .history;
        let b = Trainer::new(setup, &gpu)
            .init_on(&cpu())
            .run(&task, &mut ())
            .unwrap()
            .history;
        for (x, y) in a.iter().zip(&b) {
            // Same initial weights (drawn on the CPU), f32 kernels that sum in other orders.
            assert!(
                (x.loss - y.loss).abs() <= 1e-4 * x.loss.max(1e-3),
                "{m:?}: {x:?} vs {y:?}"
            );
            assert_eq!(x.train_acc, y.train_acc, "{m:?}");
        }
    }
}
