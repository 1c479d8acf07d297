//! Multi-class targets (centred one-vs-rest), class-split accumulation, pairs and merging.

use super::{Rng, assert_close, reference};
use crate::{Accumulator, AlignError, ClassAccumulator, Options, Targets, measure};

/// `n` labels over `c` classes with the given weights (imbalanced when they differ), every
/// class present at least once.
fn labels(rng: &mut Rng, n: usize, weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let mut u = rng.uniform() * total;
            let mut k = 0;
            while u >= weights[k] && k + 1 < weights.len() {
                u -= weights[k];
                k += 1;
            }
            k as f64
        })
        .collect();
    for (k, v) in v.iter_mut().enumerate().take(weights.len()) {
        *v = k as f64;
    }
    v
}

fn whole(features: &[f64], d: usize, labels: &[f64], options: Options) -> ClassAccumulator {
    let classes: Vec<f64> = {
        let mut c = labels.to_vec();
        c.sort_by(f64::total_cmp);
        c.dedup();
        c
    };
    let mut acc = ClassAccumulator::new(d, &classes, options).unwrap();
    acc.push(features, labels).unwrap();
    acc
}

#[test]
fn a_representation_without_class_information_scores_zero() {
    // 500 rows of one constant 16-feature vector, 10 balanced classes.
    let n = 500;
    let features: Vec<f64> = (0..n)
        .flat_map(|_| (0..16).map(|j| j as f64 * 0.3 - 1.0))
        .collect();
    let labels: Vec<f64> = (0..n).map(|i| (i % 10) as f64).collect();
    let t = Targets::multiclass(&labels).unwrap();
    let s = measure(&features, 16, &t, Options::default()).unwrap();
    assert!(s.summary().auc.abs() < 1e-12, "auc {}", s.summary().auc);
    let streamed = whole(&features, 16, &labels, Options::default())
        .finish()
        .unwrap();
    assert!(streamed.summary().auc.abs() < 1e-12);
    // A perfectly class-separated code (one-hot, then the bias column and unit rows) is well
    // above it: its 9 centred class directions have sigma = sqrt(n / 20), so auc = 1/sqrt(20);
    // the ceiling for 10 classes is 1/3 (all of Phi's energy in 9 class directions).
    let onehot: Vec<f64> = labels
        .iter()
        .flat_map(|&l| (0..10).map(move |k| f64::from(u8::from(k as f64 == l))))
        .collect();
    let t = Targets::multiclass(&labels).unwrap();
    let auc = measure(&onehot, 10, &t, Options::default())
        .unwrap()
        .summary()
        .auc;
    assert!(
        (auc - 20f64.sqrt().recip()).abs() < 1e-12,
        "one-hot code: auc {auc}"
    );
}

#[test]
fn the_centred_energy_is_4n_sum_pi_one_minus_pi() {
    let mut rng = Rng(3);
    for weights in [&[1.0, 1.0, 1.0][..], &[5.0, 1.0, 0.5, 2.0], &[1.0; 10]] {
        let y = labels(&mut rng, 701, weights);
        let t = Targets::multiclass(&y).unwrap();
        let n = y.len() as f64;
        let pis: Vec<f64> = (0..weights.len())
            .map(|k| y.iter().filter(|&&l| l == k as f64).count() as f64 / n)
            .collect();
        let want = 4.0 * n * pis.iter().map(|p| p * (1.0 - p)).sum::<f64>();
        assert!((t.energy() - want).abs() < 1e-9 * want);
        // Every column sums to zero.
        let c = weights.len();
        for m in 0..c {
            let sum: f64 = (0..y.len()).map(|j| t.values()[j * c + m]).sum();
            assert!(sum.abs() < 1e-9);
        }
        let f = rng.normals(y.len() * 4);
        let s = whole(&f, 4, &y, Options::default()).finish().unwrap();
        assert!((s.label_energy - want).abs() < 1e-9 * want);
    }
}

#[test]
fn a_balanced_two_class_task_given_as_multiclass_is_the_binary_auc() {
    let mut rng = Rng(5);
    for (n, d) in [(40, 7), (300, 9), (12, 30)] {
        let f = rng.normals(n * d);
        let y: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let binary = measure(&f, d, &Targets::binary(&y).unwrap(), Options::default()).unwrap();
        let multi = measure(&f, d, &Targets::multiclass(&y).unwrap(), Options::default()).unwrap();
        let (a, b) = (binary.summary().auc, multi.summary().auc);
        assert!(
            (a - b).abs() < 1e-12,
            "n {n}, d {d}: binary {a}, as multi-class {b}"
        );
    }
}

#[test]
fn a_hand_computed_three_class_case() {
    // Phi = one-hot of classes [0, 0, 1, 2] (no bias column, rows already unit): sigma =
    // (sqrt 2, 1, 1), pi = (1/2, 1/4, 1/4), e_k = 4 n_k ((1 - pi_k)^2 + sum_{m != k} pi_m^2) =
    // (3, 3.5, 3.5), E = 16 sum pi (1 - pi) = 10, auc = (3 sqrt 2 + 7) / (2 * 10).
    let y = [0.0, 0.0, 1.0, 2.0];
    let f = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let options = Options {
        bias_column: false,
        row_normalize: false,
    };
    let want = (3.0 * 2f64.sqrt() + 7.0) / 20.0;
    let t = Targets::multiclass(&y).unwrap();
    assert_eq!(t.energy(), 10.0);
    let s = measure(&f, 3, &t, options).unwrap();
    assert!(
        (s.summary().auc - want).abs() < 1e-12,
        "{} vs {want}",
        s.summary().auc
    );
    let mut e = s.energy.clone();
    e.sort_by(f64::total_cmp);
    for (got, want) in e.iter().zip([3.0, 3.5, 3.5]) {
        assert!((got - want).abs() < 1e-12, "{e:?}");
    }
    let streamed = whole(&f, 3, &y, options).finish().unwrap();
    assert!((streamed.summary().auc - want).abs() < 1e-12);
}

#[test]
fn imbalanced_classes_match_thin_svd_on_both_paths() {
    let mut rng = Rng(11);
    for (n, d, weights) in [
        (60, 5, &[6.0, 1.0, 2.0][..]),
        (25, 40, &[1.0, 3.0, 1.0, 0.3]),
        (400, 12, &[1.0, 2.0, 3.0, 4.0, 5.0]),
    ] {
        let y = labels(&mut rng, n, weights);
        let f = rng.normals(n * d);
        let t = Targets::multiclass(&y).unwrap();
        for options in super::all_options() {
            let want = reference(&f, d, &t, options);
            let got = measure(&f, d, &t, options).unwrap();
            assert_close(&got, &want, 1e-9, "measure");
            let streamed = whole(&f, d, &y, options).finish().unwrap();
            assert_close(&streamed, &want, 1e-9, "class accumulator");
        }
    }
}

#[test]
fn streamed_in_any_batch_order_equals_whole() {
    let mut rng = Rng(17);
    for (n, d) in [(30, 50), (500, 8), (90, 30)] {
        let y = labels(&mut rng, n, &[1.0, 2.0, 1.5, 0.7]);
        let f = rng.normals(n * d);
        let one = whole(&f, d, &y, Options::default()).finish().unwrap();
        // Rows in a shuffled order, in batches of random sizes.
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        let mut acc = ClassAccumulator::new(d, &[0.0, 1.0, 2.0, 3.0], Options::default()).unwrap();
        let mut start = 0;
        while start < n {
            let end = (start + 1 + (rng.next_u64() % 37) as usize).min(n);
            let rows = &order[start..end];
            let fb: Vec<f64> = rows
                .iter()
                .flat_map(|&r| f[r * d..(r + 1) * d].to_vec())
                .collect();
            let yb: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
            acc.push(&fb, &yb).unwrap();
            start = end;
        }
        let streamed = acc.finish().unwrap();
        assert!((streamed.summary().auc - one.summary().auc).abs() < 1e-12);
        assert_close(&streamed, &one, 1e-10, "shuffled batches");
        assert!(
            (acc.pair_mean_auc(None).unwrap()
                - whole(&f, d, &y, Options::default())
                    .pair_mean_auc(None)
                    .unwrap())
            .abs()
                < 1e-12
        );
    }
}

#[test]
fn any_split_merged_equals_the_whole() {
    let mut rng = Rng(23);
    // p = 13: splits below, across and above the switch to the Gram.
    let d = 12;
    for n in [9, 20, 200] {
        let y = labels(&mut rng, n, &[1.0, 1.0, 2.0]);
        let f = rng.normals(n * d);
        let t = Targets::multiclass(&y).unwrap();
        let want = measure(&f, d, &t, Options::default()).unwrap();
        let want_classes = whole(&f, d, &y, Options::default());
        for cut in [0, 1, n / 3, n / 2, n - 1, n] {
            let mut a = Accumulator::new(d, 3, Options::default());
            let mut b = Accumulator::new(d, 3, Options::default());
            a.push(&f[..cut * d], t.rows(0, cut)).unwrap();
            b.push(&f[cut * d..], t.rows(cut, n)).unwrap();
            a.merge(b).unwrap();
            let got = a.finish().unwrap();
            assert!(
                (got.summary().auc - want.summary().auc).abs() < 1e-12,
                "n {n}, cut {cut}"
            );
            assert_close(&got, &want, 1e-10, "merged accumulators");
            let mut a = ClassAccumulator::new(d, &[0.0, 1.0, 2.0], Options::default()).unwrap();
            let mut b = ClassAccumulator::new(d, &[0.0, 1.0, 2.0], Options::default()).unwrap();
            a.push(&f[..cut * d], &y[..cut]).unwrap();
            b.push(&f[cut * d..], &y[cut..]).unwrap();
            a.merge(b).unwrap();
            assert_eq!(a.rows(), n);
            let got = a.finish().unwrap();
            assert!((got.summary().auc - want.summary().auc).abs() < 1e-12);
            let pairs = (
                a.pair_mean_auc(None).unwrap(),
                want_classes.pair_mean_auc(None).unwrap(),
            );
            assert!((pairs.0 - pairs.1).abs() < 1e-12);
        }
    }
    let mut a = Accumulator::new(3, 1, Options::default());
    let err = a
        .merge(Accumulator::new(4, 1, Options::default()))
        .unwrap_err();
    assert!(matches!(err, AlignError::Mismatch(_)), "{err}");
}

#[test]
fn a_pair_is_the_binary_measure_on_its_rows_alone() {
    let mut rng = Rng(29);
    for (n, d) in [(40, 60), (600, 10), (300, 40)] {
        let y = labels(&mut rng, n, &[1.0, 2.0, 1.0, 3.0]);
        let f = rng.normals(n * d);
        let acc = whole(&f, d, &y, Options::default());
        let mut sum = 0.0;
        for (a, b) in acc.all_pairs() {
            let rows: Vec<usize> = (0..n)
                .filter(|&r| y[r] == a as f64 || y[r] == b as f64)
                .collect();
            let fs: Vec<f64> = rows
                .iter()
                .flat_map(|&r| f[r * d..(r + 1) * d].to_vec())
                .collect();
            let ys: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
            let t = Targets::binary(&ys).unwrap();
            let want = reference(&fs, d, &t, Options::default());
            let got = acc.pair(a, b).unwrap();
            assert_close(&got, &want, 1e-9, "pair");
            sum += want.summary().auc;
        }
        let mean = acc.pair_mean_auc(None).unwrap();
        assert!((mean - sum / 6.0).abs() < 1e-9);
        let (whole, shared) = acc.finish_with_pair_mean(None).unwrap();
        assert_eq!(shared, mean);
        assert_eq!(whole, acc.finish().unwrap());
        let listed = acc.pair_mean_auc(Some(&[(0, 1), (2, 3)])).unwrap();
        let want =
            (acc.pair(0, 1).unwrap().summary().auc + acc.pair(2, 3).unwrap().summary().auc) / 2.0;
        assert!((listed - want).abs() < 1e-15);
    }
}

#[test]
fn bad_labels_and_pairs_are_errors_that_name_them() {
    let mut acc = ClassAccumulator::new(2, &[3.0, 1.0, 2.0], Options::default()).unwrap();
    assert_eq!(acc.classes(), &[1.0, 2.0, 3.0]);
    acc.push(&[1.0, 2.0], &[1.0]).unwrap();
    let err = acc.push(&[1.0, 2.0, 3.0, 4.0], &[2.0, 7.0]).unwrap_err();
    assert_eq!(
        err,
        AlignError::UnknownClass {
            row: 2,
            value: 7.0,
            classes: "1, 2, 3".into()
        }
    );
    let err = acc.push(&[1.0, f64::NAN], &[2.0]).unwrap_err();
    assert!(
        matches!(err, AlignError::NonFiniteFeature { row: 1, col: 1, .. }),
        "{err}"
    );
    let err = acc.push(&[1.0, 2.0, 3.0, 4.0], &[2.0]).unwrap_err();
    assert_eq!(err, AlignError::LabelCount { labels: 1, rows: 2 });
    assert_eq!(acc.rows(), 1);
    assert!(matches!(acc.pair(0, 3), Err(AlignError::Mismatch(_))));
    assert!(matches!(acc.pair(1, 1), Err(AlignError::Mismatch(_))));
    // Class 2 has no rows, class 3 neither: an empty pair.
    assert!(matches!(acc.pair(1, 2), Err(AlignError::Empty { .. })));
    assert!(matches!(
        ClassAccumulator::new(2, &[1.0, 1.0], Options::default()),
        Err(AlignError::TooFewClasses { found: 1 })
    ));
    let other = ClassAccumulator::new(2, &[1.0, 2.0], Options::default()).unwrap();
    assert!(matches!(acc.merge(other), Err(AlignError::Mismatch(_))));
}
