//! Typed keys that group runs into table rows (architectures) and columns (optimizer, labels,
//! initialisation), with the labels a reader sees. Keys sort as the tables list them; labels
//! are derived from the keys and from what varies across the folder's runs.

use std::collections::BTreeMap;

use repalign_models::Init;

use crate::experiment::RunConfig;
use crate::run_folder::RunEntry;

/// A model family and depth: a table row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arch {
    pub kind: &'static str,
    pub activation: &'static str,
    pub depth: usize,
    /// `128`, `8-16`, or `8-16_fc128` for a CNN with dense layers.
    pub width: String,
}

/// An optimizer setting, a label mode and an initialisation: a table column. Networks measured
/// as built (`epochs = 0`) share one column, whatever their optimizer says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Column {
    /// Not trained (sorts after the trained columns).
    untrained: bool,
    /// SGD, Adam, RMSProp, in that order.
    rank: usize,
    optimizer: &'static str,
    lr_bits: u64,
    /// PyTorch's default first, then by name.
    init: (bool, String),
    random: bool,
}

/// How runs of one folder are told apart, which decides the labels.
pub struct Axes {
    /// Every run has the same kind, activation and width: rows say only `depth d`.
    one_family: bool,
    /// Optimizers run with several learning rates: their columns name the rate.
    many_lrs: Vec<&'static str>,
    /// Several initialisations: columns name theirs.
    many_inits: bool,
}

fn optimizer_rank(name: &str) -> usize {
    match name {
        "sgd" => 0,
        "adam" => 1,
        "rmsprop" => 2,
        _ => 3,
    }
}

impl Axes {
    pub fn of(runs: &[RunEntry]) -> Axes {
        let family = |c: &RunConfig| {
            (
                c.model.kind(),
                c.model.activation().as_str(),
                c.model.width_label(),
            )
        };
        let one_family = runs
            .windows(2)
            .all(|w| family(&w[0].config) == family(&w[1].config));
        let mut lrs: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
        let mut inits: Vec<Init> = Vec::new();
        for r in runs {
            let v = lrs.entry(r.config.optimizer.name()).or_default();
            let lr = r.config.optimizer.lr().to_bits();
            if !v.contains(&lr) {
                v.push(lr);
            }
            let init = r.config.model.init_config();
            if !inits.contains(&init) {
                inits.push(init);
            }
        }
        Axes {
            one_family,
            many_lrs: lrs
                .into_iter()
                .filter(|(_, v)| v.len() > 1)
                .map(|(k, _)| k)
                .collect(),
            many_inits: inits.len() > 1,
        }
    }

    pub fn arch(&self, c: &RunConfig) -> Arch {
        Arch {
            kind: c.model.kind(),
            activation: c.model.activation().as_str(),
            depth: c.model.depth(),
            width: c.model.width_label(),
        }
    }

    /// `depth 3` when only the depth varies, else `mlp relu d3 w128` (`c` for channels).
    pub fn arch_label(&self, a: &Arch) -> String {
        if self.one_family {
            format!("depth {}", a.depth)
        } else {
            let w = if a.kind == "cnn" { "c" } else { "w" };
            format!("{} {} d{} {w}{}", a.kind, a.activation, a.depth, a.width)
        }
    }

    pub fn column(&self, c: &RunConfig) -> Column {
        let name = c.optimizer.name();
        let init = c.model.init_config();
        if c.train.epochs == 0 {
            return Column {
                untrained: true,
                rank: 0,
                optimizer: "",
                lr_bits: 0,
                init: (false, String::new()),
                random: false,
            };
        }
        Column {
            untrained: false,
            rank: optimizer_rank(name),
            optimizer: name,
            lr_bits: c.optimizer.lr().to_bits(),
            init: if self.many_inits {
                (init != Init::PYTORCH, init.label())
            } else {
                (false, String::new())
            },
            random: c.labels == repalign_data::LabelMode::Random,
        }
    }

    /// `adam true`, `sgd lr=0.01 random`, `adam random (he-uniform init)`, `not trained`.
    pub fn column_label(&self, k: &Column) -> String {
        if k.untrained {
            return "not trained".to_string();
        }
        let opt = if self.many_lrs.contains(&k.optimizer) {
            format!("{} lr={}", k.optimizer, f64::from_bits(k.lr_bits))
        } else {
            k.optimizer.to_string()
        };
        let labels = if k.random { "random" } else { "true" };
        let init = if self.many_inits {
            format!(" ({} init)", k.init.1)
        } else {
            String::new()
        };
        format!("{opt} {labels}{init}")
    }
}

/// The initialisations of the runs, in words, for the line every table carries.
pub fn init_note(runs: &[RunEntry]) -> String {
    let mut inits: Vec<Init> = Vec::new();
    for r in runs {
        let init = r.config.model.init_config();
        if !inits.contains(&init) {
            inits.push(init);
        }
    }
    // PyTorch's default first, then by name.
    inits.sort_by_key(|i| (*i != Init::PYTORCH, i.label()));
    let labels: Vec<String> = inits
        .into_iter()
        .map(|init| {
            if init == Init::PYTORCH {
                "pytorch (PyTorch's default: every weight and bias U(±1/sqrt(fan_in)))".to_string()
            } else if init == Init::HE_UNIFORM {
                "he-uniform (hidden weights U(±gain sqrt(3/fan_in)), gain sqrt(2) for ReLU; zero biases; PyTorch's default for the head)".to_string()
            } else {
                format!(
                    "{} (hidden weights {}, head {}, biases {})",
                    init.label(),
                    init.hidden.as_str(),
                    init.head.as_str(),
                    init.bias.as_str()
                )
            }
        })
        .collect();
    format!("Initialisation: {}.", labels.join("; "))
}

/// The number of classes of a run's task: the listed ones, or all 10 of the datasets this tool
/// reads (MNIST, Fashion-MNIST, digits, CIFAR-10; the teacher problem is binary).
pub fn classes(c: &RunConfig) -> usize {
    match (c.task.listed_classes(), c.data.images()) {
        (Some(n), _) => n,
        (None, Some(_)) => 10,
        (None, None) => 2,
    }
}

/// For tasks of three or more classes, what their auc means, for a table's title.
pub fn multiclass_note(classes: usize) -> String {
    format!(
        "{classes}-class task, centred one-vs-rest targets: a perfect code reaches about {:.2}; compare with other {classes}-class aucs, not with pair aucs",
        1.0 / ((classes - 1) as f64).sqrt()
    )
}
