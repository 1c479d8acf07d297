//! Serde configs shared by the models.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{CnnConfig, MlpConfig};

/// A config that cannot be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    #[error("width lists {given} layers but depth is {depth}")]
    WidthLength { given: usize, depth: usize },
    #[error("a width of 0 in layer {layer}")]
    ZeroWidth { layer: usize },
    #[error("the input is {c}x{h}x{w} but a CNN needs image-shaped input with known channels")]
    NotAnImage { c: usize, h: usize, w: usize },
    #[error(
        "{depth} pooled blocks shrink a {h}x{w} image below 1x1 at block {block}: pool less often (pool_every) or use fewer blocks"
    )]
    PoolTooDeep {
        depth: usize,
        h: usize,
        w: usize,
        block: usize,
    },
}

/// One width for every layer, or one per layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Width {
    One(usize),
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

/// Which model, and its settings (`kind = "mlp"` or `kind = "cnn"` in a file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
}

impl ModelConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "mlp",
            ModelConfig::Cnn(_) => "cnn",
        }
    }
    pub fn depth(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.depth,
            ModelConfig::Cnn(c) => c.depth,
        }
    }
    pub fn width_label(&self) -> String {
        match self {
            ModelConfig::Mlp(c) => c.width.label(),
            ModelConfig::Cnn(c) if c.dense.is_empty() => c.channels.label(),
            ModelConfig::Cnn(c) => format!(
                "{}_fc{}",
                c.channels.label(),
                Width::PerLayer(c.dense.clone()).label()
            ),
        }
    }
    pub fn init_config(&self) -> crate::Init {
        match self {
            ModelConfig::Mlp(c) => c.init,
            ModelConfig::Cnn(c) => c.init,
        }
    }
    pub fn activation(&self) -> crate::Activation {
        match self {
            ModelConfig::Mlp(c) => c.activation,
            ModelConfig::Cnn(c) => c.activation,
        }
    }
}
