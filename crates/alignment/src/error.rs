//! Errors for bad input. Every variant names what was wrong and where.

use thiserror::Error;

/// An input the measure cannot be computed on.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AlignError {
    /// No rows, or no columns left after the options were applied.
    #[error("empty input: {what}")]
    Empty {
        /// What is missing: `"no rows"`, `"no labels"` or `"no feature columns and no bias
        /// column"`.
        what: String,
    },
    /// A feature value that is NaN or infinite.
    #[error("feature value {value} at row {row}, column {col} is not finite")]
    NonFiniteFeature {
        /// Row, counted from 0 over every batch pushed so far.
        row: usize,
        /// Feature column, counted from 0.
        col: usize,
        /// The value found.
        value: f64,
    },
    /// A label value that is NaN or infinite.
    #[error("label {value} at row {row} is not finite")]
    NonFiniteLabel {
        /// Row, counted from 0 (over every batch pushed so far, when accumulating).
        row: usize,
        /// The value found.
        value: f64,
    },
    /// Labels and features disagree on the number of rows.
    #[error("{labels} labels for {rows} rows")]
    LabelCount {
        /// Rows of targets given.
        labels: usize,
        /// Rows of features given.
        rows: usize,
    },
    /// A batch whose length is not a whole number of rows of the declared width.
    #[error("batch of {len} values is not a whole number of rows of width {width}")]
    RaggedBatch {
        /// Values in the batch (for a device tensor of the wrong width, rows times its width).
        len: usize,
        /// Declared row width: `d` features, or `c` target columns.
        width: usize,
    },
    /// A binary task needs exactly two distinct label values.
    #[error("a binary task needs exactly 2 distinct label values, found {found}: {values}")]
    NotBinary {
        /// Distinct (finite) values found.
        found: usize,
        /// The first five of them, ascending, comma-separated (`...` when there are more).
        values: String,
    },
    /// A multi-class task needs integer labels.
    #[error("multi-class labels must be integers, found {value} at row {row}")]
    NonIntegerClass {
        /// First row with a fractional label, counted from 0.
        row: usize,
        /// The label found.
        value: f64,
    },
    /// A multi-class task needs at least two classes.
    #[error("a multi-class task needs at least 2 classes, found {found}")]
    TooFewClasses {
        /// Distinct classes found (0 or 1).
        found: usize,
    },
    /// Regression targets that do not vary cannot be min-max scaled.
    #[error(
        "regression targets are all equal ({value}); min-max scaling needs at least two distinct values"
    )]
    ConstantRegression {
        /// The one value every target has.
        value: f64,
    },
    /// The eigendecomposition did not converge.
    #[error("eigendecomposition of the {size} x {size} {which} matrix did not converge")]
    Eigen {
        /// The matrix: `"kernel Phi Phi^T"` (n <= p) or `"Gram Phi^T Phi"` (n > p).
        which: &'static str,
        /// Its side: n for the kernel, p for the Gram.
        size: usize,
    },
    /// A label that is not one of the classes an accumulator was made for.
    #[error("label {value} at row {row} is not one of the classes {classes}")]
    UnknownClass {
        /// Row, counted from 0 over every batch pushed so far.
        row: usize,
        /// The label found.
        value: f64,
        /// The classes, comma-separated.
        classes: String,
    },
    /// Two accumulators that cannot be merged, or a class pair that does not exist.
    #[error("{0}")]
    Mismatch(String),
    /// A device (GPU) path could not run: wrong dtype, a size past the kernel's limits, a failed
    /// read-back.
    #[error("device: {0}")]
    Device(String),
}
