//! Reading user files: feature matrices and label vectors as `.npy` or `.csv`, and writing
//! results atomically.

pub mod npy;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

/// A row-major matrix read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads a 2-D feature matrix from `.npy` (2-D, C order) or `.csv` (numbers only, no header).
pub fn read_matrix(path: &Path) -> anyhow::Result<Matrix> {
    let shown = path.display();
    match extension(path).as_str() {
        "npy" => {
            let a = npy::read(path).with_context(|| format!("{shown}"))?;
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
                _ => bail!(
                    "{shown}: expected a 2-D array (rows x features), found shape {:?}",
                    a.shape
                ),
            }
        }
        "csv" => read_csv(path),
        other => bail!("{shown}: unsupported extension '{other}' (use .npy or .csv)"),
    }
}

/// Reads a label vector from `.npy` (1-D, or 2-D with one column) or `.csv` (one column).
pub fn read_vector(path: &Path) -> anyhow::Result<Vec<f64>> {
    let shown = path.display();
    let m = read_matrix(path)?;
    if m.cols != 1 {
        bail!(
            "{shown}: expected one column of labels, found {} rows x {} columns",
            m.rows,
            m.cols
        );
    }
    Ok(m.data)
}

fn read_csv(path: &Path) -> anyhow::Result<Matrix> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{shown}"))?;
    let mut data = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{shown}: line {}", i + 1))?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        match cols {
            None => cols = Some(record.len()),
            Some(c) if c != record.len() => {
                bail!(
                    "{shown}: line {} has {} values, line 1 has {c}",
                    i + 1,
                    record.len()
                )
            }
            _ => {}
        }
        for (j, field) in record.iter().enumerate() {
            let v: f64 = field.parse().map_err(|_| {
                anyhow::anyhow!(
                    "{shown}: line {}, column {}: '{field}' is not a number (CSV files hold numbers only, no header)",
                    i + 1,
                    j + 1
                )
            })?;
            data.push(v);
        }
        rows += 1;
    }
    let Some(cols) = cols else {
        bail!("{shown}: the file holds no rows");
    };
    Ok(Matrix { rows, cols, data })
}

/// Writes `contents` to `path` atomically: a temporary file in the same folder, then a rename,
/// so a reader never sees a half-written file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    // Unique across processes and hosts sharing a folder (shards of a cluster sweep).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing {}", path.display()))
}

/// Prints to stdout; a closed pipe (`runner ... | head`) ends the program quietly instead of
/// panicking.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}
