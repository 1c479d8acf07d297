//! The GEMM convolution against burn's own `conv2d` on flex: values, and the gradients of the
//! input, weights and bias, on odd sizes, strides, paddings, 1x1 kernels and batch 1.

use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};

use crate::{Geometry, conv2d, covers};

struct Case {
    batch: usize,
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    groups: usize,
}

fn max_rel(a: Tensor<4>, b: Tensor<4>) -> f32 {
    let scale = b.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (a - b).abs().max().into_scalar::<f32>() / scale
}

fn max_rel1(a: Tensor<1>, b: Tensor<1>) -> f32 {
    max_rel(a.reshape([1, 1, 1, -1]), b.reshape([1, 1, 1, -1]))
}

fn check(case: &Case) {
    let device = Device::flex().autodiff();
    device.seed(7);
    let uniform = Distribution::Uniform(-1.0, 1.0);
    let x = Tensor::<4>::random([case.batch, case.c_in, case.h, case.w], uniform, &device);
    let w = Tensor::<4>::random(
        [case.c_out, case.c_in / case.groups, case.k[0], case.k[1]],
        uniform,
        &device,
    );
    let b = Tensor::<1>::random([case.c_out], uniform, &device);
    assert!(covers(&x, case.c_out, case.groups, [1, 1]));
    // A fixed random weighting of the outputs, so every output element has its own gradient.
    let probe = |y: &Tensor<4>| Tensor::<4>::random(y.dims(), uniform, &y.device());

    let run = |ours: bool| {
        let (x, w, b) = (
            x.clone().require_grad(),
            w.clone().require_grad(),
            b.clone().require_grad(),
        );
        let y = if ours {
            conv2d(x.clone(), w.clone(), Some(b.clone()), case.stride, case.pad)
        } else {
            let options = ConvOptions::new(case.stride, case.pad, [1, 1], case.groups);
            burn_conv2d(x.clone(), w.clone(), Some(b.clone()), options)
        };
        (x, w, b, y)
    };
    let (x0, w0, b0, y0) = run(false);
    let (x1, w1, b1, y1) = run(true);
    assert_eq!(y0.dims(), y1.dims(), "output shape");
    let err = max_rel(y1.clone().inner(), y0.clone().inner());
    assert!(err < 1e-5, "forward differs by {err}");

    device.seed(11);
    let r = probe(&y0);
    let g0 = (y0 * r.clone()).sum().backward();
    let g1 = (y1 * r).sum().backward();
    let dx = max_rel(x1.grad(&g1).unwrap(), x0.grad(&g0).unwrap());
    let dw = max_rel(w1.grad(&g1).unwrap(), w0.grad(&g0).unwrap());
    let db = max_rel1(b1.grad(&g1).unwrap(), b0.grad(&g0).unwrap());
    assert!(
        dx < 1e-5 && dw < 1e-5 && db < 1e-5,
        "gradients differ: x {dx}, w {dw}, b {db}"
    );
}

#[test]
fn matches_burn_on_odd_sizes_strides_and_paddings() {
    let cases = [
        // deep-cnn's layers: 3x3, same padding
        Case {
            batch: 4,
            c_in: 1,
            c_out: 16,
            h: 28,
            w: 28,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
        Case {
            batch: 3,
            c_in: 16,
            c_out: 32,
            h: 14,
            w: 14,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
        // batch 1, odd and non-square sizes, no padding
        Case {
            batch: 1,
            c_in: 3,
            c_out: 5,
            h: 9,
            w: 7,
            k: [3, 3],
            stride: [1, 1],
            pad: [0, 0],
            groups: 1,
        },
        // strides, uneven kernel, padding larger than needed
        Case {
            batch: 2,
            c_in: 4,
            c_out: 6,
            h: 11,
            w: 10,
            k: [3, 3],
            stride: [2, 2],
            pad: [1, 1],
            groups: 1,
        },
        Case {
            batch: 3,
            c_in: 2,
            c_out: 3,
            h: 8,
            w: 13,
            k: [2, 5],
            stride: [3, 2],
            pad: [2, 1],
            groups: 1,
        },
        Case {
            batch: 2,
            c_in: 3,
            c_out: 4,
            h: 5,
            w: 6,
            k: [5, 5],
            stride: [1, 1],
            pad: [3, 3],
            groups: 1,
        },
        // 1x1 (no column matrix) and strided 1x1
        Case {
            batch: 5,
            c_in: 7,
            c_out: 3,
            h: 6,
            w: 5,
            k: [1, 1],
            stride: [1, 1],
            pad: [0, 0],
            groups: 1,
        },
        Case {
            batch: 2,
            c_in: 4,
            c_out: 2,
            h: 7,
            w: 7,
            k: [1, 1],
            stride: [2, 2],
            pad: [0, 0],
            groups: 1,
        },
        // Stride 1 with 4+ input channels runs as shifted GEMMs on copies of padded planes,
        // small images stacked into tall ones: no padding, batch 1, non-square; padding
        // larger than the kernel needs; an uneven kernel with different paddings per axis
        // (stacked, an image's last output row is the next one's first); deep-cnn's
        // 7x7 layers split unevenly; then batches whose groups of stacked images differ in
        // size on any number of threads up to 4: stacked without gaps (no padding), with
        // padding of 2 (outputs filling the gaps), with an uneven kernel.
        Case {
            batch: 1,
            c_in: 5,
            c_out: 3,
            h: 9,
            w: 7,
            k: [3, 3],
            stride: [1, 1],
            pad: [0, 0],
            groups: 1,
        },
        Case {
            batch: 2,
            c_in: 4,
            c_out: 4,
            h: 5,
            w: 6,
            k: [5, 5],
            stride: [1, 1],
            pad: [3, 3],
            groups: 1,
        },
        Case {
            batch: 3,
            c_in: 6,
            c_out: 2,
            h: 8,
            w: 13,
            k: [2, 5],
            stride: [1, 1],
            pad: [2, 1],
            groups: 1,
        },
        Case {
            batch: 7,
            c_in: 8,
            c_out: 5,
            h: 7,
            w: 7,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
        Case {
            batch: 23,
            c_in: 4,
            c_out: 3,
            h: 7,
            w: 7,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
        Case {
            batch: 13,
            c_in: 5,
            c_out: 3,
            h: 6,
            w: 5,
            k: [3, 3],
            stride: [1, 1],
            pad: [0, 0],
            groups: 1,
        },
        Case {
            batch: 12,
            c_in: 4,
            c_out: 3,
            h: 5,
            w: 7,
            k: [3, 3],
            stride: [1, 1],
            pad: [2, 2],
            groups: 1,
        },
        Case {
            batch: 25,
            c_in: 4,
            c_out: 4,
            h: 3,
            w: 4,
            k: [3, 2],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
        // Depthwise (one filter per channel): EfficientNet-style 3x3 same and 5x5 same,
        // strided with odd sizes and no padding, batch 1 with a 2x4 kernel, uneven split.
        Case {
            batch: 3,
            c_in: 6,
            c_out: 6,
            h: 10,
            w: 9,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 6,
        },
        Case {
            batch: 2,
            c_in: 4,
            c_out: 4,
            h: 8,
            w: 8,
            k: [5, 5],
            stride: [1, 1],
            pad: [2, 2],
            groups: 4,
        },
        Case {
            batch: 2,
            c_in: 3,
            c_out: 3,
            h: 11,
            w: 9,
            k: [3, 3],
            stride: [2, 2],
            pad: [0, 0],
            groups: 3,
        },
        Case {
            batch: 1,
            c_in: 5,
            c_out: 5,
            h: 7,
            w: 6,
            k: [2, 4],
            stride: [2, 1],
            pad: [1, 2],
            groups: 5,
        },
        Case {
            batch: 7,
            c_in: 2,
            c_out: 2,
            h: 6,
            w: 6,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 2,
        },
        // more images than threads, uneven split
        Case {
            batch: 7,
            c_in: 2,
            c_out: 3,
            h: 6,
            w: 6,
            k: [3, 3],
            stride: [1, 1],
            pad: [1, 1],
            groups: 1,
        },
    ];
    let shifted = cases.iter().filter(|c| geometry(c).shifted()).count();
    assert_eq!(shifted, 9, "cases on the shifted-GEMM path");
    for case in &cases {
        check(case);
    }
}

fn geometry(c: &Case) -> Geometry {
    Geometry {
        batch: c.batch,
        c_in: c.c_in,
        h: c.h,
        w: c.w,
        c_out: c.c_out,
        kh: c.k[0],
        kw: c.k[1],
        stride: c.stride,
        pad: c.pad,
        groups: c.groups,
    }
}

#[test]
fn plain_flex_forward_matches_and_other_devices_are_not_covered() {
    let device = Device::flex();
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Default, &device);
    let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Default, &device);
    let ours = conv2d(x.clone(), w.clone(), None, [1, 1], [1, 1]);
    let theirs = burn_conv2d(
        x.clone(),
        w,
        None,
        ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
    );
    assert!(max_rel(ours, theirs) < 1e-5);
    assert!(
        !covers(&x, 4, 3, [1, 1]),
        "groups other than 1 and depthwise"
    );
    assert!(covers(&x, 3, 3, [1, 1]), "depthwise");
    assert!(
        !covers(&x, 6, 3, [1, 1]),
        "depthwise with a channel multiplier"
    );
    assert!(!covers(&x, 4, 1, [2, 1]), "dilation");
    #[allow(deprecated)]
    let nd = Tensor::<4>::zeros([1, 1, 4, 4], &Device::ndarray());
    assert!(!covers(&nd, 1, 1, [1, 1]), "ndarray device");
}

#[test]
fn batch_norm_matches_burn_in_values_and_gradients() {
    use burn::nn::BatchNormConfig;
    let device = Device::flex().autodiff();
    device.seed(3);
    for dims in [[4, 3, 5, 7], [1, 2, 3, 3], [6, 16, 14, 14]] {
        let c = dims[1];
        // Shifted and scaled, so mean and variance matter.
        let x = Tensor::<4>::random(dims, Distribution::Normal(2.0, 3.0), &device);
        let bn = BatchNormConfig::new(c).init(&device);
        let bn = bn.clone(); // same parameters for both paths
        let gamma = Tensor::<1>::random([c], Distribution::Uniform(0.5, 1.5), &device);
        let beta = Tensor::<1>::random([c], Distribution::Uniform(-1.0, 1.0), &device);
        let mut ours = bn.clone();
        ours.gamma = burn::module::Param::from_tensor(gamma.clone());
        ours.beta = burn::module::Param::from_tensor(beta.clone());
        let theirs = ours.clone();
        let r = Tensor::<4>::random(dims, Distribution::Default, &device);

        let run = |layer: &burn::nn::BatchNorm, fast: bool| {
            let x = x.clone().require_grad();
            let y = if fast {
                crate::batch_norm_train(
                    x.clone(),
                    layer.gamma.val(),
                    layer.beta.val(),
                    layer.epsilon,
                )
                .0
            } else {
                layer.forward(x.clone())
            };
            let grads = (y.clone() * r.clone()).sum().backward();
            let dx = x.grad(&grads).unwrap();
            let dg = layer.gamma.grad(&grads).unwrap();
            let db = layer.beta.grad(&grads).unwrap();
            (y.inner(), dx, dg, db)
        };
        let (y0, dx0, dg0, db0) = run(&theirs, false);
        let (y1, dx1, dg1, db1) = run(&ours, true);
        let ey = max_rel(y1, y0);
        let edx = max_rel(dx1, dx0);
        // dgamma = sum(dy * xhat) cancels heavily: compare ours with an f64 reference, and
        // burn's f32 sums with ours more loosely.
        let edg_burn = max_rel1(dg1.clone(), dg0);
        assert!(edg_burn < 1e-4, "{dims:?}: dgamma vs burn {edg_burn}");
        let xs: Vec<f32> = x.clone().into_data().try_to_vec::<f32>().unwrap();
        let rs: Vec<f32> = r.clone().into_data().try_to_vec::<f32>().unwrap();
        let s = dims[2] * dims[3];
        let reference: Vec<f32> = (0..c)
            .map(|ch| {
                let idx =
                    || (0..dims[0]).flat_map(move |b| (0..s).map(move |i| (b * c + ch) * s + i));
                let n = (dims[0] * s) as f64;
                let mean = idx().map(|i| xs[i] as f64).sum::<f64>() / n;
                let var = idx().map(|i| (xs[i] as f64 - mean).powi(2)).sum::<f64>() / n;
                let inv = 1.0 / (var + ours.epsilon).sqrt();
                idx()
                    .map(|i| rs[i] as f64 * (xs[i] as f64 - mean) * inv)
                    .sum::<f64>() as f32
            })
            .collect();
        let edg = max_rel1(dg1, Tensor::<1>::from_floats(reference.as_slice(), &device));
        let edb = max_rel1(db1, db0);
        assert!(
            ey < 1e-5 && edx < 1e-4 && edg < 1e-5 && edb < 1e-5,
            "{dims:?}: y {ey}, dx {edx}, dgamma {edg}, dbeta {edb}"
        );
    }
}

#[test]
fn max_pool_matches_burn_with_ties_and_odd_sizes() {
    use burn::nn::pool::MaxPool2dConfig;
    let device = Device::flex().autodiff();
    device.seed(5);
    let pool = MaxPool2dConfig::new([2, 2]).init();
    for dims in [[3, 4, 8, 8], [1, 1, 7, 9], [2, 16, 28, 28], [1, 2, 1, 5]] {
        // ReLU of a rounded normal: many exact ties (zeros and equal values) inside windows.
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 2.0), &device)
            .round()
            .clamp_min(0.0);
        let r = Tensor::<4>::random(
            pool.forward(x.clone()).dims(),
            Distribution::Default,
            &device,
        );
        let run = |fast: bool| {
            let x = x.clone().require_grad();
            let y = if fast {
                crate::max_pool2x2(x.clone())
            } else {
                pool.forward(x.clone())
            };
            let grads = (y.clone() * r.clone()).sum().backward();
            (y.inner(), x.grad(&grads).unwrap())
        };
        let (y0, dx0) = run(false);
        let (y1, dx1) = run(true);
        assert_eq!(y0.dims(), y1.dims());
        if y0.dims().iter().product::<usize>() > 0 {
            assert_eq!(max_rel(y1, y0), 0.0, "{dims:?}: values");
            assert_eq!(max_rel(dx1, dx0), 0.0, "{dims:?}: gradients");
        }
    }
}

/// The dense layer against burn's `Linear` on flex autodiff: values, and the gradients of the
/// input, the weights and the bias.
fn check_dense(batch: usize, d_in: usize, d_out: usize, bias: bool, input_grad: bool) {
    use burn::nn::LinearConfig;
    let device = Device::flex().autodiff();
    device.seed(11);
    let layer = LinearConfig::new(d_in, d_out).with_bias(bias).init(&device);
    let x = Tensor::<2>::random([batch, d_in], Distribution::Uniform(-1.0, 1.0), &device);
    let r = Tensor::<2>::random([batch, d_out], Distribution::Uniform(-1.0, 1.0), &device);
    assert!(crate::linear_covers(&x));
    let run = |ours: bool| {
        let x = if input_grad {
            x.clone().require_grad()
        } else {
            x.clone()
        };
        let y = if ours {
            crate::linear(
                x.clone(),
                layer.weight.val(),
                layer.bias.as_ref().map(|b| b.val()),
            )
        } else {
            layer.forward(x.clone())
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        let dx = x.grad(&grads);
        let dw = layer.weight.grad(&grads).unwrap();
        let db = layer.bias.as_ref().map(|b| b.grad(&grads).unwrap());
        (y.inner(), dx, dw, db)
    };
    let (y0, dx0, dw0, db0) = run(false);
    let (y1, dx1, dw1, db1) = run(true);
    let what = format!("dense {batch} x {d_in} -> {d_out}, bias {bias}");
    let as4 = |t: Tensor<2>| t.unsqueeze::<4>();
    assert!(max_rel(as4(y1), as4(y0)) < 1e-5, "{what}: values");
    assert!(
        max_rel(as4(dw1), as4(dw0)) < 1e-5,
        "{what}: weights' gradient"
    );
    assert_eq!(dx0.is_some(), input_grad);
    if let (Some(a), Some(b)) = (dx1, dx0) {
        assert!(max_rel(as4(a), as4(b)) < 1e-5, "{what}: input's gradient");
    }
    assert_eq!(db0.is_some(), bias);
    if let (Some(a), Some(b)) = (db1, db0) {
        assert!(max_rel1(a, b) < 1e-5, "{what}: bias's gradient");
    }
}

#[test]
fn dense_layers_match_burn_in_values_and_gradients() {
    // The MLPs' layers (batch 64, the last minibatch of 40), batch 1, odd sizes, with and
    // without bias, with the input tracked (a hidden layer) or not (the first layer).
    for (batch, d_in, d_out, bias, input_grad) in [
        (64, 784, 128, false, false),
        (64, 128, 128, false, true),
        (40, 128, 1, true, true),
        (1, 7, 3, true, true),
        (5, 1, 9, false, true),
        (33, 65, 17, true, false),
    ] {
        check_dense(batch, d_in, d_out, bias, input_grad);
    }
    // Large enough to be split over a two-thread pool.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    const { assert!(1000 * 512 * 64 >= crate::linear::PARALLEL_MACS) };
    pool.install(|| check_dense(1000, 512, 64, true, true));
}

#[test]
fn dense_off_flex_is_not_covered() {
    // (Switched off with `set_enabled(false)`, nothing is covered: a process-wide switch, so it
    // is tested from the runner, `REPALIGN_BURN_OPS=1`, in a process of its own.)
    #[allow(deprecated)]
    let nd = Tensor::<2>::zeros([2, 3], &Device::ndarray());
    assert!(!crate::linear_covers(&nd));
    let x = Tensor::<2>::zeros([2, 3], &Device::flex());
    assert!(crate::linear_covers(&x));
}

/// The weights' gradient computed once per constant value and copied is the full product's
/// bits: constant features at the start, at the end, in gaps narrower and wider than the merge
/// gap, single varying features, a batch that is all one value, a hidden layer's dead units,
/// -0 beside +0, NaN and infinity, more constant values than are shared; output columns that
/// are zero on every row (some or all), and NaN or infinity in the output's gradient.
#[test]
fn weight_gradient_with_shared_rows_is_the_full_product() {
    use crate::linear::{Dense, mat, product, weight_grad};
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    // Feature `i`'s constant value, or `None` where it varies over the batch.
    type Pattern = Box<dyn Fn(usize) -> Option<f32>>;
    let on = |yes: bool, v: f32| yes.then_some(v);
    let patterns: Vec<(&str, usize, Pattern)> = vec![
        ("none", 784, Box::new(|_| None)),
        (
            "margins",
            784,
            Box::new(move |i| on(!(100..700).contains(&i), -1.0)),
        ),
        (
            "image rows",
            784,
            Box::new(move |i| on(i % 28 < 5 || i % 28 >= 22 || i < 84, -1.0)),
        ),
        ("narrow gaps", 200, Box::new(move |i| on(i % 10 < 3, -1.0))),
        (
            "single varying features",
            300,
            Box::new(move |i| on(i % 17 != 4, 0.5)),
        ),
        (
            "one varying feature",
            50,
            Box::new(move |i| on(i != 49, 0.0)),
        ),
        ("one value", 64, Box::new(|_| Some(-1.0))),
        (
            "dead units",
            128,
            Box::new(move |i| on(i % 5 == 1 || (40..90).contains(&i), 0.0)),
        ),
        (
            "signed zeros",
            128,
            Box::new(|i| [Some(0.0), Some(-0.0), None][i % 3]),
        ),
        (
            "NaN and infinity",
            96,
            Box::new(|i| [Some(f32::NAN), Some(f32::INFINITY), Some(1.0), None][i % 4]),
        ),
        (
            "many values",
            256,
            Box::new(|i| (i % 16 != 0).then_some((i % 7) as f32)),
        ),
    ];
    for (name, d_in, pattern) in &patterns {
        for (batch, d_out) in [(64, 128), (40, 1), (1, 7), (3, 33)] {
            let s = Dense {
                batch,
                d_in: *d_in,
                d_out,
            };
            let x: Vec<f32> = (0..batch * d_in)
                .map(|i| pattern(i % d_in).unwrap_or_else(&mut next))
                .collect();
            for dead in ["no", "some", "every"] {
                // Output columns that are zero on every row (-0 on some rows): a third, or all.
                let zero = |i: usize| match dead {
                    "some" => i % d_out % 3 == 1 || (d_out > 8 && i % d_out < 8),
                    "every" => true,
                    _ => false,
                };
                let mut dy: Vec<f32> = (0..batch * d_out)
                    .map(|i| match (zero(i), i % 2) {
                        (true, 0) => 0.0,
                        (true, _) => -0.0,
                        _ => next(),
                    })
                    .collect();
                let full =
                    |dy: &[f32]| product(mat(&x, batch, *d_in).transpose(), mat(dy, batch, d_out));
                // The bits, but for a zero's sign and a NaN's payload: faer's products of different
                // widths give 0 · dy terms' sums either sign.
                let bits = |v: &[f32]| {
                    v.iter()
                        .map(|f| match f {
                            f if *f == 0.0 => 0,
                            f if f.is_nan() => u32::MAX,
                            f => f.to_bits(),
                        })
                        .collect::<Vec<_>>()
                };
                let what = format!("{name}: batch {batch}, {d_in} -> {d_out}, {dead} dead outputs");
                assert_eq!(bits(&weight_grad(&s, &x, &dy)), bits(&full(&dy)), "{what}");
                for bad in [f32::NAN, f32::INFINITY] {
                    dy[batch * d_out / 2] = bad;
                    assert_eq!(
                        bits(&weight_grad(&s, &x, &dy)),
                        bits(&full(&dy)),
                        "{what}, {bad} in dy"
                    );
                }
            }
        }
    }
}
