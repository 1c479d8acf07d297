//! One file per subcommand.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod align;
pub mod predict;
mod report;
pub mod run;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Align(args) => align::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Predict(args) => predict::run(&args),
    }
}
