//! The Python module `repalign._repalign`: numpy arrays in (float32 or float64, C-contiguous,
//! read in place), numbers and numpy arrays out, the GIL released while the measure runs.
//! Everything else a user may pass (lists, integers, Fortran-ordered or strided arrays, CPU
//! torch tensors) is converted, explicitly, by `python/repalign/__init__.py` before it gets
//! here; this module still refuses what it cannot read in place rather than guess.

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use repalign_alignment::Options;

use crate::{DEFAULT_MAX_MEMORY, Error, Measured, Stream};

pyo3::create_exception!(
    repalign,
    AlignmentError,
    PyValueError,
    "An input the measure refuses; the message names the row, column, shape or value."
);

fn err(e: Error) -> PyErr {
    AlignmentError::new_err(e.0)
}

/// A 2-D float array read in place.
enum Features<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

impl Features<'_> {
    fn cols(&self) -> usize {
        match self {
            Features::F32(a) => a.shape()[1],
            Features::F64(a) => a.shape()[1],
        }
    }
}

fn features<'py>(x: &Bound<'py, PyAny>) -> PyResult<Features<'py>> {
    let f = if let Ok(a) = x.cast::<PyArray2<f64>>() {
        Features::F64(a.readonly())
    } else if let Ok(a) = x.cast::<PyArray2<f32>>() {
        Features::F32(a.readonly())
    } else {
        return Err(AlignmentError::new_err(
            "features must be a 2-D float32 or float64 numpy array (repalign.alignment converts \
             other inputs)",
        ));
    };
    // rust-numpy's `as_slice` also accepts Fortran order, whose values in row-major order are
    // the transpose's: only C order is read in place.
    let c_order = match &f {
        Features::F32(a) => a.is_c_contiguous(),
        Features::F64(a) => a.is_c_contiguous(),
    };
    if !c_order {
        return Err(AlignmentError::new_err(
            "features are not C-contiguous (Fortran-ordered or strided): pass \
             numpy.ascontiguousarray(features) (repalign.alignment does)",
        ));
    }
    Ok(f)
}

fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray2<'_, T>) -> &'a [T] {
    a.as_slice().expect("checked C-contiguous")
}

fn labels<'a>(y: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    y.as_slice()
        .map_err(|_| AlignmentError::new_err("labels must be a contiguous 1-D float64 array"))
}

/// The measure of one representation: summaries, spectrum, curves, the JSON of `runner align`.
#[pyclass(module = "repalign", name = "Spectrum", frozen)]
pub struct PySpectrum {
    m: Measured,
}

#[pymethods]
impl PySpectrum {
    /// Area under the normalised alignment curve, in [0, 1].
    #[getter]
    fn auc(&self) -> f64 {
        self.m.report.summary.auc
    }
    /// The auc a label vector in a random direction reaches: alignment means something above it.
    #[getter]
    fn auc_null(&self) -> f64 {
        self.m.report.summary.auc_null
    }
    /// Fewest top directions holding 90% of the label energy (None if never reached).
    #[getter]
    fn k90(&self) -> Option<usize> {
        self.m.report.summary.k90
    }
    /// Share of the label energy along the top direction.
    #[getter]
    fn top1(&self) -> f64 {
        self.m.report.summary.top1
    }
    /// Share of the label energy along the top 10 directions.
    #[getter]
    fn top10(&self) -> f64 {
        self.m.report.summary.top10
    }
    /// Kernel-target alignment.
    #[getter]
    fn kta(&self) -> f64 {
        self.m.report.summary.kta
    }
    /// For three or more classes: the mean over class pairs of the binary auc on each pair's rows.
    #[getter]
    fn pair_mean_auc(&self) -> Option<f64> {
        self.m.report.pair_mean_auc
    }
    /// Rows measured.
    #[getter]
    fn n(&self) -> usize {
        self.m.report.n
    }
    /// Columns of `Phi` (features, plus the bias column).
    #[getter]
    fn p(&self) -> usize {
        self.m.report.p
    }
    /// Rank of `Phi`.
    #[getter]
    fn rank(&self) -> usize {
        self.m.report.rank
    }
    /// `binary`, `multiclass` or `regression`.
    #[getter]
    fn task(&self) -> &'static str {
        self.m.report.task.name()
    }
    /// `||Y||_F^2`.
    #[getter]
    fn label_energy(&self) -> f64 {
        self.m.report.label_energy
    }
    /// Singular values of `Phi` inside its rank, largest first.
    #[getter]
    fn sigma<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m.spectrum.sigma.clone())
    }
    /// Label energy along each singular direction, in `sigma`'s order.
    #[getter]
    fn energy<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.m.spectrum.energy.clone())
    }

    /// The alignment curve and its null on a grid: `normalized` (`points` thresholds
    /// `t = tau / sqrt(n)` in [0, 1]) or `demo` (62 raw thresholds in [0, 30]). Values are
    /// `A(tau)`; divide by `label_energy` for fractions.
    #[pyo3(signature = (grid="normalized", points=101))]
    fn curve<'py>(
        &self,
        py: Python<'py>,
        grid: &str,
        points: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let g = crate::grid(grid, points).map_err(err)?;
        let c = self.m.spectrum.curve(&g);
        let out = PyDict::new(py);
        out.set_item("grid", g.name())?;
        out.set_item("thresholds", PyArray1::from_vec(py, c.thresholds))?;
        out.set_item("alignment", PyArray1::from_vec(py, c.alignment))?;
        out.set_item("null", PyArray1::from_vec(py, c.null))?;
        Ok(out)
    }

    /// The report as `runner align --json` prints it.
    fn to_json(&self) -> String {
        self.m.to_json()
    }

    /// The report as a dict, with the keys and numbers of `runner align --json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.m.to_json(),))
    }

    fn __repr__(&self) -> String {
        let s = &self.m.report.summary;
        let pair = self
            .m
            .report
            .pair_mean_auc
            .map(|v| format!(", pair_mean_auc={v:.4}"))
            .unwrap_or_default();
        format!(
            "Spectrum(task={}, n={}, p={}, auc={:.4}, auc_null={:.4}{pair})",
            self.m.report.task.name(),
            self.m.report.n,
            self.m.report.p,
            s.auc,
            s.auc_null
        )
    }
}

/// `alignment(features, labels, *, task=None, bias_column=True, row_normalize=True)` on
/// C-contiguous float32/float64 features and float64 labels.
#[pyfunction]
#[pyo3(signature = (features, labels, *, task=None, bias_column=true, row_normalize=true))]
fn alignment(
    py: Python<'_>,
    features: &Bound<'_, PyAny>,
    labels: PyReadonlyArray1<'_, f64>,
    task: Option<String>,
    bias_column: bool,
    row_normalize: bool,
) -> PyResult<PySpectrum> {
    let f = self::features(features)?;
    let y = self::labels(&labels)?;
    let cols = f.cols();
    let options = Options {
        bias_column,
        row_normalize,
    };
    let task = task.as_deref();
    let m = match &f {
        Features::F32(a) => {
            let x = slice(a);
            py.detach(|| crate::align(x, cols, y, task, options))
        }
        Features::F64(a) => {
            let x = slice(a);
            py.detach(|| crate::align(x, cols, y, task, options))
        }
    }
    .map_err(err)?;
    Ok(PySpectrum { m })
}

/// The measure over minibatches (see `repalign.Accumulator`).
#[pyclass(module = "repalign", name = "_Accumulator")]
pub struct PyAccumulator {
    stream: Stream,
}

#[pymethods]
impl PyAccumulator {
    #[new]
    #[pyo3(signature = (d, classes, *, bias_column=true, row_normalize=true, max_memory=DEFAULT_MAX_MEMORY))]
    fn new(
        d: usize,
        classes: Vec<f64>,
        bias_column: bool,
        row_normalize: bool,
        max_memory: u64,
    ) -> PyResult<Self> {
        let options = Options {
            bias_column,
            row_normalize,
        };
        let stream = Stream::new(d, &classes, options, max_memory).map_err(err)?;
        Ok(PyAccumulator { stream })
    }

    fn update(
        &mut self,
        py: Python<'_>,
        features: &Bound<'_, PyAny>,
        labels: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<()> {
        let f = self::features(features)?;
        let y = self::labels(&labels)?;
        if f.cols() != self.stream.d() {
            return Err(AlignmentError::new_err(format!(
                "a batch of {} features for an accumulator of {}",
                f.cols(),
                self.stream.d()
            )));
        }
        let stream = &mut self.stream;
        match &f {
            Features::F32(a) => {
                let x = slice(a);
                py.detach(|| stream.update(x, y))
            }
            Features::F64(a) => {
                let x = slice(a);
                py.detach(|| stream.update(x, y))
            }
        }
        .map_err(err)
    }

    fn merge(&mut self, other: PyRef<'_, PyAccumulator>) -> PyResult<()> {
        self.stream.merge(&other.stream).map_err(err)
    }

    fn compute(&self, py: Python<'_>) -> PyResult<PySpectrum> {
        let stream = &self.stream;
        let m = py.detach(|| stream.compute()).map_err(err)?;
        Ok(PySpectrum { m })
    }

    #[getter]
    fn rows(&self) -> usize {
        self.stream.rows()
    }

    #[getter]
    fn d(&self) -> usize {
        self.stream.d()
    }

    #[getter]
    fn classes(&self) -> Vec<f64> {
        self.stream.classes().to_vec()
    }

    #[staticmethod]
    #[pyo3(signature = (d, classes, *, bias_column=true, row_normalize=true))]
    fn memory_bound(d: usize, classes: usize, bias_column: bool, row_normalize: bool) -> u128 {
        Stream::memory_bound(
            d,
            classes,
            Options {
                bias_column,
                row_normalize,
            },
        )
    }
}

#[pymodule]
fn _repalign(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("AlignmentError", m.py().get_type::<AlignmentError>())?;
    m.add_class::<PySpectrum>()?;
    m.add_class::<PyAccumulator>()?;
    m.add_function(wrap_pyfunction!(alignment, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
