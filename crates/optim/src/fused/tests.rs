//! The fused steps against burn's own optimizers, step for step, to the bit.
//!
//! A module of two parameters whose loss is `sum(a * C_a) + sum(b * C_b)`, so each step's
//! gradient is exactly the constant `C` drawn for that step: a fixed set of entries always gets
//! a zero gradient (their moments decay into and through the subnormal range, as a dead ReLU
//! unit's do), others get tiny (down to 1e-38), ordinary or large (up to 1e8) values.

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, RecordState, StateSink};
use burn::tensor::{Device, Tensor, TensorData};

use crate::OptimizerConfig;

#[derive(Module, Debug)]
struct Two {
    a: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

const ROWS: usize = 37;
const COLS: usize = 29;

/// A small deterministic generator (xorshift), so the test needs no dependency.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Entry `i` of the gradient of step `step` (1-based). Every seventh entry is small for 10
    /// steps and zero after, so its moments decay through the subnormal range (Adam's first
    /// moment from ~1e-31 by 0.9 a step; the second from ~1e-39); every 11th is zero always;
    /// the rest are a sign times a magnitude from one of three ranges.
    fn grad(&mut self, i: usize, step: usize) -> f32 {
        if i % 7 == 3 {
            let small = if i.is_multiple_of(2) { 1e-30 } else { 1e-18 };
            return if step <= 10 {
                small * (1.0 + self.next() as f32)
            } else {
                0.0
            };
        }
        if i % 11 == 5 {
            return 0.0;
        }
        let sign = if self.next() < 0.5 { -1.0 } else { 1.0 };
        let u = self.next();
        let magnitude = match (self.next() * 3.0) as u32 {
            0 => 10f64.powf(-38.0 + 8.0 * u), // tiny: 1e-38 .. 1e-30
            1 => 10f64.powf(-4.0 + 4.0 * u),  // ordinary
            _ => 10f64.powf(3.0 + 5.0 * u),   // large: 1e3 .. 1e8
        };
        (sign * magnitude) as f32
    }

    fn values(&mut self, n: usize, step: usize) -> Vec<f32> {
        (0..n).map(|i| self.grad(i, step)).collect()
    }
}

fn model(device: &Device) -> Two {
    let mut s = Stream(7);
    let a: Vec<f32> = (0..ROWS * COLS).map(|_| (s.next() - 0.5) as f32).collect();
    let b: Vec<f32> = (0..COLS).map(|_| (s.next() - 0.5) as f32).collect();
    Two {
        a: Param::from_tensor(Tensor::from_data(TensorData::new(a, [ROWS, COLS]), device)),
        b: Param::from_tensor(Tensor::from_data(TensorData::new(b, [COLS]), device)),
    }
}

fn grads(model: &Two, s: &mut Stream, step: usize, device: &Device) -> GradientsParams {
    let ca = Tensor::<2>::from_data(
        TensorData::new(s.values(ROWS * COLS, step), [ROWS, COLS]),
        device,
    );
    let cb = Tensor::<1>::from_data(TensorData::new(s.values(COLS, step), [COLS]), device);
    let loss = (model.a.val() * ca).sum() + (model.b.val() * cb).sum();
    GradientsParams::from_grads(loss.backward(), model)
}

fn bits(model: &Two) -> Vec<u32> {
    let a = model.a.val().into_data().try_to_vec::<f32>().unwrap();
    let b = model.b.val().into_data().try_to_vec::<f32>().unwrap();
    a.iter().chain(&b).map(|v| v.to_bits()).collect()
}

fn configs() -> Vec<OptimizerConfig> {
    [
        "name = \"adam\"\nlr = 0.001",
        "name = \"adam\"\nlr = 0.01\nbeta1 = 0.8\nbeta2 = 0.99\neps = 1e-6\nweight_decay = 0.01",
        "name = \"sgd\"\nlr = 0.01",
        "name = \"sgd\"\nlr = 0.01\nmomentum = 0.9",
        "name = \"sgd\"\nlr = 0.003\nmomentum = 0.5\nnesterov = true\nweight_decay = 0.1",
        "name = \"rmsprop\"\nlr = 0.001",
        "name = \"rmsprop\"\nlr = 0.001\ncentered = true\nmomentum = 0.9\nweight_decay = 0.05",
        // The remaining cases of the fused loops (each combination is a loop of its own).
        "name = \"sgd\"\nlr = 0.01\nweight_decay = 0.01",
        "name = \"sgd\"\nlr = 0.01\nmomentum = 0.9\nweight_decay = 0.01",
        "name = \"sgd\"\nlr = 0.01\nmomentum = 0.9\nnesterov = true",
        "name = \"rmsprop\"\nlr = 0.001\ncentered = true",
        "name = \"rmsprop\"\nlr = 0.001\nmomentum = 0.9",
        "name = \"rmsprop\"\nlr = 0.001\nweight_decay = 0.01",
        "name = \"rmsprop\"\nlr = 0.001\ncentered = true\nweight_decay = 0.01",
    ]
    .iter()
    .map(|s| toml::from_str(s).unwrap())
    .collect()
}

#[allow(deprecated)] // burn 0.22 marks ndarray deprecated; it is one of our backends
fn devices() -> Vec<Device> {
    vec![Device::flex(), Device::ndarray()]
}

#[test]
fn the_fused_path_is_the_one_taken_on_the_cpu_backends() {
    for device in devices() {
        let t = Tensor::<1>::zeros([3], &device);
        assert!(super::on_host(&t), "{device:?}");
    }
}

#[test]
fn fused_steps_equal_burns_optimizers_bit_for_bit_over_300_steps() {
    for device in devices() {
        let ad = device.clone().autodiff();
        for config in configs() {
            let mut fused = config.init().unwrap();
            let mut burn = config.init_burn().unwrap();
            let (mut m_fused, mut m_burn) = (model(&ad), model(&ad));
            let (mut s_fused, mut s_burn) = (Stream(11), Stream(11));
            for step in 1..=300 {
                let g = grads(&m_fused, &mut s_fused, step, &ad);
                m_fused = fused.step(config.lr(), m_fused, g);
                let g = grads(&m_burn, &mut s_burn, step, &ad);
                m_burn = burn.step(config.lr(), m_burn, g);
                let (f, b) = (bits(&m_fused), bits(&m_burn));
                if let Some(i) = (0..f.len()).find(|&i| f[i] != b[i]) {
                    panic!(
                        "{config:?} on {device:?}: step {step}, value {i}: fused {} but burn {}",
                        f32::from_bits(f[i]),
                        f32::from_bits(b[i])
                    );
                }
            }
        }
    }
}

#[test]
fn a_record_of_the_fused_state_resumes_bit_for_bit() {
    let device = Device::flex().autodiff();
    for config in configs() {
        let mut optim = config.init().unwrap();
        let mut m = model(&device);
        let mut s = Stream(5);
        for step in 1..=20 {
            let g = grads(&m, &mut s, step, &device);
            m = optim.step(config.lr(), m, g);
        }
        let bytes = optim.into_bytes().unwrap();
        let mut restored = config.init().unwrap().from_bytes(bytes).unwrap();
        let (mut a, mut b) = (m.clone(), m);
        let (mut sa, mut sb) = (Stream(9), Stream(9));
        for step in 21..=40 {
            let g = grads(&a, &mut sa, step, &device);
            a = optim.step(config.lr(), a, g);
            let g = grads(&b, &mut sb, step, &device);
            b = restored.step(config.lr(), b, g);
        }
        assert_eq!(bits(&a), bits(&b), "{config:?}");
    }
}

/// The tensor names a state flattens to under prefix `"7"`.
fn names(state: &impl RecordState) -> Vec<String> {
    let mut sink = StateSink::default();
    state.state_flatten("7", &mut sink);
    let mut names: Vec<String> = sink.tensors.into_iter().map(|(n, _)| n).collect();
    names.sort();
    names
}

#[test]
fn the_states_are_stored_under_burns_keys() {
    use burn::optim::momentum::MomentumState;
    use burn::optim::{CenteredState, RmsPropMomentumState, SquareAvgState};
    let t = || Tensor::<1>::zeros([3], &Device::flex());
    let ours = names(&super::SgdState {
        velocity: Some(t()),
    });
    let burns = names(&burn::optim::SgdState::new(Some(MomentumState::new(t()))));
    assert_eq!(ours, burns);
    assert_eq!(ours, ["7.momentum.velocity"]);
    let ours = names(&super::RmsPropState {
        square_avg: t(),
        grad_avg: Some(t()),
        buf: Some(t()),
    });
    let mut burns = names(&burn::optim::RmsPropState::new(
        SquareAvgState::new(t()),
        CenteredState::new(Some(t()), t()),
        Some(RmsPropMomentumState::new(t())),
    ));
    // burn also keeps `centered.avg`, the average it divides by; ours derives it.
    burns.retain(|n| n != "7.centered.avg");
    assert_eq!(ours, burns);
    assert_eq!(ours.len(), 3);
}

#[derive(Module, Debug)]
struct One {
    w: Param<Tensor<1>>,
}

/// `w` after each of `steps` steps of burn's optimizer with the gradients of `gradients`.
fn burn_steps(
    config: &OptimizerConfig,
    w: &[f32],
    gradients: &mut Stream,
    steps: usize,
) -> Vec<Vec<f32>> {
    let ad = Device::flex().autodiff();
    let mut optim = config.init_burn().unwrap();
    let mut m = One {
        w: Param::from_tensor(Tensor::from_data(
            TensorData::new(w.to_vec(), [w.len()]),
            &ad,
        )),
    };
    (1..=steps)
        .map(|step| {
            let g = Tensor::<1>::from_data(
                TensorData::new(gradients.values(w.len(), step), [w.len()]),
                &ad,
            );
            let grads = GradientsParams::from_grads((m.w.val() * g).sum().backward(), &m);
            m = optim.step(config.lr(), m.clone(), grads);
            m.w.val().into_data().try_to_vec::<f32>().unwrap()
        })
        .collect()
}

#[test]
fn the_tensor_op_path_used_off_the_host_is_burns_arithmetic_too() {
    // Off the CPU backends (wgpu) SGD and RMSProp run as tensor operations (Adam as burn's own
    // Adam); here those functions run on flex and are compared with burn's optimizers.
    let device = Device::flex();
    let w: Vec<f32> = Stream(13).values(300, 1);
    for config in configs() {
        if matches!(config, OptimizerConfig::Adam { .. }) {
            continue;
        }
        let expected = burn_steps(&config, &w, &mut Stream(17), 60);
        let mut gradients = Stream(17);
        let mut t = Tensor::<1>::from_data(TensorData::new(w.clone(), [300]), &device);
        let (mut sgd_state, mut rms_state) = (None, None);
        for (step, want) in expected.iter().enumerate() {
            let g = Tensor::<1>::from_data(
                TensorData::new(gradients.values(300, step + 1), [300]),
                &device,
            );
            t = match &config {
                OptimizerConfig::Sgd { .. } => {
                    let (t, s) = sgd_of(&config).reference(config.lr(), t, g, sgd_state.take());
                    sgd_state = s;
                    t
                }
                _ => {
                    let (t, s) = rms_of(&config).reference(config.lr(), t, g, rms_state.take());
                    rms_state = s;
                    t
                }
            };
            let got = t.clone().into_data().try_to_vec::<f32>().unwrap();
            assert_eq!(&got, want, "{config:?}, step {}", step + 1);
        }
    }
}

fn sgd_of(config: &OptimizerConfig) -> super::FusedSgd {
    match *config {
        OptimizerConfig::Sgd {
            momentum,
            nesterov,
            weight_decay,
            ..
        } => super::FusedSgd::new(
            (momentum > 0.0).then_some((momentum, 0.0, nesterov)),
            crate::decay(weight_decay),
        ),
        _ => unreachable!(),
    }
}

fn rms_of(config: &OptimizerConfig) -> super::FusedRmsProp {
    match *config {
        OptimizerConfig::Rmsprop {
            alpha,
            eps,
            momentum,
            centered,
            weight_decay,
            ..
        } => super::FusedRmsProp::new(
            alpha as f32,
            eps as f32,
            momentum as f32,
            centered,
            crate::decay(weight_decay),
        ),
        _ => unreachable!(),
    }
}
