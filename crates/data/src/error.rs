//! Errors that name the file and the expected vs found value.

use std::path::PathBuf;

use thiserror::Error;

/// Why a dataset file could not be read or a task could not be drawn.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An idx file does not start with the magic number of its kind (2051 images, 2049 labels).
    #[error("{path}: expected magic number {expected} ({what}), found {found}")]
    Magic {
        /// The file.
        path: PathBuf,
        /// The kind of file expected, e.g. `"idx3 images"`.
        what: &'static str,
        /// The magic number of that kind.
        expected: u32,
        /// The big-endian `u32` the file starts with.
        found: u32,
    },
    /// A file (after gunzip) is shorter than its header says, or a CIFAR-10 batch is not a
    /// whole number of records.
    #[error("{path}: truncated: expected {expected} bytes ({what}), found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What the expected bytes hold, e.g. `"header + 60000 labels"`.
        what: String,
        /// Bytes needed (at least this many for idx; the next whole record count for CIFAR-10).
        expected: usize,
        /// Bytes the file has.
        found: usize,
    },
    /// Content that does not parse: a corrupt gzip stream, a CIFAR-10 label above 9, or a bad
    /// row or value in the digits CSV.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (record or line), with the value found.
        message: String,
    },
    /// A `.npy` file that cannot be read as an array of numbers.
    #[error("{path}: {source}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: NpyError,
    },
    /// An image file and its label file hold different numbers of items.
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Images in it.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Labels in it.
        n_labels: usize,
    },
    /// The dataset's files are not in the data folder (and no embedded fallback was asked for).
    #[error(
        "dataset {name} not found in {dir} (looked for {missing}); fetch it with `just fetch-data {dir}` or `scripts/fetch-data.sh {dir}`"
    )]
    Missing {
        /// The dataset, as [`crate::DatasetName::as_str`] spells it.
        name: &'static str,
        /// The data folder searched.
        dir: PathBuf,
        /// The first file of the dataset's layout, which is absent.
        missing: PathBuf,
    },
    /// The dataset's files are absent and, with the embedded fallback on, the dataset is not
    /// MNIST (the only embedded one).
    #[error(
        "dataset {name} is not embedded: pass --data DIR with the fetched data (`scripts/fetch-data.sh DIR`)"
    )]
    NotEmbedded {
        /// The dataset, as [`crate::DatasetName::as_str`] spells it.
        name: &'static str,
    },
    /// A file, or a size its header declares, is larger than this tool reads.
    #[error("{path}: the {what} holds {bytes} bytes, more than the {max} this tool reads")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What is too large: `file`, `decompressed data`, `declared data`.
        what: String,
        /// Its size in bytes (for a declared size that overflows, `u64::MAX`).
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A task cannot be drawn: fewer than 2 classes, a class named twice, or a class with no
    /// images (or fewer than asked per class) in a split. The message names class and counts.
    #[error("task: {0}")]
    Task(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

/// What went wrong reading a `.npy` file. The caller adds the file name.
#[derive(Debug, Error)]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY`.
    #[error("not a .npy file: expected magic \\x93NUMPY, found {found:?}")]
    Magic {
        /// The first (up to six) bytes of the file.
        found: Vec<u8>,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)")]
    Version {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file is shorter than its header says.
    #[error("file ends early: the header says {expected} bytes of {what}, found {found}")]
    Truncated {
        /// What the missing bytes hold (`header`, `data`, ...).
        what: &'static str,
        /// Bytes the header announces.
        expected: usize,
        /// Bytes the file has.
        found: usize,
    },
    /// The header dictionary cannot be read (what is wrong, with the text found).
    #[error("header: {0}")]
    Header(String),
    /// A dtype other than the numeric ones numpy writes by default.
    #[error("unsupported dtype '{0}' (supported: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)")]
    Dtype(String),
    /// `fortran_order: True`.
    #[error("Fortran-order arrays are not supported: save with np.ascontiguousarray first")]
    FortranOrder,
}
