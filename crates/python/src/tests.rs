//! The package's logic without Python: the same numbers as the alignment crate, streams that do
//! not depend on how rows are batched, merges, refusals that name what is wrong.

use repalign_alignment::{Options, Targets, Task, measure};

use super::{Stream, align, task};

/// A small deterministic feature matrix with some label signal: `n` rows of `d` features.
fn data(n: usize, d: usize, classes: usize) -> (Vec<f64>, Vec<f64>) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let labels: Vec<f64> = (0..n).map(|i| (i % classes) as f64).collect();
    let features = (0..n * d)
        .map(|k| next() + if k % d == k / d % classes { 0.8 } else { 0.0 })
        .collect();
    (features, labels)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn align_is_the_alignment_crates_measure() {
    for (n, d) in [(200, 7), (30, 50)] {
        let (f, y) = data(n, d, 2);
        let m = align(&f, d, &y, None, Options::default()).unwrap();
        let t = Targets::new(Task::Binary, &y).unwrap();
        let reference = measure(&f, d, &t, Options::default()).unwrap();
        assert_eq!(m.spectrum, reference);
        assert_eq!(m.report.summary, reference.summary());
        assert_eq!(m.report.pair_mean_auc, None);
    }
}

#[test]
fn many_classes_give_the_pair_mean_and_centred_targets() {
    let (f, y) = data(120, 6, 4);
    let m = align(&f, 6, &y, None, Options::default()).unwrap();
    assert_eq!(m.report.task, Task::Multiclass);
    let pm = m.report.pair_mean_auc.unwrap();
    assert!(pm > 0.0 && pm <= 1.0, "{pm}");
    // Constant features carry no class information: auc 0 on centred targets.
    let constant = vec![1.0f64; 120 * 6];
    let c = align(&constant, 6, &y, None, Options::default()).unwrap();
    assert!(
        c.report.summary.auc.abs() < 1e-12,
        "{}",
        c.report.summary.auc
    );
    let json = m.to_json();
    assert!(
        json.contains("\"pair_mean_auc\":") && json.contains("\"summary\":{\"auc\":"),
        "{json}"
    );
}

#[test]
fn a_stream_in_any_batches_equals_the_whole() {
    for (n, d, classes) in [(90, 5, 2), (90, 5, 3), (12, 40, 3)] {
        let (f, y) = data(n, d, classes);
        let whole = align(
            &f,
            d,
            &y,
            Some(if classes == 2 { "binary" } else { "multiclass" }),
            Options::default(),
        )
        .unwrap();
        let cls: Vec<f64> = (0..classes).map(|k| k as f64).collect();
        for batch in [1, 7, n] {
            let mut s = Stream::new(d, &cls, Options::default(), 1 << 30).unwrap();
            // Batches in reverse order.
            let starts: Vec<usize> = (0..n).step_by(batch).collect();
            for &start in starts.iter().rev() {
                let end = (start + batch).min(n);
                s.update(&f[start * d..end * d], &y[start..end]).unwrap();
            }
            assert_eq!(s.rows(), n);
            let m = s.compute().unwrap();
            let (a, b) = (m.report.summary, whole.report.summary);
            assert!(
                close(a.auc, b.auc, 1e-10) && close(a.kta, b.kta, 1e-10),
                "{a:?} {b:?}"
            );
            assert!(close(
                m.report.pair_mean_auc.unwrap_or(0.0),
                whole.report.pair_mean_auc.unwrap_or(0.0),
                1e-10
            ));
            assert_eq!(m.report.task, whole.report.task);
        }
    }
}

#[test]
fn merged_streams_equal_one_stream() {
    let (f, y) = data(150, 4, 3);
    let cls = [0.0, 1.0, 2.0];
    let mut whole = Stream::new(4, &cls, Options::default(), 1 << 30).unwrap();
    whole.update(&f, &y).unwrap();
    let mut a = Stream::new(4, &cls, Options::default(), 1 << 30).unwrap();
    let mut b = a.clone();
    a.update(&f[..60 * 4], &y[..60]).unwrap();
    b.update(&f[60 * 4..], &y[60..]).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.rows(), 150);
    let (m, w) = (a.compute().unwrap(), whole.compute().unwrap());
    assert!(close(m.report.summary.auc, w.report.summary.auc, 1e-12));
    let other = Stream::new(5, &cls, Options::default(), 1 << 30).unwrap();
    assert!(a.merge(&other).unwrap_err().0.contains("5 features"));
}

#[test]
fn refusals_name_what_is_wrong() {
    let (f, y) = data(10, 3, 2);
    let e = align(&f, 3, &y[..9], None, Options::default()).unwrap_err();
    assert_eq!(e.0, "9 labels for 10 rows of features");
    let e = align(&f[..29], 3, &y, None, Options::default()).unwrap_err();
    assert!(e.0.contains("not whole rows of 3 columns"), "{e}");
    let e = align::<f64>(&[], 3, &[], None, Options::default()).unwrap_err();
    assert!(e.0.starts_with("empty features"), "{e}");
    let mut bad = f.clone();
    bad[3 * 4 + 2] = f64::NAN;
    let e = align(&bad, 3, &y, None, Options::default()).unwrap_err();
    assert!(e.0.contains("row 4, column 2"), "{e}");
    assert!(
        task(Some("ranking"), &y)
            .unwrap_err()
            .0
            .contains("\"ranking\"")
    );
    let e = task(None, &[0.5, 1.5, 2.5]).unwrap_err();
    assert!(e.0.contains("cannot tell the task"), "{e}");
    // A label outside the classes leaves the stream as it was.
    let mut s = Stream::new(3, &[0.0, 1.0], Options::default(), 1 << 30).unwrap();
    let mut y2 = y.clone();
    y2[5] = 7.0;
    let e = s.update(&f, &y2).unwrap_err();
    assert!(e.0.contains("label 7 at row 5"), "{e}");
    assert_eq!(s.rows(), 0);
}

#[test]
fn a_stream_too_large_for_its_memory_limit_is_refused_before_it_allocates() {
    // 50,000 features in 10 classes: ten 50,001-square f64 Grams, ~186 GiB.
    let e = Stream::new(
        50_000,
        &(0..10).map(f64::from).collect::<Vec<_>>(),
        Options::default(),
        8 << 30,
    )
    .unwrap_err();
    assert!(
        e.0.contains("more than max_memory = 8.0 GiB") && e.0.contains("pool"),
        "{e}"
    );
    let bound = Stream::memory_bound(64, 10, Options::default());
    assert!(
        Stream::new(
            64,
            &(0..10).map(f64::from).collect::<Vec<_>>(),
            Options::default(),
            bound as u64
        )
        .is_ok()
    );
    assert!(
        Stream::new(
            64,
            &(0..10).map(f64::from).collect::<Vec<_>>(),
            Options::default(),
            bound as u64 - 1
        )
        .is_err()
    );
}
