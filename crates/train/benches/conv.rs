//! Convolution benchmark on burn's flex backend (the default CPU backend), through the layer
//! functions the models use (`repalign_models::{conv_forward, batch_norm_forward,
//! max_pool_forward}`: this project's flex kernels, or burn's own operations with
//! `REPALIGN_BURN_OPS=1`): the layers the deep-cnn experiment and EfficientNet-style networks
//! are made of, at batch 64, forward alone (inference) and forward + backward (training;
//! gradients of the input and the weights).
//!
//! Then EfficientNet-Lite0's forward pass (inference, random weights: the speed is the
//! weights') at 224 x 224 (batch 16) and 96 x 96 (batch 64, the pretrained experiment's
//! resolution), as images per second.
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
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Distribution, Tensor};
use repalign_models::{batch_norm_forward, conv_forward, max_pool_forward};

/// One benchmarked layer, on input `[batch, c_in, h, w]`.
#[derive(Clone, Copy)]
enum Layer {
    /// `c_out`, kernel size, groups (padding keeps the size).
    Conv(usize, usize, usize),
    /// 2 x 2 max-pool, stride 2.
    MaxPool,
    /// Batch normalisation: running statistics forward alone, batch statistics in training.
    BatchNorm,
}

/// deep-cnn's convolutions (3x3, dense), EfficientNet-style ones (depthwise 3x3, 1x1), max-pool:
/// input `[batch, c_in, h, w]` and layer.
const CASES: [([usize; 4], Layer); 8] = [
    ([64, 1, 28, 28], Layer::Conv(16, 3, 1)),
    ([64, 16, 28, 28], Layer::Conv(16, 3, 1)),
    ([64, 32, 14, 14], Layer::Conv(32, 3, 1)),
    ([64, 64, 7, 7], Layer::Conv(64, 3, 1)),
    ([64, 96, 28, 28], Layer::Conv(96, 3, 96)),
    ([64, 96, 28, 28], Layer::Conv(24, 1, 1)),
    ([64, 16, 28, 28], Layer::MaxPool),
    ([64, 16, 28, 28], Layer::BatchNorm),
];

/// The case's name, as `scripts/conv-bench.py` spells it: `conv3x3 16->16 28x28`,
/// `depthwise3x3 96 28x28`, `maxpool2x2 16 28x28`.
fn name([_, c, h, w]: [usize; 4], layer: Layer) -> String {
    match layer {
        Layer::Conv(out, k, groups) if groups > 1 => format!("depthwise{k}x{k} {out} {h}x{w}"),
        Layer::Conv(out, k, _) => format!("conv{k}x{k} {c}->{out} {h}x{w}"),
        Layer::MaxPool => format!("maxpool2x2 {c} {h}x{w}"),
        Layer::BatchNorm => format!("batchnorm {c} {h}x{w}"),
    }
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

// flex is eager: an operation's values exist when it returns, so the timed closures keep
// the output or gradient as a tensor. Reading it back (`into_data`) would add copies of up to
// 19 MB that PyTorch's side (scripts/conv-bench.py) does not make.

/// Forward alone, on plain tensors (inference).
fn forward_ms(x: &Tensor<4>, forward: impl Fn(Tensor<4>) -> Tensor<4>) -> f64 {
    time(|| {
        std::hint::black_box(forward(x.clone()));
    })
}

/// Forward + backward through autodiff, the input's gradient taken (the layer's own
/// parameters, when it has any and they are tracked, get theirs too).
fn train_ms(x: &Tensor<4>, forward: impl Fn(Tensor<4>) -> Tensor<4>) -> f64 {
    let xa = x.clone().autodiff().require_grad();
    time(|| {
        let grads = forward(xa.clone()).sum().backward();
        std::hint::black_box(xa.grad(&grads));
    })
}

fn main() {
    let device = Device::flex();
    device.seed(0);
    for (input, layer) in CASES {
        let name = name(input, layer);
        let x = Tensor::<4>::random(input, Distribution::Normal(0.0, 1.0), &device);
        let (forward_ms, train_ms) = match layer {
            Layer::Conv(out, kernel, groups) => {
                let conv = conv(input[1], out, kernel, groups, &device);
                let inference = forward_ms(&x, |x| conv_forward(&conv, x));
                let conv = conv.train();
                (inference, train_ms(&x, |x| conv_forward(&conv, x)))
            }
            Layer::MaxPool => {
                let pool = MaxPool2dConfig::new([2, 2]).init();
                (
                    forward_ms(&x, |x| max_pool_forward(&pool, x)),
                    train_ms(&x, |x| max_pool_forward(&pool, x)),
                )
            }
            Layer::BatchNorm => {
                let bn = BatchNormConfig::new(input[1]).init(&device);
                let inference = forward_ms(&x, |x| batch_norm_forward(&bn, x));
                let bn = bn.train();
                (inference, train_ms(&x, |x| batch_norm_forward(&bn, x)))
            }
        };
        println!(
            "{{\"name\": \"{name}\", \"forward_ms\": {forward_ms:.3}, \"train_ms\": {train_ms:.3}}}"
        );
    }
    let net = repalign_models::EfficientNetArch::lite0().init(&device);
    for (side, batch) in [(224, 16), (96, 64)] {
        let x = Tensor::<4>::random([batch, 3, side, side], Distribution::Default, &device);
        let ms = time(|| {
            let _ = net.features(x.clone(), false).logits.into_data();
        });
        println!(
            "{{\"name\": \"efficientnet-lite0 forward {side}x{side} batch {batch}\", \"images_per_s\": {:.1}}}",
            batch as f64 * 1e3 / ms
        );
    }
}
