//! Depthwise 2-D convolution (one 2-D filter per channel: groups = input channels = output
//! channels), any stride and symmetric zero padding, on contiguous NCHW f32 slices: direct
//! loops over each image plane copied into a zero-padded buffer, planes split across rayon's
//! threads. burn-flex 0.22 runs the backward pass of a grouped convolution through burn's
//! generic fallbacks, ~4x slower than PyTorch here.

use rayon::prelude::*;

use crate::geometry::{Geometry, pad, unpad};
use crate::simd::{vectorized, zeroed};

simd_op!(ForwardPlane<'a>(g: &'a Geometry, x: &'a [f32], w: &'a [f32], bias: f32, buf: &'a mut [f32], y: &'a mut [f32]) -> () = forward_plane);
simd_op!(InputGradPlane<'a>(g: &'a Geometry, dy: &'a [f32], w: &'a [f32], buf: &'a mut [f32], dx: &'a mut [f32]) -> () = input_grad_plane);
simd_op!(WeightGradPlane<'a>(g: &'a Geometry, x: &'a [f32], dy: &'a [f32], buf: &'a mut [f32], dw: &'a mut [f64]) -> () = weight_grad_plane);

/// One channel's sizes, so that [`pad`], [`unpad`] and `planes`
/// serve a single padded plane.
fn one_plane(g: &Geometry) -> Geometry {
    Geometry {
        batch: 1,
        c_in: 1,
        c_out: 1,
        groups: 1,
        ..*g
    }
}

/// The arguments of [`forward_plane`]: sizes, input plane, filter, bias, padded buffer, output.
type ForwardArgs<'a> = (
    &'a Geometry,
    &'a [f32],
    &'a [f32],
    f32,
    &'a mut [f32],
    &'a mut [f32],
);

/// `y[OH, OW] = bias + sum_ij w[i, j] · x[oy·sh + i - ph, ox·sw + j - pw]` for one plane.
#[inline(always)]
fn forward_plane((g, x, w, bias, buf, y): ForwardArgs<'_>) {
    let (oh, ow) = g.out_hw();
    let one = one_plane(g);
    let wp = one.planes().wp;
    let [sh, sw] = g.stride;
    pad((&one, x, buf));
    y.fill(bias);
    for oy in 0..oh {
        let yr = &mut y[oy * ow..][..ow];
        for i in 0..g.kh {
            let row = &buf[(oy * sh + i) * wp..][..wp];
            for j in 0..g.kw {
                let wv = w[i * g.kw + j];
                if sw == 1 {
                    for (o, &v) in yr.iter_mut().zip(&row[j..j + ow]) {
                        *o += wv * v;
                    }
                } else {
                    for (ox, o) in yr.iter_mut().enumerate() {
                        *o += wv * row[j + ox * sw];
                    }
                }
            }
        }
    }
}

/// `dx[H, W]` of one plane: each output's gradient spread back over the inputs it read.
#[inline(always)]
fn input_grad_plane((g, dy, w, buf, dx): (&Geometry, &[f32], &[f32], &mut [f32], &mut [f32])) {
    let (oh, ow) = g.out_hw();
    let one = one_plane(g);
    let wp = one.planes().wp;
    let [sh, sw] = g.stride;
    buf.fill(0.0);
    for oy in 0..oh {
        let d = &dy[oy * ow..][..ow];
        for i in 0..g.kh {
            let row = &mut buf[(oy * sh + i) * wp..][..wp];
            for j in 0..g.kw {
                let wv = w[i * g.kw + j];
                if sw == 1 {
                    for (o, &v) in row[j..j + ow].iter_mut().zip(d) {
                        *o += wv * v;
                    }
                } else {
                    for (ox, &v) in d.iter().enumerate() {
                        row[j + ox * sw] += wv * v;
                    }
                }
            }
        }
    }
    unpad((&one, buf, dx));
}

/// `dw[kh, kw] += sum over outputs dy · x` (each output row's dot product in f32, rows summed
/// in f64) for one plane.
#[inline(always)]
fn weight_grad_plane((g, x, dy, buf, dw): (&Geometry, &[f32], &[f32], &mut [f32], &mut [f64])) {
    let (oh, ow) = g.out_hw();
    let one = one_plane(g);
    let wp = one.planes().wp;
    let [sh, sw] = g.stride;
    pad((&one, x, buf));
    for oy in 0..oh {
        let d = &dy[oy * ow..][..ow];
        for i in 0..g.kh {
            let row = &buf[(oy * sh + i) * wp..][..wp];
            for j in 0..g.kw {
                let s: f32 = if sw == 1 {
                    d.iter().zip(&row[j..j + ow]).map(|(a, b)| a * b).sum()
                } else {
                    d.iter()
                        .enumerate()
                        .map(|(ox, a)| a * row[j + ox * sw])
                        .sum()
                };
                dw[i * g.kw + j] += f64::from(s);
            }
        }
    }
}

/// Forward pass: `x[B, C, H, W]`, `w[C, 1, kh, kw]`, optional `bias[C]` -> `y[B, C, OH, OW]`.
pub fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (oh, ow) = g.out_hw();
    let (kk, plane) = (g.kh * g.kw, g.h * g.w);
    let mut y = zeroed(g.batch * g.c_in * oh * ow);
    if oh * ow == 0 {
        return y;
    }
    y.par_chunks_mut(oh * ow)
        .zip(x.par_chunks(plane))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; one_plane(g).planes().len],
            |buf, (i, (yp, xp))| {
                let c = i % g.c_in;
                let b = bias.map_or(0.0, |b| b[c]);
                vectorized(ForwardPlane(g, xp, &w[c * kk..][..kk], b, &mut buf[..], yp));
            },
        );
    y
}

/// Gradient of the input: `dx[B, C, H, W]` from `w` and `dy[B, C, OH, OW]`.
pub fn input_grad(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    let (oh, ow) = g.out_hw();
    let (kk, plane) = (g.kh * g.kw, g.h * g.w);
    let mut dx = zeroed(g.batch * g.c_in * plane);
    if oh * ow == 0 || plane == 0 {
        return dx;
    }
    dx.par_chunks_mut(plane)
        .zip(dy.par_chunks(oh * ow))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; one_plane(g).planes().len],
            |buf, (i, (dxp, dyp))| {
                let c = i % g.c_in;
                vectorized(InputGradPlane(
                    g,
                    dyp,
                    &w[c * kk..][..kk],
                    &mut buf[..],
                    dxp,
                ));
            },
        );
    dx
}

/// Gradient of the weights: `dw[C, 1, kh, kw]` from `x` and `dy`, one channel per task (no
/// partial sums across threads, so the result does not depend on their number).
pub fn weight_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (oh, ow) = g.out_hw();
    let (kk, plane, out) = (g.kh * g.kw, g.h * g.w, oh * ow);
    let per_channel: Vec<Vec<f32>> = (0..g.c_in)
        .into_par_iter()
        .map(|c| {
            let mut buf = vec![0.0f32; one_plane(g).planes().len];
            let mut dw = vec![0.0f64; kk];
            for b in 0..g.batch {
                let p = b * g.c_in + c;
                let (xp, dyp) = (&x[p * plane..][..plane], &dy[p * out..][..out]);
                vectorized(WeightGradPlane(g, xp, dyp, &mut buf[..], &mut dw[..]));
            }
            dw.into_iter().map(|v| v as f32).collect()
        })
        .collect();
    per_channel.concat()
}
