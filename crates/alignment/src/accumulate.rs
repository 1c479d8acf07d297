//! Streaming accumulation of `Phi` into the quantities the spectrum is read from.
//!
//! Rows arrive in batches (any order, any batch sizes). With `p` columns of `Phi`:
//! - while at most `p` rows have arrived, the rows of `Phi` and `Y` are kept (n x p);
//! - once more than `p` rows have arrived, they are folded into `G = Phi^T Phi` (p x p, lower
//!   triangle) and `B = Phi^T Y` (p x c), and every later batch is added to those.
//!
//! [`Accumulator::finish`] then eigendecomposes `K = Phi Phi^T` (n <= p) or `G` (n > p) in f64.
//! Memory is `O(min(n, p) * p)` whatever the number of rows.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::evd::tridiag;
use faer::linalg::householder;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Conj, Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::tridiagonal::eigen_rotate;
use crate::{AlignError, Spectrum, Targets};

/// How `Phi` is built from the features `F`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Append a constant 1 column (stands in for the bias of a linear model on top).
    pub bias_column: bool,
    /// Scale every row of `Phi` to unit L2 norm (all-zero rows stay zero).
    pub row_normalize: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bias_column: true,
            row_normalize: true,
        }
    }
}

impl Options {
    /// Number of columns of `Phi` for `d` features.
    pub fn columns(&self, d: usize) -> usize {
        d + usize::from(self.bias_column)
    }
}

/// What the host and the device accumulators both track besides their sums (shape, rows seen,
/// label energy), with the checks and errors they share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tally {
    pub d: usize,
    pub p: usize,
    pub c: usize,
    pub options: Options,
    pub n: usize,
    pub label_energy: f64,
}

impl Tally {
    #[track_caller]
    pub fn new(d: usize, c: usize, options: Options) -> Self {
        assert!(c >= 1, "an accumulator needs at least one target column");
        Tally {
            d,
            p: options.columns(d),
            c,
            options,
            n: 0,
            label_energy: 0.0,
        }
    }

    /// The number of rows in a batch of row-major targets, or why the batch is bad.
    pub fn rows_of(&self, targets: &[f64]) -> Result<usize, AlignError> {
        if !targets.len().is_multiple_of(self.c) {
            return Err(AlignError::RaggedBatch {
                len: targets.len(),
                width: self.c,
            });
        }
        if let Some(i) = targets.iter().position(|v| !v.is_finite()) {
            return Err(AlignError::NonFiniteLabel {
                row: self.n + i / self.c,
                value: targets[i],
            });
        }
        Ok(targets.len() / self.c)
    }

    /// The error for the non-finite `value` at flat index `i` of a row-major batch.
    pub fn non_finite_feature(&self, i: usize, value: f64) -> AlignError {
        AlignError::NonFiniteFeature {
            row: self.n + i / self.d.max(1),
            col: i % self.d.max(1),
            value,
        }
    }

    /// Adds a batch's targets to the label energy.
    pub fn add_energy(&mut self, targets: &[f64]) {
        self.label_energy += targets.iter().map(|v| v * v).sum::<f64>();
    }

    /// Whether there is anything to eigendecompose.
    pub fn check_finish(&self) -> Result<(), AlignError> {
        if self.n == 0 {
            return Err(AlignError::Empty {
                what: "no rows".into(),
            });
        }
        if self.p == 0 {
            return Err(AlignError::Empty {
                what: "no feature columns and no bias column".into(),
            });
        }
        Ok(())
    }

    /// The spectrum from the kept singular values and their label energies.
    pub fn spectrum(&self, (sigma, energy): (Vec<f64>, Vec<f64>)) -> Spectrum {
        Spectrum {
            n: self.n,
            p: self.p,
            columns: self.c,
            label_energy: self.label_energy,
            sigma,
            energy,
        }
    }
}

/// Rows are turned into `Phi` and folded into `G` in chunks of about this many bytes (at least
/// [`MIN_CHUNK_ROWS`], at most [`MAX_CHUNK_ROWS`] rows), so a large batch never needs more than
/// one chunk of extra memory, and the chunks are tall enough for the Gram update to run near the
/// CPU's peak (at `p = 513`, 4096-row chunks fold 10,000 rows in 0.047 s, 1024-row chunks in
/// 0.061 s; AMD EPYC model 1, 2 threads).
const CHUNK_BYTES: usize = 16 << 20;
const MIN_CHUNK_ROWS: usize = 256;
const MAX_CHUNK_ROWS: usize = 4096;

/// Rows per chunk for `p` columns of `Phi`.
fn chunk_rows(p: usize) -> usize {
    (CHUNK_BYTES / (8 * p.max(1))).clamp(MIN_CHUNK_ROWS, MAX_CHUNK_ROWS)
}

#[derive(Clone)]
enum State {
    /// Row-major `Phi` (n x p) and `Y` (n x c), kept while n <= p.
    Rows { phi: Vec<f64>, y: Vec<f64> },
    /// Lower triangle of `G = Phi^T Phi` and `B = Phi^T Y`.
    Gram { g: Mat<f64>, b: Mat<f64> },
}

/// Streams rows of a representation and its targets; see the module docs.
#[derive(Clone)]
pub struct Accumulator {
    t: Tally,
    state: State,
}

impl std::fmt::Debug for Accumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accumulator")
            .field("tally", &self.t)
            .field("gram", &matches!(self.state, State::Gram { .. }))
            .finish()
    }
}

impl Accumulator {
    /// An empty accumulator for `d` features and `c >= 1` target columns.
    #[track_caller]
    pub fn new(d: usize, c: usize, options: Options) -> Self {
        Accumulator {
            t: Tally::new(d, c, options),
            state: State::Rows {
                phi: Vec::new(),
                y: Vec::new(),
            },
        }
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.t.n
    }

    /// An upper bound on the bytes that measuring `n` rows of `d` features with `c` target
    /// columns holds at once: the kept rows of `Phi` and `Y` or the Gram and `B` (f64), the
    /// `min(n, p)`-square matrix and eigenvectors of the decomposition, and a spectrum. Without
    /// overflow (`u128`), so a caller can refuse a size before allocating it.
    pub fn memory_bound(n: usize, d: usize, c: usize, options: Options) -> u128 {
        let (n, p, c) = (n as u128, options.columns(d) as u128, c as u128);
        let m = n.min(p);
        8 * (m * (p + c) + p * c + 3 * m * m + 4 * m)
    }

    /// Adds a batch: `features` is row-major (rows x d), `targets` row-major (rows x c) as
    /// encoded by [`Targets`]. Errors (and leaves the accumulator unchanged) on a non-finite
    /// value, naming its row (counted over all batches) and column.
    pub fn push<T: Copy + Into<f64> + Sync>(
        &mut self,
        features: &[T],
        targets: &[f64],
    ) -> Result<(), AlignError> {
        let t = self.t;
        let rows = t.rows_of(targets)?;
        if features.len() != rows * t.d {
            if t.d > 0 && features.len().is_multiple_of(t.d) {
                return Err(AlignError::LabelCount {
                    labels: rows,
                    rows: features.len() / t.d,
                });
            }
            return Err(AlignError::RaggedBatch {
                len: features.len(),
                width: t.d,
            });
        }
        if let Some(i) = features.iter().position(|v| !(*v).into().is_finite()) {
            return Err(t.non_finite_feature(i, features[i].into()));
        }
        // One buffer for every chunk: a fresh allocation per chunk costs a page fault per 4 KiB
        // (a third of the time of folding 10,000 x 513 rows).
        let chunk = chunk_rows(t.p);
        let mut phi = Vec::with_capacity(chunk.min(rows) * t.p);
        for start in (0..rows).step_by(chunk) {
            let end = (start + chunk).min(rows);
            phi.clear();
            phi_rows_into(
                &mut phi,
                &features[start * t.d..end * t.d],
                end - start,
                t.d,
                t.options,
            );
            self.add(&phi, &targets[start * t.c..end * t.c]);
        }
        self.t.add_energy(targets);
        Ok(())
    }

    fn add(&mut self, phi_batch: &[f64], y_batch: &[f64]) {
        let Tally { p, c, n, .. } = self.t;
        let rows = y_batch.len() / c;
        if let State::Rows { phi, y } = &mut self.state {
            if n + rows <= p {
                phi.extend_from_slice(phi_batch);
                y.extend_from_slice(y_batch);
                self.t.n += rows;
                return;
            }
            let mut g = Mat::zeros(p, p);
            let mut b = Mat::zeros(p, c);
            fold(&mut g, &mut b, phi, y, p, c);
            self.state = State::Gram { g, b };
        }
        if let State::Gram { g, b } = &mut self.state {
            fold(g, b, phi_batch, y_batch, p, c);
        }
        self.t.n += rows;
    }

    /// Adds everything `other` accumulated, as if its rows had been pushed here: any split of
    /// the rows, merged, gives the spectrum of the whole (to rounding). For workers or
    /// distributed ranks that each accumulate a share. Errors when the two were made for
    /// different shapes or options.
    pub fn merge(&mut self, other: Accumulator) -> Result<(), AlignError> {
        let (a, b) = (self.t, other.t);
        if (a.d, a.c, a.options) != (b.d, b.c, b.options) {
            return Err(AlignError::Mismatch(format!(
                "cannot merge an accumulator of {} features and {} target columns ({:?}) into one of {} and {} ({:?})",
                b.d, b.c, b.options, a.d, a.c, a.options
            )));
        }
        match other.state {
            State::Rows { phi, y } => {
                if !y.is_empty() {
                    self.add(&phi, &y);
                }
            }
            State::Gram { g: og, b: ob } => {
                let (g, bm) = self.gram_mut();
                *g += &og;
                *bm += &ob;
                self.t.n += b.n;
            }
        }
        self.t.label_energy += b.label_energy;
        Ok(())
    }

    /// The Gram state, folding the kept rows into it first when there are any.
    fn gram_mut(&mut self) -> (&mut Mat<f64>, &mut Mat<f64>) {
        let Tally { p, c, .. } = self.t;
        if let State::Rows { phi, y } = &self.state {
            let mut g = Mat::zeros(p, p);
            let mut b = Mat::zeros(p, c);
            fold(&mut g, &mut b, phi, y, p, c);
            self.state = State::Gram { g, b };
        }
        match &mut self.state {
            State::Gram { g, b } => (g, b),
            State::Rows { .. } => unreachable!("converted above"),
        }
    }

    /// The kept rows of `Phi` (row-major), while they are kept (n <= p).
    pub(crate) fn kept_rows(&self) -> Option<&[f64]> {
        match &self.state {
            State::Rows { phi, .. } => Some(phi),
            State::Gram { .. } => None,
        }
    }

    /// `(G, B)` (lower triangle of G), folding the kept rows when there are any.
    pub(crate) fn gram(&self) -> (Mat<f64>, Mat<f64>) {
        let Tally { p, c, .. } = self.t;
        match &self.state {
            State::Rows { phi, y } => {
                let mut g = Mat::zeros(p, p);
                let mut b = Mat::zeros(p, c);
                fold(&mut g, &mut b, phi, y, p, c);
                (g, b)
            }
            State::Gram { g, b } => (g.clone(), b.clone()),
        }
    }

    /// Eigendecomposes what was accumulated and returns the exact spectrum.
    pub fn finish(self) -> Result<Spectrum, AlignError> {
        let t = self.t;
        t.check_finish()?;
        let paths = match &self.state {
            State::Rows { phi, y } => kernel_path(phi, y, t.n, t.p, t.c)?,
            State::Gram { g, b } => gram_path(g.as_ref(), b.as_ref(), t.n)?,
        };
        Ok(t.spectrum(paths))
    }
}

/// The alignment spectrum of a whole row-major feature matrix (rows x d) against `targets`.
pub fn measure<T: Copy + Into<f64> + Sync>(
    features: &[T],
    d: usize,
    targets: &Targets,
    options: Options,
) -> Result<Spectrum, AlignError> {
    let rows = if d == 0 {
        targets.len()
    } else {
        if !features.len().is_multiple_of(d) {
            return Err(AlignError::RaggedBatch {
                len: features.len(),
                width: d,
            });
        }
        features.len() / d
    };
    if rows != targets.len() {
        return Err(AlignError::LabelCount {
            labels: targets.len(),
            rows,
        });
    }
    let mut acc = Accumulator::new(d, targets.columns(), options);
    acc.push(features, targets.values())?;
    acc.finish()
}

/// Row-major `Phi` (`rows x p`) for row-major features (`rows x d`): the bias column appended
/// and rows scaled to unit norm as `options` say.
pub fn phi_rows<T: Copy + Into<f64> + Sync>(
    features: &[T],
    rows: usize,
    d: usize,
    options: Options,
) -> Vec<f64> {
    let mut phi = Vec::with_capacity(rows * options.columns(d));
    phi_rows_into(&mut phi, features, rows, d, options);
    phi
}

/// [`phi_rows`] appended to `phi`. Rows are independent, so with faer's global parallelism above
/// one thread (the Python package; the runner measures on one thread per job) large batches are
/// split between that many scoped threads: the same numbers, in a third less time at 10,000 x 513.
fn phi_rows_into<T: Copy + Into<f64> + Sync>(
    phi: &mut Vec<f64>,
    features: &[T],
    rows: usize,
    d: usize,
    options: Options,
) {
    debug_assert_eq!(features.len(), rows * d);
    let p = options.columns(d);
    let start = phi.len();
    phi.resize(start + rows * p, 0.0);
    if p == 0 {
        return;
    }
    let out = &mut phi[start..];
    let threads = faer::get_global_parallelism().degree().clamp(1, 16);
    if threads == 1 || d == 0 || rows * p < PARALLEL_VALUES {
        fill_rows(out, features, d, p, options);
        return;
    }
    let per = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (o, f) in out.chunks_mut(per * p).zip(features.chunks(per * d)) {
            scope.spawn(move || fill_rows(o, f, d, p, options));
        }
    });
}

/// Batches of fewer values are built on the calling thread.
const PARALLEL_VALUES: usize = 1 << 18;

/// Rows of `Phi` (`out`, `p` columns) from rows of features (`d` columns).
fn fill_rows<T: Copy + Into<f64>>(
    out: &mut [f64],
    features: &[T],
    d: usize,
    p: usize,
    options: Options,
) {
    for (i, out) in out.chunks_exact_mut(p).enumerate() {
        for (o, &v) in out.iter_mut().zip(&features[i * d..(i + 1) * d]) {
            *o = v.into();
        }
        if options.bias_column {
            out[d] = 1.0;
        }
        if options.row_normalize {
            let norm = sum_of_squares(out).sqrt();
            if norm > 0.0 {
                out.iter_mut().for_each(|v| *v /= norm);
            }
        }
    }
}

/// `sum v_i^2` in eight interleaved partial sums (the compiler keeps them in vector registers;
/// one running sum would wait on every addition's latency).
fn sum_of_squares(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for k in 0..8 {
            acc[k] += c[k] * c[k];
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|x| x * x).sum();
    let (a, b) = acc.split_at(4);
    let pairs = [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
    (pairs[0] + pairs[2]) + (pairs[1] + pairs[3]) + tail
}

/// `G += Phi^T Phi` (lower triangle) and `B += Phi^T Y` for a row-major batch.
pub(crate) fn fold(g: &mut Mat<f64>, b: &mut Mat<f64>, phi: &[f64], y: &[f64], p: usize, c: usize) {
    let rows = y.len() / c;
    if rows == 0 {
        return;
    }
    let phi = MatRef::from_row_major_slice(phi, rows, p);
    let y = MatRef::from_row_major_slice(y, rows, c);
    let par = faer::get_global_parallelism();
    triangular::matmul(
        g.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Add,
        phi.transpose(),
        BlockStructure::Rectangular,
        phi,
        BlockStructure::Rectangular,
        1.0,
        par,
    );
    matmul(b.as_mut(), Accum::Add, phi.transpose(), y, 1.0, par);
}

/// Eigenvalues at or below `lambda_max * max(n, p) * 2^-52` are outside the rank.
pub(crate) fn rank_cutoff(lambda_max: f64, n: usize, p: usize) -> f64 {
    lambda_max * n.max(p) as f64 * f64::EPSILON
}

/// Indices of the eigenvalues inside the rank, largest first (faer returns them ascending).
fn kept(lambda: &[f64], n: usize, p: usize) -> Vec<usize> {
    let lambda_max = lambda.iter().copied().fold(0.0, f64::max);
    if lambda_max <= 0.0 {
        return vec![];
    }
    let cutoff = rank_cutoff(lambda_max, n, p);
    let mut idx: Vec<usize> = (0..lambda.len()).filter(|&i| lambda[i] > cutoff).collect();
    idx.sort_by(|&a, &b| lambda[b].total_cmp(&lambda[a]));
    idx
}

/// p >= n: eigendecompose `K = Phi Phi^T`, `e_i = ||u_i^T Y||^2`.
pub(crate) fn kernel_path(
    phi: &[f64],
    y: &[f64],
    n: usize,
    p: usize,
    c: usize,
) -> Result<(Vec<f64>, Vec<f64>), AlignError> {
    let phi = MatRef::from_row_major_slice(phi, n, p);
    let mut k = Mat::zeros(n, n);
    triangular::matmul(
        k.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        phi,
        BlockStructure::Rectangular,
        phi.transpose(),
        BlockStructure::Rectangular,
        1.0,
        faer::get_global_parallelism(),
    );
    kernel_from_matrix(k, y, n, p, c)
}

/// The kernel path from `K = Phi Phi^T` itself (lower triangle read), with `Y` row-major n x c.
pub(crate) fn kernel_from_matrix(
    k: Mat<f64>,
    y: &[f64],
    n: usize,
    p: usize,
    c: usize,
) -> Result<(Vec<f64>, Vec<f64>), AlignError> {
    let y = MatRef::from_row_major_slice(y, n, c);
    let (lambda, uy) = eigen_projected(k.as_ref(), y, "kernel Phi Phi^T")?; // n x c
    let idx = kept(&lambda, n, p);
    let sigma = idx.iter().map(|&i| lambda[i].sqrt()).collect();
    let energy = idx
        .iter()
        .map(|&i| (0..c).map(|j| uy[(i, j)] * uy[(i, j)]).sum())
        .collect();
    Ok((sigma, energy))
}

/// p < n: eigendecompose `G = Phi^T Phi` (lower triangle), `e_i = ||v_i^T B||^2 / lambda_i`.
pub(crate) fn gram_path(
    g: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    n: usize,
) -> Result<(Vec<f64>, Vec<f64>), AlignError> {
    let p = g.nrows();
    let c = b.ncols();
    let (lambda, vb) = eigen_projected(g, b, "Gram Phi^T Phi")?; // p x c
    let idx = kept(&lambda, n, p);
    let sigma = idx.iter().map(|&i| lambda[i].sqrt()).collect();
    let energy = idx
        .iter()
        .map(|&i| (0..c).map(|j| vb[(i, j)] * vb[(i, j)]).sum::<f64>() / lambda[i])
        .collect();
    Ok((sigma, energy))
}

/// The eigenvalues (ascending) of the symmetric matrix `A` whose lower triangle is `a`, and
/// `U^T R` for its orthonormal eigenvectors `U`, without forming `U`.
///
/// `A = Q T Q^T` (faer's Householder tridiagonalisation) and `T = W S W^T`, so `U = Q W` and
/// `U^T R = W^T (Q^T R)`. `Q^T` is applied to the `c` columns of `R` (not `Q` to the `m` columns
/// of `W`: that skips the `2 m^3` back-transformation), and `W^T` as the QL iteration on `T`
/// makes its rotations ([`eigen_rotate`]: `W` is never formed). At m = 513 on two threads:
/// 0.026 s against 0.037-0.067 s for faer's full decomposition (AMD EPYC model 1). Eigenvalues
/// and `U^T R` agree with the full decomposition to rounding (checked in the tests).
pub(crate) fn eigen_projected(
    a: MatRef<'_, f64>,
    r: MatRef<'_, f64>,
    which: &'static str,
) -> Result<(Vec<f64>, Mat<f64>), AlignError> {
    let m = a.nrows();
    let c = r.ncols();
    debug_assert_eq!((a.ncols(), r.nrows()), (m, m));
    if m <= 1 {
        let lambda = (0..m).map(|i| a[(i, i)]).collect();
        return Ok((lambda, r.to_owned()));
    }
    let par = faer::get_global_parallelism();
    let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(m, m);
    let mut mem =
        MemBuffer::new(StackReq::any_of(&[
            tridiag::tridiag_in_place_scratch::<f64>(m, par, Default::default()),
            householder::apply_block_householder_sequence_transpose_on_the_left_in_place_scratch::<
                f64,
            >(m - 1, bs, c),
        ]));
    let stack = MemStack::new(&mut mem);
    let mut trid = Mat::<f64>::zeros(m, m);
    trid.copy_from_triangular_lower(a);
    let mut factors = Mat::<f64>::zeros(bs, m - 1);
    tridiag::tridiag_in_place(
        trid.as_mut(),
        factors.as_mut(),
        par,
        stack,
        Default::default(),
    );
    // Q^T R: the reflectors sit below the subdiagonal and act on rows 1..m.
    let mut qr = r.to_owned();
    householder::apply_block_householder_sequence_transpose_on_the_left_in_place_with_conj(
        trid.as_ref().submatrix(1, 0, m - 1, m - 1),
        factors.as_ref(),
        Conj::No,
        qr.as_mut().subrows_mut(1, m - 1),
        par,
        stack,
    );
    let mut lambda: Vec<f64> = (0..m).map(|i| trid[(i, i)]).collect();
    let mut sub: Vec<f64> = (0..m)
        .map(|i| if i + 1 < m { trid[(i + 1, i)] } else { 0.0 })
        .collect();
    let mut y: Vec<f64> = (0..m)
        .flat_map(|i| (0..c).map(move |j| (i, j)))
        .map(|(i, j)| qr[(i, j)])
        .collect();
    eigen_rotate(&mut lambda, &mut sub, &mut y, c)
        .map_err(|()| AlignError::Eigen { which, size: m })?;
    Ok((lambda, Mat::from_fn(m, c, |i, j| y[i * c + j])))
}
