//! `cargo bench -p repalign-alignment` (or `just bench-align`): the measure against a plain
//! thin SVD of the same `Phi`, at the sizes the experiments use. Prints seconds and the ratio.
//!
//! The reference is what one would write without the Gram trick: build `Phi`, take its thin SVD
//! with faer, and read `e_i = (u_i^T y)^2` off `U`.

use std::time::Instant;

use faer::{Mat, MatRef};
use repalign_alignment::{Options, Targets, measure};

fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
}

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("at least one repetition"))
}

fn plain_svd(features: &[f32], n: usize, d: usize, y: &Targets) -> f64 {
    // Phi with the bias column and unit rows, exactly as the measure builds it.
    let p = d + 1;
    let mut phi = Mat::<f64>::zeros(n, p);
    for i in 0..n {
        let row = &features[i * d..(i + 1) * d];
        let norm = (row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() + 1.0).sqrt();
        for j in 0..d {
            phi[(i, j)] = row[j] as f64 / norm;
        }
        phi[(i, d)] = 1.0 / norm;
    }
    let svd = phi.thin_svd().expect("svd converges");
    let uy = svd.U().transpose() * MatRef::from_column_major_slice(y.values(), n, 1);
    let s = svd.S().column_vector();
    (0..p).map(|i| uy[(i, 0)].powi(2) * s[i]).sum::<f64>()
}

fn main() {
    // `cargo bench` passes --bench; a filter argument selects sizes by substring.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    println!(
        "{:>7} {:>5} {:>12} {:>12} {:>8} {:>14}",
        "n", "p", "measure (s)", "thin SVD (s)", "ratio", "max |d auc|"
    );
    for &(n, d) in &[(10_000usize, 512usize), (60_000, 128), (2_000, 128)] {
        let label = format!("{n}x{}", d + 1);
        if !filter.is_empty() && !filter.iter().any(|f| label.contains(f.as_str())) {
            continue;
        }
        let mut state = 7;
        let features: Vec<f32> = (0..n * d).map(|_| lcg(&mut state) as f32).collect();
        let labels: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let y = Targets::binary(&labels).expect("two classes");
        let (t_measure, s) = best_of(3, || {
            measure(&features, d, &y, Options::default()).expect("finite")
        });
        let (t_svd, weighted) = best_of(2, || plain_svd(&features, n, d, &y));
        // Same number from both: sum_i e_i sigma_i.
        let ours: f64 = s.sigma.iter().zip(&s.energy).map(|(a, b)| a * b).sum();
        let diff = (ours - weighted).abs() / ours.abs().max(1e-300);
        println!(
            "{n:>7} {:>5} {t_measure:>12.4} {t_svd:>12.4} {:>7.1}x {diff:>14.2e}",
            d + 1,
            t_svd / t_measure
        );
    }
}
