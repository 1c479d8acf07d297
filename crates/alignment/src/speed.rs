//! How fast a linear model learns on a fixed representation: gradient descent on the squared
//! loss `L(w) = 1/2 ||Phi w - y||^2` from `w = 0` with step `eta`.
//!
//! The residual evolves as `r_t = (I - eta K)^t (-y)` with `K = Phi Phi^T = U diag(sigma^2) U^T`,
//! so the loss after `t` steps is exactly
//! `L_t = 1/2 sum_i (1 - eta sigma_i^2)^(2t) e_i + 1/2 (||y||^2 - sum_i e_i)`:
//! label energy along large singular directions is learned first, and energy outside the span
//! of `Phi` is never learned. Aligned representations learn faster.

use faer::{Mat, MatRef};

use crate::Spectrum;

/// Gradient descent on `1/2 ||Phi w - Y||^2` from `w = 0` with step `eta`: the loss before each
/// of `steps` steps and after the last (`steps + 1` values). `phi` is row-major n x p, `y`
/// row-major n x c.
pub fn squared_descent(phi: &[f64], y: &[f64], n: usize, eta: f64, steps: u32) -> Vec<f64> {
    let p = phi.len() / n;
    let c = y.len() / n;
    let phi = MatRef::from_row_major_slice(phi, n, p);
    let y = MatRef::from_row_major_slice(y, n, c);
    let mut w = Mat::<f64>::zeros(p, c);
    let mut losses = Vec::with_capacity(steps as usize + 1);
    for _ in 0..=steps {
        let r = phi * &w - y;
        losses.push(0.5 * r.norm_l2().powi(2));
        let grad = phi.transpose() * &r;
        w -= eta * grad;
    }
    losses
}

/// Gradient descent on the logistic loss `sum_j ln(1 + exp(-y_j phi_j . w))` (targets +-1,
/// one column) from `w = 0` with step `eta`: `steps + 1` losses, as [`squared_descent`].
pub fn logistic_descent(phi: &[f64], y: &[f64], n: usize, eta: f64, steps: u32) -> Vec<f64> {
    let p = phi.len() / n;
    let phi_m = MatRef::from_row_major_slice(phi, n, p);
    let mut w = Mat::<f64>::zeros(p, 1);
    let mut losses = Vec::with_capacity(steps as usize + 1);
    for _ in 0..=steps {
        let z = phi_m * &w;
        let mut loss = 0.0;
        // d/dz ln(1 + exp(-y z)) = -y sigmoid(-y z)
        let g = Mat::<f64>::from_fn(n, 1, |j, _| {
            let m = -y[j] * z[(j, 0)];
            loss += if m > 0.0 {
                m + (-m).exp().ln_1p()
            } else {
                m.exp().ln_1p()
            };
            -y[j] / (1.0 + (-m).exp())
        });
        losses.push(loss);
        let grad = phi_m.transpose() * &g;
        w -= eta * grad;
    }
    losses
}

impl Spectrum {
    /// The squared loss after `t` gradient steps of size `eta` from `w = 0` (for several columns,
    /// the sum over columns).
    pub fn predicted_squared_loss(&self, eta: f64, t: u32) -> f64 {
        let inside: f64 = self.energy.iter().fold(0.0, |a, e| a + e);
        let decayed = self.sigma.iter().zip(&self.energy).fold(0.0, |a, (s, e)| {
            a + (1.0 - eta * s * s).powf(2.0 * t as f64) * e
        });
        0.5 * decayed + 0.5 * (self.label_energy - inside).max(0.0)
    }

    /// The largest stable step the prediction assumes, `1 / sigma_1^2` (infinite for rank 0).
    pub fn max_step(&self) -> f64 {
        self.sigma.first().map_or(f64::INFINITY, |s| 1.0 / (s * s))
    }
}

#[cfg(test)]
mod tests {
    use super::{logistic_descent, squared_descent};
    use crate::accumulate::phi_rows;
    use crate::{Options, Targets, measure};

    #[test]
    fn predicted_loss_matches_gradient_descent() {
        let mut state = 5u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        for &(n, d, frac) in &[(120usize, 10usize, 1.0), (40, 60, 0.5), (200, 3, 0.9)] {
            let f: Vec<f64> = (0..n * d).map(|_| next()).collect();
            let labels: Vec<f64> = (0..n)
                .map(|i| f64::from(f[i * d] + 0.3 * next() > 0.0))
                .collect();
            let y = Targets::binary(&labels).unwrap();
            let o = Options::default();
            let s = measure(&f, d, &y, o).unwrap();
            let eta = frac * s.max_step();
            let phi = phi_rows(&f, n, d, o);
            let measured = squared_descent(&phi, y.values(), n, eta, 300);
            for (t, m) in measured.iter().enumerate() {
                let p = s.predicted_squared_loss(eta, t as u32);
                assert!(
                    (p - m).abs() <= 1e-9 * m.max(1e-300),
                    "n {n} d {d} step {t}: predicted {p} measured {m}"
                );
            }
            assert!((measured[0] - 0.5 * n as f64).abs() < 1e-12 * n as f64);
            assert!(measured[300] < measured[0]);
        }
    }

    #[test]
    fn logistic_descent_decreases_from_n_ln2_and_matches_a_finite_difference_gradient() {
        let f = [1.0, 0.5, -1.0, 0.2, 0.3, -0.7, -0.4, 1.1];
        let y = [1.0, -1.0, 1.0, -1.0];
        let losses = logistic_descent(&f, &y, 4, 0.5, 50);
        assert!((losses[0] - 4.0 * 2f64.ln()).abs() < 1e-12);
        assert!(
            losses.windows(2).all(|w| w[1] <= w[0] + 1e-12),
            "{losses:?}"
        );
        // One step from w = 0 with a tiny eta moves the loss by -eta ||grad||^2 to first order.
        let eta = 1e-6;
        let l = logistic_descent(&f, &y, 4, eta, 1);
        // grad at 0 = sum_j -y_j phi_j / 2
        let g0: f64 = (0..2)
            .map(|k| {
                (0..4)
                    .map(|j| -y[j] * f[j * 2 + k] / 2.0)
                    .sum::<f64>()
                    .powi(2)
            })
            .sum();
        assert!(
            ((l[0] - l[1]) / eta - g0).abs() < 1e-4 * g0,
            "{} vs {g0}",
            (l[0] - l[1]) / eta
        );
    }

    #[test]
    fn more_aligned_features_learn_faster() {
        // Same spectrum shape, labels along the top direction vs along the bottom one.
        let n = 50;
        let f: Vec<f64> = (0..n)
            .flat_map(|i| {
                [
                    if i % 2 == 0 { 3.0 } else { -3.0 },
                    if i % 4 < 2 { 0.5 } else { -0.5 },
                ]
            })
            .collect();
        let top: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let bottom: Vec<f64> = (0..n).map(|i| f64::from(i % 4 < 2)).collect();
        let o = Options {
            bias_column: false,
            row_normalize: false,
        };
        let a = measure(&f, 2, &Targets::binary(&top).unwrap(), o).unwrap();
        let b = measure(&f, 2, &Targets::binary(&bottom).unwrap(), o).unwrap();
        assert!(a.summary().auc > b.summary().auc);
        let eta = a.max_step();
        assert!(a.predicted_squared_loss(eta, 5) < b.predicted_squared_loss(eta, 5));
    }
}
