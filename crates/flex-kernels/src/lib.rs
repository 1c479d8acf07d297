//! Kernels for burn's flex CPU backend, with their own autodiff steps, as a burn backend
//! extension ([`KernelOps`]): 2-D convolution (dense and depthwise), batch normalisation in
//! training, 2 x 2 max-pooling, and dense layers.
//!
//! burn-flex 0.22 computes a convolution's gradients with burn's generic fallbacks (a
//! transposed convolution for the input, a convolution over swapped axes for the weights),
//! which re-lay out every tensor on every call, and allocates every matmul output twice (see
//! [`linear`]). Here each pass runs on faer's f32 GEMM: for convolutions per kernel offset on
//! windows of column-shifted copies of the zero-padded image for stride 1, im2col of one
//! image otherwise
//! ([`gemm`]); depthwise convolutions are direct loops ([`depthwise`]); [`conv`] picks one.
//! Values and gradients are checked against burn's own operations in the tests.
//!
//! The public functions ([`conv2d`], [`batch_norm_train`], [`max_pool2x2`], [`linear`]) take
//! burn tensors; the callers ask [`covers`], [`linear_covers`] or [`is_flex`] first. The kernels
//! are on unless the program switches them off with [`set_enabled`] (the runner does for
//! `REPALIGN_BURN_OPS=1`): every layer then runs on burn's own flex operations, the reference.
//!
//! Layout: `lib.rs` (the extension trait, the switch and the entry points), [`forward`] (the
//! operations on flex tensors), [`backward`] (their autodiff steps), [`geometry`] and [`simd`]
//! (shared by the kernels), [`conv`] over [`gemm`] and [`depthwise`], [`norm`], [`pool`],
//! [`linear`].

#[macro_use]
mod simd;
mod backward;
pub mod conv;
pub mod depthwise;
mod forward;
pub mod gemm;
pub mod geometry;
pub mod linear;
pub mod norm;
pub mod pool;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::{Backend, Dispatch, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, Device, Tensor};

pub use geometry::Geometry;

/// The operations this crate adds to burn's flex backend (and its autodiff wrapper).
#[backend_extension(Flex, Autodiff)]
pub trait KernelOps: Backend {
    /// `conv2d(x, weight)`, groups 1 (weight `[C_out, C_in, kh, kw]`) or depthwise (weight
    /// `[C_in, 1, kh, kw]`), dilation 1, the given stride and symmetric zero
    /// padding; f32.
    fn gemm_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self>;

    /// [`KernelOps::gemm_conv2d`] plus `bias[C_out]`.
    fn gemm_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self>;

    /// Per-channel mean and biased variance of `x[B, C, ...]` (f32) as `[2, C]`; not
    /// differentiated.
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// Batch normalisation in training mode: `(x - mean) / sqrt(var + epsilon) * gamma + beta`
    /// with `stats` = [`KernelOps::bn_stats`] of `x`; differentiated in `x`, `gamma` and
    /// `beta` (through the statistics too).
    fn bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;

    /// 2 x 2 max-pooling, stride 2, no padding, of `x[B, C, H, W]` (f32).
    fn max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// A dense layer without bias: `x[B, d_in] · weight[d_in, d_out]` (f32).
    fn dense(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// [`KernelOps::dense`] plus `bias[d_out]` on every row.
    fn dense_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Switches the kernels on (the default) or off for the whole process: off, every layer runs
/// on burn's own flex operations, the reference the kernels are checked against.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the kernels are on (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
/// True when `device` (with or without autodiff) is burn's flex CPU device and the kernels are
/// on.
pub fn is_flex(device: &Device) -> bool {
    enabled() && device.clone().inner() == Device::flex()
}

/// `conv2d(x, weight) + bias` through this crate's convolution. The caller has checked
/// [`covers`].
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: [usize; 2],
    pad: [usize; 2],
) -> Tensor<4> {
    let (x, w) = (x.into_dispatch(), weight.into_dispatch());
    let [sh, sw] = stride;
    let [ph, pw] = pad;
    Tensor::<4>::from_dispatch(match bias {
        Some(b) => {
            <Dispatch as KernelOps>::gemm_conv2d_bias(x, w, b.into_dispatch(), sh, sw, ph, pw)
        }
        None => <Dispatch as KernelOps>::gemm_conv2d(x, w, sh, sw, ph, pw),
    })
}

/// Whether [`conv2d`] computes this convolution of `x` into `c_out` channels: f32 on a flex
/// device, dilation 1, groups 1 or depthwise (groups = input channels = `c_out`).
pub fn covers(x: &Tensor<4>, c_out: usize, groups: usize, dilation: [usize; 2]) -> bool {
    let c_in = x.dims()[1];
    let grouping = groups == 1 || (groups == c_in && c_out == c_in);
    grouping && dilation == [1, 1] && x.dtype() == DType::F32 && is_flex(&x.device())
}

/// Batch normalisation in training mode through [`KernelOps::bn_train`], and the batch
/// statistics `[2, C]` (mean, biased variance; not tracked) for the running averages.
pub fn batch_norm_train<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<D>, Tensor<2>) {
    let stats =
        Tensor::<2>::from_dispatch(<Dispatch as KernelOps>::bn_stats(x.clone().into_dispatch()));
    let y = Tensor::<D>::from_dispatch(<Dispatch as KernelOps>::bn_train(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        stats.clone().into_dispatch(),
        epsilon,
    ));
    (y, stats)
}

/// 2 x 2 max-pooling with stride 2 through [`KernelOps::max_pool2x2`].
pub fn max_pool2x2(x: Tensor<4>) -> Tensor<4> {
    Tensor::<4>::from_dispatch(<Dispatch as KernelOps>::max_pool2x2(x.into_dispatch()))
}

/// Whether [`linear`] computes a dense layer on `x`: f32 on a flex device, kernels on.
pub fn linear_covers(x: &Tensor<2>) -> bool {
    x.dtype() == DType::F32 && is_flex(&x.device())
}

/// `x[B, d_in] · weight[d_in, d_out] (+ bias[d_out])` through [`KernelOps::dense`]; the
/// caller has checked [`linear_covers`].
pub fn linear(x: Tensor<2>, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<2> {
    let (x, w) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::<2>::from_dispatch(match bias {
        Some(b) => <Dispatch as KernelOps>::dense_bias(x, w, b.into_dispatch()),
        None => <Dispatch as KernelOps>::dense(x, w),
    })
}
