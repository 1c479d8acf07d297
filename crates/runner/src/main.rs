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
mod progress;
mod report;
mod run_folder;
#[cfg(test)]
mod testing;

fn main() -> ExitCode {
    // A panic is a bug: one line naming it, no backtrace. `runner run` records it as the run's
    // failure and goes on with the sweep.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error (a bug, please report it): {info}");
    }));
    // Subnormal f32 values cost up to ~100x a normal one on some x86 CPUs; this thread and
    // rayon's global pool flush them to zero (each job's own pool does too, see `commands::run`).
    repalign_subnormals::flush_global_pool(0);
    backend::configure_kernels();
    // The measure's numbers must not depend on --jobs or --threads (a sweep resumed on another
    // node, or re-run locally, gives the same summary.csv).
    repalign_alignment::single_threaded_linear_algebra();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
