//! The CIFAR-10 binary format: records of 1 label byte then 3072 pixel bytes (32 x 32, channel
//! planes R, G, B). Files `data_batch_1.bin` .. `data_batch_5.bin` and `test_batch.bin`.

use std::path::Path;

use crate::DataError;

/// Bytes per record: one label, 3 x 32 x 32 pixels.
pub const RECORD: usize = 1 + 3 * 32 * 32;

/// Reads one CIFAR-10 batch file: pixels (n x 3072, CHW) and labels.
pub fn read_cifar10_batch(path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let bytes = crate::read_regular(path, crate::MAX_FILE_BYTES)?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::Truncated {
            path: path.into(),
            what: format!("a whole number of {RECORD}-byte records"),
            expected: (bytes.len() / RECORD + 1) * RECORD,
            found: bytes.len(),
        });
    }
    let n = bytes.len() / RECORD;
    let mut pixels = Vec::with_capacity(n * (RECORD - 1));
    let mut labels = Vec::with_capacity(n);
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(DataError::Format {
                path: path.into(),
                message: format!("record {i}: expected a label in 0..=9, found {}", rec[0]),
            });
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok((pixels, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_generated_batches_and_rejects_bad_ones() {
        let dir = std::env::temp_dir().join(format!("cifar-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = Vec::new();
        for label in [3u8, 7, 0] {
            bytes.push(label);
            bytes.extend((0..3072).map(|i| ((i + label as usize) % 256) as u8));
        }
        std::fs::write(dir.join("data_batch_1.bin"), &bytes).unwrap();
        let (px, lab) = read_cifar10_batch(&dir.join("data_batch_1.bin")).unwrap();
        assert_eq!(lab, vec![3, 7, 0]);
        assert_eq!(px.len(), 3 * 3072);
        assert_eq!(px[3072], 7); // second record, first red pixel
        std::fs::write(dir.join("short.bin"), &bytes[..100]).unwrap();
        let err = read_cifar10_batch(&dir.join("short.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected 3073 bytes (a whole number of 3073-byte records), found 100"),
            "{err}"
        );
        bytes[0] = 12;
        std::fs::write(dir.join("bad.bin"), &bytes).unwrap();
        let err = read_cifar10_batch(&dir.join("bad.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("record 0: expected a label in 0..=9, found 12"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
