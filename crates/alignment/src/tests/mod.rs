//! Both computation paths against a plain thin SVD, invariances, and bad input.

use faer::{Mat, MatRef};

use crate::accumulate::{eigen_projected, gram_path, kernel_path, phi_rows, rank_cutoff};
use crate::{Accumulator, AlignError, Grid, Options, Spectrum, Targets, Task, measure};

/// SplitMix64 with Box-Muller normals: a seeded source of test matrices.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn normals(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.normal()).collect()
    }
    fn signs(&mut self, len: usize) -> Vec<f64> {
        // Balanced enough, and guaranteed to hold both classes.
        let mut v: Vec<f64> = (0..len)
            .map(|_| if self.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        if len >= 2 {
            v[0] = -1.0;
            v[1] = 1.0;
        }
        v
    }
}

/// The plain reference: build `Phi`, take its thin SVD, `e_i = ||u_i^T Y||^2`.
fn reference(features: &[f64], d: usize, targets: &Targets, options: Options) -> Spectrum {
    let n = targets.len();
    let p = options.columns(d);
    let phi = phi_rows(features, n, d, options);
    let phi = MatRef::from_row_major_slice(&phi, n, p).to_owned();
    let y = MatRef::from_row_major_slice(targets.values(), n, targets.columns());
    let svd = phi.thin_svd().expect("svd converges");
    let s: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let s_max = s.iter().copied().fold(0.0, f64::max);
    let cutoff = rank_cutoff(s_max * s_max, n, p);
    let uy = svd.U().transpose() * y;
    let mut sigma = vec![];
    let mut energy = vec![];
    for (i, &si) in s.iter().enumerate() {
        if si * si > cutoff {
            sigma.push(si);
            energy.push((0..targets.columns()).map(|j| uy[(i, j)].powi(2)).sum());
        }
    }
    Spectrum {
        n,
        p,
        columns: targets.columns(),
        label_energy: targets.energy(),
        sigma,
        energy,
    }
}

/// Both paths, forced, on the same input.
fn both_paths(features: &[f64], d: usize, targets: &Targets, options: Options) -> [Spectrum; 2] {
    let n = targets.len();
    let p = options.columns(d);
    let c = targets.columns();
    let phi = phi_rows(features, n, d, options);
    let y = targets.values();
    let (ks, ke) = kernel_path(&phi, y, n, p, c).unwrap();
    let phi_m = MatRef::from_row_major_slice(&phi, n, p);
    let y_m = MatRef::from_row_major_slice(y, n, c);
    let g: Mat<f64> = phi_m.transpose() * phi_m;
    let b: Mat<f64> = phi_m.transpose() * y_m;
    let (gs, ge) = gram_path(g.as_ref(), b.as_ref(), n).unwrap();
    let mk = |sigma, energy| Spectrum {
        n,
        p,
        columns: c,
        label_energy: targets.energy(),
        sigma,
        energy,
    };
    [mk(ks, ke), mk(gs, ge)]
}

/// Compares two spectra to a relative tolerance: sigma relative to sigma_1, energies relative to
/// `E`. Directions whose singular values coincide (to 1e-6 sigma_1) are compared as a cluster,
/// since only the cluster's total energy is defined.
#[track_caller]
fn assert_close(got: &Spectrum, want: &Spectrum, tol: f64, what: &str) {
    assert_eq!(
        got.rank(),
        want.rank(),
        "{what}: rank {:?} vs {:?}",
        got.sigma,
        want.sigma
    );
    let s1 = want.sigma.first().copied().unwrap_or(1.0);
    let e = want.label_energy;
    for (a, b) in got.sigma.iter().zip(&want.sigma) {
        assert!((a - b).abs() <= tol * s1, "{what}: sigma {a} vs {b}");
    }
    let mut i = 0;
    while i < want.rank() {
        let mut j = i + 1;
        while j < want.rank() && want.sigma[j - 1] - want.sigma[j] <= 1e-6 * s1 {
            j += 1;
        }
        let a: f64 = got.energy[i..j].iter().sum();
        let b: f64 = want.energy[i..j].iter().sum();
        assert!(
            (a - b).abs() <= tol * e,
            "{what}: energy of directions {i}..{j}: {a} vs {b}"
        );
        i = j;
    }
    let (sa, sb) = (got.summary(), want.summary());
    for (name, a, b) in [
        ("auc", sa.auc, sb.auc),
        ("auc_null", sa.auc_null, sb.auc_null),
        ("kta", sa.kta, sb.kta),
    ] {
        assert!((a - b).abs() <= tol, "{what}: {name} {a} vs {b}");
    }
}

const TOL: f64 = 1e-9;

fn check_case(what: &str, features: &[f64], d: usize, targets: &Targets, options: Options) {
    let want = reference(features, d, targets, options);
    let [kernel, gram] = both_paths(features, d, targets, options);
    assert_close(&kernel, &want, TOL, &format!("{what} (kernel path)"));
    assert_close(&gram, &want, TOL, &format!("{what} (Gram path)"));
    let auto = measure(features, d, targets, options).unwrap();
    assert_close(&auto, &want, TOL, &format!("{what} (automatic)"));
}

fn all_options() -> [Options; 4] {
    [
        Options::default(),
        Options {
            bias_column: false,
            row_normalize: true,
        },
        Options {
            bias_column: true,
            row_normalize: false,
        },
        Options {
            bias_column: false,
            row_normalize: false,
        },
    ]
}

#[test]
fn random_matrices_match_thin_svd() {
    let mut rng = Rng(1);
    for &(n, d) in &[(200, 30), (64, 63), (50, 7), (300, 1)] {
        let f = rng.normals(n * d);
        let y = Targets::binary(&rng.signs(n)).unwrap();
        for o in all_options() {
            check_case(&format!("random {n}x{d} {o:?}"), &f, d, &y, o);
        }
    }
}

#[test]
fn p_greater_than_n_and_p_equal_n_match_thin_svd() {
    let mut rng = Rng(2);
    for &(n, d) in &[(20, 60), (31, 30), (30, 30), (5, 200)] {
        let f = rng.normals(n * d);
        let y = Targets::binary(&rng.signs(n)).unwrap();
        for o in all_options() {
            check_case(&format!("wide {n}x{d} {o:?}"), &f, d, &y, o);
        }
    }
}

#[test]
fn low_rank_and_rank_deficient_match_thin_svd() {
    let mut rng = Rng(3);
    let (n, d, r) = (150, 40, 4);
    let a = Mat::from_fn(n, r, |_, _| rng.normal());
    let b = Mat::from_fn(r, d, |_, _| rng.normal());
    let low = &a * &b;
    let f: Vec<f64> = (0..n)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .map(|(i, j)| low[(i, j)])
        .collect();
    let y = Targets::binary(&rng.signs(n)).unwrap();
    for o in all_options() {
        check_case(&format!("rank {r} {o:?}"), &f, d, &y, o);
        let s = measure(&f, d, &y, o).unwrap();
        assert_eq!(s.rank(), r + usize::from(o.bias_column), "rank with {o:?}");
    }
    // Duplicate and all-zero columns: rank-deficient by construction.
    let mut g = rng.normals(n * 5);
    let mut f2 = Vec::with_capacity(n * 8);
    for row in g.chunks_exact_mut(5) {
        f2.extend_from_slice(row);
        f2.extend_from_slice(&[row[0], 0.0, 2.0 * row[1]]);
    }
    for o in all_options() {
        check_case(&format!("duplicate columns {o:?}"), &f2, 8, &y, o);
    }
}

#[test]
fn duplicate_rows_match_thin_svd() {
    let mut rng = Rng(4);
    let base = rng.normals(10 * 6);
    let f: Vec<f64> = (0..12).flat_map(|_| base.iter().copied()).collect(); // 120 rows, 10 distinct
    let labels: Vec<f64> = (0..120)
        .map(|i| if (i % 10) < 5 { 0.0 } else { 1.0 })
        .collect();
    let y = Targets::binary(&labels).unwrap();
    for o in all_options() {
        check_case(&format!("duplicate rows {o:?}"), &f, 6, &y, o);
    }
}

#[test]
fn projected_eigendecomposition_equals_the_full_one() {
    // Against faer's full decomposition: the same eigenvalues, and U^T R row by row up to each
    // eigenvector's sign, on sizes below and above the divide-and-conquer switch (128) and with
    // several right-hand sides; a repeated eigenvalue is checked through its eigenspace's total.
    let mut rng = Rng(17);
    for (m, c) in [
        (1, 1),
        (2, 1),
        (3, 2),
        (40, 1),
        (127, 3),
        (200, 4),
        (300, 1),
    ] {
        let x = Mat::from_fn(m + 5, m, |_, _| rng.normal());
        let a = x.transpose() * &x;
        let r = Mat::from_fn(m, c, |_, _| rng.normal());
        let (lambda, ur) = eigen_projected(a.as_ref(), r.as_ref(), "test").unwrap();
        let full = a.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let want = full.U().transpose() * &r;
        let scale = lambda.iter().fold(0.0f64, |acc, l| acc.max(l.abs()));
        for i in 0..m {
            let l = full.S().column_vector()[i];
            assert!((lambda[i] - l).abs() <= 1e-13 * scale, "m={m} lambda_{i}");
            let sign = if (0..c).map(|j| ur[(i, j)] * want[(i, j)]).sum::<f64>() < 0.0 {
                -1.0
            } else {
                1.0
            };
            for j in 0..c {
                let (got, exp) = (sign * ur[(i, j)], want[(i, j)]);
                assert!(
                    (got - exp).abs() <= 1e-9 * (1.0 + exp.abs()),
                    "m={m} c={c} ({i}, {j}): {got} vs {exp}"
                );
            }
        }
    }
    // A repeated eigenvalue (the identity plus a rank-one term): U^T R is not unique inside the
    // eigenspace, its squared norm over the eigenspace is.
    let m = 150;
    let v = Mat::from_fn(m, 1, |_, _| rng.normal());
    let a = Mat::<f64>::identity(m, m) + &v * v.transpose();
    let r = Mat::from_fn(m, 1, |_, _| rng.normal());
    let (lambda, ur) = eigen_projected(a.as_ref(), r.as_ref(), "test").unwrap();
    let top = (v.transpose() * &r)[(0, 0)].powi(2) / (v.transpose() * &v)[(0, 0)];
    let rest: f64 = (0..m - 1).map(|i| ur[(i, 0)].powi(2)).sum();
    let total: f64 = (0..m).map(|i| r[(i, 0)].powi(2)).sum();
    assert!((lambda[m - 1] - 1.0 - (v.transpose() * &v)[(0, 0)]).abs() < 1e-10);
    assert!(lambda[..m - 1].iter().all(|l| (l - 1.0).abs() < 1e-12));
    assert!((ur[(m - 1, 0)].powi(2) - top).abs() < 1e-9 * total);
    assert!((rest - (total - top)).abs() < 1e-9 * total);
}

#[test]
fn tiny_sizes_match_thin_svd() {
    // n = 1.
    let y1 = Targets::from_matrix(Task::Binary, vec![1.0], 1).unwrap();
    check_case("n = 1", &[0.5, -2.0, 3.0], 3, &y1, Options::default());
    let s = measure(&[0.5, -2.0, 3.0], 3, &y1, Options::default()).unwrap();
    assert_eq!(s.rank(), 1);
    assert!((s.sigma[0] - 1.0).abs() < 1e-15);
    assert!((s.energy[0] - 1.0).abs() < 1e-15);
    // p = 1, both as one feature without bias and as the bias column alone.
    let mut rng = Rng(5);
    let y = Targets::binary(&rng.signs(9)).unwrap();
    let f = rng.normals(9);
    check_case(
        "p = 1 feature",
        &f,
        1,
        &y,
        Options {
            bias_column: false,
            row_normalize: false,
        },
    );
    check_case("p = 1 bias only", &[], 0, &y, Options::default());
    // The bias column alone: Phi is a column of ones, one direction of sigma sqrt(n) holding
    // (sum y)^2 / n of the label energy.
    let s = measure::<f64>(&[], 0, &y, Options::default()).unwrap();
    assert_eq!(s.rank(), 1);
    assert!((s.sigma[0] - 3.0).abs() < 1e-12, "{:?}", s.sigma);
    let sum: f64 = y.values().iter().sum();
    assert!(
        (s.energy[0] - sum * sum / 9.0).abs() < 1e-12,
        "{:?}",
        s.energy
    );
    // n = 2, p = 2.
    let y2 = Targets::binary(&[3.0, 7.0]).unwrap();
    check_case("n = 2", &[1.0, 2.0], 1, &y2, Options::default());
}

#[test]
fn multiclass_and_regression_match_thin_svd() {
    let mut rng = Rng(6);
    let (n, d) = (120, 12);
    let f = rng.normals(n * d);
    let labels: Vec<f64> = (0..n).map(|i| (i % 4) as f64).collect();
    let y = Targets::multiclass(&labels).unwrap();
    assert_eq!(y.columns(), 4);
    // Centred one-vs-rest: 4 n sum pi (1 - pi) = 4 n 4 (1/4)(3/4) = 3 n.
    assert_eq!(y.energy(), (n * 3) as f64);
    check_case("multiclass", &f, d, &y, Options::default());
    let wide = rng.normals(30 * 50);
    let yw = Targets::multiclass(&labels[..30]).unwrap();
    check_case("multiclass wide", &wide, 50, &yw, Options::default());
    let values = rng.normals(n);
    let r = Targets::regression(&values).unwrap();
    assert!(r.values().iter().all(|v| (-1.0..=1.0).contains(v)));
    assert!(r.values().contains(&-1.0) && r.values().contains(&1.0));
    check_case("regression", &f, d, &r, Options::default());
}

#[test]
fn structured_inputs_match_thin_svd() {
    // Identity-like features (all singular values equal), constant features, one-hot rows.
    let n = 40;
    let d = 40;
    let eye: Vec<f64> = (0..n * d)
        .map(|k| if k / d == k % d { 1.0 } else { 0.0 })
        .collect();
    let labels: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
    let y = Targets::binary(&labels).unwrap();
    for o in all_options() {
        check_case(&format!("identity {o:?}"), &eye, d, &y, o);
    }
    let onehot: Vec<f64> = (0..90 * 3)
        .map(|k| if k / 3 % 3 == k % 3 { 1.0 } else { 0.0 })
        .collect();
    let y3 = Targets::binary(
        &(0..90)
            .map(|i| (i % 3 == 0) as u8 as f64)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for o in all_options() {
        check_case(&format!("one-hot {o:?}"), &onehot, 3, &y3, o);
    }
}

#[test]
fn streaming_in_any_batches_equals_one_shot() {
    let mut rng = Rng(7);
    let (n, d) = (500, 20);
    let f = rng.normals(n * d);
    let y = Targets::binary(&rng.signs(n)).unwrap();
    let whole = measure(&f, d, &y, Options::default()).unwrap();
    // Batches that cross the switch from kept rows to the Gram matrix (at 21 rows) and end ragged.
    for sizes in [
        vec![1usize; 30],
        vec![7, 13, 64, 3],
        vec![21, 1],
        vec![499, 1],
    ] {
        let mut acc = Accumulator::new(d, 1, Options::default());
        let mut start = 0;
        let mut sizes = sizes.into_iter().cycle();
        while start < n {
            let end = (start + sizes.next().unwrap()).min(n);
            acc.push(&f[start * d..end * d], y.rows(start, end))
                .unwrap();
            start = end;
        }
        assert_eq!(acc.rows(), n);
        assert_close(&acc.finish().unwrap(), &whole, 1e-11, "streamed");
    }
    // f32 input goes through the same path.
    let f32s: Vec<f32> = f.iter().map(|&v| v as f32).collect();
    let widened: Vec<f64> = f32s.iter().map(|&v| v as f64).collect();
    let a = measure(&f32s, d, &y, Options::default()).unwrap();
    let b = measure(&widened, d, &y, Options::default()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn invariant_to_row_order_label_sign_and_row_scale() {
    let mut rng = Rng(8);
    let (n, d) = (80, 10);
    let f = rng.normals(n * d);
    let labels = rng.signs(n);
    let y = Targets::binary(&labels).unwrap();
    let base = measure(&f, d, &y, Options::default()).unwrap();
    // Reverse the rows.
    let rev: Vec<f64> = f.chunks_exact(d).rev().flatten().copied().collect();
    let rev_y = Targets::binary(&labels.iter().rev().copied().collect::<Vec<_>>()).unwrap();
    assert_close(
        &measure(&rev, d, &rev_y, Options::default()).unwrap(),
        &base,
        1e-11,
        "row order",
    );
    // Flip the sign of y: energies are squares.
    let flipped =
        Targets::from_matrix(Task::Binary, y.values().iter().map(|v| -v).collect(), 1).unwrap();
    assert_close(
        &measure(&f, d, &flipped, Options::default()).unwrap(),
        &base,
        1e-11,
        "label sign",
    );
    // Scale rows by positive factors: normalisation undoes it when there is no bias column
    // (with a bias column the appended 1 is not scaled, so only the no-bias case is invariant).
    let o = Options {
        bias_column: false,
        row_normalize: true,
    };
    let base_nb = measure(&f, d, &y, o).unwrap();
    let scaled: Vec<f64> = f
        .chunks_exact(d)
        .enumerate()
        .flat_map(|(i, row)| row.iter().map(move |v| v * (1.0 + i as f64)))
        .collect();
    assert_close(
        &measure(&scaled, d, &y, o).unwrap(),
        &base_nb,
        1e-11,
        "row scale",
    );
}

#[test]
fn scaling_whole_rows_of_phi_is_invisible_when_normalising() {
    // With the bias column on, scaling a row of Phi (features and the appended 1 together) is
    // what normalisation removes: check it via the feature-only representation [F, 1] * s.
    let mut rng = Rng(9);
    let (n, d) = (60, 5);
    let f = rng.normals(n * d);
    let y = Targets::binary(&rng.signs(n)).unwrap();
    let with_one: Vec<f64> = f
        .chunks_exact(d)
        .flat_map(|r| r.iter().copied().chain([1.0]))
        .collect();
    let scaled: Vec<f64> = with_one
        .chunks_exact(d + 1)
        .enumerate()
        .flat_map(|(i, r)| r.iter().map(move |v| v * (0.1 + i as f64)))
        .collect();
    let o = Options {
        bias_column: false,
        row_normalize: true,
    };
    let a = measure(&with_one, d + 1, &y, o).unwrap();
    let b = measure(&scaled, d + 1, &y, o).unwrap();
    assert_close(&b, &a, 1e-11, "row scale of Phi");
    assert_close(
        &measure(&f, d, &y, Options::default()).unwrap(),
        &a,
        1e-11,
        "bias column",
    );
}

#[test]
fn curve_and_summaries_are_consistent() {
    let mut rng = Rng(10);
    let (n, d) = (300, 25);
    let labels = rng.signs(n);
    let mut f = rng.normals(n * d);
    for (i, row) in f.chunks_exact_mut(d).enumerate() {
        row[3] += 10.0 * labels[i]; // strongly aligned, so that k90 is reached
    }
    let y = Targets::binary(&labels).unwrap();
    let s = measure(&f, d, &y, Options::default()).unwrap();
    let e = y.energy();
    assert_eq!(e, n as f64);
    assert_eq!(s.alignment_at(0.0), e);
    assert_eq!(s.null_at(0.0), e);
    // Rows normalised: sum sigma^2 = n, and no sigma above sqrt(n).
    let s2: f64 = s.sigma.iter().map(|v| v * v).sum();
    assert!(
        (s2 - n as f64).abs() < 1e-9 * n as f64,
        "sum sigma^2 = {s2}"
    );
    assert!(s.sigma[0] <= (n as f64).sqrt() * (1.0 + 1e-12));
    // Energies inside the span never exceed E; the curve never increases.
    assert!(s.energy.iter().sum::<f64>() <= e * (1.0 + 1e-12));
    for grid in [Grid::default(), Grid::Demo] {
        let c = s.curve(&grid);
        assert!(
            c.alignment.iter().all(|a| a.is_sign_positive()),
            "no -0.0 in {c:?}"
        );
        assert!(
            c.alignment.windows(2).all(|w| w[1] <= w[0]),
            "{grid:?} curve increases"
        );
        assert!(
            c.null.windows(2).all(|w| w[1] <= w[0]),
            "{grid:?} null increases"
        );
        assert_eq!(c.alignment[0], e);
    }
    assert_eq!(Grid::default().thresholds().len(), 101);
    assert_eq!(Grid::Demo.thresholds().len(), 62);
    assert_eq!(*Grid::Demo.thresholds().last().unwrap(), 30.0);
    // auc is the exact integral of the normalised curve over t in [0, 1]: integrate the step
    // function between consecutive breakpoints, evaluating it in the middle of each piece.
    let sqrt_n = (n as f64).sqrt();
    let mut cuts: Vec<f64> = s.sigma.iter().map(|v| (v / sqrt_n).min(1.0)).collect();
    cuts.extend([0.0, 1.0]);
    cuts.sort_by(f64::total_cmp);
    let area: f64 = cuts
        .windows(2)
        .map(|w| (w[1] - w[0]) * s.alignment_at(0.5 * (w[0] + w[1]) * sqrt_n) / e)
        .sum();
    let sum = s.summary();
    assert!(
        (area - sum.auc).abs() < 1e-12,
        "integral {area} vs auc {}",
        sum.auc
    );
    let null_area: f64 = cuts
        .windows(2)
        .map(|w| (w[1] - w[0]) * s.null_at(0.5 * (w[0] + w[1]) * sqrt_n) / e)
        .sum();
    assert!((null_area - sum.auc_null).abs() < 1e-12);
    assert!((0.0..=1.0).contains(&sum.auc));
    // k90, top1, top10 from their definitions.
    let k = sum
        .k90
        .expect("a feature carrying the label reaches 90% of its energy");
    assert!(s.energy[..k].iter().sum::<f64>() >= 0.9 * e * (1.0 - 1e-12));
    assert!(s.energy[..k - 1].iter().sum::<f64>() < 0.9 * e);
    assert!((sum.top1 - s.energy[0] / e).abs() < 1e-15);
    assert!((sum.top10 - s.energy[..10].iter().sum::<f64>() / e).abs() < 1e-15);
    let kta_direct = {
        // y^T K y / (||K||_F ||y||^2) with K formed explicitly.
        let phi = phi_rows(&f, n, d, Options::default());
        let phi = MatRef::from_row_major_slice(&phi, n, d + 1);
        let k = phi * phi.transpose();
        let yv = MatRef::from_row_major_slice(y.values(), n, 1);
        let yky = (yv.transpose() * &k * yv)[(0, 0)];
        yky / (k.norm_l2() * e)
    };
    assert!(
        (sum.kta - kta_direct).abs() < 1e-12,
        "kta {} vs {kta_direct}",
        sum.kta
    );
}

#[test]
fn k90_is_none_when_the_span_is_too_small() {
    // One feature, no bias: a rank-1 Phi cannot hold 90% of a label vector orthogonal-ish to it.
    let f: Vec<f64> = (0..10).map(|i| i as f64).collect();
    let y = Targets::binary(&[0., 1., 0., 1., 0., 1., 0., 1., 0., 1.]).unwrap();
    let s = measure(
        &f,
        1,
        &y,
        Options {
            bias_column: false,
            row_normalize: false,
        },
    )
    .unwrap();
    assert_eq!(s.rank(), 1);
    assert_eq!(s.summary().k90, None);
}

#[test]
fn aligned_features_beat_the_null_and_random_labels_do_not() {
    // Features that carry the label are aligned far above the null; a label independent of the
    // features sits near it.
    let mut rng = Rng(11);
    let (n, d) = (400, 20);
    let labels = rng.signs(n);
    let mut f = rng.normals(n * d);
    for (i, row) in f.chunks_exact_mut(d).enumerate() {
        row[0] += 3.0 * labels[i];
    }
    let y = Targets::binary(&labels).unwrap();
    let s = measure(&f, d, &y, Options::default()).unwrap().summary();
    assert!(
        s.auc > 2.0 * s.auc_null,
        "aligned {} vs null {}",
        s.auc,
        s.auc_null
    );
    let other = Targets::binary(&rng.signs(n)).unwrap();
    let r = measure(&f, d, &other, Options::default())
        .unwrap()
        .summary();
    assert!(r.auc < s.auc);
    assert!(
        r.auc < 1.6 * r.auc_null,
        "independent labels {} vs null {}",
        r.auc,
        r.auc_null
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let y = Targets::binary(&[0.0, 1.0, 0.0]).unwrap();
    let mut f = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    f[3] = f64::NAN;
    match measure(&f, 2, &y, Options::default()) {
        Err(AlignError::NonFiniteFeature { row: 1, col: 1, .. }) => {}
        other => panic!("expected a NaN at row 1, column 1, got {other:?}"),
    }
    f[3] = f64::INFINITY;
    let msg = measure(&f, 2, &y, Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("row 1") && msg.contains("column 1") && msg.contains("inf"),
        "{msg}"
    );
    assert_eq!(
        measure(&[1.0, 2.0], 1, &y, Options::default()),
        Err(AlignError::LabelCount { labels: 3, rows: 2 })
    );
    assert_eq!(
        measure(&[1.0, 2.0, 3.0], 2, &y, Options::default()),
        Err(AlignError::RaggedBatch { len: 3, width: 2 })
    );
    assert!(matches!(
        Targets::binary(&[1.0, 1.0]),
        Err(AlignError::NotBinary { found: 1, .. })
    ));
    assert!(matches!(
        Targets::binary(&[1.0, 2.0, 3.0]),
        Err(AlignError::NotBinary { found: 3, .. })
    ));
    assert!(matches!(
        Targets::binary(&[]),
        Err(AlignError::Empty { .. })
    ));
    assert!(matches!(
        Targets::binary(&[0.0, f64::NAN]),
        Err(AlignError::NonFiniteLabel { row: 1, .. })
    ));
    assert!(matches!(
        Targets::multiclass(&[0.0, 1.5]),
        Err(AlignError::NonIntegerClass { row: 1, .. })
    ));
    assert!(matches!(
        Targets::multiclass(&[2.0, 2.0]),
        Err(AlignError::TooFewClasses { found: 1 })
    ));
    assert!(matches!(
        Targets::regression(&[2.0, 2.0]),
        Err(AlignError::ConstantRegression { .. })
    ));
    assert!(matches!(
        Accumulator::new(3, 1, Options::default()).finish(),
        Err(AlignError::Empty { .. })
    ));
    let none = Options {
        bias_column: false,
        row_normalize: true,
    };
    assert!(matches!(
        measure::<f64>(&[], 0, &y, none),
        Err(AlignError::Empty { .. })
    ));
}

#[test]
fn zero_features_give_rank_zero_without_bias_and_the_bias_direction_with_it() {
    let y = Targets::binary(&[0.0, 1.0, 1.0, 1.0]).unwrap();
    let zeros = vec![0.0; 8];
    let s = measure(
        &zeros,
        2,
        &y,
        Options {
            bias_column: false,
            row_normalize: true,
        },
    )
    .unwrap();
    assert_eq!(s.rank(), 0);
    let sum = s.summary();
    assert_eq!(
        (sum.auc, sum.auc_null, sum.k90, sum.kta),
        (0.0, 0.0, None, 0.0)
    );
    let s = measure(&zeros, 2, &y, Options::default()).unwrap();
    assert_eq!(s.rank(), 1);
    // The constant direction holds (sum y)^2 / n = (2)^2 / 4 = 1.
    assert!((s.energy[0] - 1.0).abs() < 1e-12);
}

#[test]
fn task_inference() {
    assert_eq!(Task::infer(&[3.0, 5.0, 3.0], 1000), Some(Task::Binary));
    assert_eq!(Task::infer(&[0.0, 1.0, 2.0], 1000), Some(Task::Multiclass));
    assert_eq!(Task::infer(&[0.0, 1.0, 2.5], 1000), None);
    assert_eq!(Task::infer(&[0.0, 1.0, 2.0, 3.0], 3), None);
}

mod classes;
