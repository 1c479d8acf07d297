//! The kernel against the tensor-op reference and the f64 CPU path, on burn's wgpu backend
//! (llvmpipe through Mesa's Vulkan driver on a machine without a GPU).
//!
//! Tolerance. The kernel reads f32 inputs, forms `Phi` with an f32 row scale, and sums each
//! output in f32 over at most `slab_rows` rows per slab and then over at most `MAX_SLABS` slabs,
//! before the host adds the chunks in f64. Higham's bound for recursive summation (in any order,
//! so whatever the shader compiler reassociates) gives `|G_kernel - G| <= gamma * A` element by
//! element, where `A = |M|^T |M|` (the sum of the absolute terms) and
//! `gamma = (k + d + 16) * 2^-24` with `k = min(rows, slab_rows) + min(slabs, MAX_SLABS)`:
//! `k` for the two summations, `d + 6` for the scale (a sum of `d + 1` squares, a square root, a
//! reciprocal, squared), the rest for the products and the f64 chunk sums. It is a bound, not a
//! fitted tolerance: it cannot flake, and any real mistake (a lost row, a wrong scale, a missing
//! bias, a slab or chunk added twice) moves an entry by a whole term, far past it. The tensor-op
//! reference sums all `m` rows in one f32 matmul, so its bound uses `k = m`.

use burn::tensor::{Device, DeviceKind, Tensor, TensorData};

use super::{DeviceAccumulator, MAX_SLABS, SLAB_ROWS, gram_reference, gram_with_slabs};
use crate::{Options, Targets, measure, phi_rows};

const U: f64 = 1.0 / (1u64 << 24) as f64;

fn device() -> Device {
    Device::wgpu(DeviceKind::DefaultDevice)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn values(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.next() as f32).collect()
    }
    fn signs(&mut self, len: usize) -> Vec<f64> {
        (0..len)
            .map(|i| match i {
                0 => -1.0,
                1 => 1.0,
                _ if self.next() < 0.0 => -1.0,
                _ => 1.0,
            })
            .collect()
    }
}

fn upload(values: &[f32], rows: usize, cols: usize) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values.to_vec(), [rows, cols]), &device())
}

fn upload_f64(values: &[f64], rows: usize, cols: usize) -> Tensor<2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    upload(&v, rows, cols)
}

/// One input: row-major f32 features (n x d), row-major targets (n x c), how `Phi` is built, and
/// which Gram (`transposed`: the kernel `Phi Phi^T`).
#[derive(Clone, Copy)]
struct Case<'a> {
    f: &'a [f32],
    y: &'a [f64],
    d: usize,
    c: usize,
    options: Options,
    transposed: bool,
}

impl<'a> Case<'a> {
    /// The Gram of `[Phi | y]` for one target column.
    fn gram_mode(f: &'a [f32], y: &'a [f64], d: usize, options: Options) -> Self {
        Case {
            f,
            y,
            d,
            c: 1,
            options,
            transposed: false,
        }
    }

    fn n(&self) -> usize {
        self.y.len() / self.c
    }

    /// The virtual matrix `M` in f64 (row-major, m x q) from the same f32 features.
    fn m_host(&self) -> (Vec<f64>, usize, usize) {
        let (n, d, c) = (self.n(), self.d, self.c);
        let p = self.options.columns(d);
        let phi = phi_rows(self.f, n, d, self.options);
        if self.transposed {
            let mut m = vec![0.0; p * n];
            for i in 0..n {
                for j in 0..p {
                    m[j * n + i] = phi[i * p + j];
                }
            }
            (m, p, n)
        } else {
            let q = p + c;
            let mut m = vec![0.0; n * q];
            for i in 0..n {
                m[i * q..i * q + p].copy_from_slice(&phi[i * p..(i + 1) * p]);
                m[i * q + p..(i + 1) * q].copy_from_slice(&self.y[i * c..(i + 1) * c]);
            }
            (m, n, q)
        }
    }

    fn features(&self) -> Tensor<2> {
        upload(self.f, self.n(), self.d)
    }

    fn targets(&self) -> Tensor<2> {
        upload_f64(self.y, self.n(), self.c)
    }
}

/// `M^T M` and `|M|^T |M|` in f64.
fn gram_f64(m: &[f64], rows: usize, q: usize) -> (Vec<f64>, Vec<f64>) {
    let mut g = vec![0.0; q * q];
    let mut a = vec![0.0; q * q];
    for r in 0..rows {
        let row = &m[r * q..(r + 1) * q];
        for i in 0..q {
            for j in 0..q {
                g[i * q + j] += row[i] * row[j];
                a[i * q + j] += (row[i] * row[j]).abs();
            }
        }
    }
    (g, a)
}

fn host(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .unwrap()
}

/// Runs kernel and reference on one input and checks both against f64 within their bounds.
fn check(what: &str, case: Case, slab_rows: usize) {
    check_with(what, case, slab_rows, true);
}

/// [`check`], optionally without the reference (whose plain f32 norms overflow on rows of 1e25).
fn check_with(what: &str, case: Case, slab_rows: usize, with_reference: bool) {
    let (m, rows, q) = case.m_host();
    let (g, a) = gram_f64(&m, rows, q);
    let (options, transposed) = (case.options, case.transposed);
    let kernel = gram_with_slabs(
        case.features(),
        case.targets(),
        options,
        transposed,
        slab_rows,
    )
    .unwrap();
    assert_eq!((kernel.nrows(), kernel.ncols()), (q, q), "{what}");
    let reference = host(gram_reference(
        case.features(),
        case.targets(),
        options,
        transposed,
    ));
    let d = case.d;
    let k = (rows.min(slab_rows) + rows.div_ceil(slab_rows).min(MAX_SLABS)) as f64;
    let bound_kernel = (k + d as f64 + 16.0) * U;
    let bound_reference = (rows as f64 + d as f64 + 16.0) * U;
    for i in 0..q {
        for j in 0..q {
            let e = i * q + j;
            let kernel = kernel[(i, j)];
            assert!(
                (kernel - g[e]).abs() <= bound_kernel * a[e] + 1e-30,
                "{what}: kernel G[{i},{j}] = {kernel} vs f64 {} (bound {})",
                g[e],
                bound_kernel * a[e]
            );
            assert!(
                !with_reference || (reference[e] - g[e]).abs() <= bound_reference * a[e] + 1e-30,
                "{what}: reference G[{i},{j}] = {} vs f64 {}",
                reference[e],
                g[e]
            );
        }
    }
}

const BOTH: Options = Options {
    bias_column: true,
    row_normalize: true,
};

#[test]
fn kernel_matches_reference_and_f64() {
    let mut rng = Rng(7);
    // Sizes that are not multiples of the 64- or 128-wide tiles, several blocks of each, one row,
    // p > n, and every combination of the two options.
    for (n, d, c) in [
        (70, 5, 1),
        (300, 130, 3),
        (1, 5, 1),
        (129, 63, 10),
        (150, 400, 2),
    ] {
        let f = rng.values(n * d);
        let y = rng.signs(n * c);
        for bias_column in [true, false] {
            for row_normalize in [true, false] {
                let options = Options {
                    bias_column,
                    row_normalize,
                };
                let what = format!("n={n} d={d} c={c} {options:?}");
                let case = Case {
                    f: &f,
                    y: &y,
                    d,
                    c,
                    options,
                    transposed: false,
                };
                check(&what, case, SLAB_ROWS);
                // Many slabs, over more than one launch.
                check(&what, case, 3);
            }
        }
    }
    // Kernel mode (K = Phi Phi^T), p > n.
    let (n, d) = (10, 50);
    let f = rng.values(n * d);
    let y = rng.signs(n);
    let case = Case {
        f: &f,
        y: &y,
        d,
        c: 1,
        options: BOTH,
        transposed: true,
    };
    check("kernel mode", case, SLAB_ROWS);
    check("kernel mode, slabs", case, 4);
}

/// Rows of magnitude 1e25 and 1e-25: their squares overflow and underflow f32, their scaled
/// norms do not.
#[test]
fn rows_far_from_one_are_normalised_like_the_cpu_path() {
    let mut rng = Rng(5);
    let (n, d) = (40, 6);
    let mut f = rng.values(n * d);
    for (i, row) in f.chunks_mut(d).enumerate() {
        let scale = match i % 3 {
            0 => 1e25,
            1 => 1e-25,
            _ => 1.0,
        };
        row.iter_mut().for_each(|v| *v *= scale);
    }
    let y = rng.signs(n);
    for bias_column in [true, false] {
        let case = Case {
            f: &f,
            y: &y,
            d,
            c: 1,
            options: Options {
                bias_column,
                row_normalize: true,
            },
            transposed: false,
        };
        // The tensor-op reference squares 1e25 in f32 and overflows: the kernel alone.
        check_with("rows far from 1", case, SLAB_ROWS, false);
    }
}

#[test]
fn all_zero_rows_become_the_bias_direction_or_stay_zero() {
    let mut rng = Rng(11);
    let (n, d) = (90, 7);
    let mut f = rng.values(n * d);
    for i in (0..n).step_by(3) {
        f[i * d..(i + 1) * d].fill(0.0);
    }
    let y = rng.signs(n);
    for bias_column in [true, false] {
        let options = Options {
            bias_column,
            row_normalize: true,
        };
        let case = Case::gram_mode(&f, &y, d, options);
        check("zero rows", case, SLAB_ROWS);
        let kernel_mode = Case {
            f: &f[..7 * d],
            y: &y[..7],
            transposed: true,
            ..case
        };
        check("zero rows, kernel", kernel_mode, 2);
    }
}

/// 40 000 identical rows in slabs of 16: 79 device chunks of 64 slabs, added in f64 on the host.
/// A plain f32 running sum over all 2 500 slabs on the device gave 400.0076 for 400.00001 here
/// (measured: 1.9e-5 relative), past the bound of (16 + 64 + d + 16) * 2^-24 = 5.9e-6.
#[test]
fn long_sums_stay_within_the_per_slab_bound() {
    let (n, d) = (40_000, 3);
    let f: Vec<f32> = (0..n).flat_map(|_| [0.1f32, 0.3, 0.7]).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let options = Options {
        bias_column: true,
        row_normalize: false,
    };
    let case = Case::gram_mode(&f, &y, d, options);
    check("constant rows", case, 16);
}

/// The whole measure on the device (streamed in batches, through both the kernel and the Gram
/// path) against the f64 CPU path.
#[test]
fn device_spectrum_matches_the_cpu_measure() {
    let mut rng = Rng(3);
    for (n, d, batch) in [(500, 40, 128), (30, 60, 7)] {
        // Low-rank structure plus noise, so the spectrum has a clear top.
        let base = rng.values(n * 3);
        let mix = rng.values(3 * d);
        let noise = rng.values(n * d);
        let f: Vec<f32> = (0..n * d)
            .map(|e| {
                let (i, j) = (e / d, e % d);
                (0..3)
                    .map(|k| base[i * 3 + k] * mix[k * d + j])
                    .sum::<f32>()
                    + 0.05 * noise[e]
            })
            .collect();
        let labels: Vec<f64> = (0..n).map(|i| base[i * 3].signum() as f64).collect();
        let targets = Targets::binary(&labels).unwrap();
        let cpu = measure(&f, d, &targets, BOTH).unwrap();

        let mut acc = DeviceAccumulator::new(d, 1, BOTH, &device());
        for start in (0..n).step_by(batch) {
            let end = (start + batch).min(n);
            acc.push(
                upload(&f[start * d..end * d], end - start, d),
                targets.rows(start, end),
            )
            .unwrap();
        }
        let gpu = acc.finish().unwrap();
        let what = format!("n={n} d={d}");
        assert_eq!(gpu.n, cpu.n, "{what}");
        assert!(
            (gpu.label_energy - cpu.label_energy).abs() < 1e-12,
            "{what}"
        );
        // f32 accumulation: the leading singular values to ~1e-5 relative, the summaries that
        // weigh them to ~1e-4 (a measure difference of 1e-3 is the smallest a user reads).
        for i in 0..3 {
            let (a, b) = (gpu.sigma[i], cpu.sigma[i]);
            assert!((a - b).abs() <= 1e-5 * b, "{what}: sigma[{i}] {a} vs {b}");
        }
        let (sg, sc) = (gpu.summary(), cpu.summary());
        assert!(
            (sg.auc - sc.auc).abs() <= 1e-4 * sc.auc,
            "{what}: auc {sg:?} vs {sc:?}"
        );
        assert!(
            (sg.top1 - sc.top1).abs() <= 1e-4,
            "{what}: top1 {sg:?} vs {sc:?}"
        );
        assert!(
            (sg.top10 - sc.top10).abs() <= 1e-4,
            "{what}: top10 {sg:?} vs {sc:?}"
        );
    }
}

#[test]
fn bad_device_input_is_an_error_that_names_it() {
    // The kernel itself lets a NaN or an infinity through as NaN, never as a finite value.
    for bad in [f32::NAN, f32::INFINITY] {
        let g = super::gram(
            upload(&[1.0, 2.0, bad, 0.0], 2, 2),
            upload_f64(&[1.0, -1.0], 2, 1),
            BOTH,
            false,
        )
        .unwrap();
        assert!(g[(0, 0)].is_nan() && g[(2, 2)].is_nan(), "{bad}: {g:?}");
    }
    let mut acc = DeviceAccumulator::new(2, 1, BOTH, &device());
    let err = acc
        .push(upload(&[1.0, 2.0, f32::NAN, 0.0], 2, 2), &[1.0, -1.0])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "feature value NaN at row 1, column 0 is not finite"
    );
    let err = acc
        .push(upload(&[1.0, 2.0], 1, 2), &[1.0, -1.0])
        .unwrap_err();
    assert_eq!(err.to_string(), "2 labels for 1 rows");
    let err = DeviceAccumulator::new(2, 1, BOTH, &device())
        .finish()
        .unwrap_err();
    assert_eq!(err.to_string(), "empty input: no rows");
}
