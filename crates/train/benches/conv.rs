//! Convolution benchmark on burn's flex backend (the default CPU backend): the layers the
//! deep-cnn experiment and EfficientNet-style networks are made of, at batch 64, forward alone
//! (inference) and forward + backward (training; gradients of the input and the weights).
//!
//! Prints one JSON object per line (`name`, `forward_ms`, `train_ms`: the median over
//! repetitions) so `scripts/conv-bench.sh` can set them beside PyTorch's numbers for the same
//! shapes, measured in the same invocation, and print the ratios.
//!
//! ```text
//! cargo bench -p repalign-train --bench conv
//! ```

use std::time::Instant;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::{Device, Distribution, Tensor};

/// One benchmarked layer: `[batch, c_in, h, w]` in.
struct Case {
    name: &'static str,
    input: [usize; 4],
    layer: Layer,
}

enum Layer {
    /// `c_out`, kernel size, groups (padding keeps the size).
    Conv {
        out: usize,
        kernel: usize,
        groups: usize,
    },
    /// 2 x 2 max-pool, stride 2.
    MaxPool,
}

fn cases() -> Vec<Case> {
    let conv = |out, kernel, groups| Layer::Conv {
        out,
        kernel,
        groups,
    };
    vec![
        Case {
            name: "conv3x3 1->16 28x28",
            input: [64, 1, 28, 28],
            layer: conv(16, 3, 1),
        },
        Case {
            name: "conv3x3 16->16 28x28",
            input: [64, 16, 28, 28],
            layer: conv(16, 3, 1),
        },
        Case {
            name: "conv3x3 32->32 14x14",
            input: [64, 32, 14, 14],
            layer: conv(32, 3, 1),
        },
        Case {
            name: "conv3x3 64->64 7x7",
            input: [64, 64, 7, 7],
            layer: conv(64, 3, 1),
        },
        Case {
            name: "depthwise3x3 96 28x28",
            input: [64, 96, 28, 28],
            layer: conv(96, 3, 96),
        },
        Case {
            name: "conv1x1 96->24 28x28",
            input: [64, 96, 28, 28],
            layer: conv(24, 1, 1),
        },
        Case {
            name: "maxpool2x2 16 28x28",
            input: [64, 16, 28, 28],
            layer: Layer::MaxPool,
        },
    ]
}

/// Median milliseconds of `f` over repetitions (3 warm-ups, then at least 5 and until 1 s).
fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut ms = Vec::new();
    let start = Instant::now();
    while ms.len() < 5 || (start.elapsed().as_secs_f64() < 1.0 && ms.len() < 200) {
        let t = Instant::now();
        f();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

fn conv(c_in: usize, out: usize, kernel: usize, groups: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([c_in, out], [kernel, kernel])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_groups(groups)
        .init(device)
}

fn main() {
    let plain = Device::flex();
    plain.seed(0);
    for case in cases() {
        let [_, c_in, _, _] = case.input;
        let x = Tensor::<4>::random(case.input, Distribution::Normal(0.0, 1.0), &plain);
        let (forward_ms, train_ms) = match case.layer {
            Layer::Conv {
                out,
                kernel,
                groups,
            } => {
                let layer = conv(c_in, out, kernel, groups, &plain);
                let forward = time(|| {
                    let _ = layer.forward(x.clone()).into_data();
                });
                let layer = layer.train();
                let xa = x.clone().autodiff().require_grad();
                let train = time(|| {
                    let grads = layer.forward(xa.clone()).sum().backward();
                    let _ = xa.grad(&grads).map(|g| g.into_data());
                });
                (forward, train)
            }
            Layer::MaxPool => {
                let pool = MaxPool2dConfig::new([2, 2]).init();
                let forward = time(|| {
                    let _ = pool.forward(x.clone()).into_data();
                });
                let xa = x.clone().autodiff().require_grad();
                let train = time(|| {
                    let grads = pool.forward(xa.clone()).sum().backward();
                    let _ = xa.grad(&grads).map(|g| g.into_data());
                });
                (forward, train)
            }
        };
        println!(
            "{{\"name\": \"{}\", \"forward_ms\": {forward_ms:.3}, \"train_ms\": {train_ms:.3}}}",
            case.name
        );
    }
}
