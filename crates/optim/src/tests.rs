//! One and two steps on the quadratic `L(w) = 1/2 (1 w_0^2 + 3 w_1^2)` from `w = (1, -2)`, so
//! `g = (w_0, 3 w_1)` and `g_0 = (1, -6)`, against updates computed by hand from the textbook
//! formulas (see the crate docs). Derivations are written above each case; the two-step numbers
//! were checked with this Python (f64), which restates the same formulas:
//!
//! ```python
//! def g(w): return [w[0], 3 * w[1]]
//! # e.g. Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//! #            w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//! ```
//!
//! burn computes in f32, so the tolerance is 1e-6 (a few f32 ulps at these magnitudes).

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

use super::*;

#[derive(Module, Debug)]
struct Quadratic {
    w: Param<Tensor<1>>,
}

#[allow(deprecated)]
fn device() -> Device {
    Device::ndarray().autodiff()
}

/// Runs `steps` optimizer steps and returns `w` after each.
fn run(config: &OptimizerConfig, steps: usize) -> Vec<[f32; 2]> {
    let device = device();
    let mut model = Quadratic {
        w: Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![1.0f32, -2.0], [2]),
            &device,
        )),
    };
    let a = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 3.0], [2]), &device);
    let mut optim = config.init().unwrap();
    let mut out = vec![];
    for _ in 0..steps {
        let w = model.w.val();
        let loss = (w.clone() * w * a.clone()).sum().mul_scalar(0.5);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.lr(), model, grads);
        let v: Vec<f32> = model.w.val().into_data().try_to_vec().unwrap();
        out.push([v[0], v[1]]);
    }
    out
}

#[track_caller]
fn assert_steps(config: OptimizerConfig, expected: &[[f64; 2]]) {
    let got = run(&config, expected.len());
    for (t, (g, e)) in got.iter().zip(expected).enumerate() {
        for k in 0..2 {
            assert!(
                (g[k] as f64 - e[k]).abs() < 1e-6,
                "{config:?}: step {} w[{k}] = {} but by hand {}",
                t + 1,
                g[k],
                e[k]
            );
        }
    }
}

fn sgd(lr: f64, momentum: f64, nesterov: bool, weight_decay: f64) -> OptimizerConfig {
    OptimizerConfig::Sgd {
        lr,
        momentum,
        nesterov,
        weight_decay,
    }
}

#[test]
fn plain_sgd() {
    // w1 = w0 - 0.1 g0 = (1 - 0.1, -2 + 0.6) = (0.9, -1.4)
    // g1 = (0.9, -4.2); w2 = (0.9 - 0.09, -1.4 + 0.42) = (0.81, -0.98)
    assert_steps(sgd(0.1, 0.0, false, 0.0), &[[0.9, -1.4], [0.81, -0.98]]);
}

#[test]
fn sgd_with_momentum() {
    // v1 = g0 = (1, -6); w1 = (0.9, -1.4)
    // g1 = (0.9, -4.2); v2 = 0.9 v1 + g1 = (1.8, -9.6); w2 = w1 - 0.1 v2 = (0.72, -0.44)
    assert_steps(sgd(0.1, 0.9, false, 0.0), &[[0.9, -1.4], [0.72, -0.44]]);
}

#[test]
fn sgd_with_nesterov() {
    // v1 = g0; step g0 + 0.9 v1 = 1.9 g0 = (1.9, -11.4); w1 = (0.81, -0.86)
    // g1 = (0.81, -2.58); v2 = 0.9 (1, -6) + g1 = (1.71, -7.98)
    // step g1 + 0.9 v2 = (2.349, -9.762); w2 = (0.81 - 0.2349, -0.86 + 0.9762) = (0.5751, 0.1162)
    assert_steps(sgd(0.1, 0.9, true, 0.0), &[[0.81, -0.86], [0.5751, 0.1162]]);
}

#[test]
fn sgd_with_weight_decay() {
    // g0' = g0 + 0.1 w0 = (1.1, -6.2); w1 = (0.89, -1.38)
    // g1' = (0.89 + 0.089, -4.14 - 0.138) = (0.979, -4.278); w2 = (0.7921, -0.9522)
    assert_steps(
        sgd(0.1, 0.0, false, 0.1),
        &[[0.89, -1.38], [0.7921, -0.9522]],
    );
}

#[test]
fn adam() {
    // t = 1: m = 0.1 g0, s = 0.001 g0^2, m_hat = g0, s_hat = g0^2,
    //        step = g0 / (|g0| + 1e-8) = (1 - 1e-8, -(1 - 1.7e-9)); w1 = (0.9 + 1e-9, -1.9)
    // t = 2: g1 = (0.9, -5.7); m = (0.18, -1.11); s = (0.001809, 0.068454)
    //        m_hat = m / 0.19 = (0.947368, -5.842105); s_hat = s / 0.001999 = (0.904952, 34.244122)
    //        step = (0.995878, -0.998335); w2 = (0.800412, -1.800166)
    let cfg = OptimizerConfig::Adam {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    assert_steps(cfg, &[[0.900000001, -1.9], [0.80041223, -1.800166486]]);
}

#[test]
fn rmsprop() {
    // t = 1: s = 0.01 g0^2 = (0.01, 0.36); d = g0 / (sqrt(s) + 1e-8) = (10, -10) (to 1e-7)
    //        w1 = (0.9, -1.9)
    // t = 2: g1 = (0.9, -5.7); s = 0.99 s + 0.01 g1^2 = (0.018, 0.6813)
    //        d = (0.9 / 0.134164, -5.7 / 0.825409) = (6.708204, -6.905667); w2 = (0.832918, -1.830943)
    let cfg = OptimizerConfig::Rmsprop {
        lr: 0.01,
        alpha: 0.99,
        eps: 1e-8,
        momentum: 0.0,
        centered: false,
        weight_decay: 0.0,
    };
    assert_steps(
        cfg,
        &[[0.90000001, -1.900000002], [0.832917975, -1.830943328]],
    );
}

#[test]
fn rmsprop_centered_with_momentum() {
    // t = 1: s = 0.01 g0^2, a = 0.01 g0, s - a^2 = 0.0099 g0^2; d = g0 / (0.0994987 |g0|) = (10.0503781, -10.0503781)
    //        b = d; w1 = w0 - 0.01 b = (0.8994962, -1.8994962)
    // t = 2: the same recursions with b = 0.9 b + d give w2 (checked with the Python above).
    let cfg = OptimizerConfig::Rmsprop {
        lr: 0.01,
        alpha: 0.99,
        eps: 1e-8,
        momentum: 0.9,
        centered: true,
        weight_decay: 0.0,
    };
    assert_steps(
        cfg,
        &[[0.899496229, -1.89949622], [0.741305993, -1.739298749]],
    );
}

#[test]
fn configs_parse_with_pytorch_defaults_and_bad_values_are_errors() {
    let c: OptimizerConfig = toml::from_str("name = \"adam\"\nlr = 1e-3").unwrap();
    assert_eq!(
        c,
        OptimizerConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0
        }
    );
    let c: OptimizerConfig = toml::from_str("name = \"sgd\"\nlr = 0.01\nmomentum = 0.9").unwrap();
    assert_eq!((c.name(), c.lr()), ("sgd", 0.01));
    let c: OptimizerConfig = toml::from_str("name = \"rmsprop\"\nlr = 1e-4").unwrap();
    assert!(
        matches!(c, OptimizerConfig::Rmsprop { alpha, momentum, .. } if alpha == 0.99 && momentum == 0.0)
    );
    assert!(toml::from_str::<OptimizerConfig>("name = \"adam\"\nlr = 1e-3\nbeta_1 = 0.8").is_err());
    assert!(toml::from_str::<OptimizerConfig>("name = \"adagrad\"\nlr = 1e-3").is_err());
    assert_eq!(
        sgd(-1.0, 0.0, false, 0.0).init().err(),
        Some(OptimError::Range {
            field: "lr",
            value: -1.0,
            range: "> 0"
        })
    );
    assert_eq!(
        sgd(0.1, 0.0, true, 0.0).init().err(),
        Some(OptimError::NesterovWithoutMomentum)
    );
    let bad = OptimizerConfig::Adam {
        lr: 0.1,
        beta1: 1.0,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("beta1 = 1 is out of range")
    );
}
