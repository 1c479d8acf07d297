//! A linear probe: how well a linear classifier on a representation predicts held-out labels.
//!
//! Ridge regression on one-hot targets with an intercept (features centred by the training
//! rows' mean), solved in its dual form `alpha = (K + lambda I)^-1 (Y - mean)` with the kernel
//! `K = X X^T` of the training rows, so a layer of tens of thousands of features costs an
//! `n x n` matrix. The class predicted is the largest output. `lambda` is chosen among
//! `{1e-6, ..., 1e2} * trace(K) / n` by leave-one-out accuracy on the training rows (exact for
//! ridge: `loo_i = (y_i - yhat_i) / (1 - H_ii)`, from one eigendecomposition of `K`); ties go
//! to the larger `lambda`. All in f64.

use faer::{Mat, Side};

use crate::AlignError;

/// The probe's accuracy on `test` and the `lambda / (trace(K) / n)` it chose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Fraction of test rows classified right.
    pub accuracy: f64,
    /// The ridge penalty chosen, relative to the kernel's mean diagonal.
    pub lambda: f64,
}

/// Relative ridge penalties tried.
const LAMBDAS: [f64; 9] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2];

/// Fits the probe on rows `train` of row-major `x` (`p` columns) with `labels` in
/// `0..classes`, and scores it on rows `test`.
pub fn ridge_probe(
    x: &[f32],
    p: usize,
    labels: &[u32],
    classes: usize,
    train: &[usize],
    test: &[usize],
) -> Result<Probe, AlignError> {
    let n = train.len();
    let mut mean = vec![0f64; p];
    for &i in train {
        for (m, &v) in mean.iter_mut().zip(&x[i * p..(i + 1) * p]) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let centred = |rows: &[usize]| {
        Mat::<f64>::from_fn(rows.len(), p, |r, j| {
            f64::from(x[rows[r] * p + j]) - mean[j]
        })
    };
    let xtr = centred(train);
    let xte = centred(test);
    let k = &xtr * xtr.transpose(); // n x n
    let kte = &xte * xtr.transpose(); // n_test x n
    let mut ymean = vec![0f64; classes];
    for &i in train {
        ymean[labels[i] as usize] += 1.0 / n as f64;
    }
    let y = Mat::<f64>::from_fn(n, classes, |r, c| {
        f64::from(u8::from(labels[train[r]] as usize == c)) - ymean[c]
    });
    let evd = k
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| AlignError::Eigen {
            which: "probe kernel X X^T",
            size: n,
        })?;
    let s: Vec<f64> = evd
        .S()
        .column_vector()
        .iter()
        .map(|&v| v.max(0.0))
        .collect();
    let u = evd.U();
    let uy = u.transpose() * &y; // n x classes
    let scale = s.iter().sum::<f64>() / n.max(1) as f64;
    let argmax = |row: &dyn Fn(usize) -> f64| {
        (0..classes)
            .max_by(|&a, &b| row(a).total_cmp(&row(b)))
            .unwrap_or(0)
    };
    let mut best = (f64::NEG_INFINITY, LAMBDAS[0]);
    for &rel in &LAMBDAS {
        let lambda = rel * scale.max(f64::MIN_POSITIVE);
        // Fitted values H y with H = U diag(s / (s + lambda)) U^T, and H's diagonal.
        let shrink: Vec<f64> = s.iter().map(|&v| v / (v + lambda)).collect();
        let fit = u * Mat::<f64>::from_fn(n, classes, |i, c| shrink[i] * uy[(i, c)]);
        let mut right = 0usize;
        for r in 0..n {
            let h: f64 = (0..n).map(|i| u[(r, i)] * u[(r, i)] * shrink[i]).sum();
            let loo =
                |c: usize| y[(r, c)] - (y[(r, c)] - fit[(r, c)]) / (1.0 - h).max(1e-12) + ymean[c];
            right += usize::from(argmax(&loo) == labels[train[r]] as usize);
        }
        let acc = right as f64 / n.max(1) as f64;
        if acc >= best.0 {
            best = (acc, rel);
        }
    }
    let lambda = best.1 * scale.max(f64::MIN_POSITIVE);
    let alpha = u * Mat::<f64>::from_fn(n, classes, |i, c| uy[(i, c)] / (s[i] + lambda));
    let out = &kte * &alpha; // n_test x classes
    let right = (0..test.len())
        .filter(|&r| argmax(&|c| out[(r, c)] + ymean[c]) == labels[test[r]] as usize)
        .count();
    Ok(Probe {
        accuracy: right as f64 / test.len().max(1) as f64,
        lambda: best.1,
    })
}

/// Splits `0..n` into alternating halves (even positions train, odd test), so both halves
/// hold every class in the proportion the rows do when rows are grouped or interleaved.
pub fn halves(n: usize) -> (Vec<usize>, Vec<usize>) {
    ((0..n).step_by(2).collect(), (1..n).step_by(2).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::prelude::Solve;

    /// A seeded uniform in [0, 1).
    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn separable_classes_are_found_and_noise_is_chance() {
        // 3 classes, 60 rows, 500 features: class c adds 2 to feature c; the rest is noise.
        let (n, p, classes) = (60usize, 500usize, 3usize);
        let mut st = 7u64;
        let labels: Vec<u32> = (0..n).map(|i| (i % classes) as u32).collect();
        let mut x: Vec<f32> = (0..n * p).map(|_| (lcg(&mut st) - 0.5) as f32).collect();
        for i in 0..n {
            x[i * p + labels[i] as usize] += 2.0;
        }
        let (train, test) = halves(n);
        let probe = ridge_probe(&x, p, &labels, classes, &train, &test).unwrap();
        assert_eq!(probe.accuracy, 1.0, "{probe:?}");
        // Pure noise: no better than chance, within sampling error (30 test rows, chance 1/3).
        let noise: Vec<f32> = (0..n * p).map(|_| (lcg(&mut st) - 0.5) as f32).collect();
        let probe = ridge_probe(&noise, p, &labels, classes, &train, &test).unwrap();
        assert!(probe.accuracy < 0.65, "{probe:?}");
    }

    #[test]
    fn dual_solution_matches_the_primal_one() {
        // Few features (p < n): the dual kernel ridge equals (X^T X + lambda I)^-1 X^T y; the
        // probe's predictions must be those of the primal solve at the lambda it chose.
        let (n, p) = (200usize, 5usize);
        let mut st = 3u64;
        let x: Vec<f32> = (0..n * p).map(|_| (lcg(&mut st) - 0.5) as f32).collect();
        let labels: Vec<u32> = (0..n)
            .map(|i| u32::from(x[i * p] + 0.3 * x[i * p + 1] > 0.0))
            .collect();
        let (train, test) = halves(n);
        let probe = ridge_probe(&x, p, &labels, 2, &train, &test).unwrap();
        // Primal, by hand: centred features and targets, then argmax.
        let m = train.len();
        let mean: Vec<f64> = (0..p)
            .map(|j| train.iter().map(|&i| f64::from(x[i * p + j])).sum::<f64>() / m as f64)
            .collect();
        let xt = Mat::<f64>::from_fn(m, p, |r, j| f64::from(x[train[r] * p + j]) - mean[j]);
        let k = &xt * xt.transpose();
        let scale = (0..m).map(|i| k[(i, i)]).sum::<f64>() / m as f64;
        let lambda = probe.lambda * scale;
        let ymean: Vec<f64> = (0..2)
            .map(|c| train.iter().filter(|&&i| labels[i] == c).count() as f64 / m as f64)
            .collect();
        let y = Mat::<f64>::from_fn(m, 2, |r, c| {
            f64::from(u8::from(labels[train[r]] as usize == c)) - ymean[c]
        });
        let a = xt.transpose() * &xt + Mat::<f64>::identity(p, p) * lambda;
        let w = a.llt(Side::Lower).unwrap().solve(xt.transpose() * &y);
        let right = test
            .iter()
            .filter(|&&i| {
                let o: Vec<f64> = (0..2)
                    .map(|c| {
                        (0..p)
                            .map(|j| (f64::from(x[i * p + j]) - mean[j]) * w[(j, c)])
                            .sum::<f64>()
                            + ymean[c]
                    })
                    .collect();
                usize::from(o[1] > o[0]) == labels[i] as usize
            })
            .count();
        assert_eq!(probe.accuracy, right as f64 / test.len() as f64);
        assert!(probe.accuracy > 0.8, "{probe:?}");
    }
}
