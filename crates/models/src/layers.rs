//! Dense and conv layers built with separate weight and bias initialisers (burn's configs take
//! one initialiser for both), so that [`Init`] can set them apart.

use burn::module::Initializer;
#[cfg(feature = "flex")]
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
#[cfg(feature = "flex")]
use repalign_flex_kernels as kernels;

/// `Linear` `d_in -> d_out`; `bias`: the bias initialiser, or none for no bias.
pub(crate) fn dense(
    d_in: usize,
    d_out: usize,
    weights: Initializer,
    bias: Option<Initializer>,
    device: &Device,
) -> Linear {
    let mut layer = LinearConfig::new(d_in, d_out)
        .with_bias(false)
        .with_initializer(weights)
        .init(device);
    layer.bias = bias.map(|b| b.init_with([d_out], Some(d_in), Some(d_out), device));
    layer
}

/// A conv layer from `config` (whose own bias and initialiser are ignored); fan-in
/// `c_in / groups * k_h * k_w` for the bias as for the weights.
pub(crate) fn conv(
    config: Conv2dConfig,
    weights: Initializer,
    bias: Option<Initializer>,
    device: &Device,
) -> Conv2d {
    let [c_in, c_out] = config.channels;
    let fan_in = c_in / config.groups * config.kernel_size.iter().product::<usize>();
    let fan_out = c_out / config.groups * config.kernel_size.iter().product::<usize>();
    let mut layer = config
        .with_bias(false)
        .with_initializer(weights)
        .init(device);
    layer.bias = bias.map(|b| b.init_with([c_out], Some(fan_in), Some(fan_out), device));
    layer
}

/// `layer.forward(x)`; on burn's flex CPU device through this project's kernels
/// (`repalign-flex-kernels`, cargo feature `flex`) where they cover the layer (groups 1 or
/// depthwise, dilation 1, symmetric padding).
pub fn conv_forward(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    {
        let c_out = layer.weight.dims()[0];
        let [_, _, h, w] = x.dims();
        if kernels::covers(&x, c_out, layer.groups, layer.dilation)
            && let Some(pad) =
                symmetric_padding(&layer.padding, [h, w], layer.kernel_size, layer.stride)
        {
            return kernels::conv2d(
                x,
                layer.weight.val(),
                layer.bias.as_ref().map(|b| b.val()),
                layer.stride,
                pad,
            );
        }
    }
    layer.forward(x)
}

/// `layer.forward(x)`; on burn's flex CPU device through the kernels' dense layer.
pub fn dense_forward(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    #[cfg(feature = "flex")]
    if kernels::linear_covers(&x) {
        return kernels::linear(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()));
    }
    layer.forward(x)
}

/// The padding on each side, per axis, when `padding` pads both sides of each axis alike.
#[cfg(feature = "flex")]
fn symmetric_padding(
    padding: &PaddingConfig2d,
    size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Option<[usize; 2]> {
    match *padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some([top, left])
        }
        PaddingConfig2d::Same => {
            // TensorFlow's rule, as burn's: total = max((ceil(n / s) - 1) s + k - n, 0).
            let total =
                |n: usize, k: usize, s: usize| ((n.div_ceil(s) - 1) * s + k).saturating_sub(n);
            let th = total(size[0], kernel[0], stride[0]);
            let tw = total(size[1], kernel[1], stride[1]);
            (th % 2 == 0 && tw % 2 == 0).then_some([th / 2, tw / 2])
        }
    }
}

/// `norm.forward(x)`; in training on burn's flex CPU device through the kernels' batch norm
/// (one sweep per statistic, no axis swaps), with burn's running-average update.
pub fn batch_norm_forward(norm: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    {
        let device = x.device();
        if device.is_autodiff()
            && norm.training.is_enabled()
            && x.dtype() == burn::tensor::DType::F32
            && kernels::is_flex(&device)
        {
            let (y, stats) =
                kernels::batch_norm_train(x, norm.gamma.val(), norm.beta.val(), norm.epsilon);
            let c = stats.dims()[1];
            let mean = stats.clone().slice([0..1, 0..c]).reshape([c]);
            let var = stats.slice([1..2, 0..c]).reshape([c]);
            let momentum = norm.momentum;
            let running = |state: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
                let old = state.value_sync().to_device(&device);
                state.update(
                    old.mul_scalar(1.0 - momentum)
                        .add(batch.detach().mul_scalar(momentum))
                        .detach(),
                );
            };
            running(&norm.running_mean, mean);
            running(&norm.running_var, var);
            return y;
        }
    }
    norm.forward(x)
}

/// `pool.forward(x)`; on burn's flex CPU device through the kernels' 2 x 2 pooling when the
/// layer is 2 x 2 with stride 2 and no padding.
pub fn max_pool_forward(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
        && x.dtype() == burn::tensor::DType::F32
        && kernels::is_flex(&x.device())
    {
        return kernels::max_pool2x2(x);
    }
    pool.forward(x)
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::batch_norm_forward;

    /// The kernels' batch norm (values and gradients are tested in their crate) updates the
    /// running averages as burn's layer does.
    #[test]
    fn batch_norm_through_the_kernels_updates_the_running_statistics_as_burn() {
        let device = Device::flex().autodiff();
        device.seed(3);
        for dims in [[4, 3, 5, 7], [1, 2, 3, 3], [6, 16, 14, 14]] {
            let x = Tensor::<4>::random(dims, Distribution::Normal(2.0, 3.0), &device);
            let ours = BatchNormConfig::new(dims[1]).init(&device);
            let theirs = ours.clone();
            for _ in 0..3 {
                let _ = batch_norm_forward(&ours, x.clone());
                let _ = theirs.forward(x.clone());
            }
            let rel = |a: Tensor<1>, b: Tensor<1>| {
                let scale = b.clone().abs().max().into_scalar::<f32>().max(1e-6);
                (a - b).abs().max().into_scalar::<f32>() / scale
            };
            let em = rel(ours.running_mean.value(), theirs.running_mean.value());
            let ev = rel(ours.running_var.value(), theirs.running_var.value());
            assert!(
                em < 1e-5 && ev < 1e-5,
                "{dims:?}: running mean {em}, var {ev}"
            );
        }
    }
}
