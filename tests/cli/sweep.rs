//! Sweeps: resume after `kill -9`, shards, and rebuilding the report.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TempDir, run_folder, runner, stderr, stdout};

/// 2 depths x 2 label modes x 2 seeds = 8 small runs, slow enough to be killed midway.
const GRID: &str = r#"
name = "grid"
[data]
dataset = "mnist"
[task]
classes = [3, 5]
train_per_class = 20
test_per_class = 5
[model]
kind = "mlp"
depth = 1
width = 8
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = EPOCHS
batch_size = 8
[sweep]
model.depth = [1, 2]
labels = ["true", "random"]
seed = [0, 1]
"#;

fn results(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("result.json").is_file())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path().join("result.json")).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn dry_run_ids(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run", "grid.toml", "--out", "res", "--dry-run"];
    args.extend_from_slice(extra);
    let out = runner(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)
                .filter(|id| id.starts_with("mlp-"))
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn a_sweep_killed_midway_resumes_without_losing_or_repeating_runs() {
    let dir = TempDir::new("kill");
    std::fs::write(dir.path("grid.toml"), GRID.replace("EPOCHS", "150")).unwrap();
    let res = dir.path("res");
    let mut child = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["run", "grid.toml", "--out", "res", "--jobs", "1"])
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill (SIGKILL) as soon as the first run has completed.
    let start = Instant::now();
    while results(&res).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no run finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = results(&res);
    assert!(
        !before.is_empty() && before.len() < 8,
        "killed midway: {} of 8 complete",
        before.len()
    );

    let out = runner(&dir.0, &["run", "grid.toml", "--out", "res", "--jobs", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{} already done", before.len())),
        "{}",
        stderr(&out)
    );
    let after = results(&res);
    assert_eq!(after.len(), 8, "every run complete");
    for (id, text) in &after {
        assert!(text.contains("\"status\": \"done\""), "{id}: {text}");
    }
    // Runs finished before the kill were kept as they were, not trained again.
    for b in &before {
        assert!(after.contains(b), "{} was redone", b.0);
    }
    // Exactly one run folder per grid point, and one summary row per run and layer.
    let dirs = std::fs::read_dir(&res)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(dirs, 8);
    let summary = std::fs::read_to_string(res.join("summary.csv")).unwrap();
    let mut rows = summary.lines();
    let header = rows.next().unwrap();
    for col in [
        "run_id",
        "experiment",
        "model",
        "depth",
        "width",
        "activation",
        "optimizer",
        "lr",
        "labels",
        "seed",
        "layer",
        "layer_index",
        "n",
        "p",
        "auc",
        "auc_null",
        "k90",
        "top1",
        "top10",
        "kta",
        "train_loss",
        "train_acc",
        "test_acc",
        "epochs",
        "status",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "summary.csv lacks {col}: {header}"
        );
    }
    let layer = header.split(',').position(|h| h == "layer").unwrap();
    let keys: Vec<(String, String)> = rows
        .map(|r| {
            let f: Vec<&str> = r.split(',').collect();
            (f[0].to_string(), f[layer].to_string())
        })
        .collect();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(keys.len(), unique.len(), "no duplicated rows");
    // depth 1: input + 1 layer; depth 2: input + 2 layers; 4 runs of each.
    assert_eq!(keys.len(), 4 * 2 + 4 * 3);
}

#[test]
fn shards_split_the_grid_and_dry_run_lists_it() {
    let dir = TempDir::new("shard");
    std::fs::write(dir.path("grid.toml"), GRID.replace("EPOCHS", "2")).unwrap();
    let all = dry_run_ids(&dir.0, &[]);
    assert_eq!(all.len(), 8);
    let mut seen = BTreeSet::new();
    for k in 1..=3 {
        for id in dry_run_ids(&dir.0, &["--shard", &format!("{k}/3")]) {
            assert!(seen.insert(id.clone()), "{id} in two shards");
        }
    }
    assert_eq!(
        seen,
        all.iter().cloned().collect::<BTreeSet<_>>(),
        "shards cover the grid"
    );
    // Shards run into one folder; the report covers whatever is there.
    for k in ["1/2", "2/2"] {
        let out = runner(&dir.0, &["run", "grid.toml", "--out", "res", "--shard", k]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let listing = stdout(&runner(
        &dir.0,
        &["run", "grid.toml", "--out", "res", "--dry-run"],
    ));
    assert!(listing.contains("8 done, 0 to run"), "{listing}");
    let err = stderr(&runner(&dir.0, &["run", "grid.toml", "--shard", "4/3"]));
    assert!(err.contains("4/3") && err.contains("K/N"), "{err}");
}

#[test]
fn the_report_is_rebuilt_from_the_runs() {
    let dir = TempDir::new("report");
    std::fs::write(dir.path("grid.toml"), GRID.replace("EPOCHS", "3")).unwrap();
    let out = runner(&dir.0, &["run", "grid.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = std::fs::read_to_string(dir.path("res/table.md")).unwrap();
    assert!(
        table.contains("| architecture | adam true | adam random |"),
        "{table}"
    );
    assert!(
        table.contains("| depth 1 |")
            && table.contains("| depth 2 |")
            && table.contains("| input |"),
        "{table}"
    );
    assert!(
        table.contains(" ± "),
        "cells are mean ± std over seeds: {table}"
    );
    let summary = std::fs::read_to_string(dir.path("res/summary.csv")).unwrap();
    for f in ["auc_vs_depth.svg", "auc_vs_depth.png", "auc_vs_layer.png"] {
        assert!(dir.path(&format!("res/{f}")).is_file(), "{f}");
    }
    std::fs::remove_file(dir.path("res/table.md")).unwrap();
    std::fs::remove_file(dir.path("res/summary.csv")).unwrap();
    let rep = runner(&dir.0, &["report", "res"]);
    assert!(rep.status.success(), "{}", stderr(&rep));
    assert_eq!(
        std::fs::read_to_string(dir.path("res/table.md")).unwrap(),
        table
    );
    assert_eq!(
        std::fs::read_to_string(dir.path("res/summary.csv")).unwrap(),
        summary
    );
    assert_eq!(stdout(&rep), table);
    let latex = stdout(&runner(&dir.0, &["report", "res", "--format", "latex"]));
    assert!(
        latex.contains("\\begin{tabular}") && latex.contains("\\pm"),
        "{latex}"
    );
    let csv = stdout(&runner(&dir.0, &["report", "res", "--format", "csv"]));
    assert!(csv.starts_with("table,row,column,mean,std,n\n"), "{csv}");
    let err = stderr(&runner(&dir.0, &["report", "nothing-here"]));
    assert!(err.contains("nothing-here"), "{err}");
}

#[test]
fn reference_rows_read_the_same_quantity_off_the_input() {
    let dir = TempDir::new("refrow");
    std::fs::write(
        dir.path("grid.toml"),
        GRID.replace("EPOCHS", "2")
            .replace("seed = [0, 1]", "seed = [0]"),
    )
    .unwrap();
    assert!(
        runner(&dir.0, &["run", "grid.toml", "--out", "res"])
            .status
            .success()
    );
    let summary = std::fs::read_to_string(dir.path("res/summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    // The input's auc and auc_null for true labels, as summary.csv has them.
    let input = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[col("layer")] == "input" && f[col("labels")] == "true")
        .unwrap();
    let (auc, null): (f64, f64) = (
        input[col("auc")].parse().unwrap(),
        input[col("auc_null")].parse().unwrap(),
    );
    let table = std::fs::read_to_string(dir.path("res/table.md")).unwrap();
    let section = |title: &str| {
        table
            .split("### ")
            .find(|s| s.starts_with(title))
            .unwrap()
            .to_string()
    };
    let first_cell = |sec: String| {
        sec.lines()
            .find(|l| l.starts_with("| input |"))
            .unwrap()
            .split('|')
            .nth(2)
            .unwrap()
            .trim()
            .to_string()
    };
    // Both depths share the input, so the cell is that value with a zero spread.
    assert_eq!(
        first_cell(section("auc of the last")),
        format!("{auc:.3} ± 0.000")
    );
    assert_eq!(
        first_cell(section("auc_null of the last")),
        format!("{null:.3} ± 0.000")
    );
}

#[test]
fn a_failing_run_is_recorded_and_the_sweep_goes_on() {
    let dir = TempDir::new("fail");
    // A 6-block CNN pools a 28x28 image below 1x1: that run fails, the MLP runs go on.
    let text = GRID
        .replace("EPOCHS", "2")
        .replace("model.depth = [1, 2]", "model = [{ kind = \"mlp\", depth = 1, width = 4 }, { kind = \"cnn\", depth = 6, channels = 2 }]")
        .replace("seed = [0, 1]", "seed = [0]");
    std::fs::write(dir.path("grid.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "grid.toml", "--out", "res", "--jobs", "1"]);
    // Exit code 2: the sweep finished, and some of its runs failed (issue 13).
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let res = results(&dir.path("res"));
    assert_eq!(res.len(), 4);
    let failed: Vec<_> = res
        .iter()
        .filter(|(_, t)| t.contains("\"status\": \"failed\""))
        .collect();
    assert_eq!(failed.len(), 2, "{res:?}");
    assert!(
        failed[0].1.contains("shrink a 28x28 image below 1x1"),
        "{}",
        failed[0].1
    );
    let table = std::fs::read_to_string(dir.path("res/table.md")).unwrap();
    assert!(
        table.contains("Runs without alignment results:") && table.contains("failed"),
        "{table}"
    );
    let summary = std::fs::read_to_string(dir.path("res/summary.csv")).unwrap();
    assert_eq!(
        summary.lines().filter(|l| l.contains(",failed,")).count(),
        2,
        "{summary}"
    );
}

#[test]
fn measure_every_writes_the_alignment_history() {
    let dir = TempDir::new("history");
    let text = GRID
        .replace("EPOCHS", "4\nmeasure_every = 2")
        .replace("model.depth = [1, 2]", "model.depth = [2]")
        .replace("labels = [\"true\", \"random\"]", "labels = [\"true\"]")
        .replace("seed = [0, 1]", "seed = [0]");
    std::fs::write(dir.path("grid.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "grid.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = run_folder(&dir.path("res"));
    let history = std::fs::read_to_string(run.join("alignment_history.csv")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,layer,layer_index,p,auc,auc_null,k90,top1,top10,kta"
    );
    // epochs 2 and 4 x (input, hidden1, hidden2)
    assert_eq!(lines.len(), 1 + 2 * 3, "{history}");
    assert!(
        lines[1].starts_with("2,input,0,785,") && lines[6].starts_with("4,hidden2,2,9,"),
        "{history}"
    );
}

/// Issue 10: initialisation as a sweep axis becomes labelled columns, every table states it, the
/// fitted fraction is reported, and a CNN with dense layers is measured block by block (flattened
/// and pooled) and layer by layer, its last dense layer being the "last hidden layer".
#[test]
fn init_columns_fitted_runs_and_cnn_dense_layers_in_the_report() {
    let dir = TempDir::new("init-cnn");
    let text = r#"
name = "cnn-dense"
[data]
dataset = "mnist"
[task]
classes = [3, 5]
train_per_class = 12
test_per_class = 4
[model]
kind = "cnn"
depth = 2
channels = [2, 3]
pool_every = 1
dense = [6, 5]
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 2
batch_size = 8
[sweep]
model.init = ["pytorch", "he-uniform"]
"#;
    std::fs::write(dir.path("cnn.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "cnn.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = std::fs::read_to_string(dir.path("res/table.md")).unwrap();
    for needle in [
        "| adam true (pytorch init) | adam true (he-uniform init) |",
        "Initialisation: pytorch (PyTorch's default",
        "he-uniform (hidden weights",
        "### runs that fit their training labels",
        "depth 2 / 2 conv1_gap",
        "depth 2 / 6 fc2",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
    // Fractions of runs as k/n: one run per cell here.
    let fitted = table
        .split("### runs that fit their training labels")
        .nth(1)
        .unwrap();
    let row = fitted
        .lines()
        .find(|l| l.starts_with("| depth 2 |") || l.starts_with("| cnn"))
        .unwrap();
    assert!(row.contains("/1 |"), "{row}");
    let summary = std::fs::read_to_string(dir.path("res/summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let layers: Vec<&str> = summary
        .lines()
        .skip(1)
        .take(7)
        .map(|l| l.split(',').nth(col("layer")).unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "input",
            "conv1",
            "conv1_gap",
            "conv2",
            "conv2_gap",
            "fc1",
            "fc2"
        ]
    );
    // The last hidden layer is fc2 (p = 5 + 1), not a pooled view.
    let last = table
        .split("### auc of the last hidden layer")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("| depth 2 |") || l.starts_with("| cnn"))
        .unwrap()
        .to_string();
    let fc2: Vec<f64> = summary
        .lines()
        .filter(|l| l.contains(",fc2,"))
        .map(|l| l.split(',').nth(col("auc")).unwrap().parse().unwrap())
        .collect();
    assert_eq!(fc2.len(), 2);
    let inits: BTreeSet<&str> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col("init")).unwrap())
        .collect();
    assert_eq!(inits, BTreeSet::from(["pytorch", "he-uniform"]));
    for auc in fc2 {
        assert!(last.contains(&format!("{auc:.3}")), "{auc} not in {last}");
    }
}

/// Networks measured as built (`epochs = 0`) on a task of several classes: tables about what
/// was measured (the class count's ceiling, the pair means), none about training.
#[test]
fn untrained_many_class_runs_get_tables_of_the_measure_not_of_training() {
    let dir = TempDir::new("untrained");
    let text = r#"
name = "asbuilt"
[data]
dataset = "mnist"
[task]
classes = [1, 3, 5, 7]
train_per_class = 10
test_per_class = 5
[model]
kind = "mlp"
depth = 2
width = 8
[optimizer]
name = "adam"
lr = 1e-3
[train]
epochs = 0
batch_size = 8
loss = "cross_entropy"
[sweep]
seed = [0, 1]
"#;
    std::fs::write(dir.path("asbuilt.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "asbuilt.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = std::fs::read_to_string(dir.path("res/table.md")).unwrap();
    for needle in [
        "### auc of the last hidden layer, measured as built (not trained)",
        "4-class task, centred one-vs-rest targets: a perfect code reaches about 0.58",
        "### pair_mean_auc of the last hidden layer, measured as built",
        "### pair_mean_auc of every layer",
        "| not trained |",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
    for absent in ["final training accuracy", "runs that fit", "adam true"] {
        assert!(!table.contains(absent), "{absent:?} in\n{table}");
    }
}
