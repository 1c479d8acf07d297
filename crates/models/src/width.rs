//! Layer widths: one for every layer, or one per layer.

use serde::{Deserialize, Serialize};

use crate::ModelError;

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
