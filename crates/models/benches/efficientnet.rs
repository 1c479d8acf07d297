//! EfficientNet-Lite0's forward pass on burn's flex backend (inference, random weights: the
//! speed is the weights') at 224 x 224 (batch 16) and 96 x 96 (batch 64, the pretrained
//! experiment's resolution), as images per second. Prints one JSON object per line, as
//! `scripts/efficientnet.py bench` does for PyTorch; `scripts/conv-bench.sh` sets them side by
//! side.
//!
//! ```text
//! cargo bench -p repalign-models --bench efficientnet
//! ```

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

/// Median milliseconds of `f` over repetitions (1 warm-up, then at least 3 and until 2 s).
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let mut ms = Vec::new();
    let start = Instant::now();
    while ms.len() < 3 || (start.elapsed().as_secs_f64() < 2.0 && ms.len() < 50) {
        let t = Instant::now();
        f();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

fn main() {
    let device = Device::flex();
    device.seed(0);
    let net = repalign_models::EfficientNetArch::lite0().init(&device);
    for (side, batch) in [(224, 16), (96, 64)] {
        let x = Tensor::<4>::random([batch, 3, side, side], Distribution::Default, &device);
        let ms = time(|| {
            let _ = net.features(x.clone(), false).logits.into_data();
        });
        println!(
            "{{\"name\": \"efficientnet-lite0 forward {side}x{side} batch {batch}\", \"images_per_s\": {:.1}}}",
            batch as f64 * 1e3 / ms
        );
    }
}
