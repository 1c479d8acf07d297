//! The exact breakpoints `(sigma_i, e_i)` and everything derived from them.
//!
//! With `E = ||Y||_F^2` and `n` rows:
//! - curve: `A(tau) = sum_{sigma_i >= tau} e_i` for `tau > 0`, `A(0) = E`;
//! - null baseline (labels in a uniformly random direction):
//!   `A_null(tau) = E #{sigma_i >= tau} / n`;
//! - `auc = sum_i e_i min(sigma_i / sqrt(n), 1) / E`, the exact area under `A(t sqrt(n)) / E`
//!   for `t` in [0, 1] (with rows normalised `sigma_i <= sqrt(n)` and the `min` is inert);
//! - `auc_null = sum_i min(sigma_i / sqrt(n), 1) / n`;
//! - `k(eps)`: fewest top directions whose energies reach `eps E` (`None` when the span of `Phi`
//!   never holds that much); `top1`, `top10`: fraction of `E` in the top 1 and 10 directions;
//! - `kta = sum sigma_i^2 e_i / (E sqrt(sum sigma_i^4))`, kernel-target alignment of `Phi Phi^T`.

use serde::{Deserialize, Serialize};

use crate::Grid;

/// Singular values (descending, inside the rank) and the label energy along each direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrum {
    /// Rows of `Phi`.
    pub n: usize,
    /// Columns of `Phi` (features plus the bias column if any).
    pub p: usize,
    /// Target columns c.
    pub columns: usize,
    /// `E = ||Y||_F^2`.
    pub label_energy: f64,
    /// `sigma_1 >= sigma_2 >= ... > 0`.
    pub sigma: Vec<f64>,
    /// `e_i = ||u_i^T Y||^2`, aligned with `sigma`.
    pub energy: Vec<f64>,
}

/// A curve sampled on a grid, with its null baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Thresholds as the grid reports them (`t` or `tau`).
    pub thresholds: Vec<f64>,
    /// `A(tau)` at each threshold.
    pub alignment: Vec<f64>,
    /// `A_null(tau)` at each threshold.
    pub null: Vec<f64>,
}

/// Scalar summaries of a spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `sum_i e_i min(sigma_i / sqrt(n), 1) / E`: area under the normalised curve, in [0, 1].
    pub auc: f64,
    /// `sum_i min(sigma_i / sqrt(n), 1) / n`: the same area for the null baseline.
    pub auc_null: f64,
    /// `k(0.9)`; `None` when unreached.
    pub k90: Option<usize>,
    /// Fraction of `E` along the top singular direction.
    pub top1: f64,
    /// Fraction of `E` along the top 10 singular directions.
    pub top10: f64,
    /// Kernel-target alignment `sum sigma_i^2 e_i / (E sqrt(sum sigma_i^4))` (0 if `Phi = 0`).
    pub kta: f64,
}

// Sums below fold from +0.0: `Iterator::sum` of no f64 values is -0.0, which would print as
// "-0" in reports.

/// Relative slack so that rounding alone cannot turn a reached energy level into an unreached one.
const REACH_SLACK: f64 = 1e-12;

impl Spectrum {
    /// Number of directions inside the rank.
    pub fn rank(&self) -> usize {
        self.sigma.len()
    }

    /// `A(tau)`.
    pub fn alignment_at(&self, tau: f64) -> f64 {
        if tau <= 0.0 {
            return self.label_energy;
        }
        self.sigma
            .iter()
            .zip(&self.energy)
            .filter(|(s, _)| **s >= tau)
            .fold(0.0, |acc, (_, e)| acc + e)
    }

    /// `A_null(tau)`.
    pub fn null_at(&self, tau: f64) -> f64 {
        if tau <= 0.0 {
            return self.label_energy;
        }
        let count = self.sigma.iter().filter(|s| **s >= tau).count();
        self.label_energy * count as f64 / self.n as f64
    }

    /// The curve and its null baseline on a grid.
    pub fn curve(&self, grid: &Grid) -> Curve {
        let thresholds = grid.thresholds();
        let taus: Vec<f64> = thresholds.iter().map(|&t| grid.to_tau(t, self.n)).collect();
        Curve {
            alignment: taus.iter().map(|&tau| self.alignment_at(tau)).collect(),
            null: taus.iter().map(|&tau| self.null_at(tau)).collect(),
            thresholds,
        }
    }

    /// Fewest top directions whose energies reach `eps * E`.
    pub fn k(&self, eps: f64) -> Option<usize> {
        let goal = eps * self.label_energy * (1.0 - REACH_SLACK);
        let mut sum = 0.0;
        for (i, e) in self.energy.iter().enumerate() {
            sum += e;
            if sum >= goal {
                return Some(i + 1);
            }
        }
        None
    }

    /// Fraction of `E` in the top `k` directions.
    pub fn top(&self, k: usize) -> f64 {
        self.energy.iter().take(k).fold(0.0, |a, e| a + e) / self.label_energy
    }

    /// `min(sigma_i / sqrt(n), 1)`: each direction's extent on the normalised axis.
    fn extents(&self) -> impl Iterator<Item = f64> + '_ {
        let sqrt_n = (self.n as f64).sqrt();
        self.sigma.iter().map(move |s| (s / sqrt_n).min(1.0))
    }

    /// All scalar summaries.
    pub fn summary(&self) -> Summary {
        let e = self.label_energy;
        let auc = self
            .extents()
            .zip(&self.energy)
            .map(|(x, en)| x * en)
            .fold(0.0, |a, v| a + v)
            / e;
        let auc_null = self.extents().fold(0.0, |a, v| a + v) / self.n as f64;
        let s4 = self.sigma.iter().fold(0.0, |a, s| a + s.powi(4));
        let kta = if s4 > 0.0 {
            self.sigma
                .iter()
                .zip(&self.energy)
                .map(|(s, en)| s * s * en)
                .fold(0.0, |a, v| a + v)
                / (e * s4.sqrt())
        } else {
            0.0
        };
        Summary {
            auc,
            auc_null,
            k90: self.k(0.9),
            top1: self.top(1),
            top10: self.top(10),
            kta,
        }
    }
}
