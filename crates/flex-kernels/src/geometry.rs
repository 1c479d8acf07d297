//! The sizes of a convolution ([`Geometry`]) and its zero-padded input planes ([`Planes`]),
//! with the copies into and out of those planes that the GEMM and depthwise passes share.

use faer::MatRef;

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
    /// True when the passes run as shifted GEMMs on padded planes instead of im2col.
    ///
    /// With stride 1, copy each input channel into a zero-padded plane `Hp x Wp` and compute
    /// the output on the padded width: output row `oy` as columns `oy·Wp .. oy·Wp + Wp`, of
    /// which the first `OW` are real (the rest, `kw - 1` columns per row, are cut away). Then
    /// kernel offset `(i, j)` reads every output column `q` from plane position
    /// `q + i·Wp + j`: one view of the planes with row stride `S` (the plane length) and
    /// column stride 1, so `Y_ext[C_out, OH·Wp] = sum_ij W_ij[C_out, C_in] · shift_ij(X)`,
    /// and each gradient is `kh·kw` GEMMs on the same views. No column matrix is written, the
    /// copies are per row of the image rather than per row and kernel offset, and the GEMMs
    /// use `Wp / OW` times the useful work (30/28 at deep-cnn's first layers, 9/7 at its last).
    /// Few input channels (a first layer on grey images) keep im2col: their GEMMs would be
    /// too thin.
    pub fn shifted(&self) -> bool {
        self.groups == 1 && self.stride == [1, 1] && !self.direct() && self.c_in >= SHIFTED_MIN_C_IN
    }
    /// The padded planes of [`Geometry::shifted`]: padded width `Wp`, plane length `S`
    /// (`Hp·Wp` and `kw - 1` zeros, so the last offset's view stays inside its plane) and the
    /// number of output columns on the padded width, `OH·Wp`.
    pub(crate) fn planes(&self) -> Planes {
        let (oh, _) = self.out_hw();
        let wp = self.w + 2 * self.pad[1];
        let hp = self.h + 2 * self.pad[0];
        Planes {
            wp,
            len: hp * wp + self.kw - 1,
            cols: oh * wp,
        }
    }
}

/// Input channels from which stride-1 convolutions run as shifted GEMMs.
pub const SHIFTED_MIN_C_IN: usize = 4;

/// Sizes of the padded planes of [`Geometry::shifted`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planes {
    /// Padded width `Wp`.
    pub wp: usize,
    /// Length of one channel's plane.
    pub len: usize,
    /// Output columns on the padded width, `OH·Wp`.
    pub cols: usize,
}

impl Planes {
    /// The view of `planes` (`rows` planes of `self.len`) that kernel offset `ij` (row-major
    /// over `kh x kw`) reads: `rows x cols`, row stride the plane length.
    pub(crate) fn shift<'a>(
        &self,
        planes: &'a [f32],
        rows: usize,
        g: &Geometry,
        ij: usize,
    ) -> MatRef<'a, f32> {
        let off = (ij / g.kw) * self.wp + ij % g.kw;
        MatRef::from_row_major_slice_with_stride(&planes[off..], rows, self.cols, self.len)
    }
}

simd_op!(pub(crate) Pad<'a>(g: &'a Geometry, x: &'a [f32], planes: &'a mut [f32]) -> () = pad);
simd_op!(pub(crate) Unpad<'a>(g: &'a Geometry, planes: &'a [f32], x: &'a mut [f32]) -> () = unpad);

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
