//! Tables and plots of alignment results, from plain data.
//!
//! - [`Table`] and [`Cell`]: mean ± standard deviation over seeds (or `k/n` fractions of runs),
//!   written as markdown, tidy CSV or LaTeX; [`spearman`] for rank correlations.
//! - [`plot`]: alignment curves of layers, auc against depth or layer with error bars, loss
//!   curves and scatter plots, each written as SVG and PNG (atomically: a temporary file renamed
//!   into place).
//!
//! Nothing here reads a file: the runner reads run folders and hands over the numbers.

#![warn(missing_docs)]

pub mod plot;
mod table;

pub use plot::PlotError;
pub use table::{Cell, Table, spearman};
