//! The run folder, owned here: what each file is called, what it holds (the result and status
//! types, the analyses' rows), one writer and one reader. Everything else goes through this
//! module: a run (`crate::job`) and the analyses (`crate::analysis`) write, `crate::report` and
//! `runner run`'s resume read.
//!
//! A run's folder: `config.json` first, then `metrics.csv`, `alignment.json`, the analyses'
//! files and the plots, and `result.json` last. Every file is written atomically, so a run
//! killed at any moment leaves either a complete `result.json` or none (and is then redone).

pub mod names;
mod read;
mod result;
mod rows;
mod write;

pub use read::{Previous, RunEntry, Runs, previous, read_all};
pub use result::{ConfigRecord, RunResult, RunStatus, Versions};
pub use rows::{ALL_CLASSES, AlignmentRow, ProbeRow, StepRow, SummaryRow, TransferRow};
pub use write::{
    create, run_dir, write_alignment, write_alignment_history, write_json, write_metrics,
    write_rows,
};
