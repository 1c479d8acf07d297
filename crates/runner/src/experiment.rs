//! Experiment files: one TOML file describes a run (and, with `[sweep]`, a grid of runs).
//!
//! ```toml
//! name = "demo"
//! labels = "true"            # or "random": a seeded shuffle of the training labels
//! seed = 0                   # initialisation, minibatch order and the label shuffle
//! [data]
//! dataset = "mnist"          # mnist | fashion-mnist | digits | cifar10
//! [task]
//! classes = [0, 1]           # two classes: binary; more, or "all": multi-class
//! train_per_class = 500
//! draw_seed = 0
//! [model]
//! kind = "mlp"               # or "cnn"
//! depth = 3
//! width = 128
//! hidden_bias = false
//! [optimizer]
//! name = "adam"              # sgd | adam | rmsprop
//! lr = 1e-3
//! [train]
//! epochs = 100
//! batch_size = 64
//! [measure]
//! grid = "demo"              # or "normalized"
//! ```

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use repalign_alignment::{Grid, Options};
use repalign_data::{DatasetName, LabelMode, TaskConfig, TeacherConfig};
use repalign_models::ModelConfig;
use repalign_optim::OptimizerConfig;
pub use repalign_train::TrainConfig;

pub use crate::analysis::AnalysisConfig;
use serde::{Deserialize, Serialize};

/// Which data a run trains on: an image dataset, or the synthetic teacher problem with its
/// sizes (`dataset = "teacher"` and a `[data.teacher]` table in a file; the one cannot come
/// without the other).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DataTable", into = "DataTable")]
pub enum DataConfig {
    Images(DatasetName),
    Teacher(TeacherConfig),
}

impl DataConfig {
    /// The name a file gives it: `mnist`, ..., `teacher`.
    pub fn name(&self) -> &'static str {
        match self {
            DataConfig::Images(d) => d.as_str(),
            DataConfig::Teacher(_) => "teacher",
        }
    }

    /// The image dataset to load, if any.
    pub fn images(&self) -> Option<DatasetName> {
        match self {
            DataConfig::Images(d) => Some(*d),
            DataConfig::Teacher(_) => None,
        }
    }
}

/// `[data]` as a file writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTable {
    dataset: DatasetTag,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    teacher: Option<TeacherConfig>,
}

/// The names `dataset` takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DatasetTag {
    Mnist,
    FashionMnist,
    Digits,
    Cifar10,
    Teacher,
}

impl TryFrom<DataTable> for DataConfig {
    type Error = String;
    fn try_from(t: DataTable) -> Result<Self, String> {
        let images = |d| match t.teacher {
            None => Ok(DataConfig::Images(d)),
            Some(_) => {
                Err("data: a [data.teacher] table goes with dataset = \"teacher\" only".to_string())
            }
        };
        match t.dataset {
            DatasetTag::Mnist => images(DatasetName::Mnist),
            DatasetTag::FashionMnist => images(DatasetName::FashionMnist),
            DatasetTag::Digits => images(DatasetName::Digits),
            DatasetTag::Cifar10 => images(DatasetName::Cifar10),
            DatasetTag::Teacher => t.teacher.map(DataConfig::Teacher).ok_or_else(|| {
                "data: dataset = \"teacher\" needs a [data.teacher] table (dim, train, test, seed)"
                    .to_string()
            }),
        }
    }
}

impl From<DataConfig> for DataTable {
    fn from(d: DataConfig) -> Self {
        match d {
            DataConfig::Images(name) => DataTable {
                dataset: match name {
                    DatasetName::Mnist => DatasetTag::Mnist,
                    DatasetName::FashionMnist => DatasetTag::FashionMnist,
                    DatasetName::Digits => DatasetTag::Digits,
                    DatasetName::Cifar10 => DatasetTag::Cifar10,
                },
                teacher: None,
            },
            DataConfig::Teacher(t) => DataTable {
                dataset: DatasetTag::Teacher,
                teacher: Some(t),
            },
        }
    }
}

/// Threshold grid of the reported curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GridName {
    #[default]
    Normalized,
    Demo,
}

impl GridName {
    pub fn grid(&self) -> Grid {
        match self {
            GridName::Normalized => Grid::default(),
            GridName::Demo => Grid::Demo,
        }
    }
}

fn yes() -> bool {
    true
}

fn batch_500() -> usize {
    500
}

/// How alignment is measured after training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureConfig {
    #[serde(default)]
    pub grid: GridName,
    #[serde(default = "yes")]
    pub bias_column: bool,
    #[serde(default = "yes")]
    pub row_normalize: bool,
    /// Rows per forward pass while streaming activations into the accumulators.
    #[serde(default = "batch_500")]
    pub batch_size: usize,
    /// Measure on the first this many training rows only (all when absent): conv layers of
    /// many thousand features make the n x n kernel of a large training set slow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<usize>,
}

impl Default for MeasureConfig {
    fn default() -> Self {
        MeasureConfig {
            grid: GridName::default(),
            bias_column: true,
            row_normalize: true,
            batch_size: 500,
            max_rows: None,
        }
    }
}

impl MeasureConfig {
    pub fn options(&self) -> Options {
        Options {
            bias_column: self.bias_column,
            row_normalize: self.row_normalize,
        }
    }
}

/// One fully resolved run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub labels: LabelMode,
    #[serde(default)]
    pub seed: u64,
    pub data: DataConfig,
    #[serde(default)]
    pub task: TaskConfig,
    pub model: ModelConfig,
    pub optimizer: OptimizerConfig,
    pub train: TrainConfig,
    #[serde(default)]
    pub measure: MeasureConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisConfig>,
}

impl RunConfig {
    /// Checks values no type can rule out, naming the field.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_name(&self.name)?;
        self.train.validate().map_err(|e| anyhow!(e))?;
        if self.measure.batch_size == 0 {
            bail!("measure.batch_size must be at least 1");
        }
        if self.measure.max_rows == Some(0) {
            bail!("measure.max_rows = 0: it must be at least 1 (or absent: every row)");
        }
        self.task.validate()?;
        if let DataConfig::Teacher(t) = &self.data {
            t.validate()?;
        }
        if let Some(c) = self
            .task
            .listed_classes()
            .filter(|_| self.data.images().is_some())
        {
            self.train
                .loss_for(c)
                .check_classes(c)
                .map_err(|e| anyhow!(e))?;
        }
        self.optimizer.validate().context("optimizer")?;
        if let Some(analysis) = &self.analysis {
            analysis.validate(self).context("analysis")?;
        }
        Ok(())
    }

    /// The model with its weights file resolved: a relative path is looked up in the data
    /// folder `data`, an absolute one is used as it is. The run's identity keeps the path as
    /// written, so a run id does not depend on where the data lives.
    pub fn model_in(&self, data: &Path) -> ModelConfig {
        let mut model = self.model.clone();
        if let ModelConfig::EfficientNet(e) = &mut model
            && let repalign_models::Weights::File(f) = &mut e.weights
            && f.is_relative()
        {
            *f = data.join(&*f);
        }
        model
    }

    /// Checks that the weights file the model names (resolved in `data`, see
    /// [`RunConfig::model_in`]) is there.
    pub fn check_weights(&self, data: &Path) -> anyhow::Result<()> {
        let (ModelConfig::EfficientNet(written), ModelConfig::EfficientNet(resolved)) =
            (&self.model, &self.model_in(data))
        else {
            return Ok(());
        };
        let (repalign_models::Weights::File(w), repalign_models::Weights::File(f)) =
            (&written.weights, &resolved.weights)
        else {
            return Ok(());
        };
        if f.is_file() {
            return Ok(());
        }
        let hint = if w.is_relative() && w.is_file() {
            format!(
                " (a relative path is looked up in the data folder; {} exists here: write it relative to the data folder, or absolute)",
                w.display()
            )
        } else {
            String::new()
        };
        bail!(
            "model.weights = {}: {} does not exist{hint}. `scripts/fetch-data.sh {}` fetches EfficientNet-Lite0's weights; weights = \"random\" needs none",
            w.display(),
            f.display(),
            data.display()
        )
    }

    /// Canonical JSON of the config: the identity of a run.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("configs serialise")
    }

    /// A readable, stable id: the model, optimizer, label mode and seed, then a hash of the
    /// whole config, so the same config always lands in the same directory.
    pub fn run_id(&self) -> String {
        let json = self.canonical_json();
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in json.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        format!(
            "{}-d{}-w{}-{}-{}-s{}-{:08x}",
            self.model.kind(),
            self.model.depth(),
            self.model.width_label(),
            self.optimizer.name(),
            self.labels.as_str(),
            self.seed,
            (h >> 32) as u32
        )
    }
}

/// The longest experiment name.
const MAX_NAME: usize = 100;

/// An experiment's name becomes a folder under `runs/`: one path component of letters, digits,
/// `-`, `_` and `.` (not first), so it can neither escape the results root nor be empty.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!(
            "name = {name:?}: the name becomes a folder under runs/, so it must be 1-{MAX_NAME} letters, digits, '-', '_' or '.' (not first), e.g. \"sweep-depth\""
        );
    }
    Ok(())
}

/// The most runs a `[sweep]` may expand to.
pub const MAX_RUNS: usize = 1_000_000;

/// Reads an experiment file into its runs.
pub fn load(path: &Path) -> anyhow::Result<Vec<RunConfig>> {
    repalign_data::check_regular(path, 16 << 20)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("{}", path.display()))
}

/// Parses the text of an experiment file into its runs, in grid order.
///
/// Without a `[sweep]` table the file is one run. With one, every entry of `[sweep]` is a list
/// of alternatives for the field at its path (`model.depth = [1, 2]`, `labels = ["true",
/// "random"]`, `optimizer = [{ name = "sgd", lr = 0.01 }, ...]`); the runs are every
/// combination, the first entry varying slowest. Shallower paths apply first, so a sweep over
/// `model` and one over `model.depth` combine.
pub fn parse(text: &str) -> anyhow::Result<Vec<RunConfig>> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow!("{}", e.to_string().trim_end()))?;
    let Some(sweep) = table.remove("sweep") else {
        let run: RunConfig = toml::from_str(text)
            .map_err(|e| anyhow!("{}", with_suggestion(e.to_string().trim_end())))?;
        run.validate()?;
        return Ok(vec![run]);
    };
    let toml::Value::Table(sweep) = sweep else {
        bail!("`sweep` must be a table of lists, e.g. [sweep] model.depth = [1, 2]");
    };
    let mut axes = Vec::new();
    collect_axes(&sweep, String::new(), &mut axes)?;
    let mut runs = Vec::new();
    let total = axes
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
        .filter(|&t| t <= MAX_RUNS)
        .ok_or_else(|| {
            anyhow!(
                "the [sweep] table has {} axes whose combinations exceed {MAX_RUNS} runs: split the experiment",
                axes.len()
            )
        })?;
    for i in 0..total {
        // Mixed radix, first axis slowest.
        let mut rest = i;
        let mut choice = vec![0; axes.len()];
        for (k, (_, values)) in axes.iter().enumerate().rev() {
            choice[k] = rest % values.len();
            rest /= values.len();
        }
        let mut order: Vec<usize> = (0..axes.len()).collect();
        order.sort_by_key(|&k| axes[k].0.split('.').count());
        let mut t = table.clone();
        for &k in &order {
            set_path(&mut t, &axes[k].0, axes[k].1[choice[k]].clone());
        }
        let described = || {
            axes.iter()
                .zip(&choice)
                .map(|((path, values), &c)| format!("{path} = {}", values[c]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let run: RunConfig = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| {
                anyhow!(
                    "{} (in the run with {})",
                    with_suggestion(e.to_string().trim_end()),
                    described()
                )
            })?;
        run.validate()
            .with_context(|| format!("in the run with {}", described()))?;
        runs.push(run);
    }
    Ok(runs)
}

fn collect_axes(
    table: &toml::Table,
    prefix: String,
    axes: &mut Vec<(String, Vec<toml::Value>)>,
) -> anyhow::Result<()> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Array(values) if values.is_empty() => {
                bail!("sweep.{path} is an empty list")
            }
            toml::Value::Array(values) => axes.push((path, values.clone())),
            toml::Value::Table(inner) => collect_axes(inner, path, axes)?,
            other => bail!("sweep.{path} = {other} must be a list of alternatives, e.g. [{other}]"),
        }
    }
    Ok(())
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("paths are not empty");
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = entry.as_table_mut().expect("made a table above");
    }
    t.insert(last.to_string(), value);
}

/// Adds "did you mean `x`?" to serde's "unknown field `y`, expected one of ..." when one of the
/// expected names is a near miss.
fn with_suggestion(message: &str) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message.to_string();
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let unknown = &rest[..end];
    let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    let best = expected
        .iter()
        .map(|e| (edit_distance(unknown, e), *e))
        .min()
        .filter(|(d, e)| *d <= 2.max(e.len() / 4));
    match best {
        Some((_, e)) => format!("{message} (did you mean `{e}`?)"),
        None => message.to_string(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../experiments/demo.toml");

    #[test]
    fn a_relative_weights_path_is_looked_up_in_the_data_folder() {
        let text = include_str!("../../../experiments/pretrained.toml");
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
}
