//! The CubeCL kernels behind [`super::gram`]: row scales, a tiled symmetric Gram over row slabs,
//! and a fixed-order reduction of the slabs.
//!
//! The Gram kernel computes `G = M^T M` for a virtual matrix `M` that is never materialised:
//! - Gram mode (`transposed = false`): `M = [Phi | Y]` (n rows, p + c columns), so one pass gives
//!   `Phi^T Phi`, `Phi^T Y` (as the block `Y^T Phi`) and `Y^T Y`;
//! - kernel mode (`transposed = true`): `M = Phi^T` (p rows, n columns), so `G = Phi Phi^T`.
//!
//! `Phi` is read from the raw features `F` (n x d, row-major f32) as `s_i * [F_i, 1]`, where `s_i`
//! is the row's inverse norm (or 1) from [`row_scales`].
//!
//! Each cube owns one `tile x tile` block of the lower triangle of `G` (a lookup table names the
//! blocks, so the upper triangle costs nothing) and one slab of at most `slab_rows` rows of `M`.
//! Its `16 x 16` units each keep a `micro x micro` register tile of outputs (`tile = 16 micro`,
//! micro 4 or 8); per step the cube stages `K` rows of both column blocks in shared memory.
//! Every slab writes its own partial block, summed over at most `slab_rows` rows in f32, and
//! [`reduce_slabs`] adds the slabs in a fixed order.
//! So no f32 sum runs over more than `slab_rows + slabs` terms; longer sums are the host's
//! business, in f64 (see [`super::gram_with_slabs`]).

use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

/// Units per cube along each axis.
pub const UNITS: usize = 16;
/// Outputs per unit along each axis for small Grams (`q < LARGE_Q`): a 64-wide output block.
pub const MICRO_SMALL: usize = 4;
/// Outputs per unit along each axis for large Grams (`q >= LARGE_Q`): a 128-wide output block,
/// twice the reuse of every staged value at the price of more padding in a larger block.
pub const MICRO_LARGE: usize = 8;
/// Rows of `M` staged in shared memory per step.
pub const K: usize = 8;

/// `s_i = 1 / ||[F_i, 1]||` (or `1 / ||F_i||` without the bias column, 0 for an all-zero row),
/// or `s_i = 1` without row normalisation. One unit per row. The norm is taken of the row scaled
/// by its largest magnitude, so rows far from 1 (1e25, 1e-25) neither overflow nor underflow in
/// f32; a NaN or an infinity in the row makes `s_i` NaN (`inf * 0`, `NaN * x` in the sum).
#[cube(launch)]
pub fn row_scales(
    f: &[f32],
    s: &mut [f32],
    n: u32,
    d: u32,
    #[comptime] bias: bool,
    #[comptime] normalize: bool,
) {
    let i = ABSOLUTE_POS_X;
    if i < n {
        if normalize {
            let base = (i * d) as usize;
            let mut big = 0.0f32;
            for j in 0..d {
                big = max(big, f[base + j as usize].abs());
            }
            if bias {
                big = max(big, 1.0f32);
            }
            let mut scale = 0.0f32;
            if big > 0.0f32 {
                let inv = 1.0f32 / big;
                let mut sum = 0.0f32;
                for j in 0..d {
                    let v = f[base + j as usize] * inv;
                    sum += v * v;
                }
                if bias {
                    sum += inv * inv;
                }
                scale = inv / sum.sqrt();
            }
            s[i as usize] = scale;
        } else {
            s[i as usize] = 1.0f32;
        }
    }
}

/// Element `(row, col)` of the virtual matrix `M` (zero outside it).
#[cube]
#[allow(clippy::too_many_arguments)]
fn element(
    f: &[f32],
    y: &[f32],
    s: &[f32],
    row: u32,
    col: u32,
    n: u32,
    d: u32,
    c: u32,
    #[comptime] bias: bool,
    #[comptime] transposed: bool,
) -> f32 {
    let mut v = 0.0f32;
    let p = if bias { d + 1 } else { d };
    if transposed {
        // M = Phi^T: row = feature column of Phi, col = data row.
        if col < n {
            if row < d {
                v = f[(col * d + row) as usize] * s[col as usize];
            } else if bias && row == d {
                v = s[col as usize];
            }
        }
    } else if row < n {
        // M = [Phi | Y]: row = data row.
        if col < d {
            v = f[(row * d + col) as usize] * s[row as usize];
        } else if bias && col == d {
            v = s[row as usize];
        } else if col < p + c {
            v = y[(row * c + (col - p)) as usize];
        }
    }
    v
}

/// Partial `G = M^T M` blocks: cube `(x, y)` computes lower block `blocks[2x], blocks[2x + 1]`
/// (row block, column block) over rows `row_offset + [y * slab_rows, (y + 1) * slab_rows)` of
/// `M` (m rows, q columns) into `out[y]` (q x q, row-major). Only lower blocks are written.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn gram_slabs(
    f: &[f32],
    y: &[f32],
    s: &[f32],
    blocks: &[u32],
    out: &mut [f32],
    n: u32,
    d: u32,
    c: u32,
    m: u32,
    q: u32,
    slab_rows: u32,
    row_offset: u32,
    #[comptime] bias: bool,
    #[comptime] transposed: bool,
    #[comptime] micro: usize,
) {
    let tile = comptime!(UNITS * micro);
    let block = CUBE_POS_X as usize;
    let bi = blocks[2 * block];
    let bj = blocks[2 * block + 1];
    let slab = CUBE_POS_Y;
    let row_start = row_offset + slab * slab_rows;
    let row_end = min(row_start + slab_rows, m);

    let tx = UNIT_POS_X;
    let ty = UNIT_POS_Y;
    let tid = ty * UNITS as u32 + tx;

    let mut a = Shared::<[f32]>::new_slice(comptime!(K * tile));
    let mut b = Shared::<[f32]>::new_slice(comptime!(K * tile));
    let mut acc = Array::<f32>::new(comptime!(micro * micro));

    let col_a0 = bi * tile as u32;
    let col_b0 = bj * tile as u32;
    let loads = comptime!((K * tile) / (UNITS * UNITS));

    let mut r0 = row_start;
    while r0 < row_end {
        // Stage K rows of both column blocks; rows past the slab read as zero.
        #[unroll]
        for l in 0..loads {
            let idx = l as u32 * (UNITS * UNITS) as u32 + tid;
            let kk = idx / tile as u32;
            let cc = idx % tile as u32;
            let row = r0 + kk;
            let mut va = 0.0f32;
            let mut vb = 0.0f32;
            if row < row_end {
                if col_a0 + cc < q {
                    va = element(f, y, s, row, col_a0 + cc, n, d, c, bias, transposed);
                }
                if col_b0 + cc < q {
                    vb = element(f, y, s, row, col_b0 + cc, n, d, c, bias, transposed);
                }
            }
            a[idx as usize] = va;
            b[idx as usize] = vb;
        }
        sync_cube();

        #[unroll]
        for kk in 0..K {
            let mut ra = Array::<f32>::new(micro);
            let mut rb = Array::<f32>::new(micro);
            #[unroll]
            for u in 0..micro {
                ra[u] = a[kk * tile + (ty as usize) + u * UNITS];
                rb[u] = b[kk * tile + (tx as usize) + u * UNITS];
            }
            #[unroll]
            for u in 0..micro {
                #[unroll]
                for v in 0..micro {
                    acc[u * micro + v] += ra[u] * rb[v];
                }
            }
        }
        sync_cube();
        r0 += K as u32;
    }

    let base = (slab * q * q) as usize;
    #[unroll]
    for u in 0..micro {
        let gi = col_a0 + ty + (u * UNITS) as u32;
        #[unroll]
        for v in 0..micro {
            let gj = col_b0 + tx + (v * UNITS) as u32;
            if gi < q && gj < q {
                out[base + (gi * q + gj) as usize] = acc[u * micro + v];
            }
        }
    }
}

/// `out = acc + sum over slabs of partial[slab]` on the lower triangle of the `q x q` matrices
/// (the rest is set to zero), slabs added in order in f32. One unit per element.
#[cube(launch)]
pub fn reduce_slabs(partial: &[f32], acc: &[f32], out: &mut [f32], q: u32, slabs: u32) {
    let e = ABSOLUTE_POS_X;
    let len = q * q;
    if e < len {
        let mut sum = 0.0f32;
        if e / q >= e % q {
            sum = acc[e as usize];
            for slab in 0..slabs {
                sum += partial[(slab * len + e) as usize];
            }
        }
        out[e as usize] = sum;
    }
}
