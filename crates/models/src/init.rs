//! How parameters are drawn at initialisation, per layer kind.
//!
//! With `fan_in` the inputs feeding one output unit (`d_in` for a dense layer,
//! `c_in / groups * k_h * k_w` for a convolution):
//! - [`WeightInit::Pytorch`]: `U(-b, b)`, `b = 1 / sqrt(fan_in)`. PyTorch's default for
//!   `nn.Linear` and `nn.Conv2d` (`kaiming_uniform_(w, a = sqrt(5))`), and the paper's.
//! - [`WeightInit::HeUniform`]: `U(-b, b)`, `b = gain * sqrt(3 / fan_in)` with the gain of the
//!   layer's activation: `sqrt(2)` for ReLU, `5/3` for tanh, 1 for identity
//!   (`kaiming_uniform_(w, nonlinearity = act)` in PyTorch). The output head has no activation
//!   after it, so its gain is 1.
//! - [`BiasInit::Pytorch`]: `U(-1 / sqrt(fan_in), 1 / sqrt(fan_in))` (PyTorch's default);
//!   [`BiasInit::Zeros`]: all zero.
//!
//! In a file, `init = "pytorch"` (the default) and `init = "he-uniform"` name presets, and a
//! table sets each kind: `init = { hidden = "he-uniform", head = "pytorch", bias = "zeros" }`.
//! `hidden` covers every hidden dense and conv layer, `head` the output layer's weights, `bias`
//! every bias (hidden and head). Configs record the table form, so a run's `config.json` says
//! exactly what was drawn.

use burn::module::Initializer;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Activation;

/// How a layer's weights are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightInit {
    /// `U(+-1/sqrt(fan_in))`: PyTorch's default.
    #[default]
    Pytorch,
    /// `U(+-gain sqrt(3/fan_in))`, gain of the activation that follows.
    HeUniform,
}

/// How biases are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BiasInit {
    /// `U(+-1/sqrt(fan_in))`: PyTorch's default.
    #[default]
    Pytorch,
    /// All zero.
    Zeros,
}

/// The initialisation of every layer kind of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Init {
    /// Hidden dense and conv layers' weights.
    pub hidden: WeightInit,
    /// The output layer's weights.
    pub head: WeightInit,
    /// Every bias.
    pub bias: BiasInit,
}

impl Default for Init {
    /// PyTorch's defaults everywhere, as the paper's code.
    fn default() -> Self {
        Init::PYTORCH
    }
}

impl Init {
    /// PyTorch's default for every weight and bias.
    pub const PYTORCH: Init = Init {
        hidden: WeightInit::Pytorch,
        head: WeightInit::Pytorch,
        bias: BiasInit::Pytorch,
    };
    /// He uniform for hidden weights, zero biases, PyTorch's default for the head.
    pub const HE_UNIFORM: Init = Init {
        hidden: WeightInit::HeUniform,
        head: WeightInit::Pytorch,
        bias: BiasInit::Zeros,
    };

    /// A short name: the preset's (`pytorch`, `he-uniform`), else `hidden/head/bias`.
    pub fn label(&self) -> String {
        if *self == Init::PYTORCH {
            "pytorch".into()
        } else if *self == Init::HE_UNIFORM {
            "he-uniform".into()
        } else {
            format!(
                "{}/{}/{}",
                self.hidden.as_str(),
                self.head.as_str(),
                self.bias.as_str()
            )
        }
    }

    /// The initialiser of a hidden layer's weights followed by `activation`.
    pub fn hidden_weights(&self, activation: Activation) -> Initializer {
        self.hidden.initializer(activation.gain())
    }

    /// The initialiser of the output layer's weights (no activation after it: gain 1).
    pub fn head_weights(&self) -> Initializer {
        self.head.initializer(1.0)
    }

    /// The initialiser of biases.
    pub fn biases(&self) -> Initializer {
        match self.bias {
            BiasInit::Pytorch => WeightInit::Pytorch.initializer(1.0),
            BiasInit::Zeros => Initializer::Zeros,
        }
    }
}

impl WeightInit {
    /// The kebab-case name used in config files: `"pytorch"` or `"he-uniform"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            WeightInit::Pytorch => "pytorch",
            WeightInit::HeUniform => "he-uniform",
        }
    }

    /// burn's Kaiming-uniform initialiser draws `U(+-g sqrt(3 / fan_in))`: `g = 1/sqrt(3)` gives
    /// `1/sqrt(fan_in)`, `g = gain` gives He uniform.
    fn initializer(&self, gain: f64) -> Initializer {
        let gain = match self {
            WeightInit::Pytorch => 1.0 / 3f64.sqrt(),
            WeightInit::HeUniform => gain,
        };
        Initializer::KaimingUniform {
            gain,
            fan_out_only: false,
        }
    }
}

impl BiasInit {
    /// The kebab-case name used in config files: `"pytorch"` or `"zeros"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BiasInit::Pytorch => "pytorch",
            BiasInit::Zeros => "zeros",
        }
    }
}

/// What a file may write: a preset's name or a table of the kinds.
#[derive(Deserialize)]
#[serde(untagged)]
enum InitSpec {
    Preset(Preset),
    Table(InitTable),
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Preset {
    Pytorch,
    HeUniform,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InitTable {
    #[serde(default)]
    hidden: WeightInit,
    #[serde(default)]
    head: WeightInit,
    #[serde(default)]
    bias: BiasInit,
}

impl<'de> Deserialize<'de> for Init {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match InitSpec::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "init: expected \"pytorch\", \"he-uniform\" or a table { hidden = \"pytorch\" | \"he-uniform\", head = ..., bias = \"pytorch\" | \"zeros\" }",
            )
        })? {
            InitSpec::Preset(Preset::Pytorch) => Ok(Init::PYTORCH),
            InitSpec::Preset(Preset::HeUniform) => Ok(Init::HE_UNIFORM),
            InitSpec::Table(t) => Ok(Init {
                hidden: t.hidden,
                head: t.head,
                bias: t.bias,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;

    #[allow(deprecated)]
    fn device() -> Device {
        Device::ndarray()
    }

    fn values(init: &Initializer, shape: [usize; 2], fan_in: usize) -> Vec<f32> {
        let d = device();
        d.seed(7);
        let t: Tensor<2> = init
            .init_with(shape, Some(fan_in), Some(shape[1]), &d)
            .into_value();
        t.into_data().try_to_vec().unwrap()
    }

    /// Every draw lies inside its bound and has the variance of `U(-b, b)`, `b^2 / 3`, to
    /// sampling error (40 000 draws: the sample variance's relative error has std ~0.45%).
    fn check_uniform(v: &[f32], bound: f64) {
        let max = v.iter().map(|x| x.abs() as f64).fold(0.0, f64::max);
        assert!(max <= bound * (1.0 + 1e-6), "max {max} above bound {bound}");
        assert!(max >= bound * 0.99, "max {max} far below bound {bound}");
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let want = bound * bound / 3.0;
        assert!(mean.abs() < 4.0 * (want / n).sqrt(), "mean {mean}");
        assert!(
            (var / want - 1.0).abs() < 0.03,
            "variance {var}, expected {want}"
        );
    }

    #[test]
    fn pytorch_default_is_one_over_sqrt_fan_in_for_weights_and_biases() {
        for fan_in in [1usize, 9, 784] {
            let b = 1.0 / (fan_in as f64).sqrt();
            let init = Init::PYTORCH;
            check_uniform(
                &values(&init.hidden_weights(Activation::Relu), [200, 200], fan_in),
                b,
            );
            check_uniform(&values(&init.head_weights(), [200, 200], fan_in), b);
            check_uniform(&values(&init.biases(), [200, 200], fan_in), b);
        }
    }

    #[test]
    fn he_uniform_uses_the_gain_of_the_activation() {
        let fan_in = 128;
        let he = Init::HE_UNIFORM;
        for (act, gain) in [
            (Activation::Relu, 2f64.sqrt()),
            (Activation::Tanh, 5.0 / 3.0),
            (Activation::Identity, 1.0),
        ] {
            let b = gain * (3.0 / fan_in as f64).sqrt();
            check_uniform(&values(&he.hidden_weights(act), [200, 200], fan_in), b);
        }
        // The head keeps PyTorch's default, biases are zero.
        check_uniform(
            &values(&he.head_weights(), [200, 200], fan_in),
            1.0 / (fan_in as f64).sqrt(),
        );
        assert!(
            values(&he.biases(), [10, 10], fan_in)
                .iter()
                .all(|&x| x == 0.0)
        );
    }

    #[test]
    fn presets_and_tables_parse_and_record_the_table() {
        #[derive(Deserialize)]
        struct M {
            init: Init,
        }
        let p = |s: &str| toml::from_str::<M>(s).map(|m| m.init);
        assert_eq!(p("init = \"pytorch\"").unwrap(), Init::PYTORCH);
        assert_eq!(p("init = \"he-uniform\"").unwrap(), Init::HE_UNIFORM);
        // A table that spells out a preset is that preset.
        let t = p("init = { hidden = \"he-uniform\", bias = \"zeros\" }").unwrap();
        assert_eq!(t, Init::HE_UNIFORM);
        assert_eq!(t.label(), "he-uniform");
        let t = p("init = { hidden = \"he-uniform\" }").unwrap();
        assert_eq!(
            t,
            Init {
                hidden: WeightInit::HeUniform,
                head: WeightInit::Pytorch,
                bias: BiasInit::Pytorch
            }
        );
        assert_eq!(t.label(), "he-uniform/pytorch/pytorch");
        let err = p("init = \"he\"").unwrap_err().to_string();
        assert!(err.contains("\"he-uniform\""), "{err}");
        assert!(p("init = { hiden = \"pytorch\" }").is_err());
        // The recorded form is the table, and it reads back as the same init.
        let json = serde_json::to_string(&Init::HE_UNIFORM).unwrap();
        assert_eq!(
            json,
            r#"{"hidden":"he-uniform","head":"pytorch","bias":"zeros"}"#
        );
        assert_eq!(
            serde_json::from_str::<Init>(&json).unwrap(),
            Init::HE_UNIFORM
        );
    }
}
