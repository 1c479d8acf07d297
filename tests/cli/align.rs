//! `runner align` on files, as a user who dumped activations would call it.

use serde_json::Value;

use crate::util::{TempDir, runner, stderr, stdout, workspace, write_npy};

/// Features whose first column carries the label, and the labels (0/1 floats).
fn aligned_problem(n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let labels: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
    let mut f = Vec::with_capacity(n * d);
    for &l in &labels {
        for j in 0..d {
            f.push(next() + if j == 0 { 4.0 * (l - 0.5) } else { 0.0 });
        }
    }
    (f, labels)
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = TempDir::new("json");
    let (f, y) = aligned_problem(200, 8);
    write_npy(&dir.path("f.npy"), &[200, 8], &f);
    write_npy(&dir.path("y.npy"), &[200], &y);
    let out = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "y.npy",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.trim().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["n"], 200);
    assert_eq!(v["p"], 9);
    assert_eq!(v["rank"], 9);
    assert_eq!(v["task"], "binary");
    assert_eq!(v["label_energy"], 200.0);
    let s = &v["summary"];
    for key in ["auc", "auc_null", "top1", "top10", "kta"] {
        assert!(s[key].is_f64(), "summary.{key}: {s}");
    }
    assert!(s["k90"].is_u64() || s["k90"].is_null());
    assert!(s["auc"].as_f64().unwrap() > 2.0 * s["auc_null"].as_f64().unwrap());
    let c = &v["curve"];
    assert_eq!(c["thresholds"].as_array().unwrap().len(), 101);
    assert_eq!(c["alignment"].as_array().unwrap().len(), 101);
    assert_eq!(c["null"].as_array().unwrap().len(), 101);
    assert_eq!(c["alignment"][0], 200.0);
    let sigma: Vec<f64> = v["spectrum"]["sigma"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(sigma.len(), 9);
    assert!(sigma.windows(2).all(|w| w[0] >= w[1]), "sigma descending");
    assert_eq!(v["spectrum"]["energy"].as_array().unwrap().len(), 9);
}

#[test]
fn csv_input_matches_npy_input_and_out_dir_gets_the_files() {
    let dir = TempDir::new("csv");
    let (f, y) = aligned_problem(60, 3);
    write_npy(&dir.path("f.npy"), &[60, 3], &f);
    write_npy(&dir.path("y.npy"), &[60], &y);
    let rows: Vec<String> = f
        .chunks(3)
        .map(|r| {
            r.iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    std::fs::write(dir.path("f.csv"), rows.join("\n") + "\n").unwrap();
    std::fs::write(
        dir.path("y.csv"),
        y.iter().map(|v| format!("{v}\n")).collect::<String>(),
    )
    .unwrap();
    let a = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "y.npy",
            "--json",
            "--grid",
            "demo",
        ],
    );
    let b = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.csv",
            "--labels",
            "y.csv",
            "--json",
            "--grid",
            "demo",
            "--out",
            "res",
        ],
    );
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        stderr(&a),
        stderr(&b)
    );
    assert_eq!(stdout(&a), stdout(&b));
    let v: Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(v["curve"]["grid"], "demo");
    assert_eq!(v["curve"]["thresholds"].as_array().unwrap().len(), 62);
    let saved = std::fs::read_to_string(dir.path("res/alignment.json")).unwrap();
    assert_eq!(saved.trim(), stdout(&a).trim());
    let csv = std::fs::read_to_string(dir.path("res/curve.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("threshold,alignment,null"));
    assert_eq!(lines.count(), 62);
}

#[test]
fn options_change_the_columns_and_human_output_summarises() {
    let dir = TempDir::new("opts");
    let (f, y) = aligned_problem(50, 4);
    write_npy(&dir.path("f.npy"), &[50, 4], &f);
    write_npy(&dir.path("y.npy"), &[50], &y);
    let out = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "y.npy",
            "--no-bias-column",
            "--no-row-normalize",
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["p"], 4);
    assert_eq!(v["options"]["bias_column"], false);
    assert_eq!(v["options"]["row_normalize"], false);
    let human = runner(
        &dir.0,
        &["align", "--features", "f.npy", "--labels", "y.npy"],
    );
    let text = stdout(&human);
    assert!(human.status.success());
    for needle in [
        "n = 50",
        "p = 5",
        "rank = 5",
        "auc ",
        "null ",
        "k90 ",
        "top1 ",
        "top10 ",
        "kta ",
        "binary (0 -> -1, 1 -> +1)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn the_shipped_digits_file_runs_as_multiclass() {
    let root = workspace();
    let out = runner(
        &root,
        &[
            "align",
            "--features",
            "assets/digits/features.npy",
            "--labels",
            "assets/digits/labels.npy",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["n"], 1797);
    assert_eq!(v["p"], 65);
    assert_eq!(v["task"], "multiclass");
    // Centred one-vs-rest: ||Y||^2 = 4 (n - sum_k n_k^2 / n) for the digits' class counts
    // 178, 182, 177, 183, 181, 182, 181, 179, 174, 180.
    let counts = [
        178.0, 182.0, 177.0, 183.0, 181.0, 182.0, 181.0, 179.0, 174.0, 180.0,
    ];
    let want = 4.0 * (1797.0 - counts.iter().map(|c: &f64| c * c).sum::<f64>() / 1797.0);
    assert!(
        (v["label_energy"].as_f64().unwrap() - want).abs() < 1e-9,
        "{}",
        v["label_energy"]
    );
    // The mean over the 45 class pairs of the binary auc, beside the 10-class auc.
    let pairs = v["pair_mean_auc"].as_f64().unwrap();
    assert!(pairs > v["summary"]["auc"].as_f64().unwrap(), "{pairs}");
    // Natural images are aligned with their true labels beyond the null.
    let s = &v["summary"];
    assert!(s["auc"].as_f64().unwrap() > s["auc_null"].as_f64().unwrap());
}

#[test]
fn bad_input_names_the_file_and_the_problem() {
    let dir = TempDir::new("bad");
    let (f, y) = aligned_problem(10, 2);
    write_npy(&dir.path("f.npy"), &[10, 2], &f);
    write_npy(&dir.path("y9.npy"), &[9], &y[..9]);
    let out = runner(
        &dir.0,
        &["align", "--features", "f.npy", "--labels", "y9.npy"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("y9.npy: 9 labels for 10 rows"), "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );

    let mut nan = f.clone();
    nan[7] = f64::NAN;
    write_npy(&dir.path("nan.npy"), &[10, 2], &nan);
    write_npy(&dir.path("y.npy"), &[10], &y);
    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "nan.npy", "--labels", "y.npy"],
    ));
    assert!(
        err.contains("nan.npy") && err.contains("row 3, column 1"),
        "{err}"
    );

    write_npy(&dir.path("one.npy"), &[10], &[1.0; 10]);
    let err = stderr(&runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "one.npy",
            "--task",
            "binary",
        ],
    ));
    assert!(
        err.contains("one.npy") && err.contains("2 distinct label values, found 1"),
        "{err}"
    );

    let cont: Vec<f64> = (0..10).map(|i| i as f64 * 0.37).collect();
    write_npy(&dir.path("cont.npy"), &[10], &cont);
    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "f.npy", "--labels", "cont.npy"],
    ));
    assert!(err.contains("cont.npy") && err.contains("--task"), "{err}");
    let ok = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "cont.npy",
            "--task",
            "regression",
            "--json",
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));

    std::fs::write(dir.path("junk.npy"), b"hello").unwrap();
    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "junk.npy", "--labels", "y.npy"],
    ));
    assert!(err.contains("junk.npy") && err.contains("magic"), "{err}");

    std::fs::write(dir.path("h.csv"), "a,b\n1,2\n").unwrap();
    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "h.csv", "--labels", "y.npy"],
    ));
    assert!(
        err.contains("h.csv: line 1, column 1: 'a' is not a number"),
        "{err}"
    );

    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "missing.npy", "--labels", "y.npy"],
    ));
    assert!(err.contains("missing.npy"), "{err}");

    std::fs::write(dir.path("empty.csv"), "").unwrap();
    let err = stderr(&runner(
        &dir.0,
        &["align", "--features", "empty.csv", "--labels", "y.npy"],
    ));
    assert!(
        err.contains("empty.csv") && err.contains("no rows"),
        "{err}"
    );
}

/// `--backend wgpu` accumulates the Gram with the GPU kernel: the same report as the f64 CPU
/// path to f32 accuracy (about 1e-5 relative on these summaries; 1e-4 is asserted).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_backend_matches_the_cpu_report() {
    let dir = TempDir::new("align-wgpu");
    let (f, y) = aligned_problem(3000, 20);
    write_npy(&dir.path("f.npy"), &[3000, 20], &f);
    write_npy(&dir.path("y.npy"), &[3000], &y);
    let report = |backend: &str| -> Value {
        let out = runner(
            &dir.0,
            &[
                "align",
                "--features",
                "f.npy",
                "--labels",
                "y.npy",
                "--json",
                "--backend",
                backend,
            ],
        );
        assert!(out.status.success(), "{backend}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let (cpu, gpu) = (report("cpu"), report("wgpu"));
    assert_eq!(cpu["n"], gpu["n"]);
    assert_eq!(cpu["rank"], gpu["rank"]);
    for key in ["auc", "top1", "top10", "kta"] {
        let (a, b) = (
            cpu["summary"][key].as_f64().unwrap(),
            gpu["summary"][key].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-4 * a.abs().max(1.0),
            "{key}: cpu {a} vs wgpu {b}"
        );
    }
}

/// Without the feature, `--backend wgpu` says how to get it, with no backtrace.
#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_backend_without_the_feature_names_the_feature() {
    let dir = TempDir::new("align-no-wgpu");
    let (f, y) = aligned_problem(20, 3);
    write_npy(&dir.path("f.npy"), &[20, 3], &f);
    write_npy(&dir.path("y.npy"), &[20], &y);
    let out = runner(
        &dir.0,
        &[
            "align",
            "--features",
            "f.npy",
            "--labels",
            "y.npy",
            "--backend",
            "wgpu",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--features wgpu"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}
