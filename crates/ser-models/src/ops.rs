//! Operations candle lacks or runs slowly on the CPU: a 2-D convolution whose forward pass
//! and both gradients are matrix products, a 2×2 max-pool with PyTorch's gradient, and
//! seeded dropout.
//!
//! Candle's CPU `conv2d` forward already uses im2col, but its backward pass computes the
//! input gradient with `conv_transpose2d`, a direct loop without gemm, which made one
//! training step of the research's network 6.5× slower than PyTorch. Here, on the CPU in
//! f32, [`conv2d`] is a single graph node, [`Conv2dOp`], that works image by image as
//! PyTorch's own CPU convolution does: for each image, its column matrix
//! `[C·kh·kw, Ho·Wo]` (im2col, in a scratch buffer reused from image to image) and one
//! product with the kernel (gemm, AVX-512 where the CPU has it), written straight into the
//! output. The batch is cut into at most eight units of images that run on rayon's threads,
//! so both cores of a 2-core machine work on every convolution of a training step (the
//! earlier whole-batch product left the first layer's, under gemm's threading threshold,
//! on one). The backward pass is written out the same way: per image
//! `∂W += ∂y · colsᵀ` and `∂x = col2im(Wᵀ · ∂y)`, one partial `∂W` per unit added in
//! unit order, so autograd never keeps a column matrix or a gradient for it, and the sums
//! do not depend on the thread count. On other devices and dtypes [`conv2d`] calls candle's own
//! convolution ([`conv2d_generic`], cuDNN where enabled).
//!
//! [`max_pool2x2`] is [`MaxPool2x2`] on the CPU, which sends each gradient to the first
//! maximum of its window as PyTorch does (candle 0.11's does not); [`dropout`] draws its
//! mask on the host from a seed, so every device gets the same mask.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::par::prelude::*;

/// `n` zeros, written into freshly allocated (not `calloc`ed) memory.
///
/// `vec![0.0; n]` asks the allocator for zeroed memory, which for buffers of megabytes it
/// gets by returning pages to the kernel and faulting them back in zeroed; activations are
/// allocated and freed every step, so that cost more than writing the zeros. Buffers of
/// [`PAR_ZEROED_MIN`] values or more are written by all threads (a batch's activations are
/// tens of megabytes: written by one thread, they kept the other cores waiting).
#[allow(unsafe_code)]
pub(crate) fn zeroed(n: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(n);
    #[cfg(feature = "parallel")]
    if n >= PAR_ZEROED_MIN && rayon::current_num_threads() > 1 {
        // Each thread fills its chunks with `memset`'s speed (rayon's element-by-element
        // `par_extend` wrote one value at a time: a tenth of a one-thread step).
        v.spare_capacity_mut()[..n]
            .par_chunks_mut(PAR_ZEROED_MIN)
            .for_each(|c| c.fill(std::mem::MaybeUninit::new(0.0)));
        // SAFETY: the loop above initialised all `n` elements, and `n` is the capacity
        // asked for.
        unsafe { v.set_len(n) };
        return v;
    }
    v.resize(n, 0.0);
    v
}

/// The smallest buffer [`zeroed`] writes in parallel (1 MiB of `f32`).
#[cfg(feature = "parallel")]
const PAR_ZEROED_MIN: usize = 1 << 18;

/// The geometry of a square-kernel, stride-1-or-more 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input channels.
    pub channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Stride.
    pub stride: usize,
}

impl ConvGeometry {
    /// Output height.
    pub fn out_h(&self) -> usize {
        (self.height + 2 * self.padding).saturating_sub(self.kernel_h) / self.stride + 1
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        (self.width + 2 * self.padding).saturating_sub(self.kernel_w) / self.stride + 1
    }

    /// Rows of the column matrix: `channels · kernel_h · kernel_w`.
    pub fn k(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }

    /// Columns of the column matrix: `out_h · out_w`.
    pub fn l(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// For kernel column `j`, the output columns `x` whose input column
    /// `x·stride + j − padding` is inside the image.
    fn valid_x(&self, j: usize) -> std::ops::Range<usize> {
        let (p, s, w, wo) = (self.padding, self.stride, self.width, self.out_w());
        // x·s + j ≥ p  ⇔  x ≥ ceil((p − j) / s)
        let lo = if j >= p { 0 } else { (p - j).div_ceil(s) };
        // x·s + j − p ≤ w − 1  ⇔  x ≤ (w − 1 + p − j) / s
        let hi = if w + p > j {
            ((w - 1 + p - j) / s + 1).min(wo)
        } else {
            0
        };
        lo..hi.max(lo)
    }

    /// The input row of output row `y` and kernel row `i`, if inside the image.
    fn src_y(&self, y: usize, i: usize) -> Option<usize> {
        (y * self.stride + i)
            .checked_sub(self.padding)
            .filter(|&r| r < self.height)
    }

    /// Copies into `seg` (`L` values) what kernel tap `(i, j)` sees of one input plane
    /// (`H·W` values); padding stays as `seg` had it (zeros).
    fn gather_tap(&self, plane: &[f32], seg: &mut [f32], i: usize, j: usize) {
        let (w, wo) = (self.width, self.out_w());
        let xs = self.valid_x(j);
        for y in 0..self.out_h() {
            let Some(sy) = self.src_y(y, i) else { continue };
            let srow = &plane[sy * w..(sy + 1) * w];
            let drow = &mut seg[y * wo..(y + 1) * wo];
            if self.stride == 1 {
                let s0 = xs.start + j - self.padding;
                drow[xs.clone()].copy_from_slice(&srow[s0..s0 + xs.len()]);
            } else {
                for x in xs.clone() {
                    drow[x] = srow[x * self.stride + j - self.padding];
                }
            }
        }
    }

    /// The adjoint of [`gather_tap`](Self::gather_tap): adds `seg` back into the plane
    /// positions kernel tap `(i, j)` read.
    fn scatter_tap(&self, seg: &[f32], plane: &mut [f32], i: usize, j: usize) {
        let (w, wo) = (self.width, self.out_w());
        let xs = self.valid_x(j);
        for y in 0..self.out_h() {
            let Some(sy) = self.src_y(y, i) else { continue };
            let prow = &mut plane[sy * w..(sy + 1) * w];
            let srow = &seg[y * wo..(y + 1) * wo];
            if self.stride == 1 {
                let s0 = xs.start + j - self.padding;
                for (d, s) in prow[s0..s0 + xs.len()].iter_mut().zip(&srow[xs.clone()]) {
                    *d += s;
                }
            } else {
                for x in xs.clone() {
                    prow[x * self.stride + j - self.padding] += srow[x];
                }
            }
        }
    }
}

/// The f32 data of a contiguous CPU storage, or an error naming `op`.
pub(crate) fn f32_slice<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
) -> candle_core::Result<&'a [f32]> {
    let data = match storage {
        CpuStorage::F32(v) => v.as_slice(),
        _ => candle_core::bail!("{op}: only f32 is supported"),
    };
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{op}: the input must be contiguous"),
    }
}

/// The whole convolution `y = W · im2col(x) + b` as one graph node (`x` `[B, C, H, W]`,
/// `W` `[O, C, kh, kw]`, `b` `[O]`), its backward pass written out: `∂W = Σ_b ∂y ·
/// im2col(x)ᵀ`, `∂x = col2im(Wᵀ · ∂y)` (skipped when `x` needs no gradient), `∂b = Σ ∂y`.
///
/// As one node, candle's autograd keeps no gradient for the column matrix (nine times the
/// activations for 3×3 kernels) and allocates no zero-filled accumulators for it.
#[derive(Debug, Clone, Copy)]
pub struct Conv2dOp(pub ConvGeometry);

/// Runs `f` on the f32 data of a contiguous CPU tensor, without copying it.
pub(crate) fn with_slice<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(CpuStorage::F32(v)) => match layout.contiguous_offsets() {
            Some((a, b)) => Ok(f(&v[a..b])),
            None => candle_core::bail!("expected a contiguous tensor"),
        },
        _ => candle_core::bail!("expected an f32 tensor on the CPU"),
    }
}

/// Most work units a batch is cut into: each unit runs its images one after another (one
/// column matrix of scratch, reused), units run on rayon's threads. The cut depends on the
/// batch size only, never on the thread count, so the gradients' sums (one partial `∂W`
/// per unit, added in unit order) are the same numbers on any machine.
const CONV_UNITS: usize = 8;

/// Images per work unit for a batch of `b`.
fn unit_len(b: usize) -> usize {
    b.div_ceil(CONV_UNITS).max(1)
}

/// How gemm may thread one product: when the batch gives fewer units than rayon has
/// threads (the recognizer's single window), each product is split across them instead.
#[cfg(feature = "parallel")]
fn product_parallelism(units: usize) -> gemm::Parallelism {
    let threads = rayon::current_num_threads();
    if units < threads {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}

#[cfg(not(feature = "parallel"))]
fn product_parallelism(_units: usize) -> gemm::Parallelism {
    gemm::Parallelism::None
}

/// A row-major or transposed view of a matrix in a slice: element `(r, c)` is at
/// `r·row + c·col`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    data: &'a [f32],
    row: usize,
    col: usize,
}

impl<'a> MatRef<'a> {
    /// Element `(r, c)` at `r·row + c·col` of `data`.
    pub(crate) fn strided(data: &'a [f32], row: usize, col: usize) -> Self {
        Self { data, row, col }
    }

    /// A row-major `rows × cols` matrix.
    pub(crate) fn rows(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row: cols,
            col: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub(crate) fn transposed(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row: 1,
            col: cols,
        }
    }

    /// Whether an `m × n` matrix fits in the slice.
    fn holds(&self, m: usize, n: usize) -> bool {
        m == 0 || n == 0 || (m - 1) * self.row + (n - 1) * self.col < self.data.len()
    }
}

/// `dst` (row-major `m × n`) `= a · b` (`a` is `m × k`, `b` is `k × n`), or `dst += a · b`
/// when `accumulate`: gemm's kernels (AVX-512 where the CPU has it) on the given threads.
///
/// One of the crate's two `unsafe` blocks (the other is [`zeroed`]'s): gemm takes raw
/// pointers and strides; every index it touches is checked against the slices first.
#[allow(unsafe_code)]
pub(crate) fn matmul_into(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    a: MatRef,
    b: MatRef,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    // The shapes come from a validated ConvGeometry: a mismatch is a bug here, not bad input.
    assert!(
        dst.len() >= m * n && a.holds(m, k) && b.holds(k, n),
        "matmul_into: {m}x{k} · {k}x{n} does not fit its buffers"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the assert above keeps every index gemm reads and writes inside the slices;
    // `dst` is borrowed mutably, so nothing else reads or writes it meanwhile.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col as isize,
            a.row as isize,
            b.data.as_ptr(),
            b.col as isize,
            b.row as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The column matrix `[K, L]` of one image `[C, H, W]` (row `k` holds what kernel tap `k`
/// sees). `cols` is reused from image to image: the padding positions, the same for every
/// image of a geometry, are never written and stay zero.
fn im2col(image: &[f32], cols: &mut [f32], g: &ConvGeometry) {
    let (hw, kk, l) = (g.height * g.width, g.kernel_h * g.kernel_w, g.l());
    for (k, seg) in cols.chunks_exact_mut(l).enumerate() {
        let (ch, t) = (k / kk, k % kk);
        let plane = &image[ch * hw..(ch + 1) * hw];
        g.gather_tap(plane, seg, t / g.kernel_w, t % g.kernel_w);
    }
}

/// The adjoint of [`im2col`]: adds the column matrix `[K, L]` back into one image
/// `[C, H, W]`, each plane's taps in order.
fn col2im(cols: &[f32], image: &mut [f32], g: &ConvGeometry) {
    let (hw, kk, l) = (g.height * g.width, g.kernel_h * g.kernel_w, g.l());
    for (ch, plane) in image.chunks_exact_mut(hw).enumerate() {
        for t in 0..kk {
            let k = ch * kk + t;
            g.scatter_tap(
                &cols[k * l..(k + 1) * l],
                plane,
                t / g.kernel_w,
                t % g.kernel_w,
            );
        }
    }
}

/// The forward pass of a batch `x` `[B, C, H, W]`: per image `y_b = W · im2col(x_b) + b`,
/// written straight into `[B, O, L]`; the units of images run in parallel.
pub(crate) fn conv_forward(
    x: &[f32],
    wt: &[f32],
    bias: &[f32],
    b: usize,
    g: &ConvGeometry,
) -> Vec<f32> {
    let (o, k, l) = (bias.len(), g.k(), g.l());
    let chw = g.channels * g.height * g.width;
    let mut y = zeroed(b * o * l);
    if y.is_empty() {
        return y;
    }
    let per = unit_len(b);
    let parallelism = product_parallelism(b.div_ceil(per));
    y.par_chunks_mut(per * o * l)
        .enumerate()
        .for_each(|(u, ys)| {
            let mut cols = zeroed(k * l);
            for (i, yb) in ys.chunks_exact_mut(o * l).enumerate() {
                let bi = u * per + i;
                im2col(&x[bi * chw..(bi + 1) * chw], &mut cols, g);
                matmul_into(
                    yb,
                    (o, l, k),
                    MatRef::rows(wt, k),
                    MatRef::rows(&cols, l),
                    false,
                    parallelism,
                );
                for (row, &bv) in yb.chunks_exact_mut(l).zip(bias) {
                    row.iter_mut().for_each(|v| *v += bv);
                }
            }
        });
    y
}

/// The gradients of one unit of images (from image `first`): its partial `∂W` `[O, K]`
/// `= Σ_b ∂y_b · im2col(x_b)ᵀ`, and, when `dx` is given (the unit's images of `∂x`),
/// `∂x_b = col2im(Wᵀ · ∂y_b)`.
#[allow(clippy::too_many_arguments)]
fn conv_backward_unit(
    x: &[f32],
    wt: &[f32],
    gy: &[f32],
    (first, count): (usize, usize),
    mut dx: Option<&mut [f32]>,
    o: usize,
    g: &ConvGeometry,
    parallelism: gemm::Parallelism,
) -> Vec<f32> {
    let (k, l) = (g.k(), g.l());
    let chw = g.channels * g.height * g.width;
    let mut dw = zeroed(o * k);
    let mut cols = zeroed(k * l);
    let mut dcols = if dx.is_some() {
        zeroed(k * l)
    } else {
        Vec::new()
    };
    for i in 0..count {
        let bi = first + i;
        let gyb = &gy[bi * o * l..(bi + 1) * o * l];
        im2col(&x[bi * chw..(bi + 1) * chw], &mut cols, g);
        matmul_into(
            &mut dw,
            (o, k, l),
            MatRef::rows(gyb, l),
            MatRef::transposed(&cols, l),
            i > 0,
            parallelism,
        );
        if let Some(dx) = dx.as_deref_mut() {
            matmul_into(
                &mut dcols,
                (k, l, o),
                MatRef::transposed(wt, k),
                MatRef::rows(gyb, l),
                false,
                parallelism,
            );
            col2im(&dcols, &mut dx[i * chw..(i + 1) * chw], g);
        }
    }
    dw
}

/// The backward pass of a batch: `(∂x, ∂W, ∂b)`, `∂x` only when `needs_dx`. Each unit of
/// images computes its own partial `∂W`; the partials are added in unit order.
fn conv_backward(
    x: &[f32],
    wt: &[f32],
    gy: &[f32],
    (b, o): (usize, usize),
    g: &ConvGeometry,
    needs_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let (k, l) = (g.k(), g.l());
    let chw = g.channels * g.height * g.width;
    let per = unit_len(b);
    let units = b.div_ceil(per);
    let parallelism = product_parallelism(units);
    let span = |u: usize| (u * per, per.min(b - u * per));
    let (dx, partials): (Option<Vec<f32>>, Vec<Vec<f32>>) = if needs_dx {
        let mut dx = zeroed(b * chw);
        let partials = if dx.is_empty() {
            Vec::new()
        } else {
            dx.par_chunks_mut(per * chw)
                .enumerate()
                .map(|(u, dxu)| {
                    conv_backward_unit(x, wt, gy, span(u), Some(dxu), o, g, parallelism)
                })
                .collect()
        };
        (Some(dx), partials)
    } else {
        let partials = (0..units)
            .into_par_iter()
            .map(|u| conv_backward_unit(x, wt, gy, span(u), None, o, g, parallelism))
            .collect();
        (None, partials)
    };
    let mut dw = zeroed(o * k);
    for p in &partials {
        dw.iter_mut().zip(p).for_each(|(d, v)| *d += v);
    }
    // ∂b per output channel (in parallel), summed image by image in order.
    let mut db = zeroed(o);
    db.par_chunks_mut(1).enumerate().for_each(|(oi, d)| {
        for bi in 0..b {
            d[0] += gy[(bi * o + oi) * l..(bi * o + oi + 1) * l]
                .iter()
                .sum::<f32>();
        }
    });
    (dx, dw, db)
}

/// [`conv_backward`] for a backward pass given `x` and `weight` as tensors and the output
/// gradient `gy` as values: `∂x` as a tensor when `x` needs one, `∂W` as a tensor, `∂b` as
/// values.
///
/// # Errors
/// Device errors.
pub(crate) fn conv_backward_tensors(
    x: &Tensor,
    weight: &Tensor,
    gy: &[f32],
    (b, o): (usize, usize),
    g: &ConvGeometry,
) -> candle_core::Result<(Option<Tensor>, Tensor, Vec<f32>)> {
    let needs_dx = x.track_op();
    let xd = x.detach().contiguous()?;
    let wd = weight.detach().contiguous()?;
    let (dx, dw, db) = with_slice(&xd, |xs| {
        with_slice(&wd, |ws| conv_backward(xs, ws, gy, (b, o), g, needs_dx))
    })??;
    let cpu = candle_core::Device::Cpu;
    let dx = dx
        .map(|d| Tensor::from_vec(d, x.shape(), &cpu))
        .transpose()?;
    Ok((dx, Tensor::from_vec(dw, weight.shape(), &cpu)?, db))
}

impl candle_core::CustomOp3 for Conv2dOp {
    fn name(&self) -> &'static str {
        "ser-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = self.0;
        let (b, c, h, w) = l1.shape().dims4()?;
        if (c, h, w) != (g.channels, g.height, g.width) {
            candle_core::bail!("conv2d: input {:?} does not match {g:?}", l1.dims());
        }
        let x = f32_slice(s1, l1, "conv2d input")?;
        let wt = f32_slice(s2, l2, "conv2d kernel")?;
        let bias = f32_slice(s3, l3, "conv2d bias")?;
        let o = bias.len();
        if wt.len() != o * g.k() {
            candle_core::bail!(
                "conv2d: kernel of {} values for {o} outputs of {}",
                wt.len(),
                g.k()
            );
        }
        let y = conv_forward(x, wt, bias, b, &g);
        Ok((
            CpuStorage::F32(y),
            Shape::from((b, o, g.out_h(), g.out_w())),
        ))
    }

    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = self.0;
        let (b, o, _, _) = grad.dims4()?;
        if weight.elem_count() != o * g.k() || x.elem_count() != b * g.channels * g.height * g.width
        {
            candle_core::bail!("conv2d backward: shapes do not match {g:?}");
        }
        let grad = grad.detach().contiguous()?;
        let (dx, dw, db) =
            with_slice(&grad, |gy| conv_backward_tensors(x, weight, gy, (b, o), &g))??;
        Ok((
            dx,
            Some(dw),
            Some(Tensor::from_vec(db, o, &candle_core::Device::Cpu)?),
        ))
    }
}

/// A 2-D convolution of `x` `[B, C, H, W]` with `weight` `[O, C, kh, kw]` (and `bias` `[O]`),
/// zero padding `padding` on each side, stride `stride`.
///
/// On the CPU in f32 it is one [`Conv2dOp`] node, whose gradients are matrix products (see
/// the [module docs](self)); elsewhere it is candle's `conv2d`. Both give the same numbers to
/// float rounding.
///
/// # Errors
/// Shape mismatches between `x` and `weight`, and device errors.
pub fn conv2d(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    padding: usize,
    stride: usize,
) -> candle_core::Result<Tensor> {
    let (_, c, h, w) = x.dims4()?;
    let (o, c2, kh, kw) = weight.dims4()?;
    if c != c2 {
        candle_core::bail!("conv2d: input has {c} channels, the kernel expects {c2}");
    }
    let fast = x.device().is_cpu() && x.dtype() == DType::F32 && weight.dtype() == DType::F32;
    if fast {
        let g = ConvGeometry {
            channels: c,
            height: h,
            width: w,
            kernel_h: kh,
            kernel_w: kw,
            padding,
            stride,
        };
        if h + 2 * padding < kh || w + 2 * padding < kw {
            candle_core::bail!("conv2d: input {h}x{w} is smaller than the kernel {kh}x{kw}");
        }
        let zero;
        let bias_t = match bias {
            Some(b) => b,
            None => {
                zero = Tensor::zeros(o, DType::F32, x.device())?;
                &zero
            }
        };
        return x.contiguous()?.apply_op3_arc(
            &weight.contiguous()?,
            &bias_t.contiguous()?,
            std::sync::Arc::new(Box::new(Conv2dOp(g))),
        );
    }
    conv2d_generic(x, weight, bias, padding, stride)
}

/// The path [`conv2d`] takes off the CPU: candle's `conv2d` (cuDNN with the `cudnn`
/// feature), then the bias. Public so that tests can run it on the CPU against
/// [`Conv2dOp`].
///
/// # Errors
/// Shape mismatches between `x` and `weight`, and device errors.
pub fn conv2d_generic(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    padding: usize,
    stride: usize,
) -> candle_core::Result<Tensor> {
    let out = x.conv2d(weight, padding, stride, 1, 1)?;
    match bias {
        Some(bias) => out.broadcast_add(&bias.reshape((1, weight.dim(0)?, 1, 1))?),
        None => Ok(out),
    }
}

/// Mask values per parallel block of [`dropout`] (a multiple of ChaCha's 16-word block).
const DROPOUT_BLOCK: usize = 1 << 16;

/// Inverted dropout with a mask drawn from ChaCha8 seeded by `seed`: keeps each element with
/// probability `1 − p` and scales it by `1 / (1 − p)`. The mask is made on the host and
/// moved to `x`'s device, so the same seed gives the same mask on every device.
///
/// # Errors
/// Device errors; `p` outside `[0, 1)` is an error.
pub fn dropout(x: &Tensor, p: f32, seed: u64) -> candle_core::Result<Tensor> {
    if !(0.0..1.0).contains(&p) {
        candle_core::bail!("dropout probability must be in [0, 1), got {p}");
    }
    if p == 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let scale = 1.0 / (1.0 - p);
    // Keep when a uniform u32 is at or above p·2³².
    let threshold = (f64::from(p) * 4_294_967_296.0) as u64;
    // Element i takes word i of the seed's ChaCha8 stream: blocks of the mask jump to their
    // first word and fill in parallel, the same mask as one pass in order.
    let rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mask = zeroed(n);
    mask.par_chunks_mut(DROPOUT_BLOCK)
        .enumerate()
        .for_each(|(i, block)| {
            let mut rng = rng.clone();
            rng.set_word_pos((i * DROPOUT_BLOCK) as u128);
            for m in block {
                if u64::from(rng.next_u32()) >= threshold {
                    *m = scale;
                }
            }
        });
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    x.mul(&mask)
}

/// 2×2 max pooling, stride 2, flooring odd sizes (PyTorch's `MaxPool2d(2)`), whose
/// backward pass sends each gradient to the first maximum of its window, as PyTorch does.
///
/// Candle 0.11's own `max_pool2d` backward scales the gradient by the share of maxima in
/// the window (¼ for a unique maximum) instead of dividing by it, and cannot handle odd
/// sizes; on the CPU this op replaces it, elsewhere [`max_pool2x2`] pools through a reshape
/// and a max reduction, whose gradient is right except on exact ties.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2x2;

struct MaxPool2x2Grad;

fn pool_dims(layout: &Layout) -> candle_core::Result<(usize, usize, usize, usize, usize)> {
    let (b, c, h, w) = layout.shape().dims4()?;
    Ok((b * c, h, w, h / 2, w / 2))
}

/// Whether `x` replaces the running maximum `m`: greater, or a number where `m` is NaN.
#[inline]
fn beats(x: f32, m: f32) -> bool {
    (x > m) | (m.is_nan() & !x.is_nan())
}

/// The running maximum after `x`, by [`beats`] (so the first of equal values stays).
#[inline]
fn keep_first_max(m: f32, x: f32) -> f32 {
    if beats(x, m) { x } else { m }
}

/// 2×2 max pooling of `planes` planes of `h × w` (flooring odd sizes), each window's
/// first maximum by [`keep_first_max`].
pub(crate) fn pool_forward(src: &[f32], planes: usize, h: usize, w: usize) -> Vec<f32> {
    let (ho, wo) = (h / 2, w / 2);
    let mut dst = zeroed(planes * ho * wo);
    if !dst.is_empty() {
        dst.par_chunks_mut(ho * wo)
            .enumerate()
            .for_each(|(p, out)| {
                let plane = &src[p * h * w..(p + 1) * h * w];
                for (y, orow) in out.chunks_exact_mut(wo).enumerate() {
                    let r0 = &plane[2 * y * w..2 * y * w + 2 * wo];
                    let r1 = &plane[(2 * y + 1) * w..(2 * y + 1) * w + 2 * wo];
                    for ((o, a), b) in orow
                        .iter_mut()
                        .zip(r0.chunks_exact(2))
                        .zip(r1.chunks_exact(2))
                    {
                        // Selects, not an index: the loop vectorises.
                        *o = keep_first_max(keep_first_max(keep_first_max(a[0], a[1]), b[0]), b[1]);
                    }
                }
            });
    }
    dst
}

/// The gradient of [`pool_forward`] for the input planes `x` and the pooled gradient `g`:
/// each window's gradient goes to its first maximum, zeros elsewhere.
pub(crate) fn pool_backward(x: &[f32], g: &[f32], planes: usize, h: usize, w: usize) -> Vec<f32> {
    let (ho, wo) = (h / 2, w / 2);
    let mut dst = zeroed(planes * h * w);
    if !dst.is_empty() && wo > 0 {
        // Per window, the gradient (or 0) for each of its four cells goes to four
        // contiguous rows of scratch, then the rows are interleaved into the output:
        // both loops vectorise, where writing the cells in place (stride 2) did not.
        dst.par_chunks_mut(h * w).enumerate().for_each(|(p, out)| {
            let mut t = vec![0f32; 4 * wo];
            let plane = &x[p * h * w..(p + 1) * h * w];
            let gp = &g[p * ho * wo..(p + 1) * ho * wo];
            let (t0s, rest) = t.split_at_mut(wo);
            let (t1s, rest) = rest.split_at_mut(wo);
            let (t2s, t3s) = rest.split_at_mut(wo);
            for (y, grow) in gp.chunks_exact(wo).enumerate() {
                let r0 = &plane[2 * y * w..2 * y * w + 2 * wo];
                let r1 = &plane[(2 * y + 1) * w..(2 * y + 1) * w + 2 * wo];
                for (xx, &gv) in grow.iter().enumerate() {
                    let (a0, a1) = (r0[2 * xx], r0[2 * xx + 1]);
                    let (b0, b1) = (r1[2 * xx], r1[2 * xx + 1]);
                    // The window's first maximum is its first cell equal to the
                    // maximum (NaN counting as equal to NaN). Bitwise `&`/`|`, not
                    // `&&`/`||`: no branches.
                    let m = keep_first_max(keep_first_max(keep_first_max(a0, a1), b0), b1);
                    let is = |v: f32| (v == m) | (v.is_nan() & m.is_nan());
                    let k0 = is(a0);
                    let k1 = !k0 & is(a1);
                    let k2 = !k0 & !k1 & is(b0);
                    let k3 = !k0 & !k1 & !k2;
                    t0s[xx] = if k0 { gv } else { 0.0 };
                    t1s[xx] = if k1 { gv } else { 0.0 };
                    t2s[xx] = if k2 { gv } else { 0.0 };
                    t3s[xx] = if k3 { gv } else { 0.0 };
                }
                let (top, bottom) = out[2 * y * w..(2 * y + 2) * w].split_at_mut(w);
                for ((o, &u), &v) in top[..2 * wo].chunks_exact_mut(2).zip(&*t0s).zip(&*t1s) {
                    o[0] = u;
                    o[1] = v;
                }
                for ((o, &u), &v) in bottom[..2 * wo].chunks_exact_mut(2).zip(&*t2s).zip(&*t3s) {
                    o[0] = u;
                    o[1] = v;
                }
            }
        });
    }
    dst
}

impl CustomOp1 for MaxPool2x2 {
    fn name(&self) -> &'static str {
        "ser-maxpool2x2"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, c, _, _) = layout.shape().dims4()?;
        let (_, h, w, ho, wo) = pool_dims(layout)?;
        let src = f32_slice(storage, layout, "max_pool2x2")?;
        let dst = pool_forward(src, b * c, h, w);
        Ok((CpuStorage::F32(dst), Shape::from((b, c, ho, wo))))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let grad = grad_res.contiguous()?;
        Ok(Some(
            arg.contiguous()?.apply_op2_no_bwd(&grad, &MaxPool2x2Grad)?,
        ))
    }
}

impl candle_core::CustomOp2 for MaxPool2x2Grad {
    fn name(&self) -> &'static str {
        "ser-maxpool2x2-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (planes, h, w, ho, wo) = pool_dims(l1)?;
        let x = f32_slice(s1, l1, "max_pool2x2 backward")?;
        let g = f32_slice(s2, l2, "max_pool2x2 backward")?;
        if g.len() != planes * ho * wo {
            candle_core::bail!(
                "max_pool2x2 backward: gradient {:?} for input {:?}",
                l2.dims(),
                l1.dims()
            );
        }
        let dst = pool_backward(x, g, planes, h, w);
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// 2×2 max pooling, stride 2, odd sizes floored: [`MaxPool2x2`] on the CPU in f32, a
/// reshape and max reduction elsewhere.
///
/// # Errors
/// A non-4-D input, or one smaller than 2×2.
pub fn max_pool2x2(x: &Tensor) -> candle_core::Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let (ho, wo) = (h / 2, w / 2);
    if ho == 0 || wo == 0 {
        candle_core::bail!("max_pool2x2: input {h}x{w} is smaller than 2x2");
    }
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        return x.contiguous()?.apply_op1(MaxPool2x2);
    }
    max_pool2x2_generic(x)
}

/// The path [`max_pool2x2`] takes off the CPU: a reshape to 2×2 windows and a max
/// reduction (its gradient goes to every maximum of a window, so it differs from
/// [`MaxPool2x2`]'s only on exact ties). Public so that tests can run it on the CPU.
///
/// # Errors
/// A non-4-D input, or one smaller than 2×2.
pub fn max_pool2x2_generic(x: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (ho, wo) = (h / 2, w / 2);
    if ho == 0 || wo == 0 {
        candle_core::bail!("max_pool2x2: input {h}x{w} is smaller than 2x2");
    }
    x.narrow(2, 0, 2 * ho)?
        .narrow(3, 0, 2 * wo)?
        .contiguous()?
        .reshape((b, c, ho, 2, wo, 2))?
        .max(5)?
        .max(3)
}
