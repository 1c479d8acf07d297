//! Batch normalisation in training mode on contiguous NCHW f32 slices: per-channel statistics
//! (two passes, f64 sums), the normalisation, and its backward pass, each one sweep over the
//! activations. burn's generic version swaps the batch and channel axes (a copy) for every
//! reduction and builds the backward out of a dozen whole-tensor operations.

use rayon::prelude::*;

use crate::simd::{vectorized, zeroed};

simd_op!(ShiftedSums<'a>(xs: &'a [f32], spatial: usize, shift: &'a [f32], acc: &'a mut [(f64, f64)]) -> () = shifted_sums);
simd_op!(Affine<'a>(y: &'a mut [f32], x: &'a [f32], scale: f32, shift: f32) -> () = affine);
simd_op!(GradSums<'a>(x: &'a [f32], dy: &'a [f32], m: f32) -> (f64, f64) = grad_sums);
simd_op!(InputGradPlane<'a>(dx: &'a mut [f32], x: &'a [f32], dy: &'a [f32], c: [f32; 5]) -> () = input_grad_plane);

/// `sum(f(a_i, b_i))` over two equally long slices in eight f32 lanes (one vector register:
/// the compiler vectorises it, a single running sum it cannot), returned as f64.
#[inline(always)]
fn lanes(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        let (x, y): (&[f32; 8], &[f32; 8]) = (x.try_into().unwrap(), y.try_into().unwrap());
        for i in 0..8 {
            acc[i] += f(x[i], y[i]);
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(&x, &y)| f(x, y)).sum();
    acc.iter().map(|&v| v as f64).sum::<f64>() + tail as f64
}

/// `(mean, biased variance)` per channel of `x[B, C, S]` (`S` spatial positions), as
/// `[mean_0 .. mean_C, var_0 .. var_C]`. One pass over contiguous memory: sums of `v - k` and
/// `(v - k)^2` with `k` the channel's first value (close enough to the mean to keep the
/// subtraction from cancelling), f32 within a plane, f64 across planes.
pub fn stats(x: &[f32], batch: usize, channels: usize, spatial: usize) -> Vec<f32> {
    if x.is_empty() {
        return vec![f32::NAN; 2 * channels];
    }
    let shift: Vec<f32> = (0..channels).map(|c| x[c * spatial]).collect();
    let per = batch.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let partials: Vec<Vec<(f64, f64)>> = x
        .par_chunks(per * channels * spatial)
        .map(|xs| {
            let mut acc = vec![(0.0f64, 0.0f64); channels];
            vectorized(ShiftedSums(xs, spatial, &shift[..], &mut acc[..]));
            acc
        })
        .collect();
    let n = (batch * spatial) as f64;
    let mut mean = vec![0.0f32; channels];
    let mut var = vec![0.0f32; channels];
    for c in 0..channels {
        let (s1, s2) = partials
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p[c].0, b + p[c].1));
        let d = s1 / n;
        mean[c] = (shift[c] as f64 + d) as f32;
        var[c] = (s2 / n - d * d).max(0.0) as f32;
    }
    mean.extend(var);
    mean
}

/// Per channel, `sum(v - k)` and `sum((v - k)^2)` over the planes of `xs[images, C, S]` added
/// to `acc`, with `k` = `shift[c]`.
#[inline(always)]
#[allow(clippy::type_complexity)] // one tuple of arguments, as `simd_op!` passes them
fn shifted_sums((xs, spatial, shift, acc): (&[f32], usize, &[f32], &mut [(f64, f64)])) {
    let channels = shift.len();
    for (i, p) in xs.chunks(spatial).enumerate() {
        let c = i % channels;
        let k = shift[c];
        acc[c].0 += lanes(p, p, |v, _| v - k);
        acc[c].1 += lanes(p, p, |v, _| (v - k) * (v - k));
    }
}

/// `y = x * scale + shift` over one plane.
#[inline(always)]
fn affine((y, x, scale, shift): (&mut [f32], &[f32], f32, f32)) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v * scale + shift;
    }
}

/// `(sum(dy), sum(dy * (x - m)))` over one plane.
#[inline(always)]
fn grad_sums((x, dy, m): (&[f32], &[f32], f32)) -> (f64, f64) {
    (lanes(dy, dy, |g, _| g), lanes(x, dy, |v, g| g * (v - m)))
}

/// `dx = k (dy - mean(dy) - (x - m) s mean(dy xhat))` over one plane, with
/// `[m, s, k, mean(dy), mean(dy xhat)]`.
#[inline(always)]
fn input_grad_plane(
    (dx, x, dy, [m, s, k, mean_dy, mean_dyx]): (&mut [f32], &[f32], &[f32], [f32; 5]),
) {
    for ((d, &v), &g) in dx.iter_mut().zip(x).zip(dy) {
        *d = k * (g - mean_dy - (v - m) * s * mean_dyx);
    }
}

fn inv_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (v as f64 + epsilon).sqrt()) as f32)
        .collect()
}

/// `y = (x - mean) / sqrt(var + eps) * gamma + beta`, per channel.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    stats: &[f32],
    epsilon: f64,
    channels: usize,
    spatial: usize,
) -> Vec<f32> {
    let (mean, var) = stats.split_at(channels);
    let inv = inv_std(var, epsilon);
    let mut y = zeroed(x.len());
    y.par_chunks_mut(spatial)
        .zip(x.par_chunks(spatial))
        .enumerate()
        .for_each(|(i, (yp, xp))| {
            let c = i % channels;
            let scale = inv[c] * gamma[c];
            let shift = beta[c] - mean[c] * scale;
            vectorized(Affine(yp, xp, scale, shift));
        });
    y
}

/// Gradients `(dx, dgamma, dbeta)` of [`forward`] in training mode (the statistics are those of
/// `x` itself, so they are differentiated too).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    gamma: &[f32],
    stats: &[f32],
    epsilon: f64,
    dy: &[f32],
    batch: usize,
    channels: usize,
    spatial: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mean, var) = stats.split_at(channels);
    let inv = inv_std(var, epsilon);
    let n = (batch * spatial) as f64;
    // Per channel: sum(dy) and sum(dy * xhat).
    let sums: Vec<(f64, f64)> = (0..channels)
        .into_par_iter()
        .map(|c| {
            let (m, s) = (mean[c], inv[c]);
            (0..batch).fold((0.0, 0.0), |(a, b), i| {
                let o = (i * channels + c) * spatial;
                let (da, db) = vectorized(GradSums(&x[o..o + spatial], &dy[o..o + spatial], m));
                (a + da, b + db * s as f64)
            })
        })
        .collect();
    let dbeta: Vec<f32> = sums.iter().map(|s| s.0 as f32).collect();
    let dgamma: Vec<f32> = sums.iter().map(|s| s.1 as f32).collect();
    let mut dx = zeroed(x.len());
    dx.par_chunks_mut(spatial).enumerate().for_each(|(i, dxp)| {
        let c = i % channels;
        let o = i * spatial;
        let (xp, gp) = (&x[o..o + spatial], &dy[o..o + spatial]);
        let (m, s) = (mean[c], inv[c]);
        let k = gamma[c] * s;
        let mean_dy = (sums[c].0 / n) as f32;
        let mean_dyx = (sums[c].1 / n) as f32;
        let centre = [m, s, k, mean_dy, mean_dyx];
        vectorized(InputGradPlane(dxp, xp, gp, centre));
    });
    (dx, dgamma, dbeta)
}
