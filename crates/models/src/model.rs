//! One type for every model the runner trains.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::{Cnn, ImageNet, Mlp, ModelConfig, ModelError};

/// An MLP, a CNN or an EfficientNet.
// One model per run, moved a handful of times: the EfficientNet variant's size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    /// A multi-layer perceptron.
    Mlp(Mlp),
    /// A convolutional network.
    Cnn(Cnn),
    /// EfficientNet-Lite0 on resized images.
    EfficientNet(ImageNet),
}

/// The output of a forward pass.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `[batch, outputs]`.
    pub logits: Tensor<2>,
    /// Every hidden layer's post-activation output, `[batch, p_i]`, in order.
    pub hidden: Vec<Tensor<2>>,
}

impl ModelConfig {
    /// Builds the model for images of `shape = [c, h, w]` (flattened for an MLP) and `outputs`
    /// logits.
    pub fn init(
        &self,
        shape: [usize; 3],
        outputs: usize,
        device: &Device,
    ) -> Result<Model, ModelError> {
        Ok(match self {
            ModelConfig::Mlp(c) => Model::Mlp(c.init(shape.iter().product(), outputs, device)?),
            ModelConfig::Cnn(c) => Model::Cnn(c.init(shape, outputs, device)?),
            ModelConfig::EfficientNet(c) => Model::EfficientNet(c.init(shape, outputs, device)?),
        })
    }
}

impl Model {
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`
    pub fn forward(&self, x: Tensor<2>) -> Forward {
        let (logits, hidden) = match self {
            Model::Mlp(m) => m.forward(x),
            Model::Cnn(m) => m.forward(x),
            Model::EfficientNet(m) => m.forward(x),
        };
        Forward { logits, hidden }
    }

    /// The logits alone: what training needs (a CNN skips its pooled views).
    ///
    /// # Shapes
    /// - `x`: `[batch, c * h * w]`; returns `[batch, outputs]`
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Model::Mlp(m) => m.forward(x).0,
            Model::Cnn(m) => m.logits(x),
            Model::EfficientNet(m) => m.logits(x),
        }
    }

    /// Names of the hidden layers, in the order of [`Forward::hidden`].
    pub fn layer_names(&self) -> Vec<String> {
        match self {
            Model::Mlp(m) => m.layer_names(),
            Model::Cnn(m) => m.layer_names(),
            Model::EfficientNet(m) => m.layer_names(),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, Tensor};

    use super::*;
    use crate::{Activation, CnnConfig, MlpConfig, Width};

    #[allow(deprecated)]
    fn device() -> Device {
        Device::ndarray()
    }

    #[test]
    fn mlp_shapes_and_names() {
        let d = device();
        let cfg = ModelConfig::Mlp(MlpConfig {
            depth: 3,
            width: Width::PerLayer(vec![16, 8, 4]),
            activation: Activation::Tanh,
            hidden_bias: false,
            init: Default::default(),
        });
        let m = cfg.init([1, 4, 5], 3, &d).unwrap();
        let x = Tensor::<2>::random([7, 20], Distribution::Default, &d);
        let f = m.forward(x);
        assert_eq!(f.logits.dims(), [7, 3]);
        assert_eq!(
            f.hidden.iter().map(|h| h.dims()).collect::<Vec<_>>(),
            vec![[7, 16], [7, 8], [7, 4]]
        );
        assert_eq!(m.layer_names(), vec!["hidden1", "hidden2", "hidden3"]);
        // tanh outputs lie in (-1, 1).
        let v: Vec<f32> = f.hidden[0].clone().into_data().try_to_vec().unwrap();
        assert!(v.iter().all(|x| x.abs() < 1.0));
    }

    #[test]
    fn mlp_depth_zero_is_linear_and_relu_is_nonnegative() {
        let d = device();
        let m = ModelConfig::Mlp(MlpConfig::new(0, 8))
            .init([1, 1, 6], 1, &d)
            .unwrap();
        let f = m.forward(Tensor::<2>::random([5, 6], Distribution::Default, &d));
        assert_eq!(f.logits.dims(), [5, 1]);
        assert!(f.hidden.is_empty() && m.layer_names().is_empty());
        let m = ModelConfig::Mlp(MlpConfig::new(2, 8))
            .init([1, 1, 6], 1, &d)
            .unwrap();
        let f = m.forward(Tensor::<2>::random(
            [5, 6],
            Distribution::Normal(0.0, 1.0),
            &d,
        ));
        let v: Vec<f32> = f.hidden[1].clone().into_data().try_to_vec().unwrap();
        assert!(v.iter().all(|&x| x >= 0.0));
    }

    #[test]
    fn identity_mlp_is_linear() {
        let d = device();
        let cfg = MlpConfig {
            depth: 2,
            width: Width::One(5),
            activation: Activation::Identity,
            hidden_bias: false,
            init: Default::default(),
        };
        let m = ModelConfig::Mlp(cfg).init([1, 1, 3], 2, &d).unwrap();
        let x = Tensor::<2>::random([4, 3], Distribution::Default, &d);
        let a = m.forward(x.clone()).hidden[1].clone();
        let b = m.forward(x.mul_scalar(2.0)).hidden[1].clone();
        let diff: f32 = (b - a.mul_scalar(2.0)).abs().max().into_scalar();
        assert!(
            diff < 1e-5,
            "f(2x) = 2 f(x) without bias or nonlinearity: {diff}"
        );
    }

    #[test]
    fn cnn_shapes_names_and_pooling() {
        let d = device();
        let cfg = CnnConfig {
            depth: 3,
            channels: Width::PerLayer(vec![4, 6, 8]),
            activation: Activation::Relu,
            pool_every: 1,
            hidden_bias: true,
            batch_norm: true,
            dense: vec![7, 5],
            init: Default::default(),
        };
        let m = ModelConfig::Cnn(cfg).init([1, 12, 12], 10, &d).unwrap();
        let x = Tensor::<2>::random([2, 144], Distribution::Default, &d);
        let f = m.forward(x.clone());
        assert_eq!(f.logits.dims(), [2, 10]);
        // 12 -> 6 -> 3 -> 1 after three pools; each block flattened and pooled; two dense layers.
        assert_eq!(
            f.hidden.iter().map(|h| h.dims()).collect::<Vec<_>>(),
            vec![
                [2, 4 * 36],
                [2, 4],
                [2, 6 * 9],
                [2, 6],
                [2, 8],
                [2, 8],
                [2, 7],
                [2, 5]
            ]
        );
        assert_eq!(
            m.layer_names(),
            vec![
                "conv1",
                "conv1_gap",
                "conv2",
                "conv2_gap",
                "conv3",
                "conv3_gap",
                "fc1",
                "fc2"
            ]
        );
        let views: Vec<bool> = m
            .layer_names()
            .iter()
            .map(|n| crate::is_pooled_view(n))
            .collect();
        assert_eq!(views, [false, true, false, true, false, true, false, false]);
        // The pooled view is the spatial mean of the flattened block (channel-major layout).
        let block: Vec<f32> = f.hidden[2].clone().into_data().try_to_vec().unwrap();
        let gap: Vec<f32> = f.hidden[3].clone().into_data().try_to_vec().unwrap();
        for (s, ch) in (0..2).flat_map(|s| (0..6).map(move |ch| (s, ch))) {
            let mean = block[s * 54 + ch * 9..s * 54 + ch * 9 + 9]
                .iter()
                .sum::<f32>()
                / 9.0;
            assert!((gap[s * 6 + ch] - mean).abs() < 1e-5, "{s} {ch}");
        }
        // The logits alone are the same logits.
        let diff: f32 = (m.logits(x) - f.logits).abs().max().into_scalar();
        assert_eq!(diff, 0.0);
        let cfg = CnnConfig {
            pool_every: 2,
            ..CnnConfig::new(3, 5)
        };
        let m = ModelConfig::Cnn(cfg).init([3, 8, 8], 1, &d).unwrap();
        let f = m.forward(Tensor::<2>::random([2, 192], Distribution::Default, &d));
        assert_eq!(
            f.hidden.iter().map(|h| h.dims()).collect::<Vec<_>>(),
            vec![[2, 320], [2, 5], [2, 80], [2, 5], [2, 80], [2, 5]]
        );
    }

    #[test]
    fn bad_configs_are_errors() {
        let d = device();
        let err = ModelConfig::Cnn(CnnConfig::new(4, 4))
            .init([1, 8, 8], 1, &d)
            .unwrap_err();
        assert_eq!(
            err,
            ModelError::PoolTooDeep {
                depth: 4,
                h: 8,
                w: 8,
                block: 4
            }
        );
        let cfg = MlpConfig {
            width: Width::PerLayer(vec![3, 3]),
            ..MlpConfig::new(3, 1)
        };
        assert_eq!(
            ModelConfig::Mlp(cfg).init([1, 1, 2], 1, &d).unwrap_err(),
            ModelError::WidthLength { given: 2, depth: 3 }
        );
        let cfg = MlpConfig::new(1, 0);
        assert_eq!(
            ModelConfig::Mlp(cfg).init([1, 1, 2], 1, &d).unwrap_err(),
            ModelError::ZeroWidth { layer: 1 }
        );
    }

    #[test]
    fn configs_parse_from_toml() {
        let m: ModelConfig =
            toml::from_str("kind = \"mlp\"\ndepth = 3\nwidth = 128\nhidden_bias = false").unwrap();
        assert_eq!(
            m,
            ModelConfig::Mlp(MlpConfig {
                hidden_bias: false,
                ..MlpConfig::new(3, 128)
            })
        );
        let c: ModelConfig =
            toml::from_str("kind = \"cnn\"\ndepth = 2\nchannels = [8, 16]").unwrap();
        assert_eq!(c.depth(), 2);
        assert_eq!(c.width_label(), "8-16");
        assert!(toml::from_str::<ModelConfig>("kind = \"mlp\"\ndepth = 3\nwidht = 3").is_err());
    }
}
