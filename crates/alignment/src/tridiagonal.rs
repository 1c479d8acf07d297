//! Eigenvalues of a symmetric tridiagonal matrix `T = W S W^T` together with `W^T Y` for a few
//! columns `Y`, without forming `W`.
//!
//! The measure needs the eigenvalues and the projections of the targets on the eigenvectors,
//! never the eigenvectors themselves. The implicit QL algorithm with Wilkinson shifts (as in
//! EISPACK's `tql2`) builds `W` as a product of plane rotations, `W = G_1 G_2 ... G_k`; applying
//! each `G_i^T` to `Y` as it is made gives `W^T Y` at `O(c)` per rotation instead of `O(m)`, so
//! the whole step costs `O(m^2 + m c)`-ish instead of the `O(m^3)` of forming `W` (faer keeps
//! that part internal, hence this file). At m = 513 it takes about 2 ms where faer's
//! divide-and-conquer with eigenvectors took 14 ms on two threads (AMD EPYC model 1).

/// Diagonalises the tridiagonal matrix with diagonal `d` and subdiagonal `e` (`e[i]` couples
/// `i` and `i + 1`; `e.len() == d.len()`, the last entry ignored) and rotates the rows of `y`
/// (row-major, `d.len()` rows of `c` columns) with it. On return `d` holds the eigenvalues in
/// ascending order and row `i` of `y` is `w_i^T Y` for the eigenvector `w_i` of `d[i]`.
/// `Err(())` when an eigenvalue has not converged after 60 iterations (it does in 2 or 3).
pub(crate) fn eigen_rotate(
    d: &mut [f64],
    e: &mut [f64],
    y: &mut [f64],
    c: usize,
) -> Result<(), ()> {
    let n = d.len();
    debug_assert_eq!(e.len(), n);
    debug_assert_eq!(y.len(), n * c);
    if n == 0 {
        return Ok(());
    }
    e[n - 1] = 0.0;
    // Subdiagonal entries below rounding of the whole matrix are negligible (EISPACK's tql2
    // test): eigenvalues come out to `eps * ||T||`, the accuracy the rank cutoff assumes. A test
    // relative to the neighbouring diagonal entries instead never converges on the rounding
    // noise of a rank-deficient matrix.
    let norm = d
        .iter()
        .zip(e.iter())
        .fold(0.0f64, |a, (x, y)| a.max(x.abs() + y.abs()));
    for l in 0..n {
        let mut iterations = 0;
        loop {
            // The first negligible subdiagonal entry at or after l splits the matrix.
            let mut m = l;
            while m + 1 < n && e[m].abs() > f64::EPSILON * norm {
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > 60 {
                return Err(());
            }
            // Wilkinson shift from the leading 2 x 2 block, then chase the bulge from m up to l.
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut cs, mut p) = (1.0f64, 1.0f64, 0.0f64);
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = cs * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    // Underflow: the rotation is the identity; split here and start again.
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                cs = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * cs * b;
                p = s * r;
                d[i + 1] = g + p;
                g = cs * r - b;
                // W <- W G on columns (i, i + 1), so W^T Y <- G^T (W^T Y) on rows (i, i + 1).
                let (top, bottom) = y.split_at_mut((i + 1) * c);
                for (a, b) in top[i * c..].iter_mut().zip(&mut bottom[..c]) {
                    let f = *b;
                    *b = s * *a + cs * f;
                    *a = cs * *a - s * f;
                }
            }
            if deflated {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    // Ascending, the rows of y following their eigenvalues.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    let values: Vec<f64> = order.iter().map(|&i| d[i]).collect();
    let rows: Vec<f64> = order
        .iter()
        .flat_map(|&i| y[i * c..(i + 1) * c].iter().copied())
        .collect();
    d.copy_from_slice(&values);
    y.copy_from_slice(&rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use faer::{Mat, Side};

    use super::eigen_rotate;

    fn dense(d: &[f64], e: &[f64]) -> Mat<f64> {
        let n = d.len();
        Mat::from_fn(n, n, |i, j| {
            if i == j {
                d[i]
            } else if i == j + 1 {
                e[j]
            } else if j == i + 1 {
                e[i]
            } else {
                0.0
            }
        })
    }

    /// Against faer's dense decomposition of the same matrix: eigenvalues to 1e-13 of the
    /// largest, `W^T Y` row by row up to each eigenvector's sign.
    fn check(d: &[f64], e: &[f64], y: &[f64], c: usize) {
        let n = d.len();
        let t = dense(d, e);
        let full = t.self_adjoint_eigen(Side::Lower).unwrap();
        let want = full.U().transpose() * Mat::from_fn(n, c, |i, j| y[i * c + j]);
        let (mut dd, mut ee, mut yy) = (d.to_vec(), e.to_vec(), y.to_vec());
        eigen_rotate(&mut dd, &mut ee, &mut yy, c).unwrap();
        let scale = dd.iter().fold(1e-300f64, |a, v| a.max(v.abs()));
        for (i, (got, l)) in dd.iter().zip(full.S().column_vector().iter()).enumerate() {
            assert!(
                (got - l).abs() <= 1e-13 * scale,
                "n={n} lambda_{i}: {got} vs {l}"
            );
        }
        // Projections are defined up to sign per eigenvector and up to rotation inside a
        // repeated eigenvalue's space: compare the squared norms over each cluster.
        let mut i = 0;
        while i < n {
            let mut j = i + 1;
            while j < n && (dd[j] - dd[i]).abs() <= 1e-6 * scale {
                j += 1;
            }
            for col in 0..c {
                let got: f64 = (i..j).map(|k| yy[k * c + col].powi(2)).sum();
                let exp: f64 = (i..j).map(|k| want[(k, col)].powi(2)).sum();
                assert!(
                    (got - exp).abs() <= 1e-10 * (1.0 + exp),
                    "n={n} rows {i}..{j} col {col}: {got} vs {exp}"
                );
            }
            if j == i + 1 {
                let sign = if (0..c)
                    .map(|col| yy[i * c + col] * want[(i, col)])
                    .sum::<f64>()
                    < 0.0
                {
                    -1.0
                } else {
                    1.0
                };
                for col in 0..c {
                    let (g, w) = (sign * yy[i * c + col], want[(i, col)]);
                    assert!(
                        (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
                        "n={n} ({i}, {col}): {g} vs {w}"
                    );
                }
            }
            i = j;
        }
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        }
    }

    #[test]
    fn random_tridiagonals_match_the_dense_decomposition() {
        let mut r = Lcg(3);
        for (n, c) in [(1, 1), (2, 1), (3, 2), (10, 1), (64, 3), (200, 1), (513, 2)] {
            let d: Vec<f64> = (0..n).map(|_| r.next()).collect();
            let e: Vec<f64> = (0..n).map(|_| r.next()).collect();
            let y: Vec<f64> = (0..n * c).map(|_| r.next()).collect();
            check(&d, &e, &y, c);
        }
    }

    #[test]
    fn hard_tridiagonals_match_the_dense_decomposition() {
        let n = 120;
        let ones = vec![1.0; n];
        // Wilkinson's matrix (pairs of nearly equal eigenvalues).
        let w: Vec<f64> = (0..21).map(|i| (10.0f64 - i as f64).abs()).collect();
        check(&w, &ones[..21], &ones[..21], 1);
        // Already diagonal, with repeated values; and a zero matrix.
        let d: Vec<f64> = (0..n).map(|i| (i % 4) as f64).collect();
        check(&d, &vec![0.0; n], &ones, 1);
        check(&vec![0.0; n], &vec![0.0; n], &ones, 1);
        // Graded entries over twelve orders of magnitude, and split blocks (zero couplings).
        let d: Vec<f64> = (0..n).map(|i| 10f64.powi(-(i as i32) / 10)).collect();
        let e: Vec<f64> = (0..n)
            .map(|i| if i % 17 == 0 { 0.0 } else { 0.5 * d[i] })
            .collect();
        check(&d, &e, &ones, 1);
        // The 1-2-1 matrix (eigenvalues 2 - 2 cos(k pi / (n + 1))) with a rank-one target.
        let two = vec![2.0; n];
        let minus: Vec<f64> = vec![-1.0; n];
        check(&two, &minus, &ones, 1);
    }
}
