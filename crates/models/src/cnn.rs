//! Convolutional network: `depth` blocks `Conv2d 3x3 (same) [-> BatchNorm] -> act [-> MaxPool 2x2]`, then a
//! linear head on the flattened last block.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::{Activation, ModelError, Width};

fn default_channels() -> Width {
    Width::One(32)
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// CNN settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// Conv blocks.
    pub depth: usize,
    /// Output channels of every block, or one per block.
    #[serde(default = "default_channels")]
    pub channels: Width,
    #[serde(default)]
    pub activation: Activation,
    /// Max-pool 2x2 after every `pool_every`-th block (0: never).
    #[serde(default = "one")]
    pub pool_every: usize,
    /// Bias in the conv layers (the head always has one).
    #[serde(default = "yes")]
    pub hidden_bias: bool,
    /// Batch normalisation after every conv, before the activation (VGG-style nets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch_norm: bool,
}

impl CnnConfig {
    pub fn new(depth: usize, channels: usize) -> Self {
        CnnConfig {
            depth,
            channels: Width::One(channels),
            activation: Activation::Relu,
            pool_every: 1,
            hidden_bias: true,
            batch_norm: false,
        }
    }

    /// Builds the model for images of `shape = [c, h, w]` and `outputs` logits.
    pub fn init(
        &self,
        shape: [usize; 3],
        outputs: usize,
        device: &Device,
    ) -> Result<Cnn, ModelError> {
        let [c, h, w] = shape;
        if c == 0 || h == 0 || w == 0 {
            return Err(ModelError::NotAnImage { c, h, w });
        }
        let channels = self.channels.resolve(self.depth)?;
        let (mut ch, mut hh, mut ww) = (c, h, w);
        let mut blocks = Vec::with_capacity(self.depth);
        for (i, &out) in channels.iter().enumerate() {
            let pooled = self.pool_every > 0 && (i + 1) % self.pool_every == 0;
            if pooled {
                hh /= 2;
                ww /= 2;
                if hh == 0 || ww == 0 {
                    return Err(ModelError::PoolTooDeep {
                        depth: self.depth,
                        h,
                        w,
                        block: i + 1,
                    });
                }
            }
            blocks.push(ConvBlock {
                conv: Conv2dConfig::new([ch, out], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .with_bias(self.hidden_bias)
                    .with_initializer(self.activation.initializer())
                    .init(device),
                norm: self
                    .batch_norm
                    .then(|| BatchNormConfig::new(out).init(device)),
                pool: pooled.then(|| MaxPool2dConfig::new([2, 2]).init()),
            });
            ch = out;
        }
        Ok(Cnn {
            blocks,
            head: LinearConfig::new(ch * hh * ww, outputs).init(device),
            activation: self.activation,
            shape,
        })
    }
}

/// `Conv2d 3x3 [-> BatchNorm] -> act [-> MaxPool 2x2]`.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    norm: Option<BatchNorm>,
    pool: Option<MaxPool2d>,
}

/// See the module docs.
#[derive(Module, Debug)]
pub struct Cnn {
    blocks: Vec<ConvBlock>,
    head: Linear,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    shape: [usize; 3],
}

impl Cnn {
    /// Logits and every block's output, flattened per sample.
    ///
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`
    /// - returns `[batch, outputs]` and `depth` tensors `[batch, c_i * h_i * w_i]`
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let [batch, _] = x.dims();
        let [c, h, w] = self.shape;
        let mut z: Tensor<4> = x.reshape([batch, c, h, w]); // [batch, c, h, w]
        let mut layers = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            z = block.conv.forward(z); // [batch, c_i, h, w]
            if let Some(norm) = &block.norm {
                z = norm.forward(z); // [batch, c_i, h, w]
            }
            z = self.activation.apply(z);
            if let Some(pool) = &block.pool {
                z = pool.forward(z); // [batch, c_i, h / 2, w / 2]
            }
            layers.push(z.clone().flatten(1, 3)); // [batch, c_i * h_i * w_i]
        }
        let flat: Tensor<2> = z.flatten(1, 3);
        (self.head.forward(flat), layers)
    }

    /// `conv1`, `conv2`, ...
    pub fn layer_names(&self) -> Vec<String> {
        (1..=self.blocks.len())
            .map(|i| format!("conv{i}"))
            .collect()
    }
}
