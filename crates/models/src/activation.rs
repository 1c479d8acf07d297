//! Element-wise activations.

use burn::module::Initializer;
use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// The activation after every hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    /// No nonlinearity: a deep linear network.
    Identity,
}

impl Activation {
    pub fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Identity => x,
        }
    }

    /// The weight initialiser that keeps activations at scale through this nonlinearity:
    /// He (Kaiming) uniform, `U(-b, b)` with `b = gain sqrt(3 / fan_in)`, gain `sqrt(2)` for ReLU
    /// and 1 for tanh and identity. (burn's and PyTorch's default, gain `1/sqrt(3)`, shrinks a
    /// ReLU network's signal by about `sqrt(6)` per layer, so deep nets barely train.)
    pub fn initializer(&self) -> Initializer {
        let gain = match self {
            Activation::Relu => std::f64::consts::SQRT_2,
            Activation::Tanh | Activation::Identity => 1.0,
        };
        Initializer::KaimingUniform {
            gain,
            fan_out_only: false,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Identity => "identity",
        }
    }
}
