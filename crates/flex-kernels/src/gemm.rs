//! The three passes of a dense 2-D convolution (groups = 1, dilation = 1, any stride and
//! symmetric zero padding) on contiguous NCHW f32 slices: im2col of one image at a time onto faer's f32
//! GEMM (sequential within a thread), images split across rayon's threads.
//!
//! Stride 1 with at least [`SHIFTED_MIN_C_IN`](crate::geometry::SHIFTED_MIN_C_IN) input channels (deep-cnn's 3x3 layers) builds no
//! column matrix: the image is copied once into a zero-padded plane per channel, and each of
//! the `kh·kw` kernel offsets is one GEMM over a shifted view of those planes (see
//! [`Geometry::shifted`](crate::Geometry::shifted)). Otherwise, per image `b`, with `K = C_in·kh·kw` and `P = OH·OW`:
//! - forward:         `Y_b[C_out, P]  = W[C_out, K] · col(X_b)[K, P]`
//! - weight gradient: `dW[C_out, K]  += dY_b[C_out, P] · col(X_b)[K, P]^T` (summed over images)
//! - input gradient:  `dX_b = col2im(W^T[K, C_out] · dY_b[C_out, P])`

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::geometry::{Geometry, Pad, Unpad};
use crate::simd::{copy, vectorized, zeroed};

/// The weights `[C_out, C_in, kh, kw]` as `kh·kw` matrices `W_ij[C_out, C_in]`, one after
/// another (`to_offsets`), or back.
fn reorder_weights(g: &Geometry, w: &[f32], to_offsets: bool) -> Vec<f32> {
    let kk = g.kh * g.kw;
    let mut out = vec![0.0f32; w.len()];
    for co in 0..g.c_out {
        for ci in 0..g.c_in {
            for ij in 0..kk {
                let natural = (co * g.c_in + ci) * kk + ij;
                let by_offset = (ij * g.c_out + co) * g.c_in + ci;
                if to_offsets {
                    out[by_offset] = w[natural];
                } else {
                    out[natural] = w[by_offset];
                }
            }
        }
    }
    out
}

simd_op!(Im2col<'a>(g: &'a Geometry, x: &'a [f32], col: &'a mut [f32]) -> () = im2col);
simd_op!(Col2im<'a>(g: &'a Geometry, col: &'a [f32], x: &'a mut [f32]) -> () = col2im);
simd_op!(AddBias<'a>(y: &'a mut [f32], bias: &'a [f32], p: usize) -> () = add_bias);
simd_op!(Widen<'a>(g: &'a Geometry, y: &'a [f32], wide: &'a mut [f32]) -> () = widen);
simd_op!(Narrow<'a>(g: &'a Geometry, wide: &'a [f32], bias: Option<&'a [f32]>, y: &'a mut [f32]) -> () = narrow);

/// `y[C_out, OH, OW]` onto the padded width, `wide[C_out, OH·Wp]` (the extra columns are left
/// as they are: zero, as `wide` was allocated).
#[inline(always)]
fn widen((g, y, wide): (&Geometry, &[f32], &mut [f32])) {
    let pl = g.planes();
    let (oh, ow) = g.out_hw();
    for co in 0..g.c_out {
        for oy in 0..oh {
            copy(
                &mut wide[co * pl.cols + oy * pl.wp..][..ow],
                &y[(co * oh + oy) * ow..][..ow],
            );
        }
    }
}

/// The real columns of `wide[C_out, OH·Wp]` into `y[C_out, OH, OW]`, plus the bias.
#[inline(always)]
fn narrow((g, wide, bias, y): (&Geometry, &[f32], Option<&[f32]>, &mut [f32])) {
    let pl = g.planes();
    let (oh, ow) = g.out_hw();
    for co in 0..g.c_out {
        let b = bias.map_or(0.0, |b| b[co]);
        for oy in 0..oh {
            let src = &wide[co * pl.cols + oy * pl.wp..][..ow];
            for (d, s) in y[(co * oh + oy) * ow..][..ow].iter_mut().zip(src) {
                *d = s + b;
            }
        }
    }
}

/// Images per rayon task: the batch in as many contiguous chunks as there are threads.
fn chunk(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// A row-major `rows x cols` matrix over `values`.
fn mat(values: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(&values[..rows * cols], rows, cols)
}

/// `dst (row-major m x n) = lhs · rhs`, or `dst += lhs · rhs` with `accumulate`; one thread.
fn matmul(dst: &mut [f32], lhs: MatRef<'_, f32>, rhs: MatRef<'_, f32>, accumulate: bool) {
    let (m, n) = (lhs.nrows(), rhs.ncols());
    let dst = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    let beta = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, beta, lhs, rhs, 1.0f32, Par::Seq);
}

/// The output columns `lo..hi` whose input column, for kernel column `j`, lies inside the
/// image (the others read padding).
#[inline(always)]
fn valid_cols(g: &Geometry, j: usize) -> (usize, usize) {
    let (_, ow) = g.out_hw();
    let ([_, sw], [_, pw]) = (g.stride, g.pad);
    let lo = pw.saturating_sub(j).div_ceil(sw);
    let hi = if g.w + pw > j {
        ((g.w + pw - j - 1) / sw + 1).min(ow)
    } else {
        0
    };
    (lo, hi)
}

/// `col[K, P]` of one image `x[C, H, W]` (arguments as one tuple, for `simd_op!`).
#[inline(always)]
fn im2col((g, x, col): (&Geometry, &[f32], &mut [f32])) {
    let (oh, ow) = g.out_hw();
    let p = oh * ow;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.pad;
    for c in 0..g.c_in {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &mut col[((c * g.kh + i) * g.kw + j) * p..][..p];
                let (lo, hi) = valid_cols(g, j);
                for oy in 0..oh {
                    let out = &mut row[oy * ow..(oy + 1) * ow];
                    let iy = (oy * sh + i) as isize - ph as isize;
                    if iy < 0 || iy >= g.h as isize || lo >= hi {
                        out.fill(0.0);
                        continue;
                    }
                    let src = &plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    if sw == 1 {
                        // A loop, not copy_from_slice: rows are short (7-28 values here) and
                        // a memcpy call per row costs more than the copy.
                        let start = lo + j - pw;
                        for (o, &v) in out[lo..hi].iter_mut().zip(&src[start..start + hi - lo]) {
                            *o = v;
                        }
                    } else {
                        for (ox, o) in out[lo..hi].iter_mut().enumerate() {
                            *o = src[(ox + lo) * sw + j - pw];
                        }
                    }
                }
            }
        }
    }
}

/// `x[C, H, W] += col2im(col[K, P])`, the adjoint of [`im2col`].
#[inline(always)]
fn col2im((g, col, x): (&Geometry, &[f32], &mut [f32])) {
    let (oh, ow) = g.out_hw();
    let p = oh * ow;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.pad;
    for c in 0..g.c_in {
        let plane = &mut x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &col[((c * g.kh + i) * g.kw + j) * p..][..p];
                let (lo, hi) = valid_cols(g, j);
                if lo >= hi {
                    continue;
                }
                for oy in 0..oh {
                    let iy = (oy * sh + i) as isize - ph as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let src = &row[oy * ow..(oy + 1) * ow];
                    let dst = &mut plane[iy as usize * g.w..(iy as usize + 1) * g.w];
                    if sw == 1 {
                        let start = lo + j - pw;
                        for (d, s) in dst[start..start + hi - lo].iter_mut().zip(&src[lo..hi]) {
                            *d += s;
                        }
                    } else {
                        for (ox, s) in src[lo..hi].iter().enumerate() {
                            dst[(ox + lo) * sw + j - pw] += s;
                        }
                    }
                }
            }
        }
    }
}

/// Forward pass: `x[B, C_in, H, W]`, `w[C_out, C_in, kh, kw]`, optional `bias[C_out]` ->
/// `y[B, C_out, OH, OW]`.
pub fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    if g.shifted() {
        return forward_shifted(g, x, w, bias);
    }
    let (k, p) = (g.k(), g.p());
    let mut y = zeroed(g.batch * g.c_out * p);
    let per = chunk(g.batch);
    y.par_chunks_mut(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .for_each(|(ys, xs)| {
            let mut col = if g.direct() {
                Vec::new()
            } else {
                vec![0.0f32; k * p]
            };
            for (yb, xb) in ys.chunks_mut(g.c_out * p).zip(xs.chunks(g.in_len())) {
                let col: &[f32] = if g.direct() {
                    xb
                } else {
                    vectorized(Im2col(g, xb, &mut col[..]));
                    &col
                };
                matmul(yb, mat(w, g.c_out, k), mat(col, k, p), false);
                if let Some(bias) = bias {
                    vectorized(AddBias(&mut yb[..], bias, p));
                }
            }
        });
    y
}

/// [`forward`] as shifted GEMMs ([`Geometry::shifted`](crate::Geometry::shifted)).
fn forward_shifted(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (p, pl) = (g.p(), g.planes());
    let wr = reorder_weights(g, w, true);
    let mut y = zeroed(g.batch * g.c_out * p);
    let per = chunk(g.batch);
    y.par_chunks_mut(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .for_each(|(ys, xs)| {
            let mut planes = vec![0.0f32; g.c_in * pl.len];
            let mut wide = vec![0.0f32; g.c_out * pl.cols];
            for (yb, xb) in ys.chunks_mut(g.c_out * p).zip(xs.chunks(g.in_len())) {
                vectorized(Pad(g, xb, &mut planes[..]));
                for ij in 0..g.kh * g.kw {
                    let w_ij = mat(&wr[ij * g.c_out * g.c_in..], g.c_out, g.c_in);
                    matmul(&mut wide, w_ij, pl.shift(&planes, g.c_in, g, ij), ij > 0);
                }
                vectorized(Narrow(g, &wide[..], bias, yb));
            }
        });
    y
}

/// `y[C_out, P] += bias` per row.
#[inline(always)]
fn add_bias((y, bias, p): (&mut [f32], &[f32], usize)) {
    for (row, &b) in y.chunks_mut(p).zip(bias) {
        for v in row {
            *v += b;
        }
    }
}

/// Gradient of the weights: `dw[C_out, C_in, kh, kw]` from `x` and `dy[B, C_out, OH, OW]`
/// (the column matrices are built again: keeping the forward pass's costs more than it saves).
pub fn weight_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    if g.shifted() {
        return weight_grad_shifted(g, x, dy);
    }
    let (k, p) = (g.k(), g.p());
    let per = chunk(g.batch);
    let partials: Vec<Vec<f32>> = dy
        .par_chunks(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .map(|(dys, xs)| {
            let mut dw = vec![0.0f32; g.c_out * k];
            let mut col = if g.direct() {
                Vec::new()
            } else {
                vec![0.0f32; k * p]
            };
            for (n, (dyb, xb)) in dys
                .chunks(g.c_out * p)
                .zip(xs.chunks(g.in_len()))
                .enumerate()
            {
                let col: &[f32] = if g.direct() {
                    xb
                } else {
                    vectorized(Im2col(g, xb, &mut col[..]));
                    &col
                };
                // dw[C_out, K] (+)= dy_b[C_out, P] · col[K, P]^T
                matmul(
                    &mut dw,
                    mat(dyb, g.c_out, p),
                    mat(col, k, p).transpose(),
                    n > 0,
                );
            }
            dw
        })
        .collect();
    sum_parts(partials, g.c_out * k)
}

/// [`weight_grad`] as shifted GEMMs: `dW_ij[C_out, C_in] += dY_ext · shift_ij(X)^T`, with
/// `dY` widened onto the padded width by zero columns (so the extra columns add nothing).
fn weight_grad_shifted(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (p, pl) = (g.p(), g.planes());
    let per = chunk(g.batch);
    let partials: Vec<Vec<f32>> = dy
        .par_chunks(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .map(|(dys, xs)| {
            let mut dw = vec![0.0f32; g.c_out * g.k()];
            let mut planes = vec![0.0f32; g.c_in * pl.len];
            let mut wide = vec![0.0f32; g.c_out * pl.cols];
            for (n, (dyb, xb)) in dys
                .chunks(g.c_out * p)
                .zip(xs.chunks(g.in_len()))
                .enumerate()
            {
                vectorized(Pad(g, xb, &mut planes[..]));
                vectorized(Widen(g, dyb, &mut wide[..]));
                let dy_wide = mat(&wide, g.c_out, pl.cols);
                for ij in 0..g.kh * g.kw {
                    let dst = &mut dw[ij * g.c_out * g.c_in..][..g.c_out * g.c_in];
                    let x_ij = pl.shift(&planes, g.c_in, g, ij);
                    matmul(dst, dy_wide, x_ij.transpose(), n > 0);
                }
            }
            dw
        })
        .collect();
    reorder_weights(g, &sum_parts(partials, g.c_out * g.k()), false)
}

/// The element-wise sum of the threads' partial gradients.
fn sum_parts(partials: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    let mut parts = partials.into_iter();
    let mut total = parts.next().unwrap_or_else(|| vec![0.0; len]);
    for part in parts {
        for (a, b) in total.iter_mut().zip(part) {
            *a += b;
        }
    }
    total
}

/// Gradient of the input: `dx[B, C_in, H, W]` from `w` and `dy[B, C_out, OH, OW]`.
pub fn input_grad(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    if g.shifted() {
        return input_grad_shifted(g, w, dy);
    }
    let (k, p) = (g.k(), g.p());
    let mut dx = zeroed(g.batch * g.in_len());
    let per = chunk(g.batch);
    dx.par_chunks_mut(per * g.in_len())
        .zip(dy.par_chunks(per * g.c_out * p))
        .for_each(|(dxs, dys)| {
            let mut col = vec![0.0f32; if g.direct() { 0 } else { k * p }];
            for (dxb, dyb) in dxs.chunks_mut(g.in_len()).zip(dys.chunks(g.c_out * p)) {
                if g.direct() {
                    // dx_b[C_in, P] = w^T[C_in, C_out] · dy_b[C_out, P]
                    matmul(
                        dxb,
                        mat(w, g.c_out, k).transpose(),
                        mat(dyb, g.c_out, p),
                        false,
                    );
                } else {
                    matmul(
                        &mut col,
                        mat(w, g.c_out, k).transpose(),
                        mat(dyb, g.c_out, p),
                        false,
                    );
                    vectorized(Col2im(g, &col[..], dxb));
                }
            }
        });
    dx
}

/// [`input_grad`] as shifted GEMMs: `shift_ij(dX) += W_ij^T · dY_ext` for every offset, on
/// padded planes whose interior is the gradient (the zero extra columns of `dY_ext` add
/// nothing to the planes).
fn input_grad_shifted(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (p, pl) = (g.p(), g.planes());
    let wr = reorder_weights(g, w, true);
    let mut dx = zeroed(g.batch * g.in_len());
    let per = chunk(g.batch);
    dx.par_chunks_mut(per * g.in_len())
        .zip(dy.par_chunks(per * g.c_out * p))
        .for_each(|(dxs, dys)| {
            let mut planes = vec![0.0f32; g.c_in * pl.len];
            let mut wide = vec![0.0f32; g.c_out * pl.cols];
            for (dxb, dyb) in dxs.chunks_mut(g.in_len()).zip(dys.chunks(g.c_out * p)) {
                vectorized(Widen(g, dyb, &mut wide[..]));
                // The first offset's view covers each plane but its last `len - cols`
                // values, and replaces what it covers.
                for plane in planes.chunks_mut(pl.len) {
                    plane[pl.cols..].fill(0.0);
                }
                let dy_wide = mat(&wide, g.c_out, pl.cols);
                for ij in 0..g.kh * g.kw {
                    let off = (ij / g.kw) * pl.wp + ij % g.kw;
                    // Written as the transposed product into a column-major view: faer
                    // 0.24.4's `MatMut::from_row_major_slice_with_stride_mut` builds a
                    // column-major view under its row-major length check, so writes through
                    // it leave the slice (faer-rs pull request 267). `MatRef`'s is right.
                    let dst = MatMut::from_column_major_slice_with_stride_mut(
                        &mut planes[off..],
                        pl.cols,
                        g.c_in,
                        pl.len,
                    );
                    let w_ij = mat(&wr[ij * g.c_out * g.c_in..], g.c_out, g.c_in);
                    let beta = if ij == 0 { Accum::Replace } else { Accum::Add };
                    faer::linalg::matmul::matmul(
                        dst,
                        beta,
                        dy_wide.transpose(),
                        w_ij,
                        1.0f32,
                        Par::Seq,
                    );
                }
                vectorized(Unpad(g, &planes[..], dxb));
            }
        });
    dx
}
