//! Experiment files: parsing, sweeps, validation and near-miss suggestions.

use std::path::Path;

use repalign_data::{DatasetName, LabelMode, TeacherConfig};
use repalign_models::ModelConfig;
use repalign_optim::OptimizerConfig;

use super::measure::GridName;
use super::*;

const DEMO: &str = include_str!("../../../../experiments/demo.toml");

#[test]
fn a_relative_weights_path_is_looked_up_in_the_data_folder() {
    let text = include_str!("../../../../experiments/pretrained.toml");
    let runs = parse(text).unwrap();
    let weights = |m: &ModelConfig| match m {
        ModelConfig::EfficientNet(e) => e.weights.clone(),
        _ => panic!("an EfficientNet"),
    };
    let data = Path::new("/somewhere/data");
    let resolved = weights(&runs[0].model_in(data));
    assert_eq!(
        resolved,
        repalign_models::Weights::File(
            "/somewhere/data/efficientnet-lite0/efficientnet-lite0-57934424.pth".into()
        )
    );
    assert_eq!(
        weights(&runs[1].model_in(data)),
        repalign_models::Weights::Random
    );
    let mut absolute = runs[0].clone();
    if let ModelConfig::EfficientNet(e) = &mut absolute.model {
        e.weights = repalign_models::Weights::File("/abs/w.pth".into());
    }
    assert_eq!(
        weights(&absolute.model_in(data)),
        repalign_models::Weights::File("/abs/w.pth".into())
    );
}

#[test]
fn demo_file_parses_to_the_spec_recipe() {
    let runs = parse(DEMO).unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.data, DataConfig::Images(DatasetName::Mnist));
    assert_eq!(r.task.train_per_class, Some(500));
    assert_eq!(r.model.depth(), 3);
    assert_eq!(
        r.optimizer,
        OptimizerConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0
        }
    );
    assert_eq!((r.train.epochs, r.train.batch_size), (100, 64));
    assert_eq!(r.measure.grid, GridName::Demo);
}

/// Issue 13: random mutations of every experiment file (and random text) give a list of
/// runs or an error, never a panic; a sweep of 64 axes of two values was 2^64 runs, which
/// overflowed to 0 and panicked.
#[test]
fn parsing_mutated_experiment_files_never_panics() {
    use repalign_data::Rng;
    let files: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
    assert!(files.len() >= 10);
    let pieces = [
        "nan",
        "inf",
        "-1",
        "0",
        "1e308",
        "\"\"",
        "[]",
        "{}",
        "99999999999999999999",
        "\"../x\"",
        "=",
        "\n[sweep]\n",
        "seed = [0, 1]",
        "\"teacher\"",
    ];
    let mut rng = Rng::derive(13, "toml");
    for case in 0..1500 {
        let mut text = files[case % files.len()].clone().into_bytes();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(text.len() + 1);
            match rng.below(3) {
                0 if i < text.len() => {
                    text.remove(i);
                }
                1 => {
                    let piece = pieces[rng.below(pieces.len())];
                    text.splice(i..i, piece.bytes());
                }
                _ => {
                    // Replace a number-like run after `=` with an extreme.
                    let piece = pieces[rng.below(5)];
                    let end = (i + 1 + rng.below(4)).min(text.len());
                    text.splice(i..end, piece.bytes());
                }
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let parsed = std::panic::catch_unwind(|| parse(&text).map(|runs| runs.len()));
        assert!(parsed.is_ok(), "case {case} panicked on:\n{text}");
    }
    let axes: String = (0..64).map(|i| format!("x{i} = [1, 2]\n")).collect();
    let err = format!(
        "{:#}",
        parse(&format!("{DEMO}\n[sweep]\n{axes}")).unwrap_err()
    );
    assert!(err.contains("exceed 1000000 runs"), "{err}");
}

/// Issue 13: the experiment name becomes a folder, so it must not escape `runs/`; numbers
/// that are NaN or infinite, and the logistic loss on three classes, are refused up front.
#[test]
fn names_non_finite_numbers_and_losses_are_checked() {
    for bad in ["/some/abs/dir", "../../x", "", ".", "a/b", ".hidden", "x y"] {
        let err = format!(
            "{:#}",
            parse(&DEMO.replace("name = \"demo\"", &format!("name = {bad:?}"))).unwrap_err()
        );
        assert!(err.contains("becomes a folder under runs/"), "{bad}: {err}");
    }
    assert!(parse(&DEMO.replace("name = \"demo\"", "name = \"demo-2.b_c\"")).is_ok());
    for (from, to, field) in [
        (
            "epochs = 100",
            "epochs = 100\nstop = { train_acc = nan, loss = nan }",
            "train.stop.train_acc",
        ),
        (
            "epochs = 100",
            "epochs = 100\nstop = { train_acc = 1.0, loss = inf }",
            "train.stop.loss",
        ),
        ("lr = 1e-3", "lr = nan", "lr = NaN"),
        (
            "classes = [0, 1]",
            "classes = [0, 1, 2]",
            "needs a task of 2 classes, this one has 3",
        ),
        (
            "train_per_class = 500",
            "train_per_class = 0",
            "task.train_per_class = 0",
        ),
    ] {
        let err = format!("{:#}", parse(&DEMO.replace(from, to)).unwrap_err());
        assert!(err.contains(field), "{to}: {err}");
    }
    let speed = format!("{DEMO}\n[analysis]\nkind = \"learning-speed\"\nlevel = nan\n");
    let err = format!("{:#}", parse(&speed).unwrap_err());
    assert!(err.contains("analysis: level = NaN"), "{err}");
    let teacher = DEMO.replace(
        "dataset = \"mnist\"",
        "dataset = \"teacher\"\n[data.teacher]\ndim = 0",
    );
    let err = format!("{:#}", parse(&teacher).unwrap_err());
    assert!(err.contains("data.teacher.dim = 0"), "{err}");
}

/// The teacher problem cannot be half-specified, and `[data]` records as a file writes it
/// (the canonical JSON, hence every run id, is what it was before `DataConfig` was an enum).
#[test]
fn data_is_an_image_dataset_or_the_teacher_with_its_table() {
    let teacher = DEMO.replace(
        "dataset = \"mnist\"",
        "dataset = \"teacher\"\n[data.teacher]\ndim = 6",
    );
    let r = parse(&teacher).unwrap().remove(0);
    assert_eq!(
        r.data,
        DataConfig::Teacher(TeacherConfig {
            dim: 6,
            ..TeacherConfig::default()
        })
    );
    assert!(r.canonical_json().contains(
        r#""data":{"dataset":"teacher","teacher":{"dim":6,"train":1000,"test":1000,"seed":0}}"#
    ));
    let demo = parse(DEMO).unwrap().remove(0);
    assert!(
        demo.canonical_json()
            .contains(r#""data":{"dataset":"mnist"}"#)
    );
    let err = format!(
        "{:#}",
        parse(&DEMO.replace("dataset = \"mnist\"", "dataset = \"teacher\"")).unwrap_err()
    );
    assert!(err.contains("needs a [data.teacher] table"), "{err}");
    let err = format!(
        "{:#}",
        parse(&DEMO.replace(
            "dataset = \"mnist\"",
            "dataset = \"mnist\"\n[data.teacher]\ndim = 6"
        ))
        .unwrap_err()
    );
    assert!(
        err.contains("goes with dataset = \"teacher\" only"),
        "{err}"
    );
    let err = format!(
        "{:#}",
        parse(&DEMO.replace("dataset = \"mnist\"", "dataset = \"mnst\"")).unwrap_err()
    );
    assert!(
        err.contains("unknown variant `mnst`") && err.contains("`teacher`"),
        "{err}"
    );
}

#[test]
fn run_ids_are_stable_and_differ_with_the_config() {
    let a = parse(DEMO).unwrap().remove(0);
    let b = parse(DEMO).unwrap().remove(0);
    assert_eq!(a.run_id(), b.run_id());
    assert!(
        a.run_id().starts_with("mlp-d3-w128-adam-true-s0-"),
        "{}",
        a.run_id()
    );
    let c = RunConfig {
        seed: 1,
        ..a.clone()
    };
    assert_ne!(a.run_id(), c.run_id());
}

const GRID: &str = r#"
name = "grid"
[data]
dataset = "mnist"
[model]
kind = "mlp"
depth = 1
[optimizer]
name = "adam"
lr = 1e-3
[train]
epochs = 2
[sweep]
model.depth = [1, 2, 3]
labels = ["true", "random"]
optimizer = [{ name = "sgd", lr = 0.01, momentum = 0.9 }, { name = "adam", lr = 1e-3 }]
seed = [0, 1]
"#;

#[test]
fn sweeps_expand_to_the_full_grid_in_order() {
    let runs = parse(GRID).unwrap();
    assert_eq!(runs.len(), 3 * 2 * 2 * 2);
    // First axis slowest, last fastest.
    assert_eq!(
        (
            runs[0].model.depth(),
            runs[0].labels,
            runs[0].optimizer.name(),
            runs[0].seed
        ),
        (1, LabelMode::True, "sgd", 0)
    );
    assert_eq!(runs[1].seed, 1);
    assert_eq!(runs[2].optimizer.name(), "adam");
    assert_eq!(runs[4].labels, LabelMode::Random);
    assert_eq!(runs[8].model.depth(), 2);
    let mut ids: Vec<String> = runs.iter().map(|r| r.run_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24, "every run has its own id");
    // The same file always gives the same ids.
    let again: Vec<String> = parse(GRID).unwrap().iter().map(|r| r.run_id()).collect();
    assert_eq!(again, runs.iter().map(|r| r.run_id()).collect::<Vec<_>>());
}

#[test]
fn whole_tables_and_their_fields_combine() {
    let text = GRID.replace(
        "model.depth = [1, 2, 3]",
        "model = [{ kind = \"mlp\", depth = 1 }, { kind = \"cnn\", depth = 1, channels = 4 }]\nmodel.depth = [1, 2]",
    );
    // A TOML table cannot hold both `model = [...]` and `model.depth`: that is a parse error.
    assert!(parse(&text).is_err());
    let text = GRID.replace(
        "model.depth = [1, 2, 3]",
        "model = [{ kind = \"mlp\", depth = 2, activation = \"identity\" }, { kind = \"cnn\", depth = 2, channels = 4 }]",
    );
    let runs = parse(&text).unwrap();
    assert_eq!(runs.len(), 16);
    assert_eq!(runs[0].model.kind(), "mlp");
    assert_eq!(runs[8].model.kind(), "cnn");
}

#[test]
fn sweep_errors_name_the_key_and_suggest() {
    let err = format!(
        "{:#}",
        parse(&GRID.replace("model.depth = [1, 2, 3]", "model.dept = [1, 2]")).unwrap_err()
    );
    assert!(
        err.contains("unknown field `dept`") && err.contains("did you mean `depth`?"),
        "{err}"
    );
    assert!(err.contains("model.dept = 1"), "names the run: {err}");
    let err = format!(
        "{:#}",
        parse(&GRID.replace("seed = [0, 1]", "seed = 3")).unwrap_err()
    );
    assert!(err.contains("sweep.seed = 3 must be a list"), "{err}");
    let err = format!(
        "{:#}",
        parse(&GRID.replace("seed = [0, 1]", "seed = []")).unwrap_err()
    );
    assert!(err.contains("sweep.seed is an empty list"), "{err}");
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let err = parse(&DEMO.replace("batch_size = 64", "batchsize = 64"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("batchsize") && err.contains("did you mean `batch_size`?"),
        "{err}"
    );
    assert!(
        err.contains("line"),
        "a single run's errors carry the position: {err}"
    );
    let err = parse(&DEMO.replace("hidden_bias = false", "hiden_bias = false"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean `hidden_bias`?"), "{err}");
    let err = parse(&DEMO.replace("batch_size = 64", "batch_size = 0"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.batch_size"), "{err}");
    // No training at all is a choice: a pretrained network, or the control at its init.
    assert_eq!(
        parse(&DEMO.replace("epochs = 100", "epochs = 0")).unwrap()[0]
            .train
            .epochs,
        0
    );
    let err = format!(
        "{:#}",
        parse(&DEMO.replace("lr = 1e-3", "lr = -1.0")).unwrap_err()
    );
    assert!(
        err.contains("optimizer") && err.contains("lr = -1"),
        "{err}"
    );
}
