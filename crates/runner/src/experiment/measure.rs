//! `[measure]`: how alignment is measured after training.

use repalign_alignment::{Grid, Options};
use serde::{Deserialize, Serialize};

/// Threshold grid of the reported curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GridName {
    #[default]
    Normalized,
    Demo,
}

impl GridName {
    pub fn grid(&self) -> Grid {
        match self {
            GridName::Normalized => Grid::default(),
            GridName::Demo => Grid::Demo,
        }
    }
}

fn yes() -> bool {
    true
}

fn batch_500() -> usize {
    500
}

/// How alignment is measured after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureConfig {
    #[serde(default)]
    pub grid: GridName,
    #[serde(default = "yes")]
    pub bias_column: bool,
    #[serde(default = "yes")]
    pub row_normalize: bool,
    /// Rows per forward pass while streaming activations into the accumulators.
    #[serde(default = "batch_500")]
    pub batch_size: usize,
    /// Measure on the first this many training rows only (all when absent): conv layers of
    /// many thousand features make the n x n kernel of a large training set slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<usize>,
}

impl Default for MeasureConfig {
    fn default() -> Self {
        MeasureConfig {
            grid: GridName::default(),
            bias_column: true,
            row_normalize: true,
            batch_size: 500,
            max_rows: None,
        }
    }
}

impl MeasureConfig {
    pub fn options(&self) -> Options {
        Options {
            bias_column: self.bias_column,
            row_normalize: self.row_normalize,
        }
    }
}
