//! Dense and conv layers built with separate weight and bias initialisers (burn's configs take
//! one initialiser for both), so that [`Init`] can set them apart.

use burn::module::Initializer;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;

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
