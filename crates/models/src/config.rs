//! Which model a file asks for: [`ModelConfig`], over each model's own config.

use serde::{Deserialize, Serialize};

use crate::{CnnConfig, EfficientNetConfig, MlpConfig, Width};

/// Which model, and its settings (`kind = "mlp"`, `"cnn"` or `"efficientnet-lite0"` in a file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelConfig {
    /// A multi-layer perceptron (`kind = "mlp"`).
    Mlp(MlpConfig),
    /// A convolutional network (`kind = "cnn"`).
    Cnn(CnnConfig),
    /// EfficientNet-Lite0, pretrained or at random (`kind = "efficientnet-lite0"`).
    #[serde(rename = "efficientnet-lite0")]
    EfficientNet(EfficientNetConfig),
}

impl ModelConfig {
    /// `"mlp"`, `"cnn"` or `"efficientnet-lite0"`, as in the `kind` key.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "mlp",
            ModelConfig::Cnn(_) => "cnn",
            ModelConfig::EfficientNet(_) => "efficientnet-lite0",
        }
    }
    /// Hidden layers of an MLP, conv blocks of a CNN (dense layers not counted), MBConv blocks
    /// of an EfficientNet.
    pub fn depth(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.depth,
            ModelConfig::Cnn(c) => c.depth,
            ModelConfig::EfficientNet(_) => crate::EfficientNetArch::lite0().blocks(),
        }
    }
    /// A short text for the widths: `128`, `64-32-16`, or for a CNN with dense layers the
    /// channels then `_fc` and the dense widths, e.g. `32_fc120-84`; for an EfficientNet its
    /// weights and resolution, `pretrained@96`.
    pub fn width_label(&self) -> String {
        match self {
            ModelConfig::Mlp(c) => c.width.label(),
            ModelConfig::Cnn(c) if c.dense.is_empty() => c.channels.label(),
            ModelConfig::Cnn(c) => format!(
                "{}_fc{}",
                c.channels.label(),
                Width::PerLayer(c.dense.clone()).label()
            ),
            ModelConfig::EfficientNet(c) => format!("{}@{}", c.weights.label(), c.resolution),
        }
    }
    /// The initialisation the model is built with.
    pub fn init_config(&self) -> crate::Init {
        match self {
            ModelConfig::Mlp(c) => c.init,
            ModelConfig::Cnn(c) => c.init,
            ModelConfig::EfficientNet(_) => crate::Init::default(),
        }
    }
    /// The activation after every hidden layer.
    pub fn activation(&self) -> crate::Activation {
        match self {
            ModelConfig::Mlp(c) => c.activation,
            ModelConfig::Cnn(c) => c.activation,
            ModelConfig::EfficientNet(_) => crate::Activation::Relu6,
        }
    }
}
