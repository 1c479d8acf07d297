//! Serde configs shared by the models.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use std::path::PathBuf;

use crate::{CnnConfig, EfficientNetConfig, MlpConfig};

/// A config that cannot be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A per-layer width (or channel) list whose length is not the depth.
    #[error("width lists {given} layers but depth is {depth}")]
    WidthLength {
        /// Widths listed.
        given: usize,
        /// Layers (or conv blocks) configured.
        depth: usize,
    },
    /// A hidden layer, conv block or CNN dense layer of width 0.
    #[error("a width of 0 in layer {layer}")]
    ZeroWidth {
        /// The offending layer, counted from 1 among hidden layers or conv blocks (or, for a
        /// CNN's `dense` list, among its dense layers).
        layer: usize,
    },
    /// A CNN built for an input shape with a zero channel count, height or width.
    #[error("the input is {c}x{h}x{w} but a CNN needs image-shaped input with known channels")]
    NotAnImage {
        /// Channels of the input.
        c: usize,
        /// Height of the input, in pixels.
        h: usize,
        /// Width of the input, in pixels.
        w: usize,
    },
    /// Max-pooling (each halving height and width, rounding down) shrinks the image to 0 pixels
    /// before the last block.
    #[error(
        "{depth} pooled blocks shrink a {h}x{w} image below 1x1 at block {block}: pool less often (pool_every) or use fewer blocks"
    )]
    PoolTooDeep {
        /// Conv blocks configured.
        depth: usize,
        /// Input height, in pixels.
        h: usize,
        /// Input width, in pixels.
        w: usize,
        /// The block (counted from 1) whose pooling leaves no pixel.
        block: usize,
    },
    /// EfficientNet weights that cannot be loaded.
    #[error("model.weights = {file}: {reason}")]
    Weights {
        /// The checkpoint named.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An EfficientNet resolution too small for its five stride-2 stages.
    #[error(
        "model.resolution = {resolution}: EfficientNet needs at least 32 pixels (ImageNet's is 224)"
    )]
    Resolution {
        /// The resolution asked for.
        resolution: usize,
    },
}

/// One width for every layer, or one per layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Width {
    /// The same width for every layer (a number in a file).
    One(usize),
    /// One width per layer, first layer first (a list in a file).
    PerLayer(Vec<usize>),
}

impl Width {
    /// The width of each of `depth` layers.
    pub fn resolve(&self, depth: usize) -> Result<Vec<usize>, ModelError> {
        let w = match self {
            Width::One(w) => vec![*w; depth],
            Width::PerLayer(ws) if ws.len() == depth => ws.clone(),
            Width::PerLayer(ws) => {
                return Err(ModelError::WidthLength {
                    given: ws.len(),
                    depth,
                });
            }
        };
        match w.iter().position(|&x| x == 0) {
            Some(i) => Err(ModelError::ZeroWidth { layer: i + 1 }),
            None => Ok(w),
        }
    }

    /// A short text: `128` or `64-32-16`.
    pub fn label(&self) -> String {
        match self {
            Width::One(w) => w.to_string(),
            Width::PerLayer(ws) => ws
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("-"),
        }
    }
}

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
