//! scikit-learn's digits (`digits.csv.gz`): 1797 rows of 64 pixel counts (0..16) and a label.

use std::path::Path;

use crate::DataError;
use crate::idx::read_maybe_gz;

/// Reads `digits.csv.gz` (or plain csv): returns pixels (n x 64, 0..16) and labels.
pub fn read_digits(path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let bytes = read_maybe_gz(path)?;
    let text = String::from_utf8(bytes).map_err(|_| DataError::Format {
        path: path.into(),
        message: "not text".into(),
    })?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != 65 {
            return Err(DataError::Format {
                path: path.into(),
                message: format!(
                    "line {}: expected 65 values (64 pixels + label), found {}",
                    i + 1,
                    fields.len()
                ),
            });
        }
        for (j, f) in fields.iter().enumerate() {
            let v: f64 = f.parse().map_err(|_| DataError::Format {
                path: path.into(),
                message: format!("line {}, column {}: '{f}' is not a number", i + 1, j + 1),
            })?;
            let max = if j == 64 { 9.0 } else { 16.0 };
            if !(0.0..=max).contains(&v) || v.fract() != 0.0 {
                return Err(DataError::Format {
                    path: path.into(),
                    message: format!(
                        "line {}, column {}: expected an integer in 0..={max}, found {v}",
                        i + 1,
                        j + 1
                    ),
                });
            }
            if j == 64 {
                labels.push(v as u8);
            } else {
                pixels.push(v as u8);
            }
        }
    }
    Ok((pixels, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_rejects_bad_ones() {
        let dir = std::env::temp_dir().join(format!("digits-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let row = |label: u8| {
            (0..64)
                .map(|i| (i % 17).to_string())
                .chain([label.to_string()])
                .collect::<Vec<_>>()
                .join(",")
        };
        let good = format!("{}\n{}\n", row(3), row(9));
        let path = dir.join("digits.csv.gz");
        std::fs::write(&path, crate::idx::tests::gz(good.as_bytes())).unwrap();
        let (px, lab) = read_digits(&path).unwrap();
        assert_eq!((px.len(), lab), (128, vec![3, 9]));
        std::fs::write(dir.join("bad.csv"), "1,2,3\n").unwrap();
        let err = read_digits(&dir.join("bad.csv")).unwrap_err().to_string();
        assert!(
            err.ends_with("bad.csv: line 1: expected 65 values (64 pixels + label), found 3"),
            "{err}"
        );
        std::fs::write(dir.join("big.csv"), row(12)).unwrap();
        let err = read_digits(&dir.join("big.csv")).unwrap_err().to_string();
        assert!(
            err.contains("column 65: expected an integer in 0..=9, found 12"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
