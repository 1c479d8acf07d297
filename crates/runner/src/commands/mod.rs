//! One file per subcommand.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod align;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Align(args) => align::run(&args),
    }
}
