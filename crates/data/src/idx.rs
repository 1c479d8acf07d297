//! The idx format of MNIST and Fashion-MNIST: a big-endian header (magic 2051 for images,
//! 2049 for labels, then the sizes) followed by unsigned bytes. Files may be gzip-compressed
//! (recognised by their first two bytes, whatever the extension).

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::DataError;

/// Images in an idx file: `n` images of `rows x cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// The bytes of a file, gunzipped if it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = crate::read_regular(path, crate::MAX_FILE_BYTES)?;
    gunzip_if_needed(path, raw)
}

/// `raw`, gunzipped when it starts with the gzip magic (at most [`crate::MAX_FILE_BYTES`] of
/// output: a gzip bomb is an error, not the machine's memory).
pub(crate) fn gunzip_if_needed(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let max = crate::MAX_FILE_BYTES;
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| DataError::Format {
                path: path.into(),
                message: format!("corrupt gzip stream: {e}"),
            })?;
        if out.len() as u64 > max {
            return Err(DataError::TooLarge {
                path: path.into(),
                what: "decompressed data".into(),
                bytes: out.len() as u64,
                max,
            });
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn need(path: &Path, bytes: &[u8], expected: usize, what: &str) -> Result<(), DataError> {
    if bytes.len() < expected {
        return Err(DataError::Truncated {
            path: path.into(),
            what: what.to_string(),
            expected,
            found: bytes.len(),
        });
    }
    Ok(())
}

/// Parses idx image bytes read from `path` (the path is for messages).
pub fn parse_idx_images(path: &Path, bytes: &[u8]) -> Result<IdxImages, DataError> {
    need(path, bytes, 16, "idx image header")?;
    let magic = be_u32(bytes, 0);
    if magic != 2051 {
        return Err(DataError::Magic {
            path: path.into(),
            what: "idx3 images",
            expected: 2051,
            found: magic,
        });
    }
    let (n, rows, cols) = (
        be_u32(bytes, 4) as usize,
        be_u32(bytes, 8) as usize,
        be_u32(bytes, 12) as usize,
    );
    if n == 0 || rows == 0 || cols == 0 {
        return Err(DataError::Format {
            path: path.into(),
            message: format!("the header declares {n} images of {rows}x{cols}: nothing to read"),
        });
    }
    // Checked: a corrupt header may declare more bytes than any file holds (or a usize fits).
    let len = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .and_then(|v| v.checked_add(16))
        .ok_or_else(|| DataError::Format {
            path: path.into(),
            message: format!(
                "the header declares {n} images of {rows}x{cols}, more bytes than a file can hold"
            ),
        })?
        - 16;
    need(
        path,
        bytes,
        16 + len,
        &format!("header + {n} images of {rows}x{cols}"),
    )?;
    Ok(IdxImages {
        n,
        rows,
        cols,
        pixels: bytes[16..16 + len].to_vec(),
    })
}

/// Parses idx label bytes read from `path`.
pub fn parse_idx_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    need(path, bytes, 8, "idx label header")?;
    let magic = be_u32(bytes, 0);
    if magic != 2049 {
        return Err(DataError::Magic {
            path: path.into(),
            what: "idx1 labels",
            expected: 2049,
            found: magic,
        });
    }
    let n = be_u32(bytes, 4) as usize;
    need(path, bytes, 8 + n, &format!("header + {n} labels"))?;
    Ok(bytes[8..8 + n].to_vec())
}

/// Reads an idx image file (raw or gzip).
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    parse_idx_images(path, &read_maybe_gz(path)?)
}

/// Reads an idx label file (raw or gzip).
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_idx_labels(path, &read_maybe_gz(path)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    pub fn images_bytes(n: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [2051, n, rows, cols] {
            v.extend(x.to_be_bytes());
        }
        v.extend((0..n * rows * cols).map(|i| (i % 251) as u8));
        v
    }

    pub fn labels_bytes(labels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(2049u32.to_be_bytes());
        v.extend((labels.len() as u32).to_be_bytes());
        v.extend(labels);
        v
    }

    pub fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzip() {
        let dir = std::env::temp_dir().join(format!("idx-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = images_bytes(3, 2, 2);
        std::fs::write(dir.join("a-ubyte"), &raw).unwrap();
        std::fs::write(dir.join("a-ubyte.gz"), gz(&raw)).unwrap();
        let a = read_idx_images(&dir.join("a-ubyte")).unwrap();
        let b = read_idx_images(&dir.join("a-ubyte.gz")).unwrap();
        assert_eq!(a, b);
        assert_eq!((a.n, a.rows, a.cols, a.pixels.len()), (3, 2, 2, 12));
        std::fs::write(dir.join("l.gz"), gz(&labels_bytes(&[1, 2, 3]))).unwrap();
        assert_eq!(read_idx_labels(&dir.join("l.gz")).unwrap(), vec![1, 2, 3]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Issue 13: a header whose n x rows x cols overflows passed the size check (the product
    /// wrapped) and the loader then asked for petabytes; images of 0 x 0 pixels reached a
    /// matmul and panicked there.
    #[test]
    fn overflowing_and_empty_headers_are_errors() {
        let p = Path::new("x-ubyte");
        let mut v = Vec::new();
        for x in [2051u32, u32::MAX, u32::MAX, u32::MAX] {
            v.extend(x.to_be_bytes());
        }
        v.extend([0u8; 64]);
        let err = parse_idx_images(p, &v).unwrap_err().to_string();
        assert!(err.contains("more bytes than a file can hold"), "{err}");
        // A product that fits but exceeds the file: truncated, named.
        let mut v = images_bytes(3, 2, 2);
        v[4..8].copy_from_slice(&(1u32 << 30).to_be_bytes());
        let err = parse_idx_images(p, &v).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        let err = parse_idx_images(p, &images_bytes(5, 0, 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("5 images of 0x0: nothing to read"), "{err}");
    }

    /// Issue 13: a FIFO given as a data file blocked forever, `/dev/zero` was read up to 4 GB.
    #[test]
    fn only_regular_files_are_read() {
        let err = read_idx_images(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let dir = std::env::temp_dir().join(format!("idx-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let err = read_idx_labels(&fifo).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        let err = read_idx_labels(&dir).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_files_name_expected_and_found() {
        let p = Path::new("train-images-idx3-ubyte");
        let err = parse_idx_images(p, &labels_bytes(&[0; 20]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "train-images-idx3-ubyte: expected magic number 2051 (idx3 images), found 2049"
        );
        let raw = images_bytes(4, 3, 3);
        let err = parse_idx_images(p, &raw[..raw.len() - 1])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "train-images-idx3-ubyte: truncated: expected 52 bytes (header + 4 images of 3x3), found 51"
        );
        let err = parse_idx_labels(Path::new("l"), &[0, 0])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected 8 bytes (idx label header), found 2"),
            "{err}"
        );
        let err = parse_idx_labels(Path::new("l"), &images_bytes(1, 1, 1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected magic number 2049 (idx1 labels), found 2051"),
            "{err}"
        );
        let bad_gz = vec![0x1f, 0x8b, 1, 2, 3];
        let err = gunzip_if_needed(Path::new("x.gz"), bad_gz)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.gz: corrupt gzip stream"), "{err}");
        let err = read_idx_images(Path::new("/nonexistent/t10k"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/nonexistent/t10k: "), "{err}");
    }
}
