//! The serialisable report of one measurement: the shape of `runner align --json` and of each
//! layer in a run's `alignment.json`.

use serde::{Deserialize, Serialize};

use crate::{Grid, Options, Spectrum, Summary, Task};

/// Scalar summaries, as reported.
pub type SummaryReport = Summary;

/// The curve on a grid, with its null baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveReport {
    /// `normalized` (thresholds are `t = tau / sqrt(n)`) or `demo` (thresholds are `tau`).
    pub grid: String,
    /// Thresholds as the grid reports them, ascending.
    pub thresholds: Vec<f64>,
    /// `A(tau)` at each threshold.
    pub alignment: Vec<f64>,
    /// `A_null(tau)` at each threshold (labels in a uniformly random direction).
    pub null: Vec<f64>,
}

/// The exact breakpoints, sigma descending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumReport {
    /// Singular values `sigma_i` of `Phi` inside its rank, descending.
    pub sigma: Vec<f64>,
    /// Label energy `e_i = ||u_i^T Y||^2` along each direction, aligned with `sigma`.
    pub energy: Vec<f64>,
}

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Layer name, when the report is one layer of a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Rows (samples) measured.
    pub n: usize,
    /// Columns of `Phi`: features plus the bias column if any.
    pub p: usize,
    /// Directions with a nonzero singular value (length of `spectrum.sigma`).
    pub rank: usize,
    /// How the labels were encoded as targets.
    pub task: Task,
    /// `||Y||_F^2`.
    pub label_energy: f64,
    /// How `Phi` was built from the features.
    pub options: Options,
    /// Scalar summaries of the spectrum.
    pub summary: SummaryReport,
    /// For three or more classes: the mean over class pairs of the binary auc measured on
    /// each pair's rows alone (the number comparable with binary tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_mean_auc: Option<f64>,
    /// The curve on the requested grid.
    pub curve: CurveReport,
    /// The exact breakpoints the curve and summary come from.
    pub spectrum: SpectrumReport,
}

impl Report {
    /// Builds the report of a spectrum on a grid.
    pub fn new(spectrum: &Spectrum, task: Task, grid: &Grid, options: Options) -> Self {
        let curve = spectrum.curve(grid);
        Report {
            layer: None,
            n: spectrum.n,
            p: spectrum.p,
            rank: spectrum.rank(),
            task,
            label_energy: spectrum.label_energy,
            options,
            summary: spectrum.summary(),
            pair_mean_auc: None,
            curve: CurveReport {
                grid: grid.name().to_string(),
                thresholds: curve.thresholds,
                alignment: curve.alignment,
                null: curve.null,
            },
            spectrum: SpectrumReport {
                sigma: spectrum.sigma.clone(),
                energy: spectrum.energy.clone(),
            },
        }
    }

    /// The same report with the mean pair auc of its classes.
    pub fn with_pair_mean_auc(mut self, auc: Option<f64>) -> Self {
        self.pair_mean_auc = auc;
        self
    }

    /// The same report, named as a layer.
    pub fn with_layer(mut self, layer: impl Into<String>) -> Self {
        self.layer = Some(layer.into());
        self
    }
}
