//! The representation-alignment measure of Imani, Hu & White, computed exactly in f64.
//!
//! Given a representation `F` (n x d) and targets `Y` (n x c, entries in {-1, +1} or scaled to
//! [-1, 1]), let `Phi = [F, 1]` with every row scaled to unit L2 norm (both steps switchable,
//! see [`Options`]) and `Phi = sum_i sigma_i u_i v_i^T` its thin SVD. The label energy along
//! direction `i` is `e_i = ||u_i^T Y||^2` and the alignment curve is
//! `A(tau) = sum_{sigma_i >= tau} e_i` (with `A(0) = ||Y||_F^2`).
//!
//! The measure never forms `U` when `p = d + 1 <= n`: [`Accumulator`] streams rows into
//! `G = Phi^T Phi` (p x p) and `B = Phi^T Y` (p x c), then `G = V diag(lambda) V^T` gives
//! `sigma_i = sqrt(lambda_i)` and `e_i = ||v_i^T B||^2 / lambda_i`. While fewer rows than
//! columns have arrived it keeps the rows instead and eigendecomposes `K = Phi Phi^T` (n x n).
//!
//! The result is a [`Spectrum`] (the exact breakpoints `(sigma_i, e_i)`), from which every
//! curve, summary and null baseline follows without touching the data again.

#![warn(missing_docs)]

mod accumulate;
mod classes;
mod error;
#[cfg(feature = "wgpu")]
pub mod gpu;
mod grid;
mod probe;
mod report;
mod spectrum;
mod speed;
mod targets;
mod tridiagonal;

#[cfg(test)]
mod tests;

/// Makes the measure's numbers independent of the number of threads: faer's products and
/// eigendecompositions split their sums by thread count when it runs them in parallel, so the
/// same features measured in a job of one thread and in a job of two would differ in the last
/// bits (a run measured on a Slurm node and again on a laptop, or with another `--jobs`). This
/// sets faer's process-wide parallelism to one thread; the runner calls it once at start-up.
/// Library users who want the measure's parallel speed instead can leave it alone.
pub fn single_threaded_linear_algebra() {
    faer::set_global_parallelism(faer::Par::Seq);
}

pub use accumulate::{Accumulator, Options, measure, phi_rows};
pub use classes::ClassAccumulator;
pub use error::AlignError;
pub use grid::Grid;
pub use probe::{Probe, halves, ridge_probe};
pub use report::{CurveReport, Report, SpectrumReport, SummaryReport};
pub use spectrum::{Curve, Spectrum, Summary};
pub use speed::{logistic_descent, squared_descent};
pub use targets::{Targets, Task};
