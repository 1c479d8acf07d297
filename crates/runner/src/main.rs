//! `runner`: the command-line entry point. Parses flags and hands them to [`run`].

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod io;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
