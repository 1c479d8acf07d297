//! The measure for the Python package `repalign`.
//!
//! What the package does is plain Rust here, tested without Python: [`align`] measures a whole
//! feature matrix exactly as `runner align` does (same functions, same numbers, same JSON), and
//! [`Stream`] measures minibatches in any order and size, mergeable across workers. The
//! bindings (PyO3 + rust-numpy, feature `python`, built by maturin) only move arrays in and
//! numbers out; the Python side (`python/repalign/`) converts inputs and holds the PyTorch
//! helper.

#[cfg(feature = "python")]
mod bindings;
#[cfg(test)]
mod tests;

use repalign_alignment::{
    AlignError, ClassAccumulator, Grid, Options, Report, Spectrum, Targets, Task, measure,
};

/// Labels with at most this many distinct integer values are a multi-class task when no task
/// is given, as in `runner align`.
pub const MAX_INFERRED_CLASSES: usize = 1000;

/// The default memory a [`Stream`] may hold at most: 8 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// An input the measure refuses, with a message that names the row, column, shape or value.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<AlignError> for Error {
    fn from(e: AlignError) -> Self {
        Error(e.to_string())
    }
}

/// A measured representation: its spectrum (for curves on any grid) and its report (the
/// summaries and the JSON of `runner align --json`).
#[derive(Debug, Clone)]
pub struct Measured {
    /// The breakpoints `(sigma_i, e_i)`.
    pub spectrum: Spectrum,
    /// Summaries, the default curve, the spectrum and `pair_mean_auc`.
    pub report: Report,
}

impl Measured {
    fn new(spectrum: Spectrum, task: Task, options: Options, pair_mean_auc: Option<f64>) -> Self {
        let report = Report::new(&spectrum, task, &Grid::default(), options)
            .with_pair_mean_auc(pair_mean_auc);
        Measured { spectrum, report }
    }

    /// The report as `runner align --json` prints it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.report).expect("a report of finite numbers serialises")
    }
}

/// The task named by `name` (`binary`, `multiclass`, `regression`), or the one the labels are
/// (binary for 2 distinct values, multi-class for up to [`MAX_INFERRED_CLASSES`] integers).
pub fn task(name: Option<&str>, labels: &[f64]) -> Result<Task, Error> {
    match name {
        Some("binary") => Ok(Task::Binary),
        Some("multiclass") => Ok(Task::Multiclass),
        Some("regression") => Ok(Task::Regression),
        Some(other) => Err(Error(format!(
            "task {other:?}: expected \"binary\", \"multiclass\" or \"regression\""
        ))),
        None => Task::infer(labels, MAX_INFERRED_CLASSES).ok_or_else(|| {
            Error(format!(
                "cannot tell the task from the labels (binary needs 2 distinct values, \
                 multiclass up to {MAX_INFERRED_CLASSES} distinct integers): pass \
                 task=\"binary\", \"multiclass\" or \"regression\""
            ))
        }),
    }
}

/// A threshold grid by name: `normalized` (with `points` thresholds) or `demo`.
pub fn grid(name: &str, points: usize) -> Result<Grid, Error> {
    match name {
        "normalized" => Ok(Grid::Normalized { points }),
        "demo" => Ok(Grid::Demo),
        other => Err(Error(format!(
            "grid {other:?}: expected \"normalized\" or \"demo\""
        ))),
    }
}

/// Checks that `len` values are whole rows of `cols` features and that there is one label per
/// row; returns the number of rows.
fn rows_of(len: usize, cols: usize, labels: usize) -> Result<usize, Error> {
    if cols == 0 || len == 0 {
        return Err(Error(format!(
            "empty features: {} rows x {cols} columns",
            len.checked_div(cols).unwrap_or(0)
        )));
    }
    if !len.is_multiple_of(cols) {
        return Err(Error(format!(
            "{len} feature values are not whole rows of {cols} columns"
        )));
    }
    let rows = len / cols;
    if labels != rows {
        return Err(Error(format!(
            "{labels} labels for {rows} rows of features"
        )));
    }
    Ok(rows)
}

/// The measure of `features` (row-major, `cols` columns) against `labels`, as `runner align`
/// computes it: the whole spectrum against the task's targets, and for three or more classes the
/// mean pair auc.
pub fn align<T: Copy + Into<f64> + Sync>(
    features: &[T],
    cols: usize,
    labels: &[f64],
    task_name: Option<&str>,
    options: Options,
) -> Result<Measured, Error> {
    rows_of(features.len(), cols, labels.len())?;
    let task = task(task_name, labels)?;
    let targets = Targets::new(task, labels)?;
    let spectrum = measure(features, cols, &targets, options)?;
    let pair_mean_auc = if task == Task::Multiclass && targets.classes().len() >= 3 {
        let mut acc = ClassAccumulator::new(cols, targets.classes(), options)?;
        acc.push(features, labels)?;
        Some(acc.pair_mean_auc(None)?)
    } else {
        None
    };
    Ok(Measured::new(spectrum, task, options, pair_mean_auc))
}

/// The measure over minibatches: rows arrive in any order and batch size, streams of disjoint
/// rows merge, and the result equals the whole matrix's to rounding. Holds at most the rows
/// below the Gram switch point or one Gram per class: its largest size is checked against a
/// limit when it is made, before anything is allocated.
#[derive(Debug, Clone)]
pub struct Stream {
    acc: ClassAccumulator,
    d: usize,
    options: Options,
}

impl Stream {
    /// A stream of rows of `d` features labelled with one of `classes` (two or more distinct,
    /// finite values), refused when it could need more than `max_memory` bytes.
    pub fn new(
        d: usize,
        classes: &[f64],
        options: Options,
        max_memory: u64,
    ) -> Result<Self, Error> {
        if d == 0 {
            return Err(Error("d = 0: the features need at least one column".into()));
        }
        let bound = Self::memory_bound(d, classes.len(), options);
        if bound > u128::from(max_memory) {
            return Err(Error(format!(
                "measuring {d} features in {} classes can hold up to {:.1} GiB (one {p} x {p} Gram \
                 per class), more than max_memory = {:.1} GiB: pool the features first (for \
                 example average over space) or raise max_memory",
                classes.len(),
                bound as f64 / f64::from(1u32 << 30),
                max_memory as f64 / f64::from(1u32 << 30),
                p = options.columns(d),
            )));
        }
        Ok(Stream {
            acc: ClassAccumulator::new(d, classes, options)?,
            d,
            options,
        })
    }

    /// The most bytes a stream of `d` features in `classes` classes holds, however many rows.
    pub fn memory_bound(d: usize, classes: usize, options: Options) -> u128 {
        // Past `classes * p` rows the per-class Grams replace the rows: the bound stops growing.
        let rows = classes.saturating_mul(options.columns(d)).saturating_add(1);
        ClassAccumulator::memory_bound(rows, d, classes, options)
    }

    /// Features per row.
    pub fn d(&self) -> usize {
        self.d
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.acc.rows()
    }

    /// The classes, ascending.
    pub fn classes(&self) -> &[f64] {
        self.acc.classes()
    }

    /// Adds a batch (row-major, `d` columns, one label per row). On an error nothing is added.
    pub fn update<T: Copy + Into<f64> + Sync>(
        &mut self,
        features: &[T],
        labels: &[f64],
    ) -> Result<(), Error> {
        rows_of(features.len(), self.d, labels.len())?;
        self.acc.push(features, labels)?;
        Ok(())
    }

    /// Adds the rows of another stream of the same features, classes and options.
    pub fn merge(&mut self, other: &Stream) -> Result<(), Error> {
        if other.d != self.d || other.options != self.options {
            return Err(Error(format!(
                "cannot merge a stream of {} features ({:?}) into one of {} features ({:?})",
                other.d, other.options, self.d, self.options
            )));
        }
        self.acc.merge(other.acc.clone())?;
        Ok(())
    }

    /// The measure of every row so far (for three or more classes with the mean pair auc).
    pub fn compute(&self) -> Result<Measured, Error> {
        let task = self.acc.task();
        if task == Task::Binary {
            return Ok(Measured::new(self.acc.finish()?, task, self.options, None));
        }
        let (spectrum, pair_mean) = self.acc.finish_with_pair_mean(None)?;
        Ok(Measured::new(spectrum, task, self.options, Some(pair_mean)))
    }
}
