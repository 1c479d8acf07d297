//! Element-wise activations.

use burn::tensor::{Tensor, activation};
use serde::{Deserialize, Serialize};

/// The activation after every hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)` (the default).
    #[default]
    Relu,
    /// `tanh(x)`, in (-1, 1).
    Tanh,
    /// No nonlinearity: a deep linear network.
    Identity,
    /// `min(max(0, x), 6)`, as in mobile networks (EfficientNet-Lite).
    Relu6,
}

impl Activation {
    /// Applies the activation element-wise; any shape.
    pub fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Identity => x,
            Activation::Relu6 => x.clamp(0.0, 6.0),
        }
    }

    /// The gain PyTorch's `calculate_gain` gives this nonlinearity: `sqrt(2)` for ReLU, `5/3`
    /// for tanh, 1 for identity. He-uniform initialisation scales by it.
    pub fn gain(&self) -> f64 {
        match self {
            Activation::Relu | Activation::Relu6 => std::f64::consts::SQRT_2,
            Activation::Tanh => 5.0 / 3.0,
            Activation::Identity => 1.0,
        }
    }

    /// The lowercase name used in config files: `"relu"`, `"tanh"` or `"identity"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Identity => "identity",
            Activation::Relu6 => "relu6",
        }
    }
}
