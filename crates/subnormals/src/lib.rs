//! Subnormal floats flushed to zero on every thread that computes.
//!
//! An f32 below `1.2e-38` in magnitude is subnormal. On some x86 CPUs an arithmetic operation on
//! one costs far more than on a normal value: on one of this project's 2-core Intel machines a
//! multiply over 133k subnormal f32 values took 5.05 ns per element against 0.078 ns for normal
//! values (65x; `shared/SPEC.md` section 5). Adam's and RMSProp's moment estimates of
//! parameters whose gradient is exactly zero (dead ReLU units) shrink geometrically into that
//! range after a few hundred steps, and training then slows down as it goes. With flushing on,
//! such values become exactly 0; only magnitudes below `1.2e-38` change.
//!
//! - [`flush_this_thread`] switches it on for the calling thread (x86-64: MXCSR's FTZ and DAZ;
//!   aarch64: FPCR's FZ; elsewhere nothing, and [`Flush::Unsupported`] says so).
//! - [`pool`] builds a rayon pool whose workers switch it on as they start, and
//!   [`flush_global_pool`] does the same for rayon's global pool (which burn-flex, gemm and faer
//!   compute on unless a pool is installed). On Linux a new thread inherits the mode of the
//!   thread that creates it, but rayon's global pool may have been started by any thread, so
//!   the workers set it themselves.
//! - [`this_thread_flushes`] and [`subnormal_survives`] tell whether it is in force here.
//!
//! The one `unsafe` block of the workspace is the control-register access in `mode`.

mod mode;

/// Whether subnormals are flushed on the threads this crate set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Flushed to zero (inputs and results).
    On,
    /// Computed as usual, although this architecture could flush them.
    Off,
    /// This architecture has no supported way to flush; subnormals are computed as usual.
    Unsupported,
}

impl Flush {
    /// What a run's `config.json` records.
    pub fn describe(self) -> &'static str {
        match self {
            Flush::On if cfg!(target_arch = "x86_64") => {
                "flushed to zero on every compute thread (x86-64 MXCSR FTZ+DAZ)"
            }
            Flush::On => "flushed to zero on every compute thread (aarch64 FPCR.FZ)",
            Flush::Off => "not flushed",
            Flush::Unsupported => "not flushed (no supported control register on this CPU)",
        }
    }
}

/// Switches flushing on for the calling thread.
pub fn flush_this_thread() -> Flush {
    if mode::set() {
        Flush::On
    } else {
        Flush::Unsupported
    }
}

/// Whether the calling thread flushes subnormals, as its control register says.
pub fn this_thread_flushes() -> bool {
    mode::get()
}

/// The calling thread's mode.
pub fn current() -> Flush {
    match (mode::get(), mode::SUPPORTED) {
        (true, _) => Flush::On,
        (false, true) => Flush::Off,
        (false, false) => Flush::Unsupported,
    }
}

/// Whether a subnormal f32 times 1 is still nonzero on the calling thread: `false` when
/// subnormals are flushed. Computed at run time (the values pass through `black_box`).
pub fn subnormal_survives() -> bool {
    let tiny = std::hint::black_box(f32::from_bits(0x0001_16c2)); // 1e-40, subnormal
    tiny * std::hint::black_box(1.0_f32) != 0.0
}

/// A rayon pool of `threads` workers (0: rayon's default) that flush subnormals, each set as
/// the worker starts.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    builder(threads).build()
}

fn builder(threads: usize) -> rayon::ThreadPoolBuilder {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(|_| {
            mode::set();
        })
}

/// Flushes subnormals on the calling thread and on every worker of rayon's global pool. The
/// pool is built here with `threads` workers (0: rayon's default) when nothing has started it
/// yet; when something has, its size stays and each worker is switched over in place.
pub fn flush_global_pool(threads: usize) -> Flush {
    let flush = flush_this_thread();
    if builder(threads).build_global().is_err() {
        rayon::broadcast(|_| {
            mode::set();
        });
    }
    flush
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_flushes_only_once_switched_and_its_pool_workers_too() {
        // A fresh thread: the test harness's threads start with the default mode.
        std::thread::spawn(|| {
            if !mode::SUPPORTED {
                assert_eq!(flush_this_thread(), Flush::Unsupported);
                return;
            }
            assert!(!this_thread_flushes());
            assert!(subnormal_survives());
            assert_eq!(flush_this_thread(), Flush::On);
            assert!(this_thread_flushes());
            assert!(!subnormal_survives());
            // A thread started from here inherits it (Linux), and a pool's workers set it.
            assert!(std::thread::spawn(|| !subnormal_survives()).join().unwrap());
            let pool = pool(2).unwrap();
            let flushed = pool.broadcast(|_| this_thread_flushes() && !subnormal_survives());
            assert_eq!(flushed, vec![true, true]);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_pool_built_from_a_thread_that_does_not_flush_still_flushes() {
        std::thread::spawn(|| {
            let flushed = pool(3).unwrap().broadcast(|_| !subnormal_survives());
            assert_eq!(flushed, vec![mode::SUPPORTED; 3]);
            assert_eq!(
                pool(3).unwrap().install(|| !subnormal_survives()),
                mode::SUPPORTED
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn flushing_changes_nothing_above_the_subnormal_range() {
        fn arithmetic() -> Vec<f32> {
            let b = std::hint::black_box;
            let smallest = b(f32::MIN_POSITIVE);
            vec![
                smallest * b(1.0),
                b(0.1_f32) * b(3.0),
                b(1e-19_f32) * b(1e-18),
                b(2.0_f32).sqrt() / b(7.0),
            ]
        }
        let plain = std::thread::spawn(arithmetic).join().unwrap();
        let flushed = std::thread::spawn(|| {
            flush_this_thread();
            arithmetic()
        })
        .join()
        .unwrap();
        assert_eq!(plain, flushed);
        assert_eq!(plain[0], f32::MIN_POSITIVE);
    }
}
