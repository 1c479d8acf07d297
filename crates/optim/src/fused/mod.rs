//! Fused optimizer steps for the CPU backends: one pass per parameter per step.
//!
//! burn's optimizers compose each update from tensor operations: Adam's is thirteen passes over
//! every parameter and four allocations per step (`mul_scalar`, `square`, `add`, `sqrt`,
//! `div`, ...). On flex and ndarray (cargo features `flex`, `ndarray`) [`FusedAdam`],
//! [`FusedSgd`] and [`FusedRmsProp`] instead take the f32 values of the parameter, its gradient
//! and its state out of their tensors (without a copy when the tensor is the only owner of its
//! buffer, as it is during a step), run the update of [`step`] over them in one loop, and put
//! them back. The arithmetic is burn's, operation for operation, so the results are the same
//! bits (tested over hundreds of steps against burn's own optimizers). On any other device
//! (wgpu), or for a parameter that is not f32, the same update runs as burn's tensor operations.
//!
//! The states are stored under burn's own keys (`moment_1`, `velocity`, `square_avg`, ...), so
//! a checkpoint holds the same names whichever path wrote it.

mod step;
#[cfg(test)]
mod tests;

use burn::optim::{
    AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, Optimizer, RecordState, StateSink,
    StateSource,
};
use burn::tensor::{DType, Device, Tensor, TensorData};

use step::{AdamStep, RmsPropBuffers, RmsPropStep, SgdStep};

/// Whether `tensor` lives on a CPU backend whose values this module reads directly.
fn on_host<const D: usize>(tensor: &Tensor<D>) -> bool {
    tensor.dtype() == DType::F32 && is_cpu(&tensor.device())
}

#[allow(unused_variables)]
fn is_cpu(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)] // burn 0.22 marks ndarray deprecated; it is still one of our backends
    if *device == Device::ndarray() {
        return true;
    }
    false
}

/// A tensor's values, owned (taken without a copy when the tensor owns its buffer alone).
struct Values<const D: usize> {
    data: TensorData,
}

impl<const D: usize> Values<D> {
    fn of(tensor: Tensor<D>) -> Self {
        Values {
            data: tensor.into_data(),
        }
    }

    /// Uninitialised-by-meaning storage of `like`'s shape (zeros), for a state's first step.
    fn zeros_like(like: &Values<D>) -> Self {
        Values {
            data: TensorData::zeros::<f32, _>(like.data.shape().clone()),
        }
    }

    fn slice(&self) -> &[f32] {
        self.data.as_slice().expect("f32 values")
    }

    fn slice_mut(&mut self) -> &mut [f32] {
        self.data.as_mut_slice().expect("f32 values")
    }

    fn tensor(self, device: &Device) -> Tensor<D> {
        Tensor::from_data(self.data, device)
    }
}

/// Adam, fused on the CPU backends; burn's `Adam` elsewhere. State: burn's [`AdamState`].
#[derive(Clone)]
pub struct FusedAdam {
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: Option<f32>,
    reference: burn::optim::Adam,
}

impl FusedAdam {
    /// Adam with burn's arithmetic (eps scaled by `sqrt(1 - beta2^t)`, coupled weight decay).
    pub fn new(beta1: f32, beta2: f32, eps: f32, weight_decay: Option<f32>) -> Self {
        let reference = AdamConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(eps)
            .with_weight_decay(weight_decay.map(burn::optim::decay::WeightDecayConfig::new))
            .build();
        FusedAdam {
            beta1,
            beta2,
            eps,
            weight_decay,
            reference,
        }
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor)
            || state
                .as_ref()
                .is_some_and(|s| s.momentum.max_moment_2.is_some())
        {
            return self.reference.step(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let mut w = Values::of(tensor);
        let g = Values::of(grad);
        let (time, mut m, mut v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                Values::of(s.momentum.moment_1),
                Values::of(s.momentum.moment_2),
            ),
            None => (1, Values::zeros_like(&w), Values::zeros_like(&w)),
        };
        let k = AdamStep::new(
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            lr,
            time,
        );
        step::adam(
            w.slice_mut(),
            g.slice(),
            m.slice_mut(),
            v.slice_mut(),
            time == 1,
            &k,
        );
        let momentum = AdaptiveMomentumState::new(time, m.tensor(&device), v.tensor(&device));
        (w.tensor(&device), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        burn::optim::Adam::to_device(state, device)
    }
}

/// An optional tensor leaf of a state, flattened as burn's derive does.
fn push<const D: usize>(out: &mut StateSink, prefix: &str, leaf: &str, t: &Tensor<D>) {
    out.push_tensor(prefix, leaf, t.to_data());
}

fn take<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    src.take_tensor(prefix, leaf)
        .map(|data| Tensor::from_data(data, device))
}

fn nested(prefix: &str, field: &str) -> String {
    burn::optim::join_path(prefix, field)
}

/// SGD's state: the velocity, with momentum (keys `momentum.velocity`, as burn's `SgdState`).
#[derive(Clone)]
pub struct SgdState<const D: usize> {
    /// The momentum buffer.
    pub velocity: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        if let Some(v) = &self.velocity {
            push(out, &nested(prefix, "momentum"), "velocity", v);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(SgdState {
            velocity: take(src, &nested(prefix, "momentum"), "velocity", device),
        })
    }
}

/// SGD with optional (Nesterov) momentum and coupled weight decay, fused on the CPU backends.
#[derive(Clone, Debug)]
pub struct FusedSgd {
    momentum: Option<(f32, f32, bool)>,
    weight_decay: Option<f32>,
}

impl FusedSgd {
    /// `momentum`: factor, dampening and Nesterov, as burn's `MomentumConfig` (f64, rounded to
    /// f32 as burn rounds them).
    pub fn new(momentum: Option<(f64, f64, bool)>, weight_decay: Option<f32>) -> Self {
        FusedSgd {
            momentum: momentum
                .map(|(m, dampening, nesterov)| (m as f32, (1.0 - dampening) as f32, nesterov)),
            weight_decay,
        }
    }

    /// The same update as burn's tensor operations, for devices this module does not read.
    fn reference<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        mut grad: Tensor<D>,
        state: Option<SgdState<D>>,
    ) -> (Tensor<D>, Option<SgdState<D>>) {
        if let Some(wd) = self.weight_decay {
            grad = tensor.clone().mul_scalar(wd).add(grad);
        }
        let mut velocity = None;
        if let Some((mom, undamped, nesterov)) = self.momentum {
            let v = match state.and_then(|s| s.velocity) {
                Some(v) => grad.clone().mul_scalar(undamped).add(v.mul_scalar(mom)),
                None => grad.clone(),
            };
            grad = if nesterov {
                v.clone().mul_scalar(mom).add(grad)
            } else {
                v.clone()
            };
            velocity = Some(v);
        }
        (tensor - grad.mul_scalar(lr), Some(SgdState { velocity }))
    }
}

impl Optimizer for FusedSgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor) {
            return self.reference(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let mut w = Values::of(tensor);
        let g = Values::of(grad);
        let k = SgdStep {
            momentum: self.momentum,
            lr: lr as f32,
            weight_decay: self.weight_decay,
        };
        let velocity = self.momentum.map(|_| match state.and_then(|s| s.velocity) {
            Some(v) => (Values::of(v), false),
            None => (Values::zeros_like(&w), true),
        });
        let velocity = match velocity {
            Some((mut v, first)) => {
                step::sgd(w.slice_mut(), g.slice(), Some(v.slice_mut()), first, &k);
                Some(v.tensor(&device))
            }
            None => {
                step::sgd(w.slice_mut(), g.slice(), None, false, &k);
                None
            }
        };
        (w.tensor(&device), Some(SgdState { velocity }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        SgdState {
            velocity: state.velocity.map(|v| v.to_device(device)),
        }
    }
}

/// RMSProp's state, under burn's keys: `square_avg.square_avg`, `centered.grad_avg` (centered
/// only) and `momentum.buf` (with momentum only). burn also stores `centered.avg`, a copy of
/// the average it divides by; it is derived here and not kept.
#[derive(Clone)]
pub struct RmsPropState<const D: usize> {
    /// Running average of the squared gradient.
    pub square_avg: Tensor<D>,
    /// Running average of the gradient (centered RMSProp).
    pub grad_avg: Option<Tensor<D>>,
    /// Momentum buffer.
    pub buf: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for RmsPropState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push(
            out,
            &nested(prefix, "square_avg"),
            "square_avg",
            &self.square_avg,
        );
        if let Some(a) = &self.grad_avg {
            push(out, &nested(prefix, "centered"), "grad_avg", a);
        }
        if let Some(b) = &self.buf {
            push(out, &nested(prefix, "momentum"), "buf", b);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(RmsPropState {
            square_avg: take(src, &nested(prefix, "square_avg"), "square_avg", device)?,
            grad_avg: take(src, &nested(prefix, "centered"), "grad_avg", device),
            buf: take(src, &nested(prefix, "momentum"), "buf", device),
        })
    }
}

/// RMSProp (optionally centered, with momentum, coupled weight decay), fused on the CPU
/// backends.
#[derive(Clone, Debug)]
pub struct FusedRmsProp {
    alpha: f32,
    eps: f32,
    momentum: f32,
    centered: bool,
    weight_decay: Option<f32>,
}

impl FusedRmsProp {
    /// burn's RMSProp with these settings.
    pub fn new(
        alpha: f32,
        eps: f32,
        momentum: f32,
        centered: bool,
        weight_decay: Option<f32>,
    ) -> Self {
        FusedRmsProp {
            alpha,
            eps,
            momentum,
            centered,
            weight_decay,
        }
    }

    fn reference<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        mut grad: Tensor<D>,
        state: Option<RmsPropState<D>>,
    ) -> (Tensor<D>, Option<RmsPropState<D>>) {
        if let Some(wd) = self.weight_decay {
            grad = tensor.clone().mul_scalar(wd).add(grad);
        }
        let a = self.alpha;
        let (square_avg, grad_avg, buf) = match state {
            Some(s) => (Some(s.square_avg), s.grad_avg, s.buf),
            None => (None, None, None),
        };
        let fresh = grad.clone().square().mul_scalar(1. - a);
        let square_avg = match square_avg {
            Some(s) => s.mul_scalar(a).add(fresh),
            None => fresh,
        };
        let (avg, grad_avg) = if self.centered {
            let fresh = grad.clone().mul_scalar(1. - a);
            let ga = match grad_avg {
                Some(ga) => ga.mul_scalar(a).add(fresh),
                None => fresh,
            };
            (square_avg.clone().sub(ga.clone().square()), Some(ga))
        } else {
            (square_avg.clone(), None)
        };
        let d = grad.div(avg.sqrt().add_scalar(self.eps));
        let (d, buf) = if self.momentum > 0.0 {
            let b = match buf {
                Some(b) => b.mul_scalar(self.momentum).add(d),
                None => d,
            };
            (b.clone(), Some(b))
        } else {
            (d, None)
        };
        let state = RmsPropState {
            square_avg,
            grad_avg,
            buf,
        };
        (tensor - d.mul_scalar(lr), Some(state))
    }
}

impl Optimizer for FusedRmsProp {
    type State<const D: usize> = RmsPropState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_host(&tensor) {
            return self.reference(lr, tensor, grad, state);
        }
        let device = tensor.device();
        let mut w = Values::of(tensor);
        let g = Values::of(grad);
        let first = state.is_none();
        let (mut sq, ga, buf) = match state {
            Some(s) => (
                Values::of(s.square_avg),
                s.grad_avg.map(Values::of),
                s.buf.map(Values::of),
            ),
            None => (Values::zeros_like(&w), None, None),
        };
        let mut ga = self
            .centered
            .then(|| ga.unwrap_or_else(|| Values::zeros_like(&w)));
        let mut buf = (self.momentum > 0.0).then(|| buf.unwrap_or_else(|| Values::zeros_like(&w)));
        let k = RmsPropStep {
            alpha: self.alpha,
            one_minus_alpha: 1. - self.alpha,
            eps: self.eps,
            momentum: (self.momentum > 0.0).then_some(self.momentum),
            lr: lr as f32,
            weight_decay: self.weight_decay,
        };
        let buffers = RmsPropBuffers {
            square_avg: sq.slice_mut(),
            grad_avg: ga.as_mut().map(Values::slice_mut),
            momentum: buf.as_mut().map(Values::slice_mut),
        };
        step::rmsprop(w.slice_mut(), g.slice(), buffers, first, &k);
        let state = RmsPropState {
            square_avg: sq.tensor(&device),
            grad_avg: ga.map(|v| v.tensor(&device)),
            buf: buf.map(|v| v.tensor(&device)),
        };
        (w.tensor(&device), Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RmsPropState {
            square_avg: state.square_avg.to_device(device),
            grad_avg: state.grad_avg.map(|t| t.to_device(device)),
            buf: state.buf.map(|t| t.to_device(device)),
        }
    }
}
