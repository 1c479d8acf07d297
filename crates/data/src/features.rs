//! Feature matrices and label vectors from user files: NumPy `.npy` (see [`crate::npy`]) or CSV
//! (numbers only, no header), for measuring the alignment of any representation.

use std::path::Path;

use crate::{DataError, npy};

/// A row-major matrix read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows (samples).
    pub rows: usize,
    /// Columns (features).
    pub cols: usize,
    /// Values in row-major order, widened to f64.
    pub data: Vec<f64>,
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads a 2-D feature matrix from `.npy` (2-D, C order) or `.csv` (numbers only, no header).
pub fn read_matrix(path: &Path) -> Result<Matrix, DataError> {
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    match extension(path).as_str() {
        "npy" => {
            let a = npy::read(path)?;
            match a.shape[..] {
                [rows, cols] => Ok(Matrix {
                    rows,
                    cols,
                    data: a.data,
                }),
                [rows] => Ok(Matrix {
                    rows,
                    cols: 1,
                    data: a.data,
                }),
                _ => Err(format(format!(
                    "expected a 2-D array (rows x features), found shape {:?}",
                    a.shape
                ))),
            }
        }
        "csv" => read_csv(path),
        other => Err(format(format!(
            "unsupported extension '{other}' (use .npy or .csv)"
        ))),
    }
}

/// Reads a label vector from `.npy` (1-D, or 2-D with one column) or `.csv` (one column).
pub fn read_vector(path: &Path) -> Result<Vec<f64>, DataError> {
    let m = read_matrix(path)?;
    if m.cols != 1 {
        return Err(DataError::Format {
            path: path.to_path_buf(),
            message: format!(
                "expected one column of labels, found {} rows x {} columns",
                m.rows, m.cols
            ),
        });
    }
    Ok(m.data)
}

fn read_csv(path: &Path) -> Result<Matrix, DataError> {
    parse_csv(path, &crate::read_regular(path, crate::MAX_FILE_BYTES)?)
}

/// Parses the bytes of a CSV feature file read from `path` (the path is for messages).
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<Matrix, DataError> {
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut data = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format(format!("line {}: {e}", i + 1)))?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        match cols {
            None => cols = Some(record.len()),
            Some(c) if c != record.len() => {
                return Err(format(format!(
                    "line {} has {} values, line 1 has {c}",
                    i + 1,
                    record.len()
                )));
            }
            _ => {}
        }
        for (j, field) in record.iter().enumerate() {
            let v: f64 = field.parse().map_err(|_| {
                format(format!(
                    "line {}, column {}: '{field}' is not a number (CSV files hold numbers only, no header)",
                    i + 1,
                    j + 1
                ))
            })?;
            data.push(v);
        }
        rows += 1;
    }
    let Some(cols) = cols else {
        return Err(format("the file holds no rows".into()));
    };
    Ok(Matrix { rows, cols, data })
}
