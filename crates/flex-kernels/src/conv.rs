//! A convolution's three passes, whichever kernel computes them: the GEMM passes of
//! [`crate::gemm`] for dense convolutions (groups 1), the direct loops of [`crate::depthwise`]
//! for depthwise ones (groups = input channels = output channels). Both are called from here
//! and neither calls the other.

use crate::Geometry;
use crate::{depthwise, gemm};

/// Forward pass: `x[B, C_in, H, W]`, `w[C_out, C_in / groups, kh, kw]`, optional
/// `bias[C_out]` -> `y[B, C_out, OH, OW]`.
pub fn forward(g: &Geometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    if g.groups > 1 {
        depthwise::forward(g, x, w, bias)
    } else {
        gemm::forward(g, x, w, bias)
    }
}

/// Gradient of the weights from `x` and `dy[B, C_out, OH, OW]`.
pub fn weight_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    if g.groups > 1 {
        depthwise::weight_grad(g, x, dy)
    } else {
        gemm::weight_grad(g, x, dy)
    }
}

/// Gradient of the input `dx[B, C_in, H, W]` from `w` and `dy[B, C_out, OH, OW]`.
pub fn input_grad(g: &Geometry, w: &[f32], dy: &[f32]) -> Vec<f32> {
    if g.groups > 1 {
        depthwise::input_grad(g, w, dy)
    } else {
        gemm::input_grad(g, w, dy)
    }
}

/// Gradient of the bias: `db[C_out]`, the sum of `dy[B, C_out, OH, OW]` over images and
/// positions.
pub fn bias_grad(g: &Geometry, dy: &[f32]) -> Vec<f32> {
    let p = g.p();
    let mut db = vec![0.0f64; g.c_out];
    {
        for image in dy.chunks(g.c_out * p) {
            for (d, row) in db.iter_mut().zip(image.chunks(p)) {
                // Eight running sums, so the compiler can keep them in one vector register.
                let mut acc = [0.0f32; 8];
                let mut rows = row.chunks_exact(8);
                for c in &mut rows {
                    for (a, v) in acc.iter_mut().zip(c) {
                        *a += v;
                    }
                }
                let tail: f32 = rows.remainder().iter().sum();
                *d += (acc.iter().sum::<f32>() + tail) as f64;
            }
        }
    };
    db.into_iter().map(|v| v as f32).collect()
}
