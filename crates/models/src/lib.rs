//! Models whose forward pass returns, besides the logits, every hidden layer's post-activation
//! output, so that alignment can be measured layer by layer.
//!
//! - [`Mlp`]: `depth` hidden layers (0 = a linear model), each `Linear -> activation`, then a
//!   linear head. Layers are named `hidden1`, `hidden2`, ...
//! - [`Cnn`]: `depth` blocks `Conv2d 3x3 (same padding) -> activation [-> MaxPool 2x2]`, then a
//!   linear head on the flattened output. Blocks are named `conv1`, `conv2`, ...; their outputs
//!   are flattened per sample.
//!
//! Hidden layers start from He-uniform weights scaled for their activation
//! ([`Activation::initializer`]); the head keeps burn's default.
//!
//! Both take flat inputs `[batch, c * h * w]` (the CNN reshapes them), and configs are serde
//! structs that live in the experiment files. Models never read files.

mod activation;
mod cnn;
mod config;
mod mlp;
mod model;

pub use activation::Activation;
pub use cnn::{Cnn, CnnConfig};
pub use config::{ModelConfig, ModelError, Width};
pub use mlp::{Mlp, MlpConfig};
pub use model::{Forward, Model};
