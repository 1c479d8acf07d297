//! Convolutional network: `depth` blocks
//! `Conv2d 3x3 (same) [-> BatchNorm] -> act [-> MaxPool 2x2]`, then, as LeNet- and VGG-style
//! nets, optional dense hidden layers `Linear -> act` on the flattened last block, then a linear
//! head.
//!
//! Every block is measured twice: flattened (`conv{i}`, `c_i h_i w_i` features) and global-
//! average-pooled over its spatial positions (`conv{i}_gap`, `c_i` features). Dense layers are
//! `fc1`, `fc2`, ... The pooled views sit beside the layers they pool and are not part of the
//! network's chain (see [`crate::is_pooled_view`]).

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::layers::{conv, dense, dense_forward};
use crate::{Activation, Init, ModelError, Width};

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
    /// Activation after every block and dense layer (default ReLU).
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
    /// Widths of dense hidden layers after the last block (none: the head reads the block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dense: Vec<usize>,
    /// How weights and biases are drawn (default: PyTorch's, as the paper).
    #[serde(default)]
    pub init: Init,
}

impl CnnConfig {
    /// `depth` blocks of `channels` each, ReLU, pooling after every block, conv bias, no batch
    /// norm, no dense layers, PyTorch's initialisation.
    pub fn new(depth: usize, channels: usize) -> Self {
        CnnConfig {
            depth,
            channels: Width::One(channels),
            activation: Activation::Relu,
            pool_every: 1,
            hidden_bias: true,
            batch_norm: false,
            dense: Vec::new(),
            init: Init::default(),
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
                conv: conv(
                    Conv2dConfig::new([ch, out], [3, 3]).with_padding(PaddingConfig2d::Same),
                    self.init.hidden_weights(self.activation),
                    self.hidden_bias.then(|| self.init.biases()),
                    device,
                ),
                norm: self
                    .batch_norm
                    .then(|| BatchNormConfig::new(out).init(device)),
                pool: pooled.then(|| MaxPool2dConfig::new([2, 2]).init()),
            });
            ch = out;
        }
        if let Some(i) = self.dense.iter().position(|&w| w == 0) {
            return Err(ModelError::ZeroWidth { layer: i + 1 });
        }
        let mut fan_in = ch * hh * ww;
        let mut fc = Vec::with_capacity(self.dense.len());
        for &w in &self.dense {
            fc.push(dense(
                fan_in,
                w,
                self.init.hidden_weights(self.activation),
                self.hidden_bias.then(|| self.init.biases()),
                device,
            ));
            fan_in = w;
        }
        Ok(Cnn {
            blocks,
            dense: fc,
            head: dense(
                fan_in,
                outputs,
                self.init.head_weights(),
                Some(self.init.biases()),
                device,
            ),
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
    dense: Vec<Linear>,
    head: Linear,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    shape: [usize; 3],
}

impl ConvBlock {
    /// # Shapes
    /// - `z`: `[batch, c, h, w]`; returns `[batch, c_i, h_i, w_i]`
    fn forward(&self, z: Tensor<4>, activation: Activation) -> Tensor<4> {
        let mut z = crate::layers::conv_forward(&self.conv, z); // [batch, c_i, h, w]
        if let Some(norm) = &self.norm {
            z = crate::layers::batch_norm_forward(norm, z); // [batch, c_i, h, w]
        }
        z = activation.apply(z);
        if let Some(pool) = &self.pool {
            z = crate::layers::max_pool_forward(pool, z); // [batch, c_i, h / 2, w / 2]
        }
        z
    }
}

impl Cnn {
    /// Logits and every hidden layer in the order of [`Cnn::layer_names`]: each block flattened
    /// and global-average-pooled, then every dense layer.
    ///
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`
    /// - returns `[batch, outputs]` and, per block, `[batch, c_i * h_i * w_i]` and
    ///   `[batch, c_i]`, then `[batch, dense_j]` per dense layer
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        self.run(x, true)
    }

    /// The logits alone (what training needs): no pooled views are computed.
    ///
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`; returns `[batch, outputs]`
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.run(x, false).0
    }

    fn run(&self, x: Tensor<2>, keep: bool) -> (Tensor<2>, Vec<Tensor<2>>) {
        let [batch, _] = x.dims();
        let [c, h, w] = self.shape;
        let mut z: Tensor<4> = x.reshape([batch, c, h, w]); // [batch, c, h, w]
        let mut layers = Vec::with_capacity(2 * self.blocks.len() + self.dense.len());
        for block in &self.blocks {
            z = block.forward(z, self.activation); // [batch, c_i, h_i, w_i]
            if keep {
                let [_, ci, _, _] = z.dims();
                layers.push(z.clone().flatten(1, 3)); // [batch, c_i * h_i * w_i]
                layers.push(z.clone().mean_dim(3).mean_dim(2).reshape([batch, ci])); // [batch, c_i]
            }
        }
        let mut f: Tensor<2> = z.flatten(1, 3); // [batch, c_k * h_k * w_k]
        for fc in &self.dense {
            f = self.activation.apply(dense_forward(fc, f)); // [batch, dense_j]
            if keep {
                layers.push(f.clone());
            }
        }
        (dense_forward(&self.head, f), layers) // [batch, outputs]
    }

    /// `conv1`, `conv1_gap`, `conv2`, `conv2_gap`, ..., then `fc1`, `fc2`, ...
    pub fn layer_names(&self) -> Vec<String> {
        (1..=self.blocks.len())
            .flat_map(|i| [format!("conv{i}"), format!("conv{i}{POOLED_SUFFIX}")])
            .chain((1..=self.dense.len()).map(|j| format!("fc{j}")))
            .collect()
    }
}

/// The suffix of a block's global-average-pooled view.
pub(crate) const POOLED_SUFFIX: &str = "_gap";
