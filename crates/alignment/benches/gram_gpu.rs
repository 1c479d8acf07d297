//! The Gram accumulation on the GPU: the CubeCL kernel, burn's own `matmul(F^T, F)` on the same
//! device, and the f64 CPU path, for n in {10^4, 10^5} and d in {128, 512, 2048}.
//!
//! `cargo bench -p repalign-alignment --features wgpu --bench gram_gpu` (or `just bench-gpu`).
//! Environment:
//! - `GRAM_BENCH_SIZES=10000x128,100000x512` picks the sizes (default: the full grid);
//! - `GRAM_BENCH_CPU_MAX_GFLOP=1000` skips the CPU path past that much work (default 1000; 0
//!   skips it);
//! - `GRAM_BENCH_DEVICE=0` skips the device columns (the CPU path alone);
//! - `GRAM_BENCH_REPS=3` timed repetitions after one warm-up (default 3; the median is printed).
//!
//! The layer is streamed in batches of `batch_rows(d)` rows (32 MiB each) as the runner streams
//! it. "kernel" is the whole device path per layer (`DeviceAccumulator::push` on every batch: the
//! finiteness check, the kernels, the f32 chunk read back and added in f64); "matmul" sums burn's
//! `F^T F` over the same batches on the device; "cpu64" is the f64 CPU accumulator on the same
//! values, and "eigh" the host eigendecomposition every path then shares.
//!
//! Rates are "effective" GFLOP/s: `2 n q^2 / t` for a `q x q` Gram (q = d + 2 here: bias and one
//! target column), the count a dense `matmul` of the same shape performs. The kernel and the CPU
//! path compute only the lower triangle, so they do about half that work; matmul's rate is
//! `2 n d^2 / t`. The device's f32 matmul rate is measured first on a square product, and the
//! kernel's rate is printed as a share of it.

use std::time::Instant;

use burn::tensor::{Device, DeviceKind, Distribution, Tensor};
use repalign_alignment::gpu::{DeviceAccumulator, batch_rows};
use repalign_alignment::{Accumulator, Options};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(reps: usize, device: &Device, mut f: impl FnMut()) -> f64 {
    f();
    device.sync().expect("device sync");
    let mut times = vec![];
    for _ in 0..reps {
        let t = Instant::now();
        f();
        device.sync().expect("device sync");
        times.push(t.elapsed().as_secs_f64());
    }
    median(times)
}

fn sizes() -> Vec<(usize, usize)> {
    match std::env::var("GRAM_BENCH_SIZES") {
        Ok(s) => s
            .split(',')
            .map(|item| {
                let (n, d) = item
                    .trim()
                    .split_once('x')
                    .unwrap_or_else(|| panic!("GRAM_BENCH_SIZES: '{item}' is not NxD"));
                (
                    n.parse().expect("GRAM_BENCH_SIZES: n"),
                    d.parse().expect("GRAM_BENCH_SIZES: d"),
                )
            })
            .collect(),
        Err(_) => [10_000, 100_000]
            .into_iter()
            .flat_map(|n| [128, 512, 2048].map(|d| (n, d)))
            .collect(),
    }
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let device = Device::wgpu(DeviceKind::DefaultDevice);
    let reps = env_f64("GRAM_BENCH_REPS", 3.0) as usize;
    let cpu_max = env_f64("GRAM_BENCH_CPU_MAX_GFLOP", 1000.0);
    let on_device = env_f64("GRAM_BENCH_DEVICE", 1.0) != 0.0;
    let options = Options::default();

    // The device's own f32 matmul rate, on the largest square product that fits the sizes asked.
    let edge = sizes()
        .iter()
        .map(|&(_, d)| d)
        .max()
        .unwrap_or(1024)
        .max(1024);
    let a = Tensor::<2>::random([edge, edge], Distribution::Default, &device);
    let b = Tensor::<2>::random([edge, edge], Distribution::Default, &device);
    let t = if on_device {
        time(reps, &device, || {
            let _ = a.clone().matmul(b.clone());
        })
    } else {
        f64::NAN
    };
    let peak = 2.0 * (edge as f64).powi(3) / t / 1e9;
    println!(
        "device f32 matmul {edge}x{edge}: {:.1} ms, {peak:.1} GFLOP/s",
        t * 1e3
    );
    println!(
        "{:>7} {:>5} | {:>10} {:>8} {:>6} | {:>10} {:>8} | {:>10} {:>8} | {:>10}",
        "n",
        "d",
        "kernel ms",
        "GFLOP/s",
        "%peak",
        "matmul ms",
        "GFLOP/s",
        "cpu64 ms",
        "GFLOP/s",
        "eigh ms"
    );
    for (n, d) in sizes() {
        let q = options.columns(d) + 1;
        // Streamed as the runner streams a layer: batches small enough for any device's buffers.
        let step = batch_rows(d);
        let batches: Vec<(Tensor<2>, Vec<f64>)> = (0..n)
            .step_by(step)
            .map(|start| {
                let rows = step.min(n - start);
                let f = Tensor::<2>::random([rows, d], Distribution::Uniform(-1.0, 1.0), &device);
                let y = (start..start + rows)
                    .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
                    .collect();
                (f, y)
            })
            .collect();

        let (mut tk, mut tm) = (f64::NAN, f64::NAN);
        if on_device {
            tk = time(reps, &device, || {
                let mut acc = DeviceAccumulator::new(d, 1, options, &device);
                for (f, y) in &batches {
                    acc.push(f.clone(), y).unwrap();
                }
            });
            tm = time(reps, &device, || {
                let mut g = Tensor::<2>::zeros([d, d], &device);
                for (f, _) in &batches {
                    g = g + f.clone().transpose().matmul(f.clone());
                }
            });
        }
        let work = 2.0 * n as f64 * (q * q) as f64 / 1e9;
        let rate_k = work / tk;
        let rate_m = 2.0 * n as f64 * (d * d) as f64 / 1e9 / tm;

        // The CPU path on the same values: f64 Gram accumulation (push), then the host solve
        // (finish) that every path shares.
        let (cpu, eigh) = if work <= cpu_max {
            let host: Vec<(Vec<f32>, &Vec<f64>)> = batches
                .iter()
                .map(|(f, y)| {
                    let v: Vec<f32> = f.clone().into_data().convert::<f32>().try_to_vec().unwrap();
                    (v, y)
                })
                .collect();
            let mut push_t = vec![];
            let mut eigh_t = vec![];
            for _ in 0..reps.max(1) {
                let mut acc = Accumulator::new(d, 1, options);
                let t = Instant::now();
                for (f, y) in &host {
                    acc.push(f, y).unwrap();
                }
                push_t.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let _ = acc.finish().unwrap();
                eigh_t.push(t.elapsed().as_secs_f64());
            }
            (Some(median(push_t)), Some(median(eigh_t)))
        } else {
            (None, None)
        };
        let fmt_ms = |t: Option<f64>| t.map_or("skipped".into(), |t| format!("{:.1}", t * 1e3));
        let fmt_rate = |t: Option<f64>| t.map_or("-".into(), |t| format!("{:.1}", work / t));
        println!(
            "{n:>7} {d:>5} | {:>10.1} {rate_k:>8.1} {:>5.0}% | {:>10.1} {rate_m:>8.1} | {:>10} {:>8} | {:>10}",
            tk * 1e3,
            100.0 * rate_k / peak,
            tm * 1e3,
            fmt_ms(cpu),
            fmt_rate(cpu),
            fmt_ms(eigh),
        );
    }
}
