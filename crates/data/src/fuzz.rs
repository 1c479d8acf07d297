//! Property tests of the parsers: random bytes, and random mutations of valid files (bit flips,
//! byte changes, insertions, deletions, truncations, and header fields set to extreme values),
//! fed to every parser of user or dataset files. Each must return a value or an error, never
//! panic, hang or try to allocate what the bytes do not hold. Seeded, so a failure reproduces;
//! bounded, so CI stays fast.

use std::path::Path;

use crate::{Rng, npy, parse_csv};

/// Cases per parser and seed family.
const CASES: usize = 3000;

/// A mutation of `valid`: a few random edits, or a header field overwritten with an extreme
/// value.
fn mutate(valid: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = valid.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next_u64() as u8);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            4 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            5 if v.len() >= 16 => {
                // A 32-bit big-endian size field (idx headers) set to an extreme.
                let at = 4 * (1 + rng.below(3));
                let x: u32 = [0, 1, u32::MAX, 1 << 31, 0xFFFF][rng.below(5)];
                v[at..at + 4].copy_from_slice(&x.to_be_bytes());
            }
            _ => {
                // Digits spliced into the middle (shapes, sizes, numbers in text).
                let i = rng.below(v.len() + 1);
                for b in ["99999999999999999999", "-1", "1e400", "nan", ",", "\n"][rng.below(6)]
                    .bytes()
                    .rev()
                {
                    v.insert(i, b);
                }
            }
        }
    }
    v
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect()
}

fn idx_images() -> Vec<u8> {
    let mut v = Vec::new();
    for x in [2051u32, 3, 2, 2] {
        v.extend(x.to_be_bytes());
    }
    v.extend(0..12u8);
    v
}

fn idx_labels() -> Vec<u8> {
    let mut v = Vec::new();
    for x in [2049u32, 3] {
        v.extend(x.to_be_bytes());
    }
    v.extend([1, 2, 3]);
    v
}

/// Runs `parse` on random and mutated inputs; a panic fails the test with the input.
fn check(name: &str, valid: &[u8], parse: impl Fn(&[u8])) {
    let mut rng = Rng::derive(7, name);
    for case in 0..CASES {
        let input = if case % 4 == 0 {
            random_bytes(&mut rng)
        } else {
            mutate(valid, &mut rng)
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input)));
        assert!(caught.is_ok(), "{name}: case {case} panicked on {input:?}");
    }
}

#[test]
fn idx_parsers_never_panic() {
    let p = Path::new("fuzz.idx");
    check("idx images", &idx_images(), |b| {
        if let Ok(img) = crate::idx::parse_idx_images(p, b) {
            assert_eq!(img.pixels.len(), img.n * img.rows * img.cols);
        }
    });
    check("idx labels", &idx_labels(), |b| {
        let _ = crate::idx::parse_idx_labels(p, b);
    });
}

#[test]
fn npy_parser_never_panics_and_values_match_the_shape() {
    let valid = npy::to_bytes(&[2, 3], &[1.0, -2.0, 3.5, 0.0, 1e300, -7.0]);
    check("npy", &valid, |b| {
        if let Ok(a) = npy::parse(b) {
            assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
        }
    });
}

#[test]
fn csv_parser_never_panics_and_rows_are_whole() {
    let valid = b"1,2,3\n4.5,-6,7e3\n\n8,9,10\n";
    check("csv", valid, |b| {
        if let Ok(m) = parse_csv(Path::new("fuzz.csv"), b) {
            assert_eq!(m.data.len(), m.rows * m.cols);
        }
    });
}

#[test]
fn gzip_streams_never_panic() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&idx_labels()).unwrap();
    let gz = enc.finish().unwrap();
    check("gzip", &gz, |b| {
        if let Ok(raw) = crate::idx::gunzip_if_needed(Path::new("fuzz.gz"), b.to_vec()) {
            let _ = crate::idx::parse_idx_labels(Path::new("fuzz.gz"), &raw);
        }
    });
}
