//! `runner run` on small experiment files over the embedded MNIST subset.

use serde_json::Value;

use crate::util::{TempDir, find_run, read_json, run_folder, runner, stderr, stdout};

const TINY: &str = r#"
name = "tiny"
labels = "true"
seed = 3
[data]
dataset = "mnist"
[task]
classes = [3, 5]
train_per_class = 30
test_per_class = 10
[model]
kind = "mlp"
depth = 2
width = 16
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 4
batch_size = 16
"#;

#[test]
fn a_run_writes_its_directory_and_resumes_as_done() {
    let dir = TempDir::new("run");
    std::fs::write(dir.path("tiny.toml"), TINY).unwrap();
    let out = runner(&dir.0, &["run", "tiny.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("data: mnist from the embedded subset"),
        "{err}"
    );
    let text = stdout(&out);
    for needle in [
        "| layer | p | auc | auc_null | k90 | top1 |",
        "| input | 785 |",
        "| hidden1 | 17 |",
        "| hidden2 | 17 |",
        "status done",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let runs: Vec<_> = std::fs::read_dir(dir.path("res"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(
        run.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("mlp-d2-w16-adam-true-s3-")
    );
    for f in [
        "config.json",
        "metrics.csv",
        "alignment.json",
        "alignment.svg",
        "alignment.png",
        "result.json",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["seed"], 3);
    // No --backend: the fastest CPU backend, recorded (issue 14).
    assert_eq!(config["backend"], "flex (cpu)");
    // ... with this project's conv, batch-norm and pooling kernels (REPALIGN_BURN_OPS unset).
    assert_eq!(config["kernels"], "repalign");
    assert_eq!(config["versions"]["burn"], "0.22.1");
    assert_eq!(config["config"]["model"]["depth"], 2);
    // No `init` in the file: PyTorch's default, recorded in full.
    assert_eq!(
        config["config"]["model"]["init"],
        serde_json::json!({"hidden": "pytorch", "head": "pytorch", "bias": "pytorch"})
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().next(), Some("epoch,loss,train_acc"));
    assert_eq!(metrics.lines().count(), 5);
    let align = read_json(&run.join("alignment.json"));
    let layers: Vec<&str> = align
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, vec!["input", "hidden1", "hidden2"]);
    for l in align.as_array().unwrap() {
        assert_eq!(l["n"], 60);
        assert!(
            l["summary"]["auc"].is_f64()
                && l["curve"]["null"].is_array()
                && l["spectrum"]["sigma"].is_array()
        );
    }
    let result = read_json(&run.join("result.json"));
    assert_eq!(result["status"], "done");
    assert_eq!(result["epochs"], 4);
    let png = std::fs::read(run.join("alignment.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let svg = std::fs::read_to_string(run.join("alignment.svg")).unwrap();
    assert!(svg.contains("hidden2") && svg.contains("<svg"));

    // The same config again: nothing is retrained.
    let again = runner(&dir.0, &["run", "tiny.toml", "--out", "res"]);
    assert!(again.status.success());
    assert!(
        stderr(&again).contains("1 already done, 0 to run"),
        "{}",
        stderr(&again)
    );
    assert!(dir.path("res/summary.csv").is_file() && dir.path("res/table.md").is_file());
}

#[test]
fn bad_experiment_files_and_missing_data_are_named() {
    let dir = TempDir::new("runbad");
    std::fs::write(
        dir.path("typo.toml"),
        TINY.replace("batch_size = 16", "batch_sise = 16"),
    )
    .unwrap();
    let out = runner(&dir.0, &["run", "typo.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("typo.toml") && err.contains("batch_sise"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(
        dir.path("fashion.toml"),
        TINY.replace("dataset = \"mnist\"", "dataset = \"fashion-mnist\""),
    )
    .unwrap();
    let out = runner(&dir.0, &["run", "fashion.toml", "--data", "nowhere"]);
    let err = stderr(&out);
    assert!(
        err.contains("fashion-mnist not found in nowhere") && err.contains("fetch-data"),
        "{err}"
    );

    std::fs::write(
        dir.path("many.toml"),
        TINY.replace("train_per_class = 30", "train_per_class = 900"),
    )
    .unwrap();
    let err = stderr(&runner(&dir.0, &["run", "many.toml", "--out", "r2"]));
    assert!(
        err.contains("class 3 has 600 training images") && err.contains("asked for 900"),
        "{err}"
    );
}

/// The same experiment on wgpu and on the CPU: the same run (weights drawn on the CPU), trained on
/// the GPU backend and measured with the GPU Gram kernel, gives the same table to f32 accuracy.
#[cfg(feature = "wgpu")]
#[test]
fn a_run_on_wgpu_matches_the_cpu_run() {
    let dir = TempDir::new("run-wgpu");
    std::fs::write(dir.path("tiny.toml"), TINY).unwrap();
    let alignment = |backend: &str| -> Vec<Value> {
        let out = runner(
            &dir.0,
            &["run", "tiny.toml", "--out", backend, "--backend", backend],
        );
        assert!(out.status.success(), "{backend}: {}", stderr(&out));
        let run = run_folder(&dir.path(backend));
        let config = read_json(&run.join("config.json"));
        assert!(config["backend"].as_str().unwrap().starts_with(backend));
        read_json(&run.join("alignment.json"))
            .as_array()
            .unwrap()
            .clone()
    };
    let (cpu, gpu) = (alignment("cpu"), alignment("wgpu"));
    assert_eq!(cpu.len(), gpu.len());
    for (a, b) in cpu.iter().zip(&gpu) {
        let layer = &a["layer"];
        assert_eq!(layer, &b["layer"]);
        // Four epochs of f32 training that sums in other orders, then an f32 Gram: 1e-3.
        let (x, y) = (
            a["summary"]["auc"].as_f64().unwrap(),
            b["summary"]["auc"].as_f64().unwrap(),
        );
        assert!((x - y).abs() <= 1e-3, "{layer}: auc cpu {x} vs wgpu {y}");
    }
}

/// Issue 12: a CNN run killed with SIGKILL after its checkpoint of epoch 5 or later (of 8)
/// resumes from that checkpoint and ends exactly where an uninterrupted run ends: the same
/// epoch history and the same per-layer auc.
#[test]
fn a_run_killed_midway_resumes_from_its_checkpoint_and_ends_as_an_uninterrupted_run() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = TempDir::new("resume");
    let text = TINY
        .replace("classes = [3, 5]", "classes = [0, 1]")
        .replace("train_per_class = 30", "train_per_class = 300")
        .replace(
            "kind = \"mlp\"\ndepth = 2\nwidth = 16",
            "kind = \"cnn\"\ndepth = 2\nchannels = [4, 8]\npool_every = 1\nbatch_norm = true\ndense = [16]",
        )
        .replace("epochs = 4", "epochs = 8");
    std::fs::write(dir.path("cnn.toml"), &text).unwrap();
    let args = |out: &str| {
        vec![
            "run".to_string(),
            "cnn.toml".into(),
            "--out".into(),
            out.into(),
            "--backend".into(),
            "flex".into(),
            "--checkpoint-every".into(),
            "0".into(),
        ]
    };
    let whole = runner(
        &dir.0,
        &args("whole").iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    assert!(whole.status.success(), "{}", stderr(&whole));

    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(args("killed"))
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run_dir = |out: &str| find_run(&dir.path(out));
    let saved = |p: &std::path::Path| -> Option<usize> {
        std::fs::read_dir(p.join("checkpoint"))
            .ok()?
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_prefix("state-")?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()
            })
            .max()
    };
    let start = Instant::now();
    let killed_at = loop {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint");
        if let Some(k) = dir
            .path("killed")
            .is_dir()
            .then(|| run_dir("killed"))
            .flatten()
            .and_then(|p| saved(&p))
            && k >= 5
        {
            break k;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = run_dir("killed").unwrap();
    assert!(
        !killed.join("result.json").is_file(),
        "killed after checkpoint {killed_at}, yet finished"
    );
    let listing = stdout(&runner(
        &dir.0,
        &["run", "cnn.toml", "--out", "killed", "--dry-run"],
    ));
    assert!(listing.contains("resumes after epoch"), "{listing}");

    let again = runner(
        &dir.0,
        &args("killed")
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let whole_dir = run_dir("whole").unwrap();
    let read = |p: &std::path::Path, f: &str| std::fs::read_to_string(p.join(f)).unwrap();
    let result: Value = serde_json::from_str(&read(&killed, "result.json")).unwrap();
    let resumed = result["resumed_from"].as_u64().unwrap() as usize;
    assert!((5..8).contains(&resumed), "resumed after epoch {resumed}");
    assert_eq!(
        read(&killed, "metrics.csv"),
        read(&whole_dir, "metrics.csv"),
        "the same epochs, losses and accuracies"
    );
    let aucs = |p: &std::path::Path| -> Vec<(String, f64)> {
        let v: Value = serde_json::from_str(&read(p, "alignment.json")).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["layer"].as_str().unwrap().to_string(),
                    l["summary"]["auc"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let (a, b) = (aucs(&killed), aucs(&whole_dir));
    assert_eq!(a.len(), b.len());
    for ((la, x), (lb, y)) in a.iter().zip(&b) {
        assert_eq!(la, lb);
        assert!((x - y).abs() <= 1e-6, "{la}: {x} vs {y}");
    }
    assert!(!killed.join("checkpoint").exists(), "checkpoints removed");
}

/// A batch-normalised, pooled CNN trains the same on this project's flex kernels (the default)
/// as on burn's own operations (`REPALIGN_BURN_OPS=1`), and config.json says which ran.
#[test]
fn the_cnn_kernels_train_what_burns_own_ops_train() {
    let dir = TempDir::new("kernels");
    let cnn = TINY
        .replace(
            "kind = \"mlp\"\ndepth = 2\nwidth = 16",
            "kind = \"cnn\"\ndepth = 2\nchannels = [4, 6]\npool_every = 1\nbatch_norm = true",
        )
        .replace("epochs = 4", "epochs = 3");
    std::fs::write(dir.path("cnn.toml"), cnn).unwrap();
    let run = |out: &str, burn_ops: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_runner"));
        cmd.args(["run", "cnn.toml", "--out", out])
            .current_dir(&dir.0);
        if burn_ops {
            cmd.env("REPALIGN_BURN_OPS", "1");
        } else {
            cmd.env_remove("REPALIGN_BURN_OPS");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let run = run_folder(&dir.path(out));
        let config = read_json(&run.join("config.json"));
        let losses: Vec<f64> = std::fs::read_to_string(run.join("metrics.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        (config["kernels"].clone(), losses)
    };
    let (ours, a) = run("ours", false);
    let (burn, b) = run("burn", true);
    assert_eq!(ours, "repalign");
    assert_eq!(burn, "burn");
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        // f32 sums in different orders: agreement to ~1e-5 relative over three epochs.
        assert!((x - y).abs() <= 1e-4 * x.abs().max(1e-3), "{a:?} vs {b:?}");
    }
}

/// A CIFAR-10 binary folder (`cifar-10-batches-bin/`) of `per_class` records of classes 0 and
/// 1 per batch file, whose pixels carry the class: class 1's images are brighter in the red
/// plane and darker in the blue one, plus noise, so the input is aligned with the labels.
fn cifar10_folder(root: &std::path::Path, per_class: usize) {
    let d = root.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&d).unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 58) as u8 // 0..63
    };
    for file in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()])
    {
        let mut bytes = Vec::new();
        for i in 0..2 * per_class {
            let label = (i % 2) as u8;
            bytes.push(label);
            for plane in 0..3 {
                let base: u8 = match (plane, label) {
                    (0, 1) | (2, 0) => 150,
                    _ => 60,
                };
                bytes.extend((0..1024).map(|_| base + noise()));
            }
        }
        std::fs::write(d.join(file), bytes).unwrap();
    }
}

#[test]
fn the_authors_cifar10_demo_trains_the_3072_input_mlp_and_measures_every_layer() {
    let dir = TempDir::new("cifar10-demo");
    // 5 batch files of 100 + 100 records: 500 training images of each class.
    cifar10_folder(&dir.path("data"), 100);
    let file = crate::util::workspace().join("experiments/demo-cifar10.toml");
    let out = runner(
        &dir.0,
        &[
            "run",
            file.to_str().unwrap(),
            "--data",
            "data",
            "--out",
            "res",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = run_folder(&dir.path("res"));
    let result = read_json(&run.join("result.json"));
    assert_eq!(result["status"], "done");
    assert_eq!(result["epochs"], 100);
    let layers = read_json(&run.join("alignment.json"));
    let layers = layers.as_array().unwrap();
    let names: Vec<&str> = layers
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["input", "hidden1", "hidden2", "hidden3"]);
    assert_eq!(layers[0]["p"], 3073);
    assert_eq!(layers[0]["n"], 1000);
    assert_eq!(layers[0]["curve"]["grid"], "demo");
    for l in &layers[1..] {
        assert_eq!(l["p"], 129);
    }
    // The generated input carries the class: well above its null baseline.
    let input = &layers[0]["summary"];
    assert!(
        input["auc"].as_f64().unwrap() > 2.0 * input["auc_null"].as_f64().unwrap(),
        "{input}"
    );
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["config"]["data"]["dataset"], "cifar10");
}
