//! Errors that name the file and the expected vs found value.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: expected magic number {expected} ({what}), found {found}")]
    Magic {
        path: PathBuf,
        what: &'static str,
        expected: u32,
        found: u32,
    },
    #[error("{path}: truncated: expected {expected} bytes ({what}), found {found}")]
    Truncated {
        path: PathBuf,
        what: String,
        expected: usize,
        found: usize,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        images: PathBuf,
        n_images: usize,
        labels: PathBuf,
        n_labels: usize,
    },
    #[error(
        "dataset {name} not found in {dir} (looked for {missing}); fetch it with `just fetch-data {dir}` or `scripts/fetch-data.sh {dir}`"
    )]
    Missing {
        name: &'static str,
        dir: PathBuf,
        missing: PathBuf,
    },
    #[error(
        "dataset {name} is not embedded: pass --data DIR with the fetched data (`scripts/fetch-data.sh DIR`)"
    )]
    NotEmbedded { name: &'static str },
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
