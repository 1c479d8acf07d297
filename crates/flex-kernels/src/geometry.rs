//! The sizes of a convolution ([`Geometry`]) and of one channel's zero-padded plane
//! ([`Planes`]), with the copies into and out of such planes that the depthwise passes use.

use crate::simd::copy;

/// Sizes of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Images.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride (height, width).
    pub stride: [usize; 2],
    /// Zero padding on each side (height, width).
    pub pad: [usize; 2],
    /// 1, or the number of input channels for a depthwise convolution (then `c_out == c_in`:
    /// one filter per channel, see [`crate::depthwise`]).
    pub groups: usize,
}

impl Geometry {
    /// Output height and width.
    pub fn out_hw(&self) -> (usize, usize) {
        let oh = (self.h + 2 * self.pad[0] - self.kh) / self.stride[0] + 1;
        let ow = (self.w + 2 * self.pad[1] - self.kw) / self.stride[1] + 1;
        (oh, ow)
    }
    pub(crate) fn k(&self) -> usize {
        self.c_in * self.kh * self.kw
    }
    pub(crate) fn p(&self) -> usize {
        let (oh, ow) = self.out_hw();
        oh * ow
    }
    pub(crate) fn in_len(&self) -> usize {
        self.c_in * self.h * self.w
    }
    /// True when the column matrix is the image itself (1x1, stride 1, no padding).
    pub(crate) fn direct(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.pad == [0, 0]
    }
    /// True when the passes run as shifted GEMMs instead of im2col.
    ///
    /// With stride 1, copy the image `kw` times, once per kernel column `j`: every input
    /// channel's zero-padded plane (`Hp` rows) shifted left by `j` and cut to the output width
    /// `OW`. Kernel offset `(i, j)` reads output position `oy·OW + ox` from copy `j` at row
    /// `oy + i`, column `ox`: a contiguous window of `OH·OW` values per channel, one view with
    /// row stride the plane length. So `Y[C_out, OH·OW] = sum_ij W_ij[C_out, C_in] ·
    /// window_ij(X)`, and each gradient is `kh·kw` GEMMs on the same windows. No column matrix
    /// of `kh·kw` copies is written (`kw` copies of rows instead), and the GEMMs compute only
    /// the real outputs. Small images are stacked into tall ones so the GEMMs are long
    /// enough (see `gemm.rs`). Few input channels (a first layer on grey images) keep im2col: their
    /// GEMMs would be too thin.
    pub fn shifted(&self) -> bool {
        self.groups == 1 && self.stride == [1, 1] && !self.direct() && self.c_in >= SHIFTED_MIN_C_IN
    }
    /// One channel's zero-padded plane (the depthwise kernels' scratch): padded width `Wp`
    /// and plane length `S` (`Hp·Wp` and `kw - 1` zeros, so the last offset's row stays
    /// inside its plane).
    pub(crate) fn planes(&self) -> Planes {
        let wp = self.w + 2 * self.pad[1];
        let hp = self.h + 2 * self.pad[0];
        Planes {
            wp,
            len: hp * wp + self.kw - 1,
        }
    }
}

/// Input channels from which stride-1 convolutions run as shifted GEMMs.
pub const SHIFTED_MIN_C_IN: usize = 4;

/// Sizes of one channel's zero-padded plane ([`Geometry::planes`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planes {
    /// Padded width `Wp`.
    pub wp: usize,
    /// Length of one channel's plane.
    pub len: usize,
}

/// One image `x[C, H, W]` into the interior of its padded planes (the borders are left as
/// they are: zero, as the planes were allocated).
#[inline(always)]
pub(crate) fn pad((g, x, planes): (&Geometry, &[f32], &mut [f32])) {
    let pl = g.planes();
    let [ph, pw] = g.pad;
    for c in 0..g.c_in {
        for y in 0..g.h {
            let dst = &mut planes[c * pl.len + (y + ph) * pl.wp + pw..][..g.w];
            copy(dst, &x[(c * g.h + y) * g.w..][..g.w]);
        }
    }
}

/// The interior of padded planes into an image `x[C, H, W]`.
#[inline(always)]
pub(crate) fn unpad((g, planes, x): (&Geometry, &[f32], &mut [f32])) {
    let pl = g.planes();
    let [ph, pw] = g.pad;
    for c in 0..g.c_in {
        for y in 0..g.h {
            let src = &planes[c * pl.len + (y + ph) * pl.wp + pw..][..g.w];
            copy(&mut x[(c * g.h + y) * g.w..][..g.w], src);
        }
    }
}
