//! A dense layer on contiguous row-major f32 slices, on faer's GEMM:
//! - forward:         `y[B, d_out]  = x[B, d_in] · W[d_in, d_out] (+ b[d_out] on every row)`
//! - weight gradient: `dW[d_in, d_out] = x^T · dy`
//! - input gradient:  `dx[B, d_in]  = dy · W^T`
//! - bias gradient:   `db[d_out]    = the column sums of dy`
//!
//! burn-flex 0.22's matmul allocates every output as a byte vector and then copies it into a
//! buffer aligned for any element type (`Bytes::from_bytes_vec`): a zero fill and a copy of the
//! whole output per product. Training the depth sweep's MLPs spent 24% of its time in that copy
//! (the weights' gradient of the first layer is 784 x 128 per step); these passes write their
//! outputs once.
//!
//! A product runs on the calling thread unless it is large (at least [`PARALLEL_MACS`]
//! multiply-adds) and the thread's rayon pool has more than one thread: a training step's
//! products (batch 64) finish faster alone than split.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Multiply-adds from which a product is split over the pool's threads.
pub const PARALLEL_MACS: usize = 1 << 24;

/// The sizes of one dense layer applied to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dense {
    /// Rows of the batch.
    pub batch: usize,
    /// Input features.
    pub d_in: usize,
    /// Output features.
    pub d_out: usize,
}

fn par(macs: usize) -> Par {
    let threads = rayon::current_num_threads();
    if macs >= PARALLEL_MACS && threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

pub(crate) fn mat(values: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&values[..rows * cols], rows, cols)
}

/// `out (rows x cols, row-major) = lhs · rhs`.
pub(crate) fn product(lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) -> Vec<f32> {
    let mut out = vec![0.0f32; lhs.nrows() * rhs.ncols()];
    product_into(lhs, rhs, &mut out);
    out
}

/// [`product`] into `out`, which holds exactly `lhs.nrows() x rhs.ncols()` values.
fn product_into(lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>, out: &mut [f32]) {
    let (rows, cols) = (lhs.nrows(), rhs.ncols());
    // Written as the transposed product into a column-major view of `out` (faer 0.24.4's
    // row-major mutable constructor with a stride is wrong, see the GEMM convolution; the
    // plain one is not, but one form for all products keeps it simple).
    let dst = MatMut::from_column_major_slice_mut(out, cols, rows);
    let macs = rows * cols * lhs.ncols();
    matmul(
        dst,
        Accum::Replace,
        rhs.transpose(),
        lhs.transpose(),
        1.0f32,
        par(macs),
    );
}

/// Forward pass: `x[B, d_in]`, `w[d_in, d_out]`, optional `bias[d_out]` -> `y[B, d_out]`.
pub fn forward(s: &Dense, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let mut y = product(mat(x, s.batch, s.d_in), mat(w, s.d_in, s.d_out));
    if let Some(b) = bias {
        for row in y.chunks_mut(s.d_out) {
            for (v, b) in row.iter_mut().zip(b) {
                *v += b;
            }
        }
    }
    y
}

/// Gradient of the weights: `dW[d_in, d_out] = x^T · dy`.
///
/// Row `i` of `dW` is `sum_b x[b, i] dy[b, :]`, so features whose values are the same on every
/// row of the batch, and the same as each other's, have the same row: MNIST's blank background
/// (-1 after scaling) is about half the pixels of a 64-image batch, and a hidden layer's units
/// that are off for the whole batch are all zero. The product runs once for each such value
/// (on the first feature that holds it) and on the features that vary, a run of adjacent
/// features at a time; the other rows are copies. Column `j` of `dW` is zero where column `j`
/// of `dy` is zero on every row (a unit off for the whole batch): when enough are, the product
/// runs on the other columns only ([`live_outputs`]). Each computed value is the same operations
/// on the same numbers as in the full product (the batch is the inner dimension either way,
/// and the product's rows and columns are independent), so the result is the same values, NaN and
/// infinities included; only a zero's sign can differ (faer's products of different widths
/// give a sum of `0 · dy` terms either sign), which no optimizer step tells apart. The tests
/// compare them bit for bit otherwise.
pub fn weight_grad(s: &Dense, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let x_all = mat(x, s.batch, s.d_in);
    let plan = SharedRows::of(s, x);
    let outputs = live_outputs(s, dy, plan.finite);
    if plan.copies.is_empty() && outputs.is_none() {
        return product(x_all.transpose(), mat(dy, s.batch, s.d_out));
    }
    let mut dw = vec![0.0f32; s.d_in * s.d_out];
    match outputs {
        None => {
            for &(start, end) in &plan.runs {
                product_into(
                    x_all.subcols(start, end - start).transpose(),
                    mat(dy, s.batch, s.d_out),
                    &mut dw[start * s.d_out..end * s.d_out],
                );
            }
        }
        // Every output column of `dy` is zero: so is `dW` (`x` is finite).
        Some(cols) if cols.is_empty() => return dw,
        Some(cols) => {
            // The live columns of `dy` side by side; each run's rows are scattered back.
            let m = cols.len();
            let mut dy_live = Vec::with_capacity(s.batch * m);
            for row in dy.chunks(s.d_out).take(s.batch) {
                dy_live.extend(cols.iter().map(|&j| row[j]));
            }
            let widest = plan.runs.iter().map(|(a, b)| b - a).max().unwrap_or(0);
            let mut part = vec![0.0f32; widest * m];
            for &(start, end) in &plan.runs {
                let part = &mut part[..(end - start) * m];
                product_into(
                    x_all.subcols(start, end - start).transpose(),
                    mat(&dy_live, s.batch, m),
                    part,
                );
                for (row, values) in dw[start * s.d_out..end * s.d_out]
                    .chunks_mut(s.d_out)
                    .zip(part.chunks(m))
                {
                    for (&j, &v) in cols.iter().zip(values) {
                        row[j] = v;
                    }
                }
            }
        }
    }
    for &(to, from) in &plan.copies {
        dw.copy_within(from * s.d_out..(from + 1) * s.d_out, to * s.d_out);
    }
    dw
}

/// The output columns of `dy` with a nonzero value on some row of the batch, when at least an
/// eighth of them (and at least one) are zero on every row and `x` is finite: column `j` of
/// `dW` is then `sum_b x[b, :] · 0`, zero. (A unit off for the whole batch passes back zeros:
/// about a third of a deep shuffled-label MLP's hidden units late in training.)
fn live_outputs(s: &Dense, dy: &[f32], x_finite: bool) -> Option<Vec<usize>> {
    if !x_finite || s.batch == 0 {
        return None;
    }
    // Magnitude bits, so -0 counts as zero and NaN as live. (Words: a vectorised loop.)
    let mut live = vec![0u32; s.d_out];
    for row in dy.chunks(s.d_out.max(1)).take(s.batch) {
        for (l, v) in live.iter_mut().zip(row) {
            *l |= v.to_bits() & 0x7fff_ffff;
        }
    }
    let cols: Vec<usize> = (0..s.d_out).filter(|&j| live[j] != 0).collect();
    let dead = s.d_out - cols.len();
    (dead > 0 && dead * 8 >= s.d_out).then_some(cols)
}

/// Computed features closer than this many copied ones are computed as one run: a product per
/// run costs a call, and a narrow one runs faer's edge kernels.
const MERGE_GAP: usize = 8;

/// At most this many distinct constant values are shared; features holding others are computed.
const MAX_SHARED: usize = 4;

/// Which rows of the weights' gradient [`weight_grad`] computes, and which it copies.
struct SharedRows {
    /// Runs `[start, end)` of features to compute, less than [`MERGE_GAP`] apart merged.
    runs: Vec<(usize, usize)>,
    /// `(feature, the computed feature with the same constant value)`, outside every run.
    copies: Vec<(usize, usize)>,
    /// No value of the batch is infinite or NaN.
    finite: bool,
}

impl SharedRows {
    fn of(s: &Dense, x: &[f32]) -> Self {
        let mut rows = x.chunks(s.d_in.max(1)).take(s.batch);
        let Some(first) = rows.next() else {
            return Self {
                runs: vec![(0, s.d_in)],
                copies: Vec::new(),
                finite: true,
            };
        };
        // Bitwise equality: -0 is not +0, and a NaN column is constant only as the same NaN.
        // (As words, not booleans, for a loop the compiler vectorises.)
        let mut constant = vec![1u32; s.d_in];
        let exponent = |v: &f32| u32::from(v.to_bits() & 0x7f80_0000 == 0x7f80_0000);
        let mut infinite = first.iter().fold(0, |a, v| a | exponent(v));
        for row in rows {
            for ((c, v), f) in constant.iter_mut().zip(row).zip(first) {
                *c &= u32::from(v.to_bits() == f.to_bits());
                infinite |= exponent(v);
            }
        }
        // The first feature holding each shared value is computed; later ones are copied.
        let mut shared: Vec<(u32, usize)> = Vec::with_capacity(MAX_SHARED);
        let mut copy_of = vec![None; s.d_in];
        for (i, _) in constant.iter().enumerate().filter(|(_, c)| **c == 1) {
            let bits = first[i].to_bits();
            match shared.iter().find(|(b, _)| *b == bits) {
                Some(&(_, from)) => copy_of[i] = Some(from),
                None if shared.len() < MAX_SHARED => shared.push((bits, i)),
                None => {}
            }
        }
        let (mut runs, mut copies): (Vec<(usize, usize)>, _) = (Vec::new(), Vec::new());
        for (i, from) in copy_of.into_iter().enumerate() {
            match from {
                Some(from) => copies.push((i, from)),
                None => match runs.last_mut() {
                    Some((_, end)) if i - *end < MERGE_GAP => *end = i + 1,
                    _ => runs.push((i, i + 1)),
                },
            }
        }
        // Copies inside a merged run are computed with it.
        copies.retain(|&(i, _)| !runs.iter().any(|&(a, b)| (a..b).contains(&i)));
        Self {
            runs,
            copies,
            finite: infinite == 0,
        }
    }
}

/// Gradient of the input: `dx[B, d_in] = dy · W^T`.
pub fn input_grad(s: &Dense, w: &[f32], dy: &[f32]) -> Vec<f32> {
    product(
        mat(dy, s.batch, s.d_out),
        mat(w, s.d_in, s.d_out).transpose(),
    )
}

/// Gradient of the bias: the column sums of `dy[B, d_out]`, row after row.
pub fn bias_grad(s: &Dense, dy: &[f32]) -> Vec<f32> {
    let mut db = vec![0.0f32; s.d_out];
    for row in dy.chunks(s.d_out).take(s.batch) {
        for (d, v) in db.iter_mut().zip(row) {
            *d += v;
        }
    }
    db
}
