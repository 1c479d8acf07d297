//! The three passes of a dense 2-D convolution (groups = 1, dilation = 1, any stride and
//! symmetric zero padding) on contiguous NCHW f32 slices: faer's f32 GEMM (sequential within a
//! thread), images split across rayon's threads.
//!
//! Stride 1 with at least [`SHIFTED_MIN_C_IN`](crate::geometry::SHIFTED_MIN_C_IN) input
//! channels (deep-cnn's 3x3 layers) builds no column matrix: the image is copied `kw` times,
//! once per kernel column `j`, into zero-padded planes shifted left by `j` and cut to the
//! output width, and each of the `kh·kw` kernel offsets is one GEMM over a contiguous window of
//! those planes (see [`Geometry::shifted`](crate::Geometry::shifted)). Otherwise, per image
//! `b`, with `K = C_in·kh·kw` and `P = OH·OW`:
//! - forward:         `Y_b[C_out, P]  = W[C_out, K] · col(X_b)[K, P]`
//! - weight gradient: `dW[C_out, K]  += dY_b[C_out, P] · col(X_b)[K, P]^T` (summed over images)
//! - input gradient:  `dX_b = col2im(W^T[K, C_out] · dY_b[C_out, P])`

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::geometry::Geometry;
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
simd_op!(Spread<'a>(g: &'a Geometry, cp: Copies, xs: &'a [f32], copies: &'a mut [f32]) -> () = spread);
simd_op!(Fold<'a>(g: &'a Geometry, cp: Copies, copies: &'a [f32], xs: &'a mut [f32]) -> () = fold);
simd_op!(Place<'a>(g: &'a Geometry, cp: Copies, ys: &'a [f32], wide: &'a mut [f32]) -> () = place);
simd_op!(Take<'a>(g: &'a Geometry, cp: Copies, wide: &'a [f32], bias: Option<&'a [f32]>, ys: &'a mut [f32]) -> () = take);

/// The copies of a group of images that the shifted GEMMs read ([`Geometry::shifted`]).
///
/// The group's `n` images stand one above the other as one tall image, `ph` zero rows
/// between two images (each one's padding below and the next one's above) and `ph` above
/// the first and below the last: `Ht = n·H + (n - 1)·ph` rows, padded `Hp = Ht + 2·ph`.
/// Copy `j` holds, per input channel, that padded tall plane shifted left by `j` and cut to
/// the output width, `copy_j[c][r][ox] = xpad[c][r][ox + j]`, laid out `[kw][C_in][Hp·OW]`.
/// Kernel offset `(i, j)` reads output position `oy·OW + ox` at `copy_j[c][oy + i][ox]`: the
/// window of copy `j` that starts at row `i`, contiguous, `OHt·OW` long (`OHt = Hp - kh + 1`),
/// so `Y[C_out, OHt·OW] = sum_ij W_ij[C_out, C_in] · window_ij`. Image `m`'s outputs are its
/// `OH` rows from row `m·(H + ph)`; the `H + ph - OH` rows after them are thrown away (in the
/// gradients they are zeros). An image's windows read its own padded rows and no others, so
/// where padding of `kh` rows or more makes `OH > H + ph`, the rows it shares with the next
/// image read padding alone for both: the same values, and gradients that meet only
/// padding (see the tests). Stacking makes the GEMMs long enough to run at speed: faer's f32
/// kernels take the output positions 64 or 96 at a time, and one 7 x 7 image has 49.
#[derive(Debug, Clone, Copy)]
struct Copies {
    /// Images in the group.
    n: usize,
    /// Rows from one image's first output row (or input row) to the next's, `H + ph`.
    step: usize,
    /// Output rows of the tall image, `OHt`, and the output width.
    oh: usize,
    ow: usize,
    /// Length of one channel's plane, `Hp·OW`.
    len: usize,
}

/// The output positions a shifted GEMM aims for: images are stacked until their tall image
/// has this many ([`Copies`]).
const STACK_POSITIONS: usize = 512;

impl Copies {
    /// The layout for `n` images of `g`.
    fn new(g: &Geometry, n: usize) -> Self {
        let (oh, ow) = g.out_hw();
        let step = g.h + g.pad[0];
        let rows = n * g.h + (n - 1) * g.pad[0] + 2 * g.pad[0];
        Copies {
            n,
            step,
            oh: if n == 1 { oh } else { rows + 1 - g.kh },
            ow,
            len: rows * ow,
        }
    }

    /// Images per group: enough for [`STACK_POSITIONS`] output positions, at most `per`
    /// (the images of one thread), spread evenly over the groups.
    fn images(g: &Geometry, per: usize) -> usize {
        let ow = g.out_hw().1;
        let step = g.h + g.pad[0];
        let want = STACK_POSITIONS.div_ceil(step * ow).clamp(1, per);
        per.div_ceil(per.div_ceil(want))
    }

    /// Values in the copies.
    fn size(&self, g: &Geometry) -> usize {
        g.kw * g.c_in * self.len
    }

    /// Output positions of the tall image.
    fn positions(&self) -> usize {
        self.oh * self.ow
    }

    /// Where copy `j` of channel `c` starts.
    fn plane(&self, g: &Geometry, j: usize, c: usize) -> usize {
        (j * g.c_in + c) * self.len
    }

    /// Where the window of kernel offset `(i, j)` starts; it is `C_in x positions` with row
    /// stride the plane length.
    fn window(&self, g: &Geometry, i: usize, j: usize) -> usize {
        self.plane(g, j, 0) + i * self.ow
    }

    /// The window of offset `(i, j)` in `copies`, `[C_in, positions]`.
    fn view<'a>(&self, copies: &'a [f32], g: &Geometry, i: usize, j: usize) -> MatRef<'a, f32> {
        let start = self.window(g, i, j);
        MatRef::from_row_major_slice_with_stride(
            &copies[start..],
            g.c_in,
            self.positions(),
            self.len,
        )
    }
}

/// Calls `f(at, from, len)` for every row of values that [`spread`] copies and [`fold`] adds
/// back: `len` values at `copies[at..]` and `xs[from..]`, for each of the group's `images`,
/// copy `j`, input channel and input row.
#[inline(always)]
fn rows(g: &Geometry, cp: Copies, images: usize, mut f: impl FnMut(usize, usize, usize)) {
    let [ph, pw] = g.pad;
    for m in 0..images {
        for j in 0..g.kw {
            let (lo, hi) = valid_cols(g, j);
            if lo >= hi {
                continue;
            }
            for c in 0..g.c_in {
                let at = cp.plane(g, j, c) + (m * cp.step + ph) * cp.ow + lo;
                let from = m * g.in_len() + c * g.h * g.w + lo + j - pw;
                for y in 0..g.h {
                    f(at + y * cp.ow, from + y * g.w, hi - lo);
                }
            }
        }
    }
}

/// The images `xs[n][C_in, H, W]` into their [`Copies`] (what reads padding, or the gaps
/// between images, is left as it is: zero, as the copies were allocated).
#[inline(always)]
fn spread((g, cp, xs, copies): (&Geometry, Copies, &[f32], &mut [f32])) {
    rows(g, cp, xs.len() / g.in_len(), |at, from, len| {
        copy(&mut copies[at..][..len], &xs[from..][..len]);
    });
}

/// `xs[n][C_in, H, W] += ` the sum of the [`Copies`]' values over the positions they were
/// copied from: the adjoint of [`spread`].
#[inline(always)]
fn fold((g, cp, copies, xs): (&Geometry, Copies, &[f32], &mut [f32])) {
    rows(g, cp, xs.len() / g.in_len(), |at, from, len| {
        for (d, s) in xs[from..][..len].iter_mut().zip(&copies[at..][..len]) {
            *d += s;
        }
    });
}

/// The images' outputs (or output gradients) `ys[n][C_out, P]` into their places in the tall
/// image's `wide[C_out, positions]` (the rows between images are left as they are).
#[inline(always)]
fn place((g, cp, ys, wide): (&Geometry, Copies, &[f32], &mut [f32])) {
    let (rows, p, stride) = (g.c_out, g.p(), cp.positions());
    for (m, y) in ys.chunks(rows * p).enumerate() {
        for (r, row) in y.chunks(p).enumerate() {
            copy(&mut wide[r * stride + m * cp.step * cp.ow..][..p], row);
        }
    }
}

/// The inverse of [`place`], plus the bias of each row.
#[inline(always)]
fn take((g, cp, wide, bias, ys): (&Geometry, Copies, &[f32], Option<&[f32]>, &mut [f32])) {
    let (rows, p, stride) = (g.c_out, g.p(), cp.positions());
    for (m, y) in ys.chunks_mut(rows * p).enumerate() {
        for (r, row) in y.chunks_mut(p).enumerate() {
            let b = bias.map_or(0.0, |b| b[r]);
            let src = &wide[r * stride + m * cp.step * cp.ow..][..p];
            for (d, s) in row.iter_mut().zip(src) {
                *d = s + b;
            }
        }
    }
}

/// The group's output gradients `dys[n][C_out, P]` as the tall image's `[C_out, positions]`:
/// the slice itself for one image, else placed into `wide` ([`place`]).
fn tall_grads<'a>(
    g: &Geometry,
    cp: Copies,
    dys: &'a [f32],
    wide: &'a mut [f32],
) -> MatRef<'a, f32> {
    let values: &[f32] = if cp.n == 1 {
        dys
    } else {
        vectorized(Place(g, cp, dys, wide));
        wide
    };
    mat(values, g.c_out, cp.positions())
}

/// Scratch for one thread's groups of images: the copies (and, when images are stacked, the
/// tall image's outputs), zeroed again when the group's layout changes (the last, smaller
/// group), since what must read zero moves with it.
struct Scratch {
    layout: usize,
    copies: Vec<f32>,
    wide: Vec<f32>,
}

impl Scratch {
    fn new(g: &Geometry, n: usize) -> Self {
        let cp = Copies::new(g, n);
        Scratch {
            layout: n,
            copies: vec![0.0; cp.size(g)],
            wide: vec![0.0; if n > 1 { g.c_out * cp.positions() } else { 0 }],
        }
    }

    /// The layout of a group of `n` images (at most the `n` this scratch was made for).
    fn layout(&mut self, g: &Geometry, n: usize) -> Copies {
        if n != self.layout {
            self.layout = n;
            self.copies.fill(0.0);
            self.wide.fill(0.0);
        }
        Copies::new(g, n)
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
    let p = g.p();
    let wr = reorder_weights(g, w, true);
    let mut y = zeroed(g.batch * g.c_out * p);
    let per = chunk(g.batch);
    let n = Copies::images(g, per);
    y.par_chunks_mut(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .for_each(|(ys, xs)| {
            let mut s = Scratch::new(g, n);
            for (yg, xg) in ys
                .chunks_mut(n * g.c_out * p)
                .zip(xs.chunks(n * g.in_len()))
            {
                let cp = s.layout(g, xg.len() / g.in_len());
                vectorized(Spread(g, cp, xg, &mut s.copies[..]));
                let out: &mut [f32] = if cp.n == 1 { yg } else { &mut s.wide };
                for ij in 0..g.kh * g.kw {
                    let w_ij = mat(&wr[ij * g.c_out * g.c_in..], g.c_out, g.c_in);
                    let x_ij = cp.view(&s.copies, g, ij / g.kw, ij % g.kw);
                    matmul(out, w_ij, x_ij, ij > 0);
                }
                if cp.n > 1 {
                    vectorized(Take(g, cp, &s.wide[..], bias, yg));
                } else if let Some(bias) = bias {
                    vectorized(AddBias(yg, bias, p));
                }
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

/// [`weight_grad`] as shifted GEMMs: `dW_ij[C_out, C_in] += dY[C_out, positions] ·
/// window_ij^T`, `dY` the group's output gradients in the tall image (zero between images).
fn weight_grad_shifted(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let p = g.p();
    let per = chunk(g.batch);
    let n = Copies::images(g, per);
    let partials: Vec<Vec<f32>> = dy
        .par_chunks(per * g.c_out * p)
        .zip(x.par_chunks(per * g.in_len()))
        .map(|(dys, xs)| {
            let mut dw = vec![0.0f32; g.c_out * g.k()];
            let mut s = Scratch::new(g, n);
            for (step, (dyg, xg)) in dys
                .chunks(n * g.c_out * p)
                .zip(xs.chunks(n * g.in_len()))
                .enumerate()
            {
                let cp = s.layout(g, xg.len() / g.in_len());
                vectorized(Spread(g, cp, xg, &mut s.copies[..]));
                let dyg = tall_grads(g, cp, dyg, &mut s.wide);
                for ij in 0..g.kh * g.kw {
                    let dst = &mut dw[ij * g.c_out * g.c_in..][..g.c_out * g.c_in];
                    let x_ij = cp.view(&s.copies, g, ij / g.kw, ij % g.kw);
                    matmul(dst, dyg, x_ij.transpose(), step > 0);
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

/// [`input_grad`] as shifted GEMMs: `window_ij(dCopies) += W_ij^T · dY` for every offset,
/// `dY` the group's output gradients in the tall image (zero between images), then the
/// copies' gradients folded back onto the images ([`fold`]).
fn input_grad_shifted(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let p = g.p();
    let wr = reorder_weights(g, w, true);
    let mut dx = zeroed(g.batch * g.in_len());
    let per = chunk(g.batch);
    let n = Copies::images(g, per);
    dx.par_chunks_mut(per * g.in_len())
        .zip(dy.par_chunks(per * g.c_out * p))
        .for_each(|(dxs, dys)| {
            let mut s = Scratch::new(g, n);
            for (dxg, dyg) in dxs
                .chunks_mut(n * g.in_len())
                .zip(dys.chunks(n * g.c_out * p))
            {
                let cp = s.layout(g, dxg.len() / g.in_len());
                let dyg = tall_grads(g, cp, dyg, &mut s.wide);
                // Row 0's window of each copy covers its plane but the last `kh - 1` rows,
                // and replaces what it covers.
                for plane in s.copies.chunks_mut(cp.len).take(g.kw * g.c_in) {
                    plane[cp.positions()..].fill(0.0);
                }
                for ij in 0..g.kh * g.kw {
                    let (i, j) = (ij / g.kw, ij % g.kw);
                    // Written as the transposed product into a column-major view: faer
                    // 0.24.4's `MatMut::from_row_major_slice_with_stride_mut` builds a
                    // column-major view under its row-major length check, so writes through
                    // it leave the slice (faer-rs pull request 267). `MatRef`'s is right.
                    let dst = MatMut::from_column_major_slice_with_stride_mut(
                        &mut s.copies[cp.window(g, i, j)..],
                        cp.positions(),
                        g.c_in,
                        cp.len,
                    );
                    let w_ij = mat(&wr[ij * g.c_out * g.c_in..], g.c_out, g.c_in);
                    let beta = if i == 0 { Accum::Replace } else { Accum::Add };
                    faer::linalg::matmul::matmul(
                        dst,
                        beta,
                        dyg.transpose(),
                        w_ij,
                        1.0f32,
                        Par::Seq,
                    );
                }
                vectorized(Fold(g, cp, &s.copies[..], dxg));
            }
        });
    dx
}
