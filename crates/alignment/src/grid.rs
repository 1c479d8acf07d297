//! Threshold grids on which an alignment curve is reported.
//!
//! - [`Grid::Normalized`]: `points` evenly spaced normalised thresholds `t = tau / sqrt(n)` in
//!   [0, 1] (the default: 101 points). Comparable across sample sizes.
//! - [`Grid::Demo`]: 62 evenly spaced raw thresholds `tau` in [0, 30], the grid of the authors'
//!   demo (made for n = 1000).

use serde::{Deserialize, Serialize};

/// A threshold grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grid {
    /// `points` normalised thresholds `t` in [0, 1]; `tau = t * sqrt(n)`.
    Normalized {
        /// Number of thresholds, endpoints included (0 gives none, 1 only `t = 0`).
        points: usize,
    },
    /// The demo grid: 62 raw thresholds `tau` in [0, 30].
    Demo,
}

impl Default for Grid {
    fn default() -> Self {
        Grid::Normalized { points: 101 }
    }
}

impl Grid {
    /// Short name: `normalized` or `demo`.
    pub fn name(&self) -> &'static str {
        match self {
            Grid::Normalized { .. } => "normalized",
            Grid::Demo => "demo",
        }
    }

    /// The thresholds as reported (t for the normalised grid, tau for the demo grid).
    pub fn thresholds(&self) -> Vec<f64> {
        let (hi, points) = match *self {
            Grid::Normalized { points } => (1.0, points),
            Grid::Demo => (30.0, 62),
        };
        match points {
            0 => vec![],
            1 => vec![0.0],
            _ => (0..points)
                .map(|i| hi * i as f64 / (points - 1) as f64)
                .collect(),
        }
    }

    /// Converts a reported threshold to a raw singular-value threshold `tau` for `n` rows.
    pub fn to_tau(&self, threshold: f64, n: usize) -> f64 {
        match self {
            Grid::Normalized { .. } => threshold * (n as f64).sqrt(),
            Grid::Demo => threshold,
        }
    }
}
