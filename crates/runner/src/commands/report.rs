//! `runner report DIR`: rebuild summary.csv, table.md and the plots from the runs in DIR.

use std::process::ExitCode;

use crate::cli::{Format, ReportArgs};
use crate::report;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let r = crate::run_folder::read_all(&args.dir)?;
    if r.runs.is_empty() {
        anyhow::bail!(
            "{}: no runs found (folders with a result.json)",
            args.dir.display()
        );
    }
    report::write(&args.dir, &r)?;
    match args.format {
        Format::Md => crate::io::emit(&r.markdown())?,
        Format::Csv => crate::io::emit(&r.csv_tables())?,
        Format::Latex => crate::io::emit(&r.latex())?,
    }
    eprintln!(
        "{} runs; wrote summary.csv, table.md and plots in {}",
        r.runs.len(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
