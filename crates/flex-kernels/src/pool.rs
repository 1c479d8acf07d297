//! 2 x 2 max-pooling with stride 2 (no padding, odd last rows and columns dropped) on contiguous
//! NCHW f32 slices, with the position of each maximum kept for the backward pass. The first
//! maximum in row-major order wins ties, as in burn's and PyTorch's pooling.

use rayon::prelude::*;

use crate::simd::{vectorized, zeroed};

simd_op!(PoolPlane<'a>(x: &'a [f32], y: &'a mut [f32], arg: &'a mut [u8], w: usize) -> () = pool_plane);

/// `(y, argmax)` of `x[planes, h, w]`: `y[planes, h / 2, w / 2]` and, per output, which of its
/// four inputs (0..4, row-major) was the maximum.
pub fn forward(x: &[f32], planes: usize, h: usize, w: usize) -> (Vec<f32>, Vec<u8>) {
    let (oh, ow) = (h / 2, w / 2);
    let mut y = zeroed(planes * oh * ow);
    let mut arg = zeroed(planes * oh * ow);
    if oh * ow == 0 {
        return (y, arg);
    }
    y.par_chunks_mut(oh * ow)
        .zip(arg.par_chunks_mut(oh * ow))
        .zip(x.par_chunks(h * w))
        .for_each(|((yp, ap), xp)| vectorized(PoolPlane(xp, yp, ap, w)));
    (y, arg)
}

/// One plane `x[h, w]` of [`forward`]: the maxima into `y` and their positions into `arg`.
#[inline(always)]
fn pool_plane((xp, yp, ap, w): (&[f32], &mut [f32], &mut [u8], usize)) {
    let ow = w / 2;
    for (oy, (yr, ar)) in yp.chunks_mut(ow).zip(ap.chunks_mut(ow)).enumerate() {
        let r0 = &xp[2 * oy * w..][..w];
        let r1 = &xp[(2 * oy + 1) * w..][..w];
        for ox in 0..ow {
            let c = [r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]];
            let mut best = 0;
            for (i, &v) in c.iter().enumerate().skip(1) {
                if v > c[best] {
                    best = i;
                }
            }
            yr[ox] = c[best];
            ar[ox] = best as u8;
        }
    }
}

/// `dx[planes, h, w]`: each output's gradient sent to the input that was its maximum.
pub fn backward(dy: &[f32], arg: &[u8], planes: usize, h: usize, w: usize) -> Vec<f32> {
    let (oh, ow) = (h / 2, w / 2);
    let mut dx = zeroed(planes * h * w);
    if oh * ow == 0 {
        return dx;
    }
    dx.par_chunks_mut(h * w)
        .zip(dy.par_chunks(oh * ow))
        .zip(arg.par_chunks(oh * ow))
        .for_each(|((dxp, dyp), ap)| {
            for oy in 0..oh {
                for ox in 0..ow {
                    let a = ap[oy * ow + ox] as usize;
                    dxp[(2 * oy + a / 2) * w + 2 * ox + a % 2] = dyp[oy * ow + ox];
                }
            }
        });
    dx
}
