//! Optimizers from serde configs, mapped onto burn's.
//!
//! Updates, with gradient `g` (plus `weight_decay * w` when set, coupled L2 as in PyTorch):
//! - SGD: `v = momentum v + g` (`v = g` on the first step, no dampening);
//!   `w -= lr (nesterov ? g + momentum v : v)`.
//! - Adam: `m = b1 m + (1 - b1) g`, `s = b2 s + (1 - b2) g^2`,
//!   `w -= lr m_hat / (sqrt(s_hat) + eps)` with bias-corrected `m_hat`, `s_hat`.
//! - RMSProp: `s = alpha s + (1 - alpha) g^2`; centered: also `a = alpha a + (1 - alpha) g`
//!   and `s - a^2` in place of `s`; `d = g / (sqrt(s) + eps)`; with momentum
//!   `b = momentum b + d`, `w -= lr b`, else `w -= lr d`.
//!
//! The updates run as one pass per parameter per step on the CPU backends ([`fused`]), with
//! burn's arithmetic to the bit; [`OptimizerConfig::init_burn`] gives burn's own optimizers.
//!
//! Defaults follow PyTorch (Adam eps 1e-8, RMSProp alpha 0.99, eps 1e-8, no momentum), not
//! burn's (eps 1e-5, RMSProp momentum 0.9), so that settings copied from papers mean the same.

#![warn(missing_docs)]

pub mod fused;

pub use fused::{FusedAdam, FusedRmsProp, FusedSgd};

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A setting that makes no sense.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum OptimError {
    /// A setting outside its range, or not finite.
    #[error("{field} = {value} is out of range ({range})")]
    Range {
        /// The config key, e.g. `"beta2"`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, e.g. `"[0, 1)"` or `"> 0"`.
        range: &'static str,
    },
    /// SGD with `nesterov = true` and `momentum = 0`.
    #[error("nesterov = true needs momentum > 0")]
    NesterovWithoutMomentum,
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}
fn alpha() -> f64 {
    0.99
}

/// An optimizer and its settings (`name = "sgd" | "adam" | "rmsprop"` in a file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd {
        /// Learning rate, > 0.
        lr: f64,
        /// Momentum factor in [0, 1); 0 (the default) is plain SGD.
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum (default false); needs `momentum > 0`.
        #[serde(default)]
        nesterov: bool,
        /// Coupled L2 factor added to the gradient as `weight_decay * w`, >= 0 (default 0).
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam with bias correction.
    Adam {
        /// Learning rate, > 0.
        lr: f64,
        /// Decay of the first-moment average, in [0, 1) (default 0.9).
        #[serde(default = "beta1")]
        beta1: f64,
        /// Decay of the second-moment average, in [0, 1) (default 0.999).
        #[serde(default = "beta2")]
        beta2: f64,
        /// Added to `sqrt(s_hat)` in the denominator, > 0 (default 1e-8).
        #[serde(default = "eps")]
        eps: f64,
        /// Coupled L2 factor added to the gradient (not AdamW), >= 0 (default 0).
        #[serde(default)]
        weight_decay: f64,
    },
    /// RMSProp, optionally centered and with momentum.
    Rmsprop {
        /// Learning rate, > 0.
        lr: f64,
        /// Decay of the squared-gradient average, in [0, 1) (default 0.99).
        #[serde(default = "alpha")]
        alpha: f64,
        /// Added to `sqrt(s)` in the denominator, > 0 (default 1e-8).
        #[serde(default = "eps")]
        eps: f64,
        /// Momentum factor on the scaled step, in [0, 1) (default 0: none).
        #[serde(default)]
        momentum: f64,
        /// Subtract the squared mean gradient from `s` (default false).
        #[serde(default)]
        centered: bool,
        /// Coupled L2 factor added to the gradient, >= 0 (default 0).
        #[serde(default)]
        weight_decay: f64,
    },
}

fn check(field: &'static str, value: f64, ok: bool, range: &'static str) -> Result<(), OptimError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(OptimError::Range {
            field,
            value,
            range,
        })
    }
}

/// The coupled L2 factor as burn rounds it (none when 0).
fn decay(weight_decay: f64) -> Option<f32> {
    (weight_decay > 0.0).then_some(weight_decay as f32)
}

impl OptimizerConfig {
    /// `sgd`, `adam` or `rmsprop`.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { .. } => "sgd",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::Rmsprop { .. } => "rmsprop",
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. } => lr,
        }
    }

    /// Checks every setting's range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check("lr", self.lr(), self.lr() > 0.0, "> 0")?;
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => {
                check(
                    "momentum",
                    momentum,
                    (0.0..1.0).contains(&momentum),
                    "[0, 1)",
                )?;
                check("weight_decay", weight_decay, weight_decay >= 0.0, ">= 0")?;
                if nesterov && momentum == 0.0 {
                    return Err(OptimError::NesterovWithoutMomentum);
                }
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => {
                check("beta1", beta1, (0.0..1.0).contains(&beta1), "[0, 1)")?;
                check("beta2", beta2, (0.0..1.0).contains(&beta2), "[0, 1)")?;
                check("eps", eps, eps > 0.0, "> 0")?;
                check("weight_decay", weight_decay, weight_decay >= 0.0, ">= 0")?;
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
                weight_decay,
                ..
            } => {
                check("alpha", alpha, (0.0..1.0).contains(&alpha), "[0, 1)")?;
                check("eps", eps, eps > 0.0, "> 0")?;
                check(
                    "momentum",
                    momentum,
                    (0.0..1.0).contains(&momentum),
                    "[0, 1)",
                )?;
                check("weight_decay", weight_decay, weight_decay >= 0.0, ">= 0")?;
            }
        }
        Ok(())
    }

    /// The optimizer for these settings (fused on the CPU backends, see [`fused`]); step it
    /// with [`OptimizerConfig::lr`].
    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        self.validate()?;
        Ok(match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => ModuleOptimizer::from(FusedSgd::new(
                (momentum > 0.0).then_some((momentum, 0.0, nesterov)),
                decay(weight_decay),
            )),
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => ModuleOptimizer::from(FusedAdam::new(
                beta1 as f32,
                beta2 as f32,
                eps as f32,
                decay(weight_decay),
            )),
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
                centered,
                weight_decay,
                ..
            } => ModuleOptimizer::from(FusedRmsProp::new(
                alpha as f32,
                eps as f32,
                momentum as f32,
                centered,
                decay(weight_decay),
            )),
        })
    }

    /// burn's own optimizer for these settings (the reference the fused steps are tested
    /// against; the same arithmetic as tensor operations).
    pub fn init_burn(&self) -> Result<ModuleOptimizer, OptimError> {
        self.validate()?;
        let decay = |wd: f64| decay(wd).map(WeightDecayConfig::new);
        Ok(match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum > 0.0).then_some(MomentumConfig {
                    momentum,
                    dampening: 0.0,
                    nesterov,
                }))
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => AdamConfig::new()
                .with_beta_1(beta1 as f32)
                .with_beta_2(beta2 as f32)
                .with_epsilon(eps as f32)
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
                centered,
                weight_decay,
                ..
            } => RmsPropConfig::new()
                .with_alpha(alpha as f32)
                .with_epsilon(eps as f32)
                .with_momentum(momentum as f32)
                .with_centered(centered)
                .with_weight_decay(decay(weight_decay))
                .init(),
        })
    }
}

#[cfg(test)]
mod tests;
