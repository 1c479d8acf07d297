//! Named datasets, loaded from a data folder or from the subset embedded in the binary.
//!
//! Layout of a data folder (what `scripts/fetch-data.sh DIR` produces):
//! - `DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte`
//! - `DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`
//! - `DIR/digits/digits.csv.gz` (1797 images; the last 297 are the test split)
//! - `DIR/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::idx::{
    gunzip_if_needed, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels,
};
use crate::{DataError, read_cifar10_batch, read_digits};

/// The image datasets the loaders read (the synthetic teacher problem is generated, see
/// [`crate::Teacher`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// MNIST handwritten digits: 28 x 28 grey, 10 classes, 60000 train + 10000 test.
    Mnist,
    /// Fashion-MNIST clothing images: 28 x 28 grey, 10 classes, 60000 train + 10000 test.
    FashionMnist,
    /// scikit-learn digits: 8 x 8 grey with values 0..=16, 10 classes, 1500 train + 297 test.
    Digits,
    /// CIFAR-10: 3 x 32 x 32 colour, 10 classes, 50000 train + 10000 test.
    Cifar10,
}

impl DatasetName {
    /// The kebab-case name used in config files and messages, e.g. `"fashion-mnist"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Digits => "digits",
            DatasetName::Cifar10 => "cifar10",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a dataset's images came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The subset embedded in the binary from `assets/`.
    Embedded,
    /// Files under this folder.
    Files(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Embedded => f.write_str(
                "embedded subset (assets/mnist-subset: 600 train + 100 test images per class)",
            ),
            Source::Files(dir) => write!(f, "files in {}", dir.display()),
        }
    }
}

/// Images (u8, row-major `n x (c h w)`) and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Raw pixel bytes, `len() * c * h * w` of them, image after image.
    pub pixels: Vec<u8>,
    /// Original class id of each image (0..=9 for every dataset here).
    pub labels: Vec<u8>,
}

impl Split {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Which dataset this is.
    pub name: DatasetName,
    /// Where its images were read from (files or the embedded subset).
    pub source: Source,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Largest pixel value (255, or 16 for digits): pixels are divided by it.
    pub max_pixel: f32,
    /// The training split.
    pub train: Split,
    /// The test split.
    pub test: Split,
}

impl Dataset {
    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }
}

const EMBEDDED_TRAIN_IMAGES: &[u8] =
    include_bytes!("../../../assets/mnist-subset/train-images-idx3-ubyte.gz");
const EMBEDDED_TRAIN_LABELS: &[u8] =
    include_bytes!("../../../assets/mnist-subset/train-labels-idx1-ubyte.gz");
const EMBEDDED_TEST_IMAGES: &[u8] =
    include_bytes!("../../../assets/mnist-subset/t10k-images-idx3-ubyte.gz");
const EMBEDDED_TEST_LABELS: &[u8] =
    include_bytes!("../../../assets/mnist-subset/t10k-labels-idx1-ubyte.gz");

fn idx_split(images: &Path, labels: &Path) -> Result<(Split, [usize; 3]), DataError> {
    let im = read_idx_images(images)?;
    let lab = read_idx_labels(labels)?;
    check_counts(images, im.n, labels, lab.len())?;
    Ok((
        Split {
            pixels: im.pixels,
            labels: lab,
        },
        [1, im.rows, im.cols],
    ))
}

fn check_counts(
    images: &Path,
    n_images: usize,
    labels: &Path,
    n_labels: usize,
) -> Result<(), DataError> {
    if n_images != n_labels {
        return Err(DataError::CountMismatch {
            images: images.into(),
            n_images,
            labels: labels.into(),
            n_labels,
        });
    }
    Ok(())
}

/// The MNIST subset embedded from `assets/mnist-subset`.
pub fn embedded_mnist() -> Result<Dataset, DataError> {
    let split =
        |images: &[u8], labels: &[u8], name: &str| -> Result<(Split, [usize; 3]), DataError> {
            let ip = PathBuf::from(format!("<embedded>/{name}-images-idx3-ubyte.gz"));
            let lp = PathBuf::from(format!("<embedded>/{name}-labels-idx1-ubyte.gz"));
            let im = parse_idx_images(&ip, &gunzip_if_needed(&ip, images.to_vec())?)?;
            let lab = parse_idx_labels(&lp, &gunzip_if_needed(&lp, labels.to_vec())?)?;
            check_counts(&ip, im.n, &lp, lab.len())?;
            Ok((
                Split {
                    pixels: im.pixels,
                    labels: lab,
                },
                [1, im.rows, im.cols],
            ))
        };
    let (train, shape) = split(EMBEDDED_TRAIN_IMAGES, EMBEDDED_TRAIN_LABELS, "train")?;
    let (test, _) = split(EMBEDDED_TEST_IMAGES, EMBEDDED_TEST_LABELS, "t10k")?;
    Ok(Dataset {
        name: DatasetName::Mnist,
        source: Source::Embedded,
        shape,
        max_pixel: 255.0,
        train,
        test,
    })
}

/// The first file of a dataset's layout under `dir`; its absence means "not fetched".
fn marker(name: DatasetName, dir: &Path) -> PathBuf {
    match name {
        DatasetName::Mnist => dir.join("mnist/train-images-idx3-ubyte"),
        DatasetName::FashionMnist => dir.join("fashion-mnist/train-images-idx3-ubyte.gz"),
        DatasetName::Digits => dir.join("digits/digits.csv.gz"),
        DatasetName::Cifar10 => dir.join("cifar-10-batches-bin/data_batch_1.bin"),
    }
}

/// Loads `name` from `dir`. When the files are not there and `embedded_fallback` is set, MNIST
/// comes from the embedded subset (check [`Dataset::source`]); other datasets are an error that
/// names the fetch command.
pub fn load(name: DatasetName, dir: &Path, embedded_fallback: bool) -> Result<Dataset, DataError> {
    let first = marker(name, dir);
    if !first.exists() {
        if embedded_fallback && name == DatasetName::Mnist {
            return embedded_mnist();
        }
        if embedded_fallback {
            return Err(DataError::NotEmbedded {
                name: name.as_str(),
            });
        }
        return Err(DataError::Missing {
            name: name.as_str(),
            dir: dir.into(),
            missing: first,
        });
    }
    let source = Source::Files(dir.into());
    match name {
        DatasetName::Mnist | DatasetName::FashionMnist => {
            let (sub, ext) = if name == DatasetName::Mnist {
                ("mnist", "")
            } else {
                ("fashion-mnist", ".gz")
            };
            let d = dir.join(sub);
            let f = |s: &str| d.join(format!("{s}{ext}"));
            let (train, shape) =
                idx_split(&f("train-images-idx3-ubyte"), &f("train-labels-idx1-ubyte"))?;
            let (test, _) = idx_split(&f("t10k-images-idx3-ubyte"), &f("t10k-labels-idx1-ubyte"))?;
            Ok(Dataset {
                name,
                source,
                shape,
                max_pixel: 255.0,
                train,
                test,
            })
        }
        DatasetName::Digits => {
            let (pixels, labels) = read_digits(&first)?;
            let n_train = labels.len().saturating_sub(297);
            Ok(Dataset {
                name,
                source,
                shape: [1, 8, 8],
                max_pixel: 16.0,
                train: Split {
                    pixels: pixels[..n_train * 64].to_vec(),
                    labels: labels[..n_train].to_vec(),
                },
                test: Split {
                    pixels: pixels[n_train * 64..].to_vec(),
                    labels: labels[n_train..].to_vec(),
                },
            })
        }
        DatasetName::Cifar10 => {
            let d = dir.join("cifar-10-batches-bin");
            let mut train = Split {
                pixels: vec![],
                labels: vec![],
            };
            for i in 1..=5 {
                let (p, l) = read_cifar10_batch(&d.join(format!("data_batch_{i}.bin")))?;
                train.pixels.extend(p);
                train.labels.extend(l);
            }
            let (p, l) = read_cifar10_batch(&d.join("test_batch.bin"))?;
            Ok(Dataset {
                name,
                source,
                shape: [3, 32, 32],
                max_pixel: 255.0,
                train,
                test: Split {
                    pixels: p,
                    labels: l,
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_subset_has_600_and_100_of_every_class() {
        let d = embedded_mnist().unwrap();
        assert_eq!(d.source, Source::Embedded);
        assert_eq!(d.shape, [1, 28, 28]);
        assert_eq!((d.train.len(), d.test.len()), (6000, 1000));
        assert_eq!(d.train.pixels.len(), 6000 * 784);
        for c in 0..10u8 {
            assert_eq!(d.train.labels.iter().filter(|&&l| l == c).count(), 600);
            assert_eq!(d.test.labels.iter().filter(|&&l| l == c).count(), 100);
        }
    }

    #[test]
    fn missing_data_names_the_fetch_command_or_falls_back() {
        let dir = Path::new("/nonexistent-data-dir");
        let err = load(DatasetName::FashionMnist, dir, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fashion-mnist not found in /nonexistent-data-dir"),
            "{err}"
        );
        assert!(err.contains("scripts/fetch-data.sh"), "{err}");
        assert_eq!(
            load(DatasetName::Mnist, dir, true).unwrap().source,
            Source::Embedded
        );
        let err = load(DatasetName::Cifar10, dir, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cifar10 is not embedded"), "{err}");
    }

    #[test]
    fn loads_an_mnist_layout_from_files_and_checks_counts() {
        use crate::idx::tests::{gz, images_bytes, labels_bytes};
        let dir = std::env::temp_dir().join(format!("dataset-test-{}", std::process::id()));
        let m = dir.join("mnist");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("train-images-idx3-ubyte"), images_bytes(4, 28, 28)).unwrap();
        std::fs::write(
            m.join("train-labels-idx1-ubyte"),
            labels_bytes(&[0, 1, 0, 1]),
        )
        .unwrap();
        std::fs::write(
            m.join("t10k-images-idx3-ubyte"),
            gz(&images_bytes(2, 28, 28)),
        )
        .unwrap();
        std::fs::write(m.join("t10k-labels-idx1-ubyte"), labels_bytes(&[1, 0, 1])).unwrap();
        let err = load(DatasetName::Mnist, &dir, true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has 2 images but") && err.contains("has 3 labels"),
            "{err}"
        );
        std::fs::write(m.join("t10k-labels-idx1-ubyte"), labels_bytes(&[1, 0])).unwrap();
        let d = load(DatasetName::Mnist, &dir, true).unwrap();
        assert_eq!(d.source, Source::Files(dir.clone()));
        assert_eq!((d.train.len(), d.test.len()), (4, 2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
