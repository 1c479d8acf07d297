//! Why a model config cannot be built.

use std::path::PathBuf;

use thiserror::Error;

/// A config that cannot be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A per-layer width (or channel) list whose length is not the depth.
    #[error("width lists {given} layers but depth is {depth}")]
    WidthLength {
        /// Widths listed.
        given: usize,
        /// Layers (or conv blocks) configured.
        depth: usize,
    },
    /// A hidden layer, conv block or CNN dense layer of width 0.
    #[error("a width of 0 in layer {layer}")]
    ZeroWidth {
        /// The offending layer, counted from 1 among hidden layers or conv blocks (or, for a
        /// CNN's `dense` list, among its dense layers).
        layer: usize,
    },
    /// A CNN built for an input shape with a zero channel count, height or width.
    #[error("the input is {c}x{h}x{w} but a CNN needs image-shaped input with known channels")]
    NotAnImage {
        /// Channels of the input.
        c: usize,
        /// Height of the input, in pixels.
        h: usize,
        /// Width of the input, in pixels.
        w: usize,
    },
    /// Max-pooling (each halving height and width, rounding down) shrinks the image to 0 pixels
    /// before the last block.
    #[error(
        "{depth} pooled blocks shrink a {h}x{w} image below 1x1 at block {block}: pool less often (pool_every) or use fewer blocks"
    )]
    PoolTooDeep {
        /// Conv blocks configured.
        depth: usize,
        /// Input height, in pixels.
        h: usize,
        /// Input width, in pixels.
        w: usize,
        /// The block (counted from 1) whose pooling leaves no pixel.
        block: usize,
    },
    /// EfficientNet weights that cannot be loaded.
    #[error("model.weights = {file}: {reason}")]
    Weights {
        /// The checkpoint named.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An EfficientNet resolution too small for its five stride-2 stages.
    #[error(
        "model.resolution = {resolution}: EfficientNet needs at least 32 pixels (ImageNet's is 224)"
    )]
    Resolution {
        /// The resolution asked for.
        resolution: usize,
    },
}
