//! What a model of a config holds and produces, computed from the config alone (nothing is
//! allocated), so that a size nobody can afford is an error that names the field before any
//! memory is touched. Counts are `u128`: no config overflows them.

use crate::{CnnConfig, MlpConfig, ModelConfig, ModelError};

/// Parameter count and the per-sample width of every hidden layer (as
/// [`crate::Model::layer_names`] lists them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    /// Trainable parameters (and batch-norm statistics).
    pub parameters: u128,
    /// `(name, values per sample)` of every hidden layer, in order.
    pub hidden: Vec<(String, u128)>,
}

impl ModelConfig {
    /// The sizes of this config's model for images of `shape = [c, h, w]` and `outputs` logits;
    /// the same errors as [`ModelConfig::init`] for configs that cannot be built.
    pub fn sizes(&self, shape: [usize; 3], outputs: usize) -> Result<Sizes, ModelError> {
        match self {
            ModelConfig::Mlp(c) => c.sizes(shape.iter().map(|&v| v as u128).product(), outputs),
            ModelConfig::Cnn(c) => c.sizes(shape, outputs),
            ModelConfig::EfficientNet(c) => {
                c.check(shape)?;
                let (parameters, hidden) = crate::ImageNet::widths(
                    &crate::EfficientNetArch::lite0(),
                    c.resolution,
                    outputs,
                );
                Ok(Sizes { parameters, hidden })
            }
        }
    }
}

/// A dense stack `fan_in -> widths... -> outputs`: its parameters and its layers' widths.
fn dense_stack(
    mut fan_in: u128,
    widths: &[usize],
    bias: bool,
    outputs: usize,
    name: impl Fn(usize) -> String,
) -> (u128, Vec<(String, u128)>) {
    let mut params = 0u128;
    let mut hidden = Vec::with_capacity(widths.len());
    for (i, &w) in widths.iter().enumerate() {
        let w = w as u128;
        params += fan_in * w + if bias { w } else { 0 };
        hidden.push((name(i + 1), w));
        fan_in = w;
    }
    let o = outputs as u128;
    (params + fan_in * o + o, hidden)
}

impl MlpConfig {
    fn sizes(&self, input: u128, outputs: usize) -> Result<Sizes, ModelError> {
        let widths = self.width.resolve(self.depth)?;
        let (parameters, hidden) = dense_stack(input, &widths, self.hidden_bias, outputs, |i| {
            format!("hidden{i}")
        });
        Ok(Sizes { parameters, hidden })
    }
}

impl CnnConfig {
    fn sizes(&self, shape: [usize; 3], outputs: usize) -> Result<Sizes, ModelError> {
        let [c, h, w] = shape;
        if c == 0 || h == 0 || w == 0 {
            return Err(ModelError::NotAnImage { c, h, w });
        }
        let channels = self.channels.resolve(self.depth)?;
        if let Some(i) = self.dense.iter().position(|&w| w == 0) {
            return Err(ModelError::ZeroWidth { layer: i + 1 });
        }
        let (mut ch, mut hh, mut ww) = (c as u128, h, w);
        let mut params = 0u128;
        let mut hidden = Vec::new();
        for (i, &out) in channels.iter().enumerate() {
            let pooled = self.pool_every > 0 && (i + 1) % self.pool_every == 0;
            if pooled {
                hh /= 2;
                ww /= 2;
                if hh == 0 || ww == 0 {
                    return Err(ModelError::PoolTooDeep {
                        depth: self.depth,
                        h,
                        w,
                        block: i + 1,
                    });
                }
            }
            let out = out as u128;
            params += out * ch * 9 + if self.hidden_bias { out } else { 0 };
            if self.batch_norm {
                params += 4 * out;
            }
            hidden.push((format!("conv{}", i + 1), out * (hh * ww) as u128));
            hidden.push((format!("conv{}{}", i + 1, crate::cnn::POOLED_SUFFIX), out));
            ch = out;
        }
        let (dense, fc) = dense_stack(
            ch * (hh * ww) as u128,
            &self.dense,
            self.hidden_bias,
            outputs,
            |j| format!("fc{j}"),
        );
        hidden.extend(fc);
        Ok(Sizes {
            parameters: params + dense,
            hidden,
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::*;
    use crate::{Activation, Init, Width};

    #[allow(deprecated)]
    fn device() -> Device {
        Device::ndarray()
    }

    /// The counts agree with the built models: burn's own parameter count and the widths of a
    /// forward pass.
    #[test]
    fn sizes_match_the_built_models() {
        let d = device();
        let configs = [
            ModelConfig::Mlp(MlpConfig::new(3, 7)),
            ModelConfig::Mlp(MlpConfig {
                hidden_bias: false,
                width: Width::PerLayer(vec![5, 3]),
                ..MlpConfig::new(2, 1)
            }),
            ModelConfig::Cnn(CnnConfig {
                batch_norm: true,
                dense: vec![6, 4],
                pool_every: 2,
                channels: Width::PerLayer(vec![2, 3, 4]),
                ..CnnConfig::new(3, 1)
            }),
            ModelConfig::Cnn(CnnConfig {
                hidden_bias: false,
                activation: Activation::Tanh,
                init: Init::HE_UNIFORM,
                ..CnnConfig::new(1, 5)
            }),
        ];
        for cfg in configs {
            let shape = [2, 6, 5];
            let sizes = cfg.sizes(shape, 3).unwrap();
            let model = cfg.init(shape, 3, &d).unwrap();
            // burn counts batch-norm running statistics too.
            assert_eq!(sizes.parameters, model.num_params() as u128, "{cfg:?}");
            let f = model.forward(Tensor::<2>::random([4, 60], Distribution::Default, &d));
            let widths: Vec<(String, u128)> = model
                .layer_names()
                .into_iter()
                .zip(&f.hidden)
                .map(|(n, h)| (n, h.dims()[1] as u128))
                .collect();
            assert_eq!(sizes.hidden, widths, "{cfg:?}");
        }
    }

    /// A width no machine holds is counted, not allocated, and does not overflow.
    #[test]
    fn huge_configs_are_counted_without_overflow() {
        let s = ModelConfig::Mlp(MlpConfig::new(4, 100_000_000))
            .sizes([1, 28, 28], 1)
            .unwrap();
        assert_eq!(
            s.parameters,
            784 * 100_000_000
                + 3 * 100_000_000u128 * 100_000_000
                + 3 * 100_000_000
                + 100_000_000
                + 100_000_000
                + 1
        );
        assert!(
            ModelConfig::Cnn(CnnConfig::new(4, 4))
                .sizes([1, 8, 8], 1)
                .is_err()
        );
    }
}
