//! End-to-end tests of the `runner` binary.

mod util;

mod align;
mod analysis;
mod robust;
mod run;
mod sweep;
