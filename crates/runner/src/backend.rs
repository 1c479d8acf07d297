//! The one place where a backend becomes a device.

use anyhow::bail;
use burn::tensor::Device;
use clap::ValueEnum;
use serde::Serialize;

/// Compute backends this binary may have been built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's ndarray CPU backend (cargo feature `ndarray`, the default).
    Cpu,
    /// burn's flex CPU backend (cargo feature `flex`).
    Flex,
    /// burn's wgpu backend: Vulkan, Metal or DX12, whichever the machine has (cargo feature
    /// `wgpu`).
    Wgpu,
}

impl Backend {
    /// The backends compiled into this binary.
    pub fn compiled() -> Vec<Backend> {
        let mut v = Vec::new();
        if cfg!(feature = "ndarray") {
            v.push(Backend::Cpu);
        }
        if cfg!(feature = "flex") {
            v.push(Backend::Flex);
        }
        if cfg!(feature = "wgpu") {
            v.push(Backend::Wgpu);
        }
        v
    }

    /// The fastest CPU backend compiled in (flex, then ndarray), else wgpu. flex trains the
    /// demo MLP 1.3x and the deep-cnn CNN ~30x faster than ndarray here, with the same results
    /// to f32 rounding (README, Backends).
    pub fn default_compiled() -> Backend {
        let compiled = Self::compiled();
        [Backend::Flex, Backend::Cpu, Backend::Wgpu]
            .into_iter()
            .find(|b| compiled.contains(b))
            .unwrap_or(Backend::Flex)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Cpu => "cpu (ndarray)",
            Backend::Flex => "flex (cpu)",
            Backend::Wgpu => "wgpu",
        }
    }

    /// Whose operations run the layers: `repalign` on flex (this project's convolution,
    /// batch-norm, pooling and dense kernels, `repalign-flex-kernels`) unless
    /// [`BURN_OPS_VAR`]` = 1`, else `burn`.
    pub fn kernels(&self) -> &'static str {
        #[cfg(feature = "flex")]
        if *self == Backend::Flex && repalign_flex_kernels::enabled() {
            return "repalign";
        }
        "burn"
    }

    /// The device for this backend, or an error naming the cargo feature to build with.
    pub fn device(&self) -> anyhow::Result<Device> {
        match self {
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // burn 0.22 marks ndarray deprecated in favour of flex; it is the design's CPU backend
            Backend::Cpu => Ok(Device::ndarray()),
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[allow(unreachable_patterns)]
            other => bail!(
                "--backend {}: this runner was built without it (rebuild with `--features {}`)",
                match other {
                    Backend::Cpu => "cpu",
                    Backend::Flex => "flex",
                    Backend::Wgpu => "wgpu",
                },
                match other {
                    Backend::Cpu => "ndarray",
                    Backend::Flex => "flex",
                    Backend::Wgpu => "wgpu",
                }
            ),
        }
    }
}

/// The environment variable that switches this project's flex kernels off
/// (`REPALIGN_BURN_OPS=1`): every layer then runs on burn's own flex operations, the reference
/// the kernels are checked against.
pub const BURN_OPS_VAR: &str = "REPALIGN_BURN_OPS";

/// Reads [`BURN_OPS_VAR`] once and tells the kernels crate (they are on unless it is set to
/// something other than `0` or empty).
pub fn configure_kernels() {
    let burn_ops = std::env::var(BURN_OPS_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    #[cfg(feature = "flex")]
    repalign_flex_kernels::set_enabled(!burn_ops);
    let _ = burn_ops;
}

/// Where initial weights are drawn: a CPU backend when one is compiled in, so that a seed means
/// the same initial weights whatever backend trains (each backend has its own random stream);
/// else the training device itself. `device` is a plain (not autodiff) device.
pub fn init_device(device: &Device) -> Device {
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)] // see Backend::device
    let host = Device::ndarray();
    #[cfg(all(not(feature = "ndarray"), feature = "flex"))]
    let host = Device::flex();
    #[cfg(not(any(feature = "ndarray", feature = "flex")))]
    let host = device.clone();
    let _ = device;
    host
}
