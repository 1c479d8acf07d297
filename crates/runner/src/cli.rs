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
}
