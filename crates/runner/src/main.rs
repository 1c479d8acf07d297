//! `runner`: the command-line entry point. Parses flags and hands them to [`run`].

use std::process::ExitCode;

use clap::Parser;

mod analysis;
mod backend;
mod cli;
mod commands;
mod experiment;
mod io;
mod job;
mod measure;
mod output;
mod progress;
mod report;
#[cfg(test)]
mod testing;

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
