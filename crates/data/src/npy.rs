//! A reader for NumPy `.npy` files (format versions 1-3): 1-D or 2-D, C order, any of the
//! numeric dtypes numpy writes by default (`f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1`), either byte order.

use std::path::Path;

use crate::DataError;
pub use crate::error::NpyError;

/// A numeric array read from a `.npy` file, widened to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The array's shape (one or two dimensions for a feature file).
    pub shape: Vec<usize>,
    /// Values in C order.
    pub data: Vec<f64>,
    /// The dtype as written in the header (for messages), e.g. `<f4`.
    pub dtype: String,
}

/// Reads a `.npy` file.
pub fn read(path: &Path) -> Result<NpyArray, DataError> {
    let bytes = crate::read_regular(path, crate::MAX_FILE_BYTES)?;
    parse(&bytes).map_err(|source| DataError::Npy {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses the bytes of a `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::Magic {
            found: bytes[..bytes.len().min(6)].to_vec(),
        });
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(NpyError::Truncated {
                    what: "header length",
                    expected: 4,
                    found: bytes.len() - 8,
                });
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        _ => return Err(NpyError::Version { major, minor }),
    };
    if bytes.len() < start + header_len {
        return Err(NpyError::Truncated {
            what: "header",
            expected: header_len,
            found: bytes.len() - start,
        });
    }
    let header = std::str::from_utf8(&bytes[start..start + header_len])
        .map_err(|_| NpyError::Header("not valid text".into()))?;
    let descr = dict_value(header, "descr")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
    if dict_value(header, "fortran_order")?.trim() != "False" {
        return Err(NpyError::FortranOrder);
    }
    let shape = parse_shape(&dict_value(header, "shape")?)?;
    let (size, decode) = decoder(&descr)?;
    let body = &bytes[start + header_len..];
    // The declared size, checked: a header may claim more than any file holds.
    let declared = shape
        .iter()
        .try_fold(size, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} is too large to exist")))?;
    let count = declared / size;
    if body.len() < declared {
        return Err(NpyError::Truncated {
            what: "data",
            expected: declared,
            found: body.len(),
        });
    }
    if body.len() > declared {
        return Err(NpyError::Header(format!(
            "shape {shape:?} of {descr} declares {declared} bytes of data, the file holds {}",
            body.len()
        )));
    }
    let data = body[..count * size]
        .chunks_exact(size)
        .map(decode)
        .collect();
    Ok(NpyArray {
        shape,
        data,
        dtype: descr,
    })
}

type Decode = fn(&[u8]) -> f64;

fn decoder(descr: &str) -> Result<(usize, Decode), NpyError> {
    macro_rules! le_be {
        ($t:ty, $big:expr) => {{
            const N: usize = std::mem::size_of::<$t>();
            let f: Decode = if $big {
                |b| <$t>::from_be_bytes(b.try_into().expect("chunk of N bytes")) as f64
            } else {
                |b| <$t>::from_le_bytes(b.try_into().expect("chunk of N bytes")) as f64
            };
            (N, f)
        }};
    }
    let (order, kind) = descr.split_at(descr.len().min(1));
    let big = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return Err(NpyError::Dtype(descr.into())),
    };
    Ok(match kind {
        "f4" => le_be!(f32, big),
        "f8" => le_be!(f64, big),
        "i1" => le_be!(i8, big),
        "i2" => le_be!(i16, big),
        "i4" => le_be!(i32, big),
        "i8" => le_be!(i64, big),
        "u1" => le_be!(u8, big),
        "u2" => le_be!(u16, big),
        "u4" => le_be!(u32, big),
        "u8" => le_be!(u64, big),
        "b1" => (1, (|b: &[u8]| f64::from(b[0] != 0)) as Decode),
        _ => return Err(NpyError::Dtype(descr.into())),
    })
}

/// The text of `'key': value` in the header dict, up to the next top-level comma.
fn dict_value(header: &str, key: &str) -> Result<String, NpyError> {
    let pattern = format!("'{key}':");
    let at = header
        .find(&pattern)
        .ok_or_else(|| NpyError::Header(format!("no '{key}' in {header:?}")))?;
    let rest = &header[at + pattern.len()..];
    let mut depth = 0;
    let end = rest
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth == 0 && (c == ',' || c == '}')
        })
        .map(|(i, c)| if c == ')' { i + 1 } else { i })
        .unwrap_or(rest.len());
    Ok(rest[..end].trim().to_string())
}

fn parse_shape(text: &str) -> Result<Vec<usize>, NpyError> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| NpyError::Header(format!("shape {text:?} is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse()
                .map_err(|_| NpyError::Header(format!("shape {text:?} holds {s:?}")))
        })
        .collect()
}

/// Writes a 1-D or 2-D f64 array as `.npy` (version 1.0, little-endian f8).
#[cfg(test)]
pub fn to_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for v in data {
        out.extend(v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn round_trips_f64() {
        let data = vec![1.0, -2.5, 3.25, 0.0, 1e300, -7.0];
        let a = parse(&to_bytes(&[2, 3], &data)).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, data);
        let b = parse(&to_bytes(&[6], &data)).unwrap();
        assert_eq!(b.shape, vec![6]);
    }

    #[test]
    fn reads_every_numeric_dtype_and_byte_order() {
        let f4: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            parse(&with_header("<f4", "(2,)", &f4)).unwrap().data,
            vec![1.5, -2.0]
        );
        let f4be: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        assert_eq!(
            parse(&with_header(">f4", "(1, 2)", &f4be)).unwrap().data,
            vec![1.5, -2.0]
        );
        let i8s: Vec<u8> = [7i64, -3].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            parse(&with_header("<i8", "(2,)", &i8s)).unwrap().data,
            vec![7.0, -3.0]
        );
        assert_eq!(
            parse(&with_header("|u1", "(3,)", &[0, 1, 255]))
                .unwrap()
                .data,
            vec![0.0, 1.0, 255.0]
        );
        assert_eq!(
            parse(&with_header("|b1", "(2,)", &[0, 1])).unwrap().data,
            vec![0.0, 1.0]
        );
        let i4: Vec<u8> = [5i32].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            parse(&with_header("<i4", "(1,)", &i4)).unwrap().data,
            vec![5.0]
        );
    }

    /// Issue 13: a header whose shape product overflows was accepted (a labels file claiming
    /// 2^61 + 1797 entries with a 1797-value body gave a normal result); a body longer than the
    /// shape is an error too.
    #[test]
    fn shapes_that_overflow_or_disagree_with_the_body_are_errors() {
        let body: Vec<u8> = (0..1797u64)
            .flat_map(|i| (i as f64).to_le_bytes())
            .collect();
        let v = with_header("<f8", &format!("({},)", (1u64 << 61) + 1797), &body);
        let err = parse(&v).unwrap_err().to_string();
        assert!(err.contains("too large to exist"), "{err}");
        let v = with_header("|u1", &format!("({},)", (1u64 << 61) + 1797), &[0; 1797]);
        assert!(parse(&v).is_err());
        let v = with_header("<f8", "(3,)", &body[..32]);
        let err = parse(&v).unwrap_err().to_string();
        assert!(
            err.contains("declares 24 bytes of data, the file holds 32"),
            "{err}"
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(
            parse(b"PK\x03\x04 not npy"),
            Err(NpyError::Magic { .. })
        ));
        let mut v = to_bytes(&[2], &[1.0, 2.0]);
        v[6] = 9;
        assert!(matches!(parse(&v), Err(NpyError::Version { major: 9, .. })));
        let v = to_bytes(&[4], &[1.0, 2.0, 3.0, 4.0]);
        let err = parse(&v[..v.len() - 5]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "file ends early: the header says 32 bytes of data, found 27"
        );
        assert!(matches!(
            parse(&with_header("<c16", "(1,)", &[0; 16])),
            Err(NpyError::Dtype(_))
        ));
        let fortran = b"{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }\n";
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend((fortran.len() as u16).to_le_bytes());
        v.extend(fortran);
        v.extend([0u8; 8]);
        assert!(matches!(parse(&v), Err(NpyError::FortranOrder)));
    }
}
