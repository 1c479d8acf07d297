//! The alignment measure with its Gram accumulation on a GPU (burn's wgpu backend; cargo feature
//! `wgpu`).
//!
//! [`DeviceAccumulator`] is [`crate::Accumulator`] for features that already live on a device:
//! each batch goes through the CubeCL kernels in [`kernel`] (row scales, tiled symmetric Gram,
//! fixed-order slab reduction), which build `Phi` on the fly and never materialise it. What comes
//! back to the host is one `(p + c) x (p + c)` Gram per chunk of up to [`MAX_SLABS`] slabs (or
//! the `n x n` kernel while `n <= p`): no f32 sum runs over more than `slab_rows + MAX_SLABS`
//! terms, the chunks are added in f64, and the same f64 eigendecomposition and summaries as the
//! CPU path take over.
//!
//! Why not a compensated (TwoSum) sum on the device: WGSL lets the shader compiler reassociate
//! float arithmetic, and on Mesa's llvmpipe it does: the error term of a TwoSum came back as
//! exactly zero (measured; see the `long_sums` test). Bounded f32 sums plus f64 on the host hold
//! whatever order the compiler picks.
//!
//! [`gram`] runs the kernels on one batch; [`gram_reference`] computes the same matrix with plain
//! burn tensor operations (concatenation, scaling, `matmul`) and is what the kernel is tested
//! against, beside the f64 CPU path.

// `#[cube(launch)]` generates public launch modules and structs that cannot carry docs.
#[allow(missing_docs)]
pub mod kernel;
#[cfg(test)]
mod tests;

use burn::backend::{Backend, Dispatch, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, Device, Tensor, TensorData};
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;
use faer::Mat;

use crate::accumulate::{Tally, gram_path, kernel_from_matrix};
use crate::{AlignError, Options, Spectrum};

/// Most rows of `M` one cube sums in f32 before its partial block joins the others.
pub const SLAB_ROWS: usize = 2048;
/// Fewest rows per slab when the slab size is picked for parallelism.
const MIN_SLAB_ROWS: usize = 128;
/// Slabs one device call sums in f32 (in a fixed order) before the host adds its result in f64.
pub const MAX_SLABS: usize = 64;
/// Largest buffer of partial blocks one launch may use.
const PARTIAL_BYTES: usize = 512 << 20;
/// Largest Gram the device path takes: WebGPU's default storage-binding limit (128 MiB, also
/// llvmpipe's), i.e. `q <= 5792`.
pub const MAX_GRAM_BYTES: usize = 128 << 20;
/// Rows per device batch that keep a batch of `d` f32 features within 32 MiB (and at most
/// 16 384 rows): what callers streaming from the host should upload at a time.
pub fn batch_rows(d: usize) -> usize {
    ((32usize << 20) / (4 * d.max(1))).clamp(1, 16_384)
}

/// The device operations this crate adds to burn (backend-extension mechanism; CubeCL runtimes
/// only).
#[backend_extension(Cube)]
pub trait GramOps: Backend {
    /// The lower triangle of `M^T M` (`q x q`, f32; the upper triangle is zero), with
    /// `M = [Phi | Y]` (`transposed = false`, `q = p + c`) or `M = Phi^T` (`transposed = true`,
    /// `q = n`) and `Phi` built from `features` (n x d) as `bias` and `normalize` say. Each cube
    /// sums at most `slab_rows` rows of `M`; the slabs are then added in a fixed order.
    #[allow(clippy::too_many_arguments)]
    fn gram_partial(
        features: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        bias: bool,
        normalize: bool,
        transposed: bool,
        slab_rows: usize,
    ) -> FloatTensor<Self>;
}

fn empty_like_f32(like: &CubeTensor, shape: [usize; 2]) -> CubeTensor {
    let handle = like.client.empty(shape[0] * shape[1] * size_of::<f32>());
    CubeTensor::new_contiguous(
        like.client.clone(),
        like.device.clone(),
        shape.into(),
        handle,
        DType::F32,
    )
}

/// A 1-D u32 tensor on `like`'s device holding `values`.
fn u32_on(like: &CubeTensor, values: &[u32]) -> CubeTensor {
    let handle = like.client.create_from_slice(u32::as_bytes(values));
    CubeTensor::new_contiguous(
        like.client.clone(),
        like.device.clone(),
        [values.len()].into(),
        handle,
        DType::U32,
    )
}

fn launch_count(units: usize) -> (CubeCount, CubeDim) {
    let per = 256usize;
    let cubes = units.div_ceil(per).max(1) as u32;
    (CubeCount::Static(cubes, 1, 1), CubeDim::new_1d(per as u32))
}

/// Lower-triangular block pairs `(i, j)`, `i >= j`, for `blocks` blocks per side.
fn lower_blocks(blocks: usize) -> Vec<u32> {
    let mut table = Vec::with_capacity(blocks * (blocks + 1));
    for i in 0..blocks {
        for j in 0..=i {
            table.push(i as u32);
            table.push(j as u32);
        }
    }
    table
}

/// Grams at least this wide use the 128-wide output blocks.
pub const LARGE_Q: usize = 384;

/// Outputs per unit along each axis for a `q x q` Gram.
pub fn micro_for(q: usize) -> usize {
    if q >= LARGE_Q {
        kernel::MICRO_LARGE
    } else {
        kernel::MICRO_SMALL
    }
}

/// Rows per slab for a `q x q` Gram: [`SLAB_ROWS`] when the lower triangle alone has enough
/// blocks to fill a large GPU, smaller slabs (more cubes) when it has few.
pub fn auto_slab_rows(q: usize) -> usize {
    let side = q.div_ceil(kernel::UNITS * micro_for(q));
    let blocks = side * (side + 1) / 2;
    (SLAB_ROWS * blocks / 256).clamp(MIN_SLAB_ROWS, SLAB_ROWS)
}

impl GramOps for CubeBackend {
    fn gram_partial(
        features: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        bias: bool,
        normalize: bool,
        transposed: bool,
        slab_rows: usize,
    ) -> FloatTensor<Self> {
        let slab_rows = slab_rows.max(1);
        let f = burn_cubecl::kernel::into_contiguous(features);
        let y = burn_cubecl::kernel::into_contiguous(targets);
        let shape = f.meta.shape().clone();
        let (n, d) = (shape[0], shape[1]);
        let c = y.meta.shape()[1];
        let p = d + usize::from(bias);
        let (m, q) = if transposed { (p, n) } else { (n, p + c) };
        let client = f.client.clone();

        let s = empty_like_f32(&f, [n.max(1), 1]);
        let (count, dim) = launch_count(n);
        kernel::row_scales::launch(
            &client,
            count,
            dim,
            f.clone().into_buffer_arg(),
            s.clone().into_buffer_arg(),
            n as u32,
            d as u32,
            bias,
            normalize,
        );

        let micro = micro_for(q);
        let table = lower_blocks(q.div_ceil(kernel::UNITS * micro));
        let num_blocks = table.len() / 2;
        let table = u32_on(&f, &table);

        let slabs_total = m.div_ceil(slab_rows).max(1);
        // Partial blocks of one launch share a buffer, which must fit the device's largest
        // binding (128 MiB on llvmpipe).
        let page = (client.properties().memory.max_page_size as usize).min(PARTIAL_BYTES);
        let per_launch = (page / (q * q * size_of::<f32>()).max(1)).clamp(1, MAX_SLABS);
        let mut acc = burn_cubecl::ops::numeric::zeros_client(
            client.clone(),
            f.device.clone(),
            [q, q].into(),
            DType::F32,
        );
        let mut slab0 = 0;
        while slab0 < slabs_total {
            let slabs = (slabs_total - slab0).min(per_launch);
            let partial = empty_like_f32(&f, [slabs * q, q]);
            // This launch sums rows [slab0 * slab_rows, ...) of M, one slab per cube row.
            kernel::gram_slabs::launch(
                &client,
                CubeCount::Static(num_blocks as u32, slabs as u32, 1),
                CubeDim::new_2d(kernel::UNITS as u32, kernel::UNITS as u32),
                f.clone().into_buffer_arg(),
                y.clone().into_buffer_arg(),
                s.clone().into_buffer_arg(),
                table.clone().into_buffer_arg(),
                partial.clone().into_buffer_arg(),
                n as u32,
                d as u32,
                c as u32,
                m as u32,
                q as u32,
                slab_rows as u32,
                (slab0 * slab_rows) as u32,
                bias,
                transposed,
                micro,
            );
            let out = empty_like_f32(&f, [q, q]);
            let (count, dim) = launch_count(q * q);
            kernel::reduce_slabs::launch(
                &client,
                count,
                dim,
                partial.into_buffer_arg(),
                acc.into_buffer_arg(),
                out.clone().into_buffer_arg(),
                q as u32,
                slabs as u32,
            );
            acc = out;
            slab0 += slabs;
        }
        acc
    }
}

/// Errors a device path can meet besides the measure's own.
fn device_error(what: impl Into<String>) -> AlignError {
    AlignError::Device(what.into())
}

fn check_f32(t: &Tensor<2>, what: &str) -> Result<(), AlignError> {
    if t.dtype() != DType::F32 {
        return Err(device_error(format!(
            "{what} must be f32 on the device, found {:?}",
            t.dtype()
        )));
    }
    Ok(())
}

/// `M^T M` (symmetric, f64) for one batch through the kernels; see [`GramOps::gram_partial`].
/// Rows go to the device in chunks of [`MAX_SLABS`] slabs of [`auto_slab_rows`] rows, each
/// chunk's f32 result is added on the host in f64.
pub fn gram(
    features: Tensor<2>,
    targets: Tensor<2>,
    options: Options,
    transposed: bool,
) -> Result<Mat<f64>, AlignError> {
    let q = gram_size(&features, &targets, options, transposed);
    gram_with_slabs(features, targets, options, transposed, auto_slab_rows(q))
}

fn gram_size(
    features: &Tensor<2>,
    targets: &Tensor<2>,
    options: Options,
    transposed: bool,
) -> usize {
    let [n, d] = features.dims();
    if transposed {
        n
    } else {
        options.columns(d) + targets.dims()[1]
    }
}

/// [`gram`] with `slab_rows` rows per slab.
pub fn gram_with_slabs(
    features: Tensor<2>,
    targets: Tensor<2>,
    options: Options,
    transposed: bool,
    slab_rows: usize,
) -> Result<Mat<f64>, AlignError> {
    let q = gram_size(&features, &targets, options, transposed);
    let mut g = Mat::zeros(q, q);
    add_gram(&mut g, features, targets, options, transposed, slab_rows)?;
    Ok(symmetric(g))
}

/// `g += M^T M` (lower triangle), chunk by chunk.
fn add_gram(
    g: &mut Mat<f64>,
    features: Tensor<2>,
    targets: Tensor<2>,
    options: Options,
    transposed: bool,
    slab_rows: usize,
) -> Result<(), AlignError> {
    check_f32(&features, "features")?;
    let [n, d] = features.dims();
    let c = targets.dims()[1];
    let q = g.nrows();
    if n.checked_mul(d.max(c) + 1)
        .is_none_or(|len| len > u32::MAX as usize)
    {
        return Err(device_error(format!(
            "{n} x {d} features are past the kernel's 32-bit indexing; pass fewer rows per batch"
        )));
    }
    if q * q * size_of::<f32>() > MAX_GRAM_BYTES {
        return Err(device_error(format!(
            "a {q} x {q} Gram is past what one device buffer is guaranteed to hold \
             ({} MiB); measure it on the CPU path",
            MAX_GRAM_BYTES >> 20
        )));
    }
    let slab_rows = slab_rows.max(1);
    let mut add = |f: Tensor<2>, y: Tensor<2>| -> Result<(), AlignError> {
        let part = to_host(Tensor::<2>::from_dispatch(Dispatch::gram_partial(
            f.into_dispatch(),
            y.into_dispatch(),
            options.bias_column,
            options.row_normalize,
            transposed,
            slab_rows,
        )))?;
        for i in 0..q {
            for j in 0..=i {
                g[(i, j)] += part[i * q + j];
            }
        }
        Ok(())
    };
    // Kernel mode has only p rows of M: one call. Gram mode goes in chunks of MAX_SLABS slabs.
    let chunk = MAX_SLABS * slab_rows;
    if transposed || n <= chunk {
        return add(features, targets);
    }
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        add(
            features.clone().slice([start..end, 0..d]),
            targets.clone().slice([start..end, 0..c]),
        )?;
    }
    Ok(())
}

/// The lower triangle mirrored into the upper one.
fn symmetric(mut g: Mat<f64>) -> Mat<f64> {
    let q = g.nrows();
    for i in 0..q {
        for j in 0..i {
            g[(j, i)] = g[(i, j)];
        }
    }
    g
}

/// The same matrix as [`gram`] (full, not only the lower triangle) from plain tensor operations:
/// `Phi` materialised by concatenation and scaling, then one `matmul`.
pub fn gram_reference(
    features: Tensor<2>,
    targets: Tensor<2>,
    options: Options,
    transposed: bool,
) -> Tensor<2> {
    let [n, _] = features.dims();
    let device = features.device();
    let mut phi = features;
    if options.bias_column {
        phi = Tensor::cat(vec![phi, Tensor::<2>::ones([n, 1], &device)], 1);
    }
    if options.row_normalize {
        let norm = phi.clone().powi_scalar(2).sum_dim(1).sqrt();
        // Zero rows stay zero: divide by 1 where the norm is 0.
        let safe = norm.clone().mask_fill(norm.equal_elem(0.0), 1.0);
        phi = phi / safe;
    }
    if transposed {
        phi.clone().matmul(phi.transpose())
    } else {
        let m = Tensor::cat(vec![phi, targets], 1);
        m.clone().transpose().matmul(m)
    }
}

/// A device tensor's values as f64 (row-major); a failure on the device (out of memory, a lost
/// device) becomes an error instead of a panic.
fn to_host(t: Tensor<2>) -> Result<Vec<f64>, AlignError> {
    let data: TensorData = t
        .try_into_data()
        .map_err(|e| device_error(format!("the device failed: {e}")))?;
    data.convert::<f64>()
        .try_into_vec::<f64>()
        .map_err(|e| device_error(format!("reading back from the device: {e:?}")))
}

enum State {
    /// Batches kept on the device while n <= p, with their targets on the host.
    Rows {
        feats: Vec<Tensor<2>>,
        targets: Vec<Tensor<2>>,
    },
    /// The lower triangle of the `(p + c) x (p + c)` Gram of `[Phi | Y]`, in f64 on the host.
    Gram { g: Mat<f64> },
}

/// [`crate::Accumulator`] for device-resident features; see the module docs.
pub struct DeviceAccumulator {
    device: Device,
    t: Tally,
    /// The targets of the rows kept while n <= p (the kernel path needs them on the host).
    y: Vec<f64>,
    state: State,
}

impl std::fmt::Debug for DeviceAccumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAccumulator")
            .field("tally", &self.t)
            .field("gram", &matches!(self.state, State::Gram { .. }))
            .finish()
    }
}

impl DeviceAccumulator {
    /// An empty accumulator for `d` features and `c >= 1` target columns on `device` (a plain,
    /// not autodiff, CubeCL device such as `Device::wgpu(..)`).
    #[track_caller]
    pub fn new(d: usize, c: usize, options: Options, device: &Device) -> Self {
        DeviceAccumulator {
            device: device.clone(),
            t: Tally::new(d, c, options),
            y: Vec::new(),
            state: State::Rows {
                feats: Vec::new(),
                targets: Vec::new(),
            },
        }
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.t.n
    }

    /// Adds a batch: `features` (rows x d, f32, on this accumulator's device) and its targets,
    /// row-major (rows x c) as encoded by [`crate::Targets`]. Bad input (a non-finite value,
    /// named by row and column as on the CPU path, a wrong shape, a Gram too large for the
    /// device) is an error that leaves the accumulator unchanged; after a failure on the device
    /// itself (out of memory, a lost device) discard the accumulator.
    pub fn push(&mut self, features: Tensor<2>, targets: &[f64]) -> Result<(), AlignError> {
        let t = self.t;
        check_f32(&features, "features")?;
        let [rows, d] = features.dims();
        if d != t.d {
            return Err(AlignError::RaggedBatch {
                len: rows * d,
                width: t.d,
            });
        }
        let labels = t.rows_of(targets)?;
        if labels != rows {
            return Err(AlignError::LabelCount { labels, rows });
        }
        let q = t.p + t.c;
        if q * q * size_of::<f32>() > MAX_GRAM_BYTES {
            return Err(device_error(format!(
                "{} features make a {q} x {q} Gram, past what one device buffer is guaranteed \
                 to hold ({} MiB); measure it on the CPU path",
                t.d,
                MAX_GRAM_BYTES >> 20
            )));
        }
        if rows == 0 {
            return Ok(());
        }
        let finite: bool = features.clone().is_finite().all().into_scalar();
        if !finite {
            let values = to_host(features)?;
            let i = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(t.non_finite_feature(i, values[i]));
        }
        let y = Tensor::<2>::from_data(
            TensorData::new(
                targets.iter().map(|&v| v as f32).collect::<Vec<f32>>(),
                [rows, t.c],
            ),
            &self.device,
        );
        let state = std::mem::replace(
            &mut self.state,
            State::Rows {
                feats: vec![],
                targets: vec![],
            },
        );
        let slab_rows = auto_slab_rows(q);
        self.state = match state {
            State::Rows {
                mut feats,
                targets: mut ys,
            } if t.n + rows <= t.p => {
                feats.push(features);
                ys.push(y);
                self.y.extend_from_slice(targets);
                State::Rows { feats, targets: ys }
            }
            State::Rows { feats, targets: ys } => {
                let mut g = Mat::zeros(q, q);
                for (f, y) in feats.into_iter().zip(ys).chain([(features, y)]) {
                    add_gram(&mut g, f, y, t.options, false, slab_rows)?;
                }
                // The kept rows' targets are no longer needed on the host.
                self.y = Vec::new();
                State::Gram { g }
            }
            State::Gram { mut g } => {
                add_gram(&mut g, features, y, t.options, false, slab_rows)?;
                State::Gram { g }
            }
        };
        self.t.add_energy(targets);
        self.t.n += rows;
        Ok(())
    }

    /// Brings the accumulated Gram (or kernel) back to the host and returns the exact spectrum
    /// (f64 eigendecomposition, as on the CPU path).
    pub fn finish(self) -> Result<Spectrum, AlignError> {
        let t = self.t;
        t.check_finish()?;
        let (p, c, n) = (t.p, t.c, t.n);
        let paths = match self.state {
            State::Rows { feats, targets } => {
                let f = Tensor::cat(feats, 0);
                let y = Tensor::cat(targets, 0);
                let k = gram(f, y, t.options, true)?;
                kernel_from_matrix(k, &self.y, n, p, c)?
            }
            State::Gram { g } => {
                let g_aug = symmetric(g);
                let g = g_aug.as_ref().submatrix(0, 0, p, p).to_owned();
                let b = g_aug.as_ref().submatrix(0, p, p, c).to_owned();
                gram_path(g.as_ref(), b.as_ref(), n)?
            }
        };
        Ok(t.spectrum(paths))
    }
}
