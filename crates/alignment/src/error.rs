//! Errors for bad input. Every variant names what was wrong and where.

use thiserror::Error;

/// An input the measure cannot be computed on.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AlignError {
    /// No rows, or no columns left after the options were applied.
    #[error("empty input: {what}")]
    Empty { what: String },
    /// A feature value that is NaN or infinite.
    #[error("feature value {value} at row {row}, column {col} is not finite")]
    NonFiniteFeature { row: usize, col: usize, value: f64 },
    /// A label value that is NaN or infinite.
    #[error("label {value} at row {row} is not finite")]
    NonFiniteLabel { row: usize, value: f64 },
    /// Labels and features disagree on the number of rows.
    #[error("{labels} labels for {rows} rows")]
    LabelCount { labels: usize, rows: usize },
    /// A batch whose length is not a whole number of rows of the declared width.
    #[error("batch of {len} values is not a whole number of rows of width {width}")]
    RaggedBatch { len: usize, width: usize },
    /// A binary task needs exactly two distinct label values.
    #[error("a binary task needs exactly 2 distinct label values, found {found}: {values}")]
    NotBinary { found: usize, values: String },
    /// A multi-class task needs integer labels.
    #[error("multi-class labels must be integers, found {value} at row {row}")]
    NonIntegerClass { row: usize, value: f64 },
    /// A multi-class task needs at least two classes.
    #[error("a multi-class task needs at least 2 classes, found {found}")]
    TooFewClasses { found: usize },
    /// Regression targets that do not vary cannot be min-max scaled.
    #[error(
        "regression targets are all equal ({value}); min-max scaling needs at least two distinct values"
    )]
    ConstantRegression { value: f64 },
    /// The eigendecomposition did not converge.
    #[error("eigendecomposition of the {size} x {size} {which} matrix did not converge")]
    Eigen { which: &'static str, size: usize },
    /// A device (GPU) path could not run: wrong dtype, a size past the kernel's limits, a failed
    /// read-back.
    #[error("device: {0}")]
    Device(String),
}
