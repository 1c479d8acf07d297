//! Command-line flags. Raw flags become a validated plan in each command before work starts.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Representation alignment: measure how the top singular directions of a representation line
/// up with its labels, train networks and sweep over them.
#[derive(Debug, Parser)]
#[command(name = "runner", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure the alignment of a feature matrix with its labels.
    Align(AlignArgs),
    /// Train and measure the runs of an experiment file (TOML), resuming where it stopped.
    Run(RunArgs),
    /// Rebuild summary.csv, the tables and the plots from the runs in a results folder.
    Report(ReportArgs),
    /// Classify images with a pretrained network (checks that its weights loaded right).
    Predict(PredictArgs),
}

/// Pretrained networks `runner predict` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PretrainedModel {
    /// EfficientNet-Lite0, ImageNet's 1000 classes (weights: scripts/fetch-data.sh).
    #[value(name = "efficientnet-lite0")]
    EfficientNetLite0,
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// The network.
    #[arg(long, default_value = "efficientnet-lite0")]
    pub model: PretrainedModel,
    /// Its weights, e.g. data/efficientnet-lite0/efficientnet-lite0-57934424.pth.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Print one JSON list: `{"image", "top5", "logits"}` per image.
    #[arg(long)]
    pub json: bool,
    /// Compute backend [default: flex, when compiled in].
    #[arg(long)]
    pub backend: Option<crate::backend::Backend>,
    /// PNG or JPEG files; 224 x 224 images are used as they are, others centre-cropped and
    /// resized.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Experiment file, e.g. experiments/demo.toml.
    pub file: PathBuf,
    /// Results folder [default: runs/<experiment name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Data folder (see scripts/fetch-data.sh) [default: data/, else the embedded MNIST subset].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Compute backend [default: flex, the fastest CPU backend, when compiled in].
    #[arg(long)]
    pub backend: Option<crate::backend::Backend>,
    /// Training runs in parallel [default: the number of cores, at most the runs to do].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Compute threads of each job [default: the number of cores divided by the jobs, at least 1].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run only the K-th (1-based) of N disjoint slices of the grid, e.g. 3/8.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// List the runs that would execute and those already done, and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Save a checkpoint at the end of an epoch once this many seconds have passed since the
    /// last one (0: every epoch); a run killed midway resumes from its last checkpoint.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    pub checkpoint_every: f64,
}

/// A number of seconds: finite and not negative.
fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}': expected a number of seconds >= 0, e.g. 60")),
    }
}

/// `K/N`: the K-th of N slices, 1 <= K <= N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl Shard {
    /// Whether run `index` (0-based, in grid order) belongs to this slice: index mod N = K - 1.
    pub fn contains(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}': expected K/N with 1 <= K <= N, e.g. 2/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Md,
    Csv,
    Latex,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results folder written by `runner run` (or many shards writing to one folder).
    pub dir: PathBuf,
    /// Table format printed on stdout (table.md is always written).
    #[arg(long, default_value = "md")]
    pub format: Format,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_the_grid() {
        for n in 1..=7 {
            let shards: Vec<Shard> = (1..=n)
                .map(|k| format!("{k}/{n}").parse().unwrap())
                .collect();
            for index in 0..50 {
                assert_eq!(
                    shards.iter().filter(|s| s.contains(index)).count(),
                    1,
                    "run {index} with {n} shards"
                );
            }
        }
        for bad in ["0/3", "4/3", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    Binary,
    Multiclass,
    Regression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GridArg {
    /// 101 thresholds t = tau / sqrt(n) in [0, 1].
    Normalized,
    /// 62 thresholds tau in [0, 30] (the authors' demo grid, made for n = 1000).
    Demo,
}

#[derive(Debug, clap::Args)]
pub struct AlignArgs {
    /// Feature matrix: .npy (f32/f64/int, 2-D, C order) or .csv (numbers only, no header).
    #[arg(long, value_name = "FILE")]
    pub features: PathBuf,
    /// Labels: .npy (1-D) or .csv (one column), one per row of the features.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Kind of target [default: binary for 2 distinct values, multiclass for up to 1000
    /// distinct integers].
    #[arg(long)]
    pub task: Option<TaskArg>,
    /// Threshold grid of the reported curve.
    #[arg(long, default_value = "normalized")]
    pub grid: GridArg,
    /// Do not append the constant 1 column.
    #[arg(long)]
    pub no_bias_column: bool,
    /// Do not scale rows to unit norm.
    #[arg(long)]
    pub no_row_normalize: bool,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write alignment.json and curve.csv to this folder (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the Gram is accumulated: cpu (f64, exact) or wgpu (the GPU kernel, f32 with
    /// compensated sums); the eigendecomposition is f64 on the host either way [default: cpu].
    #[arg(long)]
    pub backend: Option<crate::backend::Backend>,
}
