//! A faster 2-D convolution for burn's flex CPU backend (cargo feature `flex`), forward and both
//! backward passes, as a burn backend extension with its own autodiff step.
//!
//! burn-flex 0.22 computes a convolution's gradients with burn's generic fallbacks (a transposed
//! convolution for the input, a convolution over swapped axes for the weights), which re-lay out
//! every tensor on every call. Here each pass runs on faer's f32 GEMM: per kernel offset on
//! shifted views of zero-padded planes for stride 1, im2col of one image otherwise (see
//! [`kernel`]); depthwise convolutions are direct loops ([`depthwise`]). [`conv2d`] takes this
//! path on flex devices for the layers it covers (groups 1 or depthwise, dilation 1, symmetric
//! padding, f32) and burn's `conv2d` everywhere else.
//! Values and gradients are checked against burn's own convolution in the tests.

/// `$op(args...)`: a call of the `#[inline(always)]` function `$f` (which takes its arguments
/// as one tuple) as a pulp operation, so that [`kernel::vectorized`] compiles its loops inside
/// the run-time-dispatched, AVX2-enabled function. A closure or a generic `FnOnce` would be
/// called through a shim that is not inlined there, and its loops would stay SSE2.
macro_rules! simd_op {
    ($op:ident<$lt:lifetime>($($arg:ident: $ty:ty),*) -> $ret:ty = $f:path) => {
        struct $op<$lt>($($ty),*);
        impl<$lt> pulp::WithSimd for $op<$lt> {
            type Output = $ret;
            #[inline(always)]
            fn with_simd<S: pulp::Simd>(self, _: S) -> $ret {
                let $op($($arg),*) = self;
                $f(($($arg),*))
            }
        }
    };
}

pub mod depthwise;
pub mod kernel;
pub mod norm;
pub mod pool;
#[cfg(test)]
mod tests;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, Flex, backend_extension, tensor::FloatTensor,
};
use burn::tensor::{DType, Device, Tensor, TensorData};

use kernel::Geometry;

/// The convolution this module adds to burn's flex backend (and its autodiff wrapper).
#[backend_extension(Flex, Autodiff)]
pub trait GemmConvOps: Backend {
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

    /// [`GemmConvOps::gemm_conv2d`] plus `bias[C_out]`.
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
    /// with `stats` = [`GemmConvOps::bn_stats`] of `x`; differentiated in `x`, `gamma` and
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
}

type FlexTensor = FloatTensor<Flex>;

fn geometry(x: &FlexTensor, w: &FlexTensor, stride: [usize; 2], pad: [usize; 2]) -> Geometry {
    use burn::backend::TensorMetadata;
    let xs = x.shape();
    let ws = w.shape();
    Geometry {
        batch: xs[0],
        c_in: xs[1],
        h: xs[2],
        w: xs[3],
        c_out: ws[0],
        kh: ws[2],
        kw: ws[3],
        stride,
        pad,
        groups: xs[1] / ws[1].max(1),
    }
}

fn f32s(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn flex_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `(batch, channels, spatial positions)` of `x[B, C, ...]`.
fn bcs(x: &FlexTensor) -> (usize, usize, usize) {
    use burn::backend::TensorMetadata;
    let dims = x.shape();
    (dims[0], dims[1], dims.iter().skip(2).product())
}

fn flex_stats(x: &FlexTensor) -> FlexTensor {
    let (b, c, s) = bcs(x);
    let x = f32s(x);
    flex_tensor(norm::stats(x.storage::<f32>(), b, c, s), [2, c])
}

fn flex_bn(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    stats: &FlexTensor,
    eps: f64,
) -> FlexTensor {
    use burn::backend::TensorMetadata;
    let (_, c, s) = bcs(x);
    let y = norm::forward(
        f32s(x).storage::<f32>(),
        f32s(gamma).storage::<f32>(),
        f32s(beta).storage::<f32>(),
        f32s(stats).storage::<f32>(),
        eps,
        c,
        s,
    );
    FlexTensor::from_data(TensorData::new(y, x.shape()))
}

fn flex_forward(
    x: &FlexTensor,
    w: &FlexTensor,
    bias: Option<&FlexTensor>,
    stride: [usize; 2],
    pad: [usize; 2],
) -> FlexTensor {
    let g = geometry(x, w, stride, pad);
    let (x, w, bias) = (f32s(x), f32s(w), bias.map(f32s));
    let y = kernel::forward(
        &g,
        x.storage::<f32>(),
        w.storage::<f32>(),
        bias.as_ref().map(|b| b.storage::<f32>()),
    );
    let (oh, ow) = g.out_hw();
    flex_tensor(y, [g.batch, g.c_out, oh, ow])
}

impl GemmConvOps for Flex {
    fn gemm_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        flex_forward(&x, &weight, None, [stride_h, stride_w], [pad_h, pad_w])
    }

    fn gemm_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        flex_forward(
            &x,
            &weight,
            Some(&bias),
            [stride_h, stride_w],
            [pad_h, pad_w],
        )
    }

    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        flex_stats(&x)
    }

    fn bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        flex_bn(&x, &gamma, &beta, &stats, epsilon)
    }

    fn max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        flex_pool(&x).0
    }
}

/// The pooled tensor and, per output, which input was the maximum.
fn flex_pool(x: &FlexTensor) -> (FlexTensor, Vec<u8>) {
    use burn::backend::TensorMetadata;
    let s = x.shape();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    let (y, arg) = pool::forward(f32s(x).storage::<f32>(), b * c, h, w);
    (flex_tensor(y, [b, c, h / 2, w / 2]), arg)
}

/// The backward step of [`GemmConvOps::max_pool2x2`].
#[derive(Debug)]
struct MaxPoolBackward;

impl Backward<Flex, 1> for MaxPoolBackward {
    /// Which input was each output's maximum, and the input's shape.
    type State = (Vec<u8>, [usize; 4]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        let (arg, [b, c, h, w]) = ops.state;
        if let Some(node) = node_x {
            let dx = pool::backward(dy.storage::<f32>(), &arg, b * c, h, w);
            grads.register::<Flex>(node.id, flex_tensor(dx, [b, c, h, w]));
        }
    }
}

/// The backward step of [`GemmConvOps::bn_train`].
#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    /// Contiguous `x`, `gamma`, `stats`, and `epsilon`.
    type State = (FlexTensor, FlexTensor, FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        use burn::backend::TensorMetadata;
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        let (x, gamma, stats, eps) = ops.state;
        let (b, c, s) = bcs(&x);
        let (dx, dgamma, dbeta) = norm::backward(
            x.storage::<f32>(),
            gamma.storage::<f32>(),
            stats.storage::<f32>(),
            eps,
            dy.storage::<f32>(),
            b,
            c,
            s,
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(
                node.id,
                FlexTensor::from_data(TensorData::new(dx, x.shape())),
            );
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex_tensor(dgamma, [c]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex_tensor(dbeta, [c]));
        }
    }
}

/// The backward step: the input's and the weights' gradients from the saved (contiguous)
/// input and weights.
#[derive(Debug)]
struct GemmConvBackward;

/// What a convolution's backward step keeps: the contiguous input and weights, and the sizes.
type ConvState = (FlexTensor, FlexTensor, Geometry);

/// The input's and the weights' gradients.
fn conv_grads(
    parents: [Option<NodeId>; 2],
    dy: &FlexTensor,
    (x, w, g): ConvState,
    grads: &mut Gradients,
) {
    let [node_x, node_w] = parents;
    if let Some(id) = node_x {
        let dx = kernel::input_grad(&g, w.storage::<f32>(), dy.storage::<f32>());
        grads.register::<Flex>(id, flex_tensor(dx, [g.batch, g.c_in, g.h, g.w]));
    }
    if let Some(id) = node_w {
        let dw = kernel::weight_grad(&g, x.storage::<f32>(), dy.storage::<f32>());
        let shape = [g.c_out, g.c_in / g.groups, g.kh, g.kw];
        grads.register::<Flex>(id, flex_tensor(dw, shape));
    }
}

impl Backward<Flex, 2> for GemmConvBackward {
    type State = ConvState;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        conv_grads(ops.parents.map(|n| n.map(|n| n.id)), &dy, ops.state, grads);
    }
}

/// The backward step with a bias: its gradient too.
#[derive(Debug)]
struct GemmConvBiasBackward;

impl Backward<Flex, 3> for GemmConvBiasBackward {
    type State = ConvState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        let g = ops.state.2;
        if let Some(node) = node_b {
            let db = kernel::bias_grad(&g, dy.storage::<f32>());
            grads.register::<Flex>(node.id, flex_tensor(db, [g.c_out]));
        }
        conv_grads(
            [node_x, node_w].map(|n| n.map(|n| n.id)),
            &dy,
            ops.state,
            grads,
        );
    }
}

/// The autodiff convolution: forward now, [`GemmConvBackward`] (or the bias variant) later.
fn ad_conv<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    bias: Option<FloatTensor<Autodiff<Flex, C>>>,
    stride: [usize; 2],
    pad: [usize; 2],
) -> FloatTensor<Autodiff<Flex, C>> {
    let xp = f32s(x.primitive());
    let wp = f32s(weight.primitive());
    let bp = bias.as_ref().map(|b| f32s(b.primitive()));
    let g = geometry(&xp, &wp, stride, pad);
    let y = flex_forward(&xp, &wp, bp.as_ref(), stride, pad);
    match bias {
        Some(bias) => match GemmConvBiasBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, wp, g), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
        None => match GemmConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, wp, g), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
    }
}

impl<C: CheckpointStrategy> GemmConvOps for Autodiff<Flex, C> {
    fn gemm_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        ad_conv::<C>(x, weight, None, [stride_h, stride_w], [pad_h, pad_w])
    }

    fn gemm_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        ad_conv::<C>(x, weight, Some(bias), [stride_h, stride_w], [pad_h, pad_w])
    }
    fn bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(flex_stats(x.primitive()))
    }

    fn bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let (xp, gp, bp, sp) = (
            f32s(x.primitive()),
            f32s(gamma.primitive()),
            f32s(beta.primitive()),
            f32s(stats.primitive()),
        );
        let y = flex_bn(&xp, &gp, &bp, &sp, epsilon);
        match BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, gp, sp, epsilon), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        use burn::backend::TensorMetadata;
        let s = x.primitive().shape();
        let shape = [s[0], s[1], s[2], s[3]];
        let (y, arg) = flex_pool(x.primitive());
        match MaxPoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((arg, shape), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// The environment variable that turns this module off (`REPALIGN_BURN_OPS=1`): every layer
/// then runs on burn's own flex operations, the reference this module is checked against.
pub const BURN_OPS_VAR: &str = "REPALIGN_BURN_OPS";

/// Whether this module's kernels are in use on flex devices (unless [`BURN_OPS_VAR`] is set to
/// something other than `0` or empty); read once per process.
pub fn kernels_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var(BURN_OPS_VAR).map_or(true, |v| v.is_empty() || v == "0"))
}

/// True when `device` (with or without autodiff) is burn's flex CPU device and this module's
/// kernels are enabled.
pub fn is_flex(device: &Device) -> bool {
    kernels_enabled() && device.clone().inner() == Device::flex()
}

/// `conv2d(x, weight) + bias` through this module's GEMM convolution. The caller has checked
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
            <Dispatch as GemmConvOps>::gemm_conv2d_bias(x, w, b.into_dispatch(), sh, sw, ph, pw)
        }
        None => <Dispatch as GemmConvOps>::gemm_conv2d(x, w, sh, sw, ph, pw),
    })
}

/// Whether [`conv2d`] computes this convolution of `x` into `c_out` channels: f32 on a flex
/// device, dilation 1, groups 1 or depthwise (groups = input channels = `c_out`).
pub fn covers(x: &Tensor<4>, c_out: usize, groups: usize, dilation: [usize; 2]) -> bool {
    let c_in = x.dims()[1];
    let grouping = groups == 1 || (groups == c_in && c_out == c_in);
    grouping && dilation == [1, 1] && x.dtype() == DType::F32 && is_flex(&x.device())
}

/// Batch normalisation in training mode through [`GemmConvOps::bn_train`], and the batch
/// statistics `[2, C]` (mean, biased variance; not tracked) for the running averages.
pub fn batch_norm_train<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<D>, Tensor<2>) {
    let stats = Tensor::<2>::from_dispatch(<Dispatch as GemmConvOps>::bn_stats(
        x.clone().into_dispatch(),
    ));
    let y = Tensor::<D>::from_dispatch(<Dispatch as GemmConvOps>::bn_train(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        stats.clone().into_dispatch(),
        epsilon,
    ));
    (y, stats)
}

/// 2 x 2 max-pooling with stride 2 through [`GemmConvOps::max_pool2x2`].
pub fn max_pool2x2(x: Tensor<4>) -> Tensor<4> {
    Tensor::<4>::from_dispatch(<Dispatch as GemmConvOps>::max_pool2x2(x.into_dispatch()))
}
