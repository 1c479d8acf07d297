//! The `[analysis]` experiments end to end: learning speed, transfer and probes.

use crate::util::{TempDir, runner, stderr};

const BASE: &str = r#"
name = "NAME"
[data]
dataset = "mnist"
[task]
classes = [0, 1]
train_per_class = 30
test_per_class = 10
[model]
kind = "mlp"
depth = 2
width = 8
[optimizer]
name = "adam"
lr = 1e-2
[train]
epochs = 3
batch_size = 16
"#;

fn run_file(dir: &TempDir, text: &str) -> String {
    std::fs::write(dir.path("e.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "e.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(dir.path("res/table.md")).unwrap()
}

fn run_folder(dir: &TempDir) -> std::path::PathBuf {
    crate::util::run_folder(&dir.path("res"))
}

#[test]
fn learning_speed_predicts_gradient_descent_on_every_layer() {
    let dir = TempDir::new("speed");
    let table = run_file(
        &dir,
        &format!(
            "{}[analysis]\nkind = \"learning-speed\"\nsteps = 30\n",
            BASE.replace("NAME", "speed")
        ),
    );
    assert!(
        table.contains("### learning speed")
            && table.contains("| input |")
            && table.contains("| true-label net: hidden2 |"),
        "{table}"
    );
    assert!(table.contains("largest relative deviation"), "{table}");
    let run = run_folder(&dir);
    let summary = std::fs::read_to_string(run.join("learning_speed_summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "input + 2 layers: {summary}");
    for r in rows {
        let dev: f64 = r.rsplit(',').next().unwrap().parse().unwrap();
        assert!(dev < 1e-9, "prediction vs descent: {r}");
    }
    let steps = std::fs::read_to_string(run.join("learning_speed.csv")).unwrap();
    assert_eq!(steps.lines().count(), 1 + 3 * 31);
    assert!(dir.path("res/learning_speed.png").is_file());
}

#[test]
fn transfer_on_the_teacher_reports_gain_and_spearman() {
    let dir = TempDir::new("transfer");
    let text = BASE.replace("NAME", "transfer").replace(
        "dataset = \"mnist\"",
        "dataset = \"teacher\"\n[data.teacher]\ndim = 6\ntrain = 200\ntest = 200",
    ) + "[analysis]\nkind = \"transfer\"\ntargets = { rho = [0.0, 0.5, 1.0] }\ntarget_train = 20\nbudget = 20\n[sweep]\nseed = [0, 1]\n";
    let table = run_file(&dir, &text);
    assert!(table.contains("### transfer to target tasks"), "{table}");
    for t in ["| rho=0 |", "| rho=0.5 |", "| rho=1 |"] {
        assert!(table.contains(t), "{t} in {table}");
    }
    assert!(table.contains("Spearman rank correlation: "), "{table}");
    let run = run_folder(&dir);
    let rows = std::fs::read_to_string(run.join("transfer.csv")).unwrap();
    assert!(rows.starts_with("target,rho,auc,auc_null,k90,input_auc,transfer_loss,transfer_acc,scratch_loss,scratch_acc,raw_loss,raw_acc,gain,gain_loss"), "{rows}");
    assert_eq!(rows.lines().count(), 4);
    let layers = std::fs::read_to_string(run.join("transfer_alignment.csv")).unwrap();
    assert_eq!(
        layers.lines().count(),
        1 + 3 * 3,
        "3 targets x (input + 2 layers)"
    );
    assert!(dir.path("res/transfer.png").is_file());
}

#[test]
fn transfer_to_class_pairs_and_probes_on_held_out_images() {
    let dir = TempDir::new("pairs");
    let table = run_file(
        &dir,
        &format!(
            "{}[analysis]\nkind = \"transfer\"\ntargets = {{ classes = [[0, 1], [2, 3]] }}\ntarget_train = 5\nbudget = 10\n",
            BASE.replace("NAME", "pairs")
        ),
    );
    assert!(
        table.contains("| 0-1 |") && table.contains("| 2-3 |"),
        "{table}"
    );

    let dir = TempDir::new("probes");
    let text = BASE
        .replace("NAME", "probes")
        .replace("classes = [0, 1]", "classes = \"all\"")
        .replace("train_per_class = 30", "train_per_class = 5")
        .replace(
            "kind = \"mlp\"\ndepth = 2\nwidth = 8",
            "kind = \"cnn\"\ndepth = 2\nchannels = 2\nbatch_norm = true",
        )
        + "[analysis]\nkind = \"probes\"\npairs = [[0, 1], [4, 9]]\n";
    let table = run_file(&dir, &text);
    assert!(
        table.contains("### probes") && table.contains("| 0-1 | 4-9 | mean over pairs |"),
        "{table}"
    );
    let probes = std::fs::read_to_string(run_folder(&dir).join("probes.csv")).unwrap();
    assert_eq!(
        probes.lines().count(),
        1 + 2 * 5,
        "2 pairs x (input, conv1, conv1_gap, conv2, conv2_gap): {probes}"
    );
    assert!(
        probes
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("0-1,input,0,200,785,"),
        "{probes}"
    );
    assert!(dir.path("res/probes.png").is_file());
}

#[test]
fn analyses_that_do_not_fit_the_data_are_refused_before_training() {
    let dir = TempDir::new("refuse");
    std::fs::write(
        dir.path("e.toml"),
        format!(
            "{}[analysis]\nkind = \"transfer\"\ntargets = {{ rho = [0.5] }}\n",
            BASE.replace("NAME", "x")
        ),
    )
    .unwrap();
    let err = stderr(&runner(&dir.0, &["run", "e.toml"]));
    assert!(
        err.contains("targets.rho") && err.contains("teacher"),
        "{err}"
    );
    std::fs::write(
        dir.path("e.toml"),
        format!(
            "{}[analysis]\nkind = \"speed\"\n",
            BASE.replace("NAME", "x")
        ),
    )
    .unwrap();
    let err = stderr(&runner(&dir.0, &["run", "e.toml"]));
    assert!(
        err.contains("speed") && err.contains("learning-speed"),
        "{err}"
    );
}

/// Issue 11: a pretrained architecture (here at random init: no weights file in CI), not trained
/// (`epochs = 0`), probed block by block on class pairs and the 10-class task, with a linear
/// probe beside each alignment; `runner report` writes a tidy `probes.csv` at the top.
#[test]
fn efficientnet_probed_untrained_with_a_tidy_probes_file() {
    let dir = TempDir::new("effnet");
    let text = BASE
        .replace("NAME", "effnet")
        .replace("classes = [0, 1]", "classes = \"all\"")
        .replace("train_per_class = 30", "train_per_class = 3")
        .replace(
            "kind = \"mlp\"\ndepth = 2\nwidth = 8",
            "kind = \"efficientnet-lite0\"\nweights = \"random\"\nresolution = 32",
        )
        .replace("epochs = 3", "epochs = 0")
        + "[analysis]\nkind = \"probes\"\npairs = [[0, 1]]\nall_classes = true\nper_class = 4\n";
    let table = run_file(&dir, &text);
    assert!(
        table.contains("held-out accuracy of a linear probe")
            && table.contains("| 0-1 | all | mean over pairs |"),
        "{table}"
    );
    let metrics = std::fs::read_to_string(run_folder(&dir).join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 1, "no epochs trained: {metrics}");
    let probes = std::fs::read_to_string(dir.path("res/probes.csv")).unwrap();
    let mut lines = probes.lines();
    assert_eq!(
        lines.next().unwrap(),
        "run_id,experiment,dataset,model,weights,width,seed,pair,layer,layer_index,n,p,auc,pair_mean_auc,auc_null,k90,top1,probe_acc"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // input, stem, block0..block15 and head (each with its _gap view), pooled: 38 layers.
    assert_eq!(rows.len(), 2 * 38, "{probes}");
    for r in &rows {
        assert_eq!(
            (r[3], r[4], r[5]),
            ("efficientnet-lite0", "random", "random@32")
        );
        let n: usize = r[10].parse().unwrap();
        assert_eq!(n, if r[7] == "all" { 40 } else { 8 }, "{r:?}");
        let acc: f64 = r[17].parse().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{r:?}");
        // The 10-class task has the mean over its 45 class pairs beside its auc; a pair has none.
        if r[7] == "all" {
            let pairs: f64 = r[13].parse().unwrap();
            assert!((0.0..=1.0).contains(&pairs), "{r:?}");
        } else {
            assert_eq!(r[13], "", "{r:?}");
        }
    }
    let layers: Vec<&str> = rows.iter().take(38).map(|r| r[8]).collect();
    assert_eq!(layers[..4], ["input", "stem", "stem_gap", "block0"]);
    assert_eq!(layers[35..], ["head", "head_gap", "pooled"]);
    // The input row is the 784 raw pixels (and the bias column); the network sees them resized.
    assert_eq!(rows[38][11], "785");
}

#[test]
fn a_missing_weights_file_is_named_before_anything_runs() {
    let dir = TempDir::new("noweights");
    let text = BASE.replace("NAME", "noweights").replace(
        "kind = \"mlp\"\ndepth = 2\nwidth = 8",
        "kind = \"efficientnet-lite0\"\nweights = \"nope/lite0.pth\"",
    );
    std::fs::write(dir.path("e.toml"), text).unwrap();
    let out = runner(&dir.0, &["run", "e.toml", "--out", "res"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("model.weights = nope/lite0.pth: data/nope/lite0.pth does not exist")
            && err.contains("fetch-data"),
        "{err}"
    );
    assert!(!dir.path("res").exists(), "nothing ran: {err}");
    // With --data, the relative path is looked up there, and the error names the full path.
    let out = runner(
        &dir.0,
        &["run", "e.toml", "--out", "res", "--data", "/elsewhere/d"],
    );
    let err = stderr(&out);
    assert!(
        err.contains("/elsewhere/d/nope/lite0.pth does not exist")
            && err.contains("scripts/fetch-data.sh /elsewhere/d"),
        "{err}"
    );
    // A path that exists relative to the working folder (the old convention) gets a hint.
    std::fs::create_dir_all(dir.path("nope")).unwrap();
    std::fs::write(dir.path("nope/lite0.pth"), b"x").unwrap();
    let err = stderr(&runner(&dir.0, &["run", "e.toml", "--out", "res"]));
    assert!(err.contains("looked up in the data folder"), "{err}");
}
