//! The autodiff steps: each operation on `Autodiff<Flex>` computes its forward pass now (see
//! [`crate::forward`]) and registers a step that computes its operands' gradients from what it
//! kept, for the operands that are tracked.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, AutodiffBackend, Flex, tensor::FloatTensor};
use burn::tensor::TensorData;

use crate::forward::{
    FlexTensor, bcs, dense_sizes, f32s, flex_bn, flex_dense, flex_forward, flex_pool, flex_stats,
    flex_tensor, geometry,
};
use crate::geometry::Geometry;
use crate::linear::{self, Dense};
use crate::{KernelOps, conv, norm, pool};

/// The backward step of [`KernelOps::max_pool2x2`].
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

/// The backward step of [`KernelOps::bn_train`].
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
        let dx = conv::input_grad(&g, w.storage::<f32>(), dy.storage::<f32>());
        grads.register::<Flex>(id, flex_tensor(dx, [g.batch, g.c_in, g.h, g.w]));
    }
    if let Some(id) = node_w {
        let dw = conv::weight_grad(&g, x.storage::<f32>(), dy.storage::<f32>());
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
            let db = conv::bias_grad(&g, dy.storage::<f32>());
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

/// What a dense layer's backward step keeps: the contiguous input and weights, and the sizes.
type DenseState = (FlexTensor, FlexTensor, Dense);

/// The input's and the weights' gradients of a dense layer.
fn dense_grads(
    parents: [Option<NodeId>; 2],
    dy: &FlexTensor,
    (x, w, s): DenseState,
    grads: &mut Gradients,
) {
    let [node_x, node_w] = parents;
    if let Some(id) = node_x {
        let dx = linear::input_grad(&s, w.storage::<f32>(), dy.storage::<f32>());
        grads.register::<Flex>(id, flex_tensor(dx, [s.batch, s.d_in]));
    }
    if let Some(id) = node_w {
        let dw = linear::weight_grad(&s, x.storage::<f32>(), dy.storage::<f32>());
        grads.register::<Flex>(id, flex_tensor(dw, [s.d_in, s.d_out]));
    }
}

/// The backward step of [`KernelOps::dense`].
#[derive(Debug)]
struct DenseBackward;

impl Backward<Flex, 2> for DenseBackward {
    type State = DenseState;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        dense_grads(ops.parents.map(|n| n.map(|n| n.id)), &dy, ops.state, grads);
    }
}

/// The backward step of [`KernelOps::dense_bias`]: the bias's gradient too.
#[derive(Debug)]
struct DenseBiasBackward;

impl Backward<Flex, 3> for DenseBiasBackward {
    type State = DenseState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = f32s(&grads.consume::<Flex>(&ops.node));
        let s = ops.state.2;
        if let Some(node) = node_b {
            let db = linear::bias_grad(&s, dy.storage::<f32>());
            grads.register::<Flex>(node.id, flex_tensor(db, [s.d_out]));
        }
        dense_grads(
            [node_x, node_w].map(|n| n.map(|n| n.id)),
            &dy,
            ops.state,
            grads,
        );
    }
}

/// The autodiff dense layer: forward now, [`DenseBackward`] (or the bias variant) later.
fn ad_dense<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    bias: Option<FloatTensor<Autodiff<Flex, C>>>,
) -> FloatTensor<Autodiff<Flex, C>> {
    let xp = f32s(x.primitive());
    let wp = f32s(weight.primitive());
    let bp = bias.as_ref().map(|b| f32s(b.primitive()));
    let s = dense_sizes(&xp, &wp);
    let y = flex_dense(&xp, &wp, bp.as_ref());
    match bias {
        Some(bias) => match DenseBiasBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, wp, s), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
        None => match DenseBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((xp, wp, s), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        },
    }
}

impl<C: CheckpointStrategy> KernelOps for Autodiff<Flex, C> {
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

    fn dense(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        ad_dense::<C>(x, weight, None)
    }

    fn dense_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        ad_dense::<C>(x, weight, Some(bias))
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
