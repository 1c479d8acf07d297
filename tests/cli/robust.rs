//! Issue 13: hostile and careless inputs. Each test reproduces a defect found by trying ~150
//! such inputs against the release `runner`; all of them crashed, hung, escaped the results
//! folder or reported success before the fixes.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{TempDir, read_json, runner, stderr, stdout};

const TINY: &str = r#"
name = "tiny"
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
epochs = 2
batch_size = 8
"#;

fn results(dir: &std::path::Path) -> Vec<Value> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("result.json").is_file())
        .collect();
    v.sort();
    v.iter()
        .map(|p| read_json(&p.join("result.json")))
        .collect()
}

/// Item 1 and 7: a run whose model no machine holds (a 313 GB allocation aborted the whole
/// process) fails alone, with its reason, before allocating; the sweep goes on, exits 2, and
/// the failed run is tried again on the next `run`.
#[test]
fn an_impossible_run_fails_alone_exits_2_and_is_retried() {
    let dir = TempDir::new("huge");
    std::fs::write(
        dir.path("x.toml"),
        format!("{TINY}[sweep]\nmodel.width = [8, 100000000]\n"),
    )
    .unwrap();
    let out = runner(&dir.0, &["run", "x.toml", "--out", "res"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("1 failed"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    let r = results(&dir.path("res"));
    assert_eq!(r.len(), 2);
    let failed: Vec<&Value> = r.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("parameters") && reason.contains("model.width"),
        "{reason}"
    );
    assert!(dir.path("res/summary.csv").is_file());
    let listing = stdout(&runner(
        &dir.0,
        &["run", "x.toml", "--out", "res", "--dry-run"],
    ));
    assert!(listing.contains("to run again (failed before"), "{listing}");
    assert!(listing.contains("1 done, 1 to run"), "{listing}");
    let again = runner(&dir.0, &["run", "x.toml", "--out", "res"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("1 already done, 1 to run"),
        "{}",
        stderr(&again)
    );
}

/// Item 1: idx images of 0 x 0 pixels panicked in a matmul; item 12: "task: task:".
#[test]
fn empty_images_and_bad_tasks_are_named_errors() {
    let dir = TempDir::new("empty-idx");
    let data = dir.path("data/mnist");
    std::fs::create_dir_all(&data).unwrap();
    let header = |magic: u32, dims: &[u32]| -> Vec<u8> {
        std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(|x| x.to_be_bytes())
            .collect()
    };
    for split in ["train", "t10k"] {
        std::fs::write(
            data.join(format!("{split}-images-idx3-ubyte")),
            header(2051, &[4, 0, 0]),
        )
        .unwrap();
        let mut labels = header(2049, &[4]);
        labels.extend([3, 5, 3, 5]);
        std::fs::write(data.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
    }
    std::fs::write(dir.path("x.toml"), TINY).unwrap();
    let out = runner(&dir.0, &["run", "x.toml", "--data", "data"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("4 images of 0x0: nothing to read"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let dir = TempDir::new("twice");
    std::fs::write(
        dir.path("twice.toml"),
        TINY.replace("classes = [3, 5]", "classes = [3, 3]"),
    )
    .unwrap();
    let out = runner(&dir.0, &["run", "twice.toml", "--out", "res"]);
    assert_eq!(out.status.code(), Some(2));
    let reason = results(&dir.path("res"))[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("name a class twice"), "{reason}");
    assert!(!reason.contains("task: task:"), "{reason}");
}

/// Item 4: the name became a path unchecked (`/abs` wrote into that folder, `../../x` outside
/// `runs/`, `""` into `runs/`).
#[test]
fn names_that_would_escape_the_results_folder_are_refused() {
    let dir = TempDir::new("names");
    for bad in ["../../escaped", "/tmp/escaped-abs", ""] {
        std::fs::write(
            dir.path("x.toml"),
            TINY.replace("\"tiny\"", &format!("{bad:?}")),
        )
        .unwrap();
        let out = runner(&dir.0, &["run", "x.toml"]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&out).contains("becomes a folder under runs/"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!dir.path("runs").exists(), "nothing was written");
}

/// Item 8: a done run whose alignment.json is corrupt made `run` and `report` fail on every
/// attempt; now `report` skips it with a warning and `run` redoes it. Item 12: a copied run
/// folder counted twice.
#[test]
fn corrupt_and_copied_run_folders_are_handled() {
    let dir = TempDir::new("corrupt");
    std::fs::write(
        dir.path("x.toml"),
        format!("{TINY}[sweep]\nseed = [0, 1]\n"),
    )
    .unwrap();
    assert!(
        runner(&dir.0, &["run", "x.toml", "--out", "res"])
            .status
            .success()
    );
    let mut runs: Vec<_> = std::fs::read_dir(dir.path("res"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    runs.sort();
    std::fs::write(runs[0].join("alignment.json"), "{ not json").unwrap();
    let out = runner(&dir.0, &["report", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: skipping"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("1 runs, 1 done"), "{}", stdout(&out));
    let out = runner(&dir.0, &["run", "x.toml", "--out", "res"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no longer load"), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 runs, 2 done"), "{}", stdout(&out));
    // A copy of a run folder under another name counts once.
    let copy = dir.path("res/copy-of-a-run");
    std::fs::create_dir_all(&copy).unwrap();
    for f in std::fs::read_dir(&runs[1]).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, copy.join(f.file_name().unwrap())).unwrap();
        }
    }
    let out = runner(&dir.0, &["report", "res"]);
    assert!(stdout(&out).contains("2 runs, 2 done"), "{}", stdout(&out));
    assert!(stderr(&out).contains("counted once"), "{}", stderr(&out));
}

/// Item 9: write errors on stdout were ignored (`> /dev/full` exited 0 with nothing written).
#[test]
fn stdout_write_errors_are_errors() {
    let dir = TempDir::new("full");
    std::fs::write(dir.path("x.toml"), TINY).unwrap();
    assert!(
        runner(&dir.0, &["run", "x.toml", "--out", "res"])
            .status
            .success()
    );
    let full = || std::fs::File::create("/dev/full").unwrap();
    for args in [
        vec!["report", "res"],
        vec!["run", "x.toml", "--out", "res", "--dry-run"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_runner"))
            .args(&args)
            .current_dir(&dir.0)
            .stdout(Stdio::from(full()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("writing to standard output"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// Item 11: a Slurm array with more tasks than runs: an empty shard exited 1 when its output
/// folder did not exist yet.
#[test]
fn an_empty_shard_succeeds() {
    let dir = TempDir::new("shard");
    std::fs::write(
        dir.path("x.toml"),
        format!("{TINY}[sweep]\nseed = [0, 1]\n"),
    )
    .unwrap();
    let out = runner(
        &dir.0,
        &["run", "x.toml", "--out", "new-folder", "--shard", "3/3"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 to run"), "{}", stderr(&out));
}

/// Item 12: a FIFO given as input blocked forever; "diverged after 0 epochs ... at epoch 1".
#[test]
fn fifos_are_refused_and_divergence_is_worded_right() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path("x.toml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let out = runner(&dir.0, &["run", "x.toml"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
        let out = runner(
            &dir.0,
            &["align", "--features", "x.toml", "--labels", "x.toml"],
        );
        assert_eq!(out.status.code(), Some(1));
    }
    std::fs::write(
        dir.path("d.toml"),
        TINY.replace("name = \"adam\"\nlr = 1e-2", "name = \"sgd\"\nlr = 1e30")
            .replace("depth = 1", "depth = 2\nactivation = \"identity\""),
    )
    .unwrap();
    let out = runner(&dir.0, &["run", "d.toml", "--out", "res"]);
    assert!(
        out.status.success(),
        "a diverged run is a result: {}",
        stderr(&out)
    );
    let r = &results(&dir.path("res"))[0];
    assert_eq!(r["status"], "diverged");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("the training loss became") && reason.contains("in epoch"),
        "{reason}"
    );
}
