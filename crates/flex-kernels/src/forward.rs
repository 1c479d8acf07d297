//! The operations on flex tensors: each takes its operands' f32 values (made contiguous),
//! runs a kernel, and wraps the result as a flex tensor (the vector moved in, not copied).

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use burn::tensor::TensorData;

use crate::geometry::Geometry;
use crate::linear::{self, Dense};
use crate::{KernelOps, conv, norm, pool};

pub(crate) type FlexTensor = FloatTensor<Flex>;

pub(crate) fn geometry(
    x: &FlexTensor,
    w: &FlexTensor,
    stride: [usize; 2],
    pad: [usize; 2],
) -> Geometry {
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

pub(crate) fn f32s(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

pub(crate) fn flex_tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `(batch, channels, spatial positions)` of `x[B, C, ...]`.
pub(crate) fn bcs(x: &FlexTensor) -> (usize, usize, usize) {
    use burn::backend::TensorMetadata;
    let dims = x.shape();
    (dims[0], dims[1], dims.iter().skip(2).product())
}

pub(crate) fn flex_stats(x: &FlexTensor) -> FlexTensor {
    let (b, c, s) = bcs(x);
    let x = f32s(x);
    flex_tensor(norm::stats(x.storage::<f32>(), b, c, s), [2, c])
}

pub(crate) fn flex_bn(
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

pub(crate) fn flex_forward(
    x: &FlexTensor,
    w: &FlexTensor,
    bias: Option<&FlexTensor>,
    stride: [usize; 2],
    pad: [usize; 2],
) -> FlexTensor {
    let g = geometry(x, w, stride, pad);
    let (x, w, bias) = (f32s(x), f32s(w), bias.map(f32s));
    let y = conv::forward(
        &g,
        x.storage::<f32>(),
        w.storage::<f32>(),
        bias.as_ref().map(|b| b.storage::<f32>()),
    );
    let (oh, ow) = g.out_hw();
    flex_tensor(y, [g.batch, g.c_out, oh, ow])
}

/// The sizes of `x[B, d_in] · w[d_in, d_out]`.
pub(crate) fn dense_sizes(x: &FlexTensor, w: &FlexTensor) -> Dense {
    use burn::backend::TensorMetadata;
    let (xs, ws) = (x.shape(), w.shape());
    Dense {
        batch: xs[0],
        d_in: xs[1],
        d_out: ws[1],
    }
}

pub(crate) fn flex_dense(x: &FlexTensor, w: &FlexTensor, bias: Option<&FlexTensor>) -> FlexTensor {
    let s = dense_sizes(x, w);
    let (x, w, bias) = (f32s(x), f32s(w), bias.map(f32s));
    let y = linear::forward(
        &s,
        x.storage::<f32>(),
        w.storage::<f32>(),
        bias.as_ref().map(|b| b.storage::<f32>()),
    );
    flex_tensor(y, [s.batch, s.d_out])
}

impl KernelOps for Flex {
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

    fn dense(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        flex_dense(&x, &weight, None)
    }

    fn dense_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        flex_dense(&x, &weight, Some(&bias))
    }
}

/// The pooled tensor and, per output, which input was the maximum.
pub(crate) fn flex_pool(x: &FlexTensor) -> (FlexTensor, Vec<u8>) {
    use burn::backend::TensorMetadata;
    let s = x.shape();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    let (y, arg) = pool::forward(f32s(x).storage::<f32>(), b * c, h, w);
    (flex_tensor(y, [b, c, h / 2, w / 2]), arg)
}
