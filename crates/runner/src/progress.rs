//! Progress on stderr: indicatif bars on a terminal (one for the sweep, one per run in flight),
//! plain lines otherwise (logs, CI, Slurm output files).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use repalign_train::EpochStats;

/// Progress of a whole invocation: `total` runs, some of them in parallel.
pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    state: Mutex<State>,
    total: usize,
    start: Instant,
}

struct State {
    done: usize,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        let multi = std::io::stderr().is_terminal().then(MultiProgress::new);
        let overall = multi.as_ref().filter(|_| total > 1).map(|m| {
            let bar = m.add(ProgressBar::new(total as u64));
            bar.set_style(
                ProgressStyle::with_template(
                    "sweep [{bar:30}] {pos}/{len} runs  {msg}  ({elapsed}, eta {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            multi,
            overall,
            state: Mutex::new(State { done: 0 }),
            total,
            start: Instant::now(),
        }
    }

    /// A bar (or plain lines, for a lone run) for one run's epochs.
    pub fn run(&self, label: &str, epochs: usize) -> EpochProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(epochs as u64));
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} epochs  {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        EpochProgress {
            bar,
            label: label.to_string(),
            epochs,
            every: (epochs / 10).max(1),
            lines: self.total == 1,
            estimate: self.total <= 8,
            start: Instant::now(),
        }
    }

    /// Records a finished run with a one-line outcome.
    pub fn finished(&self, label: &str, outcome: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.done += 1;
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = elapsed / s.done as f64 * (self.total - s.done) as f64;
        match (&self.overall, &self.multi) {
            (Some(bar), Some(m)) => {
                bar.inc(1);
                let _ = m.println(format!("{label}: {outcome}"));
            }
            _ => eprintln!(
                "[{}/{}] {label}: {outcome}  (elapsed {}, eta {})",
                s.done,
                self.total,
                clock(elapsed),
                clock(eta)
            ),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.overall {
            bar.finish_and_clear();
        }
    }
}

/// `1h 02m 03s`, `4m 05s` or `6.1s`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{seconds:.1}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60),
    }
}

/// Progress of one run's epochs.
pub struct EpochProgress {
    bar: Option<ProgressBar>,
    label: String,
    epochs: usize,
    every: usize,
    /// Plain epoch lines (a lone run without a terminal).
    lines: bool,
    /// The time the whole run will take at the first epoch's pace (small sweeps without a
    /// terminal, where long runs such as the deep CNN would otherwise say nothing for minutes).
    estimate: bool,
    start: Instant,
}

impl EpochProgress {
    pub fn epoch(&mut self, s: &EpochStats) {
        let msg = format!("loss {:.4}  acc {:.4}", s.loss, s.train_acc);
        match &self.bar {
            Some(bar) => {
                bar.set_position(s.epoch as u64);
                bar.set_message(msg);
            }
            None if (self.lines || self.estimate) && s.epoch == 1 && self.epochs > 1 => {
                let t = self.start.elapsed().as_secs_f64();
                eprintln!(
                    "{}: epoch 1/{}  {msg}  ({t:.1} s; at most {} for all epochs at this pace)",
                    self.label,
                    self.epochs,
                    clock(t * self.epochs as f64)
                );
            }
            None if self.lines && s.epoch.is_multiple_of(self.every) => {
                eprintln!(
                    "{}: epoch {}/{}  {msg}  ({:.1} s)",
                    self.label,
                    s.epoch,
                    self.epochs,
                    self.start.elapsed().as_secs_f64()
                );
            }
            None => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
