//! The files of a run folder.

/// The run's config, its seed, backend, kernels and versions, written first.
pub const CONFIG: &str = "config.json";
/// Loss and training accuracy per epoch.
pub const METRICS: &str = "metrics.csv";
/// Every layer's alignment report.
pub const ALIGNMENT: &str = "alignment.json";
/// Every layer's summaries at every `measure_every`-th epoch.
pub const ALIGNMENT_HISTORY: &str = "alignment_history.csv";
/// How the run ended, written last: its presence marks the run complete.
pub const RESULT: &str = "result.json";
/// Learning speed: every step of every representation.
pub const SPEED_STEPS: &str = "learning_speed.csv";
/// Learning speed: one row per representation.
pub const SPEED_SUMMARY: &str = "learning_speed_summary.csv";
/// Transfer: one row per target.
pub const TRANSFER: &str = "transfer.csv";
/// Transfer: every layer on every target.
pub const TRANSFER_ALIGNMENT: &str = "transfer_alignment.csv";
/// Probes: one row per pair and layer.
pub const PROBES: &str = "probes.csv";
