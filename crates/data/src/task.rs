//! Tasks drawn from a dataset: which classes, how many images of each, the pixel scaling, and
//! whether the labels are true or a seeded shuffle of them.
//!
//! Labels are renumbered `0..k` in the order the classes are named, so for a binary task the
//! first named class is 0 (and -1 for the alignment measure).

use serde::{Deserialize, Serialize};

use crate::{DataError, Dataset, Rng, Split};

/// True labels, or a seeded permutation of them (class balance kept exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LabelMode {
    /// The dataset's labels (the default).
    #[default]
    True,
    /// Training labels permuted with a seed; test labels stay true.
    Random,
}

impl LabelMode {
    /// The lowercase name used in config files and outputs: `"true"` or `"random"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LabelMode::True => "true",
            LabelMode::Random => "random",
        }
    }
}

/// Which classes a task uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Classes {
    /// These classes, renumbered 0..k in this order (two classes: a binary task).
    List(Vec<u8>),
    /// Every class of the dataset (the string `"all"` in a file).
    All(AllClasses),
}

/// The literal `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllClasses {
    /// Every class of the dataset.
    All,
}

impl Default for Classes {
    fn default() -> Self {
        Classes::All(AllClasses::All)
    }
}

/// How a task is drawn from a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// Classes used; `[a, b]` is binary.
    #[serde(default)]
    pub classes: Classes,
    /// Training images drawn per class (all when absent).
    #[serde(default)]
    pub train_per_class: Option<usize>,
    /// Test images drawn per class (all when absent).
    #[serde(default)]
    pub test_per_class: Option<usize>,
    /// Seed of the draw of images (the demo draws with seed 0).
    #[serde(default)]
    pub draw_seed: u64,
}

impl TaskConfig {
    /// Checks what no type rules out: at least one image per class when a count is given.
    pub fn validate(&self) -> Result<(), DataError> {
        for (field, v) in [
            ("train_per_class", self.train_per_class),
            ("test_per_class", self.test_per_class),
        ] {
            if v == Some(0) {
                return Err(DataError::Task(format!(
                    "task.{field} = 0: it must be at least 1 (or absent: every image)"
                )));
            }
        }
        Ok(())
    }

    /// The number of classes when the config lists them (none for `"all"`).
    pub fn listed_classes(&self) -> Option<usize> {
        match &self.classes {
            Classes::List(l) => Some(l.len()),
            Classes::All(_) => None,
        }
    }
}

/// A task ready for training: scaled images and labels `0..num_classes`.
#[derive(Debug, Clone)]
pub struct Task {
    /// `[channels, height, width]` of one image.
    pub shape: [usize; 3],
    /// Number of classes k; labels are `0..k`.
    pub num_classes: usize,
    /// Original class ids, in label order.
    pub classes: Vec<u8>,
    /// Row-major `n x (c h w)`, scaled as the demo: `(x / max - 0.5) / 0.5`, in [-1, 1].
    pub train_x: Vec<f32>,
    /// Training labels (a permutation of the true ones when `label_mode` is random).
    pub train_y: Vec<u32>,
    /// The true training labels, whatever the mode.
    pub train_y_true: Vec<u32>,
    /// Test images, laid out and scaled like `train_x`.
    pub test_x: Vec<f32>,
    /// Test labels are always the true ones.
    pub test_y: Vec<u32>,
    /// Whether `train_y` holds true or shuffled labels.
    pub label_mode: LabelMode,
}

impl Task {
    /// Values per image, `c * h * w`.
    pub fn input_len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Number of training images.
    pub fn train_len(&self) -> usize {
        self.train_y.len()
    }
    /// Number of test images.
    pub fn test_len(&self) -> usize {
        self.test_y.len()
    }

    /// Draws a task from a dataset. `label_seed` seeds the label shuffle in random mode.
    pub fn draw(
        data: &Dataset,
        config: &TaskConfig,
        label_mode: LabelMode,
        label_seed: u64,
    ) -> Result<Task, DataError> {
        let classes: Vec<u8> = match &config.classes {
            Classes::List(list) => list.clone(),
            Classes::All(_) => {
                let mut all: Vec<u8> = data.train.labels.clone();
                all.sort_unstable();
                all.dedup();
                all
            }
        };
        if classes.len() < 2 {
            return Err(DataError::Task(format!(
                "a task needs at least 2 classes, got {classes:?}"
            )));
        }
        let mut seen = classes.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != classes.len() {
            return Err(DataError::Task(format!(
                "classes {classes:?} name a class twice"
            )));
        }
        let mut rng = Rng::derive(config.draw_seed, "draw");
        let (train_x, train_y) = draw_split(
            data,
            &data.train,
            "training",
            &classes,
            config.train_per_class,
            &mut rng,
        )?;
        let (test_x, test_y) = draw_split(
            data,
            &data.test,
            "test",
            &classes,
            config.test_per_class,
            &mut rng,
        )?;
        let train_y_true = train_y.clone();
        let train_y = match label_mode {
            LabelMode::True => train_y,
            LabelMode::Random => shuffle_labels(&train_y, label_seed),
        };
        Ok(Task {
            shape: data.shape,
            num_classes: classes.len(),
            classes,
            train_x,
            train_y,
            train_y_true,
            test_x,
            test_y,
            label_mode,
        })
    }
}

fn draw_split(
    data: &Dataset,
    split: &Split,
    which: &str,
    classes: &[u8],
    per_class: Option<usize>,
    rng: &mut Rng,
) -> Result<(Vec<f32>, Vec<u32>), DataError> {
    let len = data.image_len();
    let mut chosen: Vec<(usize, u32)> = Vec::new();
    for (label, &class) in classes.iter().enumerate() {
        let mut idx: Vec<usize> = (0..split.len())
            .filter(|&i| split.labels[i] == class)
            .collect();
        if idx.is_empty() {
            return Err(DataError::Task(format!(
                "class {class} has no {which} images in {} ({})",
                data.name, data.source
            )));
        }
        if let Some(k) = per_class {
            if k > idx.len() {
                return Err(DataError::Task(format!(
                    "class {class} has {} {which} images in {} ({}), asked for {k}",
                    idx.len(),
                    data.name,
                    data.source
                )));
            }
            rng.shuffle(&mut idx);
            idx.truncate(k);
            idx.sort_unstable();
        }
        chosen.extend(idx.into_iter().map(|i| (i, label as u32)));
    }
    chosen.sort_unstable();
    let scale = 2.0 / data.max_pixel;
    let mut x = Vec::with_capacity(chosen.len() * len);
    for &(i, _) in &chosen {
        x.extend(
            split.pixels[i * len..(i + 1) * len]
                .iter()
                .map(|&p| p as f32 * scale - 1.0),
        );
    }
    Ok((x, chosen.into_iter().map(|(_, l)| l).collect()))
}

/// A seeded permutation of `labels`: every class keeps its count, and the same seed always
/// gives the same labels.
pub fn shuffle_labels(labels: &[u32], seed: u64) -> Vec<u32> {
    let mut out = labels.to_vec();
    Rng::derive(seed, "random-labels").shuffle(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::embedded_mnist;

    fn demo_config() -> TaskConfig {
        TaskConfig {
            classes: Classes::List(vec![0, 1]),
            train_per_class: Some(500),
            test_per_class: None,
            draw_seed: 0,
        }
    }

    #[test]
    fn demo_draw_is_balanced_scaled_and_reproducible() {
        let data = embedded_mnist().unwrap();
        let t = Task::draw(&data, &demo_config(), LabelMode::True, 0).unwrap();
        assert_eq!(t.train_len(), 1000);
        assert_eq!(t.test_len(), 200);
        assert_eq!(t.num_classes, 2);
        assert_eq!(t.train_y.iter().filter(|&&y| y == 1).count(), 500);
        assert_eq!(t.train_x.len(), 1000 * 784);
        let (lo, hi) = t
            .train_x
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert_eq!((lo, hi), (-1.0, 1.0));
        let again = Task::draw(&data, &demo_config(), LabelMode::True, 0).unwrap();
        assert_eq!(t.train_x, again.train_x);
        let other = Task::draw(
            &data,
            &TaskConfig {
                draw_seed: 1,
                ..demo_config()
            },
            LabelMode::True,
            0,
        )
        .unwrap();
        assert_ne!(
            t.train_x, other.train_x,
            "another draw seed draws other images"
        );
    }

    #[test]
    fn random_labels_keep_balance_are_seeded_and_differ_from_true() {
        let data = embedded_mnist().unwrap();
        let t = Task::draw(&data, &demo_config(), LabelMode::Random, 7).unwrap();
        let again = Task::draw(&data, &demo_config(), LabelMode::Random, 7).unwrap();
        let other = Task::draw(&data, &demo_config(), LabelMode::Random, 8).unwrap();
        assert_eq!(t.train_y, again.train_y);
        assert_ne!(t.train_y, other.train_y);
        assert_eq!(t.train_y.iter().filter(|&&y| y == 1).count(), 500);
        let agree = t
            .train_y
            .iter()
            .zip(&t.train_y_true)
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            (400..600).contains(&agree),
            "a shuffle agrees with the truth about half the time: {agree}"
        );
        assert_eq!(
            t.test_y,
            Task::draw(&data, &demo_config(), LabelMode::True, 0)
                .unwrap()
                .test_y
        );
    }

    #[test]
    fn multiclass_and_bad_requests() {
        let data = embedded_mnist().unwrap();
        let cfg = TaskConfig {
            classes: Classes::default(),
            train_per_class: Some(10),
            test_per_class: Some(5),
            draw_seed: 0,
        };
        let t = Task::draw(&data, &cfg, LabelMode::True, 0).unwrap();
        assert_eq!((t.num_classes, t.train_len(), t.test_len()), (10, 100, 50));
        let cfg = TaskConfig {
            classes: Classes::List(vec![7, 2, 5]),
            ..cfg
        };
        let t = Task::draw(&data, &cfg, LabelMode::True, 0).unwrap();
        assert_eq!(t.classes, vec![7, 2, 5]);
        assert_eq!(t.train_y.iter().filter(|&&y| y == 0).count(), 10);
        let err = Task::draw(
            &data,
            &TaskConfig {
                train_per_class: Some(700),
                ..demo_config()
            },
            LabelMode::True,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("has 600 training images in mnist (embedded subset"),
            "{err}"
        );
        assert!(err.contains("asked for 700"), "{err}");
        let err = Task::draw(
            &data,
            &TaskConfig {
                classes: Classes::List(vec![3]),
                ..demo_config()
            },
            LabelMode::True,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("at least 2 classes"), "{err}");
        let err = Task::draw(
            &data,
            &TaskConfig {
                classes: Classes::List(vec![3, 11]),
                ..demo_config()
            },
            LabelMode::True,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("class 11 has no training images"), "{err}");
    }

    #[test]
    fn classes_parse_from_toml_as_a_list_or_all() {
        #[derive(Deserialize)]
        struct W {
            t: TaskConfig,
        }
        let w: W = toml::from_str("[t]\nclasses = [0, 1]\ntrain_per_class = 500").unwrap();
        assert_eq!(w.t.classes, Classes::List(vec![0, 1]));
        let w: W = toml::from_str("[t]\nclasses = \"all\"").unwrap();
        assert_eq!(w.t.classes, Classes::default());
        assert!(toml::from_str::<W>("[t]\nclases = [0, 1]").is_err());
    }
}
