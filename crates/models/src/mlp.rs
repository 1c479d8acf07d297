//! Multi-layer perceptron: `x -> [Linear -> act] x depth -> Linear`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::layers::{dense, dense_forward};
use crate::{Activation, Init, ModelError, Width};

fn default_width() -> Width {
    Width::One(128)
}

fn yes() -> bool {
    true
}

/// MLP settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Hidden layers; 0 is a linear model on the input.
    pub depth: usize,
    /// Width of every hidden layer, or a list with one per layer.
    #[serde(default = "default_width")]
    pub width: Width,
    /// Activation after every hidden layer (default ReLU).
    #[serde(default)]
    pub activation: Activation,
    /// Bias in the hidden layers (the output layer always has one).
    #[serde(default = "yes")]
    pub hidden_bias: bool,
    /// How weights and biases are drawn (default: PyTorch's, as the paper).
    #[serde(default)]
    pub init: Init,
}

impl MlpConfig {
    /// An MLP of `depth` layers of `width`, ReLU, with hidden bias.
    pub fn new(depth: usize, width: usize) -> Self {
        MlpConfig {
            depth,
            width: Width::One(width),
            activation: Activation::Relu,
            hidden_bias: true,
            init: Init::default(),
        }
    }

    /// Builds the model for inputs of `input` values and `outputs` logits.
    pub fn init(&self, input: usize, outputs: usize, device: &Device) -> Result<Mlp, ModelError> {
        let widths = self.width.resolve(self.depth)?;
        let mut fan_in = input;
        let mut hidden = Vec::with_capacity(self.depth);
        for &w in &widths {
            hidden.push(dense(
                fan_in,
                w,
                self.init.hidden_weights(self.activation),
                self.hidden_bias.then(|| self.init.biases()),
                device,
            ));
            fan_in = w;
        }
        Ok(Mlp {
            hidden,
            head: dense(
                fan_in,
                outputs,
                self.init.head_weights(),
                Some(self.init.biases()),
                device,
            ),
            activation: self.activation,
        })
    }
}

/// See the module docs.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    head: Linear,
    #[module(skip)]
    activation: Activation,
}

impl Mlp {
    /// Logits and every hidden layer's post-activation output.
    ///
    /// # Shapes
    /// - `x`: `[batch, input]`
    /// - returns `[batch, outputs]` and `depth` tensors `[batch, width_i]`
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let mut h = x; // [batch, input]
        let mut layers = Vec::with_capacity(self.hidden.len());
        for linear in &self.hidden {
            h = self.activation.apply(dense_forward(linear, h)); // [batch, width_i]
            layers.push(h.clone());
        }
        (dense_forward(&self.head, h), layers) // [batch, outputs]
    }

    /// `hidden1`, `hidden2`, ...
    pub fn layer_names(&self) -> Vec<String> {
        (1..=self.hidden.len())
            .map(|i| format!("hidden{i}"))
            .collect()
    }
}
