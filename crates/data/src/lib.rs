//! Datasets and tasks.
//!
//! - Loaders for MNIST and Fashion-MNIST idx files (raw or `.gz`), scikit-learn digits
//!   (`digits.csv.gz`) and the CIFAR-10 binary format, plus an MNIST subset embedded in the
//!   binary (from `assets/mnist-subset`) so that everything runs with nothing fetched.
//! - Tasks: binary (class a vs class b, k images per class drawn with a seed) or multi-class,
//!   pixels scaled to [0, 1] then `(x - 0.5) / 0.5`, and seeded **random labels**: a
//!   permutation of the task's labels (class balance kept), fixed for a run.
//!
//! This crate reads files but never prints; the runner reports which source was used.

#![warn(missing_docs)]

mod cifar;
mod dataset;
mod digits;
mod error;
mod features;
mod file;
mod idx;
pub mod npy;
mod rng;
mod synthetic;
mod task;

#[cfg(test)]
mod fuzz;

pub use cifar::read_cifar10_batch;
pub use dataset::{Dataset, DatasetName, Source, Split, embedded_mnist, load};
pub use digits::read_digits;
pub use error::DataError;
pub use features::{Matrix, parse_csv, read_matrix, read_vector};
pub use file::{MAX_FILE_BYTES, check_regular, read_regular};
pub use idx::{read_idx_images, read_idx_labels};
pub use rng::Rng;
pub use synthetic::{Teacher, TeacherConfig, blobs};
pub use task::{AllClasses, Classes, LabelMode, Task, TaskConfig, shuffle_labels};
