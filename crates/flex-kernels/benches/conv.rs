//! Layer benchmark on burn's flex backend (the default CPU backend): this crate's kernels, or
//! burn's own flex operations with `REPALIGN_BURN_OPS=1` (the layers dispatch as the models'
//! do): the layers the deep-cnn experiment, EfficientNet-style networks and the MLPs are made
//! of, at batch 64, forward alone (inference) and forward + backward (training; gradients of
//! the input and the weights).
//!
//! Prints one JSON object per line (`name`, `forward_ms`, `train_ms`: the median over
//! repetitions) so `scripts/conv-bench.sh` can set them beside PyTorch's numbers for the same
//! shapes, measured in the same invocation, and print the ratios.
//!
//! ```text
//! cargo bench -p repalign-flex-kernels --bench conv
//! ```

use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Distribution, Tensor};
use repalign_flex_kernels as kernels;

/// The layer on the kernels where they cover it (explicit symmetric padding here), else burn's.
fn conv_forward(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let c_out = layer.weight.dims()[0];
    if kernels::covers(&x, c_out, layer.groups, layer.dilation) {
        let pad = layer.kernel_size[0] / 2;
        let bias = layer.bias.as_ref().map(|b| b.val());
        return kernels::conv2d(x, layer.weight.val(), bias, layer.stride, [pad, pad]);
    }
    layer.forward(x)
}

fn batch_norm_forward(layer: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if x.device().is_autodiff() && layer.training.is_enabled() && kernels::is_flex(&x.device()) {
        let (gamma, beta) = (layer.gamma.val(), layer.beta.val());
        return kernels::batch_norm_train(x, gamma, beta, layer.epsilon).0;
    }
    layer.forward(x)
}

fn max_pool_forward(layer: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    if kernels::is_flex(&x.device()) {
        return kernels::max_pool2x2(x);
    }
    layer.forward(x)
}

fn dense_forward(layer: &Linear, x: Tensor<4>) -> Tensor<4> {
    let [b, d, _, _] = x.dims();
    let x = x.reshape([b, d]);
    let y = if kernels::linear_covers(&x) {
        kernels::linear(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
    } else {
        layer.forward(x)
    };
    let [_, out] = y.dims();
    y.reshape([b, out, 1, 1])
}

/// One benchmarked layer, on input `[batch, c_in, h, w]`.
#[derive(Clone, Copy)]
enum Layer {
    /// `c_out`, kernel size, groups (padding keeps the size).
    Conv(usize, usize, usize),
    /// 2 x 2 max-pool, stride 2.
    MaxPool,
    /// Batch normalisation: running statistics forward alone, batch statistics in training.
    BatchNorm,
    /// A dense layer into `d_out` features, on input `[batch, d_in, 1, 1]` (as `[batch, d_in]`).
    Dense(usize),
}

/// deep-cnn's convolutions (3x3, dense), EfficientNet-style ones (depthwise 3x3, 1x1), max-pool,
/// batch norm, the MLPs' dense layers: input `[batch, c_in, h, w]` and layer.
const CASES: [([usize; 4], Layer); 10] = [
    ([64, 1, 28, 28], Layer::Conv(16, 3, 1)),
    ([64, 16, 28, 28], Layer::Conv(16, 3, 1)),
    ([64, 32, 14, 14], Layer::Conv(32, 3, 1)),
    ([64, 64, 7, 7], Layer::Conv(64, 3, 1)),
    ([64, 96, 28, 28], Layer::Conv(96, 3, 96)),
    ([64, 96, 28, 28], Layer::Conv(24, 1, 1)),
    ([64, 16, 28, 28], Layer::MaxPool),
    ([64, 16, 28, 28], Layer::BatchNorm),
    ([64, 784, 1, 1], Layer::Dense(128)),
    ([64, 128, 1, 1], Layer::Dense(128)),
];

/// The case's name, as `scripts/conv-bench.py` spells it: `conv3x3 16->16 28x28`,
/// `depthwise3x3 96 28x28`, `maxpool2x2 16 28x28`.
fn name([_, c, h, w]: [usize; 4], layer: Layer) -> String {
    match layer {
        Layer::Conv(out, k, groups) if groups > 1 => format!("depthwise{k}x{k} {out} {h}x{w}"),
        Layer::Conv(out, k, _) => format!("conv{k}x{k} {c}->{out} {h}x{w}"),
        Layer::MaxPool => format!("maxpool2x2 {c} {h}x{w}"),
        Layer::BatchNorm => format!("batchnorm {c} {h}x{w}"),
        Layer::Dense(out) => format!("dense {c}->{out}"),
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
    let burn_ops = std::env::var("REPALIGN_BURN_OPS").is_ok_and(|v| !v.is_empty() && v != "0");
    kernels::set_enabled(!burn_ops);
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
            Layer::Dense(out) => {
                let dense = LinearConfig::new(input[1], out).init(&device);
                let inference = forward_ms(&x, |x| dense_forward(&dense, x));
                let dense = dense.train();
                (inference, train_ms(&x, |x| dense_forward(&dense, x)))
            }
        };
        println!(
            "{{\"name\": \"{name}\", \"forward_ms\": {forward_ms:.3}, \"train_ms\": {train_ms:.3}}}"
        );
    }
}
