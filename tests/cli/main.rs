//! End-to-end tests of the `runner` binary.

mod util;

mod align;
mod analysis;
mod docs;
mod layering;
mod robust;
mod run;
mod sweep;
