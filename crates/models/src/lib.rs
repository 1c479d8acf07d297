//! Models whose forward pass returns, besides the logits, every hidden layer's post-activation
//! output, so that alignment can be measured layer by layer.
//!
//! - [`Mlp`]: `depth` hidden layers (0 = a linear model), each `Linear -> activation`, then a
//!   linear head. Layers are named `hidden1`, `hidden2`, ...
//! - [`Cnn`]: `depth` blocks `Conv2d 3x3 (same padding) [-> BatchNorm] -> activation
//!   [-> MaxPool 2x2]`, optional dense hidden layers, then a linear head. Blocks are named
//!   `conv1`, `conv2`, ... (flattened per sample), their global-average-pooled views
//!   `conv1_gap`, ..., and dense layers `fc1`, `fc2`, ...
//!
//! - [`ImageNet`]: EfficientNet-Lite0 ([`EfficientNet`]) on images resized to its resolution,
//!   pretrained (loaded from a PyTorch checkpoint) or at random. Layers `stem`, `block0` ...
//!   `block15`, `head` (each with its `_gap` view) and `pooled`.
//!
//! Parameters are drawn as [`Init`] says: PyTorch's default unless a config asks for He
//! uniform, per layer kind.
//!
//! All take flat inputs `[batch, c * h * w]` (the convolutional ones reshape them), and configs
//! are serde structs that live in the experiment files. The one file a model reads is a
//! pretrained network's checkpoint, named in its config.

#![warn(missing_docs)]

mod activation;
mod cnn;
mod config;
mod efficientnet;
mod error;
mod init;
pub(crate) mod layers;
mod mlp;
mod model;
mod size;
mod width;

pub use activation::Activation;
pub use cnn::{Cnn, CnnConfig};
pub use config::ModelConfig;
pub use efficientnet::{
    EfficientNet, EfficientNetArch, EfficientNetConfig, Features, ImageNet, MbConv, Stage, Weights,
};
pub use error::ModelError;
pub use init::{BiasInit, Init, WeightInit};
pub use layers::{batch_norm_forward, conv_forward, dense_forward, max_pool_forward};
pub use mlp::{Mlp, MlpConfig};
pub use model::{Forward, Model};
pub use size::Sizes;
pub use width::Width;

/// Whether a hidden layer's name is a pooled view of another layer (a CNN block's global
/// average, `conv2_gap`) rather than a link of the network's chain. The network's last hidden
/// layer is its last layer that is not a view.
pub fn is_pooled_view(name: &str) -> bool {
    name.ends_with(cnn::POOLED_SUFFIX)
}
