//! Whether an epoch costs the same at the end of a run as at its start.
//!
//! Trains the demo recipe (MNIST 0 vs 1 from the embedded subset, 500 + 500 images, MLP
//! 784-128-128-128-1 without hidden bias, Adam 1e-3, batch 64) on flex, as `runner run` does:
//! subnormal floats flushed on this thread and on rayon's pool. Prints, for a 100-epoch run on
//! true labels and a 1000-epoch run on shuffled labels (the sweeps' longest runs), the mean
//! milliseconds per epoch over the first and the last tenth of the run and their ratio (last /
//! first). Without flushing (`-- --no-flush`), the moment estimates of dead units turn
//! subnormal after a few hundred steps and, on CPUs with a large subnormal penalty, the last
//! tenth gets slower.
//!
//! ```text
//! cargo bench -p repalign-train --bench epochs [-- --no-flush] [-- --epochs-random 1000]
//! ```

use std::time::Instant;

use burn::tensor::Device;
use repalign_data::{Classes, LabelMode, Task, TaskConfig, embedded_mnist};
use repalign_models::ModelConfig;
use repalign_optim::OptimizerConfig;
use repalign_train::{EpochStats, Observer, Setup, TrainConfig, Trainer};

/// Records when each epoch ended.
struct Clock {
    ends: Vec<Instant>,
}

impl Observer for Clock {
    fn epoch(&mut self, _stats: &EpochStats) {
        self.ends.push(Instant::now());
    }
}

/// Mean ms per epoch over the first and the last tenth of a run of `epochs` epochs.
fn train(task: &Task, epochs: usize, device: &Device) -> (f64, f64) {
    let model: ModelConfig = toml::from_str(
        "kind = \"mlp\"\ndepth = 3\nwidth = 128\nactivation = \"relu\"\nhidden_bias = false\ninit = \"pytorch\"",
    )
    .expect("model config");
    let optimizer: OptimizerConfig =
        toml::from_str("name = \"adam\"\nlr = 1e-3").expect("optimizer");
    let train = TrainConfig::new(epochs, 64);
    let setup = Setup {
        model: &model,
        optimizer: &optimizer,
        train: &train,
        seed: 0,
    };
    let start = Instant::now();
    let mut clock = Clock { ends: Vec::new() };
    Trainer::new(setup, device)
        .run(task, &mut clock)
        .expect("training");
    let mut ends = vec![start];
    ends.extend(clock.ends);
    let tenth = (epochs / 10).max(1);
    let per_epoch = |a: usize, b: usize| (ends[b] - ends[a]).as_secs_f64() * 1e3 / (b - a) as f64;
    // The first epoch pays for warm-up (allocations, thread start): the first tenth starts at 1.
    let first = per_epoch(1.min(tenth - 1), tenth);
    let last = per_epoch(epochs - tenth, epochs);
    (first, last)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flush = !args.iter().any(|a| a == "--no-flush");
    let random_epochs = args
        .iter()
        .position(|a| a == "--epochs-random")
        .and_then(|i| args.get(i + 1))
        .map_or(1000, |v| v.parse().expect("--epochs-random N"));
    if flush {
        repalign_subnormals::flush_global_pool(0);
    }
    let device = Device::flex();
    let data = embedded_mnist().expect("embedded MNIST subset");
    let config = TaskConfig {
        classes: Classes::List(vec![0, 1]),
        train_per_class: Some(500),
        test_per_class: None,
        draw_seed: 0,
    };
    println!(
        "epochs bench: demo recipe on flex, subnormals {}",
        if flush {
            "flushed"
        } else {
            "not flushed (--no-flush)"
        }
    );
    println!("| run | epochs | first tenth ms/epoch | last tenth ms/epoch | last / first |");
    println!("|---|---|---|---|---|");
    for (labels, epochs) in [(LabelMode::True, 100), (LabelMode::Random, random_epochs)] {
        let task = Task::draw(&data, &config, labels, 0).expect("demo task");
        let (first, last) = train(&task, epochs, &device);
        println!(
            "| {} labels | {epochs} | {first:.1} | {last:.1} | {:.2} |",
            labels.as_str(),
            last / first
        );
    }
}
