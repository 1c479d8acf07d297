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

fn mat(values: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&values[..rows * cols], rows, cols)
}

/// `out (rows x cols, row-major) = lhs · rhs`.
fn product(lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>) -> Vec<f32> {
    let (rows, cols) = (lhs.nrows(), rhs.ncols());
    let mut out = vec![0.0f32; rows * cols];
    // Written as the transposed product into a column-major view of `out` (faer 0.24.4's
    // row-major mutable constructor with a stride is wrong, see the GEMM convolution; the
    // plain one is not, but one form for all products keeps it simple).
    let dst = MatMut::from_column_major_slice_mut(&mut out, cols, rows);
    let macs = rows * cols * lhs.ncols();
    matmul(
        dst,
        Accum::Replace,
        rhs.transpose(),
        lhs.transpose(),
        1.0f32,
        par(macs),
    );
    out
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
pub fn weight_grad(s: &Dense, x: &[f32], dy: &[f32]) -> Vec<f32> {
    product(
        mat(x, s.batch, s.d_in).transpose(),
        mat(dy, s.batch, s.d_out),
    )
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
