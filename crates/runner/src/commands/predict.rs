//! `runner predict`: a pretrained network's classes for image files, the way a user checks that
//! its weights loaded right.

use std::path::Path;

use anyhow::Context;
use burn::tensor::{Device, Tensor, TensorData};
use image::imageops::FilterType;
use repalign_models::{EfficientNetConfig, ImageNet, Weights};
use serde::Serialize;

use crate::backend::Backend;
use crate::cli::PredictArgs;
use crate::io::emit;

/// The side of the images EfficientNet-Lite0 was trained on.
pub const SIDE: usize = 224;

/// One image's prediction (`--json`).
#[derive(Debug, Serialize)]
struct Prediction {
    image: String,
    top5: Vec<usize>,
    logits: Vec<f32>,
}

/// Reads an image as RGB pixels in [0, 1], `[3, SIDE, SIDE]` row-major. An image of SIDE x SIDE
/// is used as it is; any other is cropped to the centred square of 224/256 of its short side
/// and resized (bilinear) to SIDE x SIDE, as ImageNet evaluation does.
pub fn load_image(path: &Path) -> anyhow::Result<Vec<f32>> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("{}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("{}", path.display()))?
        .decode()
        .with_context(|| {
            format!(
                "{}: not a PNG or JPEG image this tool can read",
                path.display()
            )
        })?
        .to_rgb8();
    let (w, h) = img.dimensions();
    let img = if (w as usize, h as usize) == (SIDE, SIDE) {
        img
    } else {
        let crop = ((w.min(h) as u64 * 224 / 256) as u32).max(1);
        let sub = image::imageops::crop_imm(&img, (w - crop) / 2, (h - crop) / 2, crop, crop);
        image::imageops::resize(
            &sub.to_image(),
            SIDE as u32,
            SIDE as u32,
            FilterType::Triangle,
        )
    };
    Ok(planes(&img))
}

/// An RGB image of SIDE x SIDE as three planes of pixels in [0, 1], `[3, SIDE, SIDE]`.
fn planes(img: &image::RgbImage) -> Vec<f32> {
    let mut out = vec![0f32; 3 * SIDE * SIDE];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            out[c * SIDE * SIDE + y as usize * SIDE + x as usize] = f32::from(p[c]) / 255.0;
        }
    }
    out
}

/// The network of `weights`, on `device`, for RGB images of SIDE x SIDE.
pub fn network(weights: &Path, device: &Device) -> anyhow::Result<ImageNet> {
    let config = EfficientNetConfig {
        weights: Weights::File(weights.to_path_buf()),
        resolution: SIDE,
    };
    Ok(config.init([3, SIDE, SIDE], 1000, device)?)
}

/// Indices of the `k` largest values, largest first.
fn top(values: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    idx.truncate(k);
    idx
}

pub fn run(args: &PredictArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.images.is_empty() {
        anyhow::bail!("name at least one image file");
    }
    let device = args
        .backend
        .unwrap_or_else(Backend::default_compiled)
        .device()?;
    let net = network(&args.weights, &device)?;
    let mut predictions = Vec::with_capacity(args.images.len());
    for chunk in args.images.chunks(16) {
        let mut pixels = Vec::with_capacity(chunk.len() * 3 * SIDE * SIDE);
        for path in chunk {
            pixels.extend(load_image(path)?);
        }
        let x = Tensor::<2>::from_data(
            TensorData::new(pixels, [chunk.len(), 3 * SIDE * SIDE]),
            &device,
        );
        let logits: Vec<f32> = net
            .logits(x)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for (path, l) in chunk.iter().zip(logits.chunks(1000)) {
            predictions.push(Prediction {
                image: path.display().to_string(),
                top5: top(l, 5),
                logits: l.to_vec(),
            });
        }
    }
    if args.json {
        emit(&format!("{}\n", serde_json::to_string(&predictions)?))?;
    } else {
        let mut text = String::new();
        for p in &predictions {
            let classes: Vec<String> = p.top5.iter().map(|c| c.to_string()).collect();
            text.push_str(&format!(
                "{}: top-5 classes {}\n",
                p.image,
                classes.join(" ")
            ));
        }
        emit(&text)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_and_images_are_cropped_then_resized() {
        assert_eq!(top(&[0.1, 3.0, -1.0, 2.0], 2), vec![1, 3]);
        let dir = std::env::temp_dir().join(format!("repalign-predict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A 320 x 256 image, red left half, blue right half: centre crop 224 of 256, resized.
        let img = image::RgbImage::from_fn(320, 256, |x, _| {
            if x < 160 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let path = dir.join("half.png");
        img.save(&path).unwrap();
        let v = load_image(&path).unwrap();
        assert_eq!(v.len(), 3 * SIDE * SIDE);
        // Row 0: left pixel red, right pixel blue; the crop is centred so each half is 112 wide.
        assert_eq!((v[0], v[2 * SIDE * SIDE]), (1.0, 0.0));
        assert_eq!((v[SIDE - 1], v[2 * SIDE * SIDE + SIDE - 1]), (0.0, 1.0));
        assert_eq!(v[110], 1.0);
        assert_eq!(v[2 * SIDE * SIDE + 113], 1.0);
        // A 224 x 224 image is read as it is.
        let img = image::RgbImage::from_fn(224, 224, |x, y| image::Rgb([x as u8, y as u8, 7]));
        img.save(dir.join("exact.png")).unwrap();
        let v = load_image(&dir.join("exact.png")).unwrap();
        assert_eq!(v[5 * SIDE + 9], 9.0 / 255.0);
        assert_eq!(v[SIDE * SIDE + 5 * SIDE + 9], 5.0 / 255.0);
        let err = load_image(&dir.join("missing.png")).unwrap_err();
        assert!(format!("{err:#}").contains("missing.png"), "{err:#}");
        std::fs::write(dir.join("junk.jpg"), b"not an image").unwrap();
        let err = load_image(&dir.join("junk.jpg")).unwrap_err();
        assert!(format!("{err:#}").contains("junk.jpg"), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `tests/fixtures/efficientnet/imagenet-reference.json` (`scripts/efficientnet.py
    /// reference`: PyTorch on the foolbox samples, each resized whole to 224 x 224, bicubic).
    #[derive(serde::Deserialize)]
    struct Reference {
        image: String,
        label: usize,
        top5: Vec<usize>,
        top5_logits: Vec<f32>,
    }

    /// The fetched data folder: `REPALIGN_DATA`, else `data/` at the top of the workspace.
    fn data_dir() -> std::path::PathBuf {
        std::env::var_os("REPALIGN_DATA").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"),
            Into::into,
        )
    }

    #[test]
    fn pretrained_weights_reproduce_pytorch_on_imagenet_samples() {
        let data = data_dir();
        let weights = data.join("efficientnet-lite0/efficientnet-lite0-57934424.pth");
        let images = data.join("imagenet-samples");
        if !weights.is_file() || !images.is_dir() {
            eprintln!(
                "skipped: {} or {} not found (scripts/fetch-data.sh {} fetches them)",
                weights.display(),
                images.display(),
                data.display()
            );
            return;
        }
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/efficientnet/imagenet-reference.json"),
        )
        .unwrap();
        let reference: Vec<Reference> = serde_json::from_str(&text).unwrap();
        assert_eq!(reference.len(), 20);
        let device = crate::testing::cpu();
        let net = network(&weights, &device).unwrap();
        let (mut same_top1, mut right, mut worst) = (0, 0, 0f32);
        for r in &reference {
            // As the reference: the whole image resized to 224 x 224, bicubic (no crop).
            let img = image::open(images.join(&r.image)).unwrap().to_rgb8();
            let img = image::imageops::resize(&img, 224, 224, FilterType::CatmullRom);
            let px = planes(&img);
            let x = Tensor::<2>::from_data(TensorData::new(px, [1, 3 * SIDE * SIDE]), &device);
            let logits: Vec<f32> = net.logits(x).into_data().try_to_vec::<f32>().unwrap();
            let ours = top(&logits, 5);
            same_top1 += usize::from(ours[0] == r.top5[0]);
            right += usize::from(ours[0] == r.label);
            // Our top class is among PyTorch's top 5, and PyTorch's top logit is ours to within
            // what two resize implementations move it.
            assert!(
                r.top5.contains(&ours[0]),
                "{}: ours {ours:?}, PyTorch {:?}",
                r.image,
                r.top5
            );
            worst = worst.max((logits[r.top5[0]] - r.top5_logits[0]).abs());
        }
        eprintln!(
            "top-1 as PyTorch's on {same_top1}/20, right on {right}/20 (PyTorch: {}/20); largest top logit difference {worst}",
            reference.iter().filter(|r| r.top5[0] == r.label).count()
        );
        assert!(
            same_top1 >= 19,
            "top-1 as PyTorch's on only {same_top1} of 20"
        );
        assert!(worst < 0.5, "top logits differ by {worst}");
    }
}
