//! BatchNorm followed by ReLU over `[B, C, H, W]`, fused into one CPU operation for training.
//!
//! Candle's `BatchNorm::forward_train` is a dozen tensor operations (a transpose copy, two
//! means, broadcasts), each a pass over the activations, and autograd doubles that; at
//! batch 32 × 32 × 128 × 94 they cost more than the convolution. [`BatchNormRelu`] does the
//! forward pass in two passes and the backward pass in two, with the same numbers (batch
//! statistics, biased variance for normalising, unbiased for the running variance, as
//! PyTorch and candle). In evaluation mode, and off the CPU, it uses candle's operations.
//! [`BatchNormRelu::forward_pool_t`] adds the 2×2 max-pool that follows it in every
//! convolution block to the same node in training, keeping the unpooled activation for the
//! backward pass itself, so that candle's autograd does not zero-fill and accumulate a
//! gradient for that full-size tensor.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder};

use crate::ops::{f32_slice, max_pool2x2, pool_backward, pool_forward, with_slice, zeroed};
use crate::par::prelude::*;

/// Per-channel batch statistics of the last forward pass: mean and 1/√(var + eps).
pub(crate) type Stats = Arc<Mutex<Option<(Vec<f32>, Vec<f32>, Vec<f32>)>>>;

struct FusedBnRelu {
    eps: f64,
    /// (mean, inverse std, biased variance) written by the forward pass.
    stats: Stats,
    /// Also 2×2 max-pool the result (one autograd node for BatchNorm, ReLU and pool, so
    /// that candle keeps no gradient for the full-size activation between them); the
    /// unpooled activation is then kept here for the backward pass.
    pool: Option<Mutex<Option<Vec<f32>>>>,
}

/// Per-channel sums over `[B, C, HW]` of `f(channel, plane index)` applied to each
/// plane: `f` returns the plane's two partial sums; planes are added in f64.
fn channel_sums(
    b: usize,
    c: usize,
    f: impl Fn(usize, usize) -> (f64, f64) + Sync,
) -> Vec<(f64, f64)> {
    (0..c)
        .into_par_iter()
        .map(|ch| {
            (0..b).fold((0.0, 0.0), |(s0, s1), bi| {
                let (p0, p1) = f(ch, bi * c + ch);
                (s0 + p0, s1 + p1)
            })
        })
        .collect()
}

/// Σ `f(a, b, c)` over three equally long slices, in eight independent f32 lanes (so that
/// the compiler vectorises it), the lanes added in f64.
#[inline]
fn lanes_sum3(a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f64 {
    let mut acc = [0f32; 8];
    let (ac, bc, cc) = (a.chunks_exact(8), b.chunks_exact(8), c.chunks_exact(8));
    let tail: f64 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .zip(cc.remainder())
        .map(|((&x, &y), &z)| f64::from(f(x, y, z)))
        .sum();
    for ((a8, b8), c8) in ac.zip(bc).zip(cc) {
        for (((s, &x), &y), &z) in acc.iter_mut().zip(a8).zip(b8).zip(c8) {
            *s += f(x, y, z);
        }
    }
    acc.iter().map(|&v| f64::from(v)).sum::<f64>() + tail
}

impl CustomOp3 for FusedBnRelu {
    fn name(&self) -> &'static str {
        "ser-batchnorm-relu"
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
        let (b, c, h, w) = l1.shape().dims4()?;
        let hw = h * w;
        let x = f32_slice(s1, l1, "batch-norm input")?;
        let gamma = f32_slice(s2, l2, "batch-norm weight")?;
        let beta = f32_slice(s3, l3, "batch-norm bias")?;
        if gamma.len() != c || beta.len() != c {
            candle_core::bail!(
                "batch-norm: {c} channels but weight/bias of {}/{}",
                gamma.len(),
                beta.len()
            );
        }
        let (y, mean, invstd, var) = train_forward(x, gamma, beta, (b, c, hw), self.eps);
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = Some((mean, invstd, var));
        match &self.pool {
            None => Ok((CpuStorage::F32(y), l1.shape().clone())),
            Some(saved) => {
                let pooled = pool_forward(&y, b * c, h, w);
                *saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(y);
                Ok((CpuStorage::F32(pooled), Shape::from((b, c, h / 2, w / 2))))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some((mean, invstd, _)) = self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
        else {
            candle_core::bail!("batch-norm backward before forward");
        };
        let (b, c, h, w) = x.dims4()?;
        let hw = h * w;
        let (x, g) = (x.contiguous()?, grad.contiguous()?);
        let gamma_v = gamma.to_vec1::<f32>()?;
        let (dx, dgamma, dbeta) = match &self.pool {
            None => {
                let y = res.contiguous()?;
                with_slice(&x, |x| {
                    with_slice(&y, |y| {
                        with_slice(&g, |g| bwd_cpu(x, y, g, b, c, hw, &gamma_v, &mean, &invstd))
                    })
                })???
            }
            Some(saved) => {
                let saved = saved.lock().unwrap_or_else(|e| e.into_inner());
                let Some(y) = saved.as_deref() else {
                    candle_core::bail!("batch-norm backward before forward");
                };
                if g.elem_count() != b * c * (h / 2) * (w / 2) {
                    candle_core::bail!("batch-norm+pool backward: gradient {:?}", g.dims());
                }
                with_slice(&x, |x| {
                    with_slice(&g, |g| {
                        pooled_bwd_cpu(x, y, g, (b, c, h, w), &gamma_v, &mean, &invstd)
                    })
                })??
            }
        };
        let dev = grad.device();
        Ok((
            Some(Tensor::from_vec(dx, (b, c, h, w), dev)?),
            Some(Tensor::from_vec(dgamma, c, dev)?),
            Some(Tensor::from_vec(dbeta, c, dev)?),
        ))
    }
}

/// BatchNorm with batch statistics, then ReLU, over `x` `[B, C, HW]`: the output, and
/// per channel the mean, `1/√(var + eps)` and the biased variance.
pub(crate) fn train_forward(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    (b, c, hw): (usize, usize, usize),
    eps: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = (b * hw) as f64;
    // Two-pass statistics: the mean first, then the centred second moment.
    let plane = |p: usize| &x[p * hw..(p + 1) * hw];
    let sums = channel_sums(b, c, |_, p| {
        let v = plane(p);
        (lanes_sum3(v, v, v, |x, _, _| x), 0.0)
    });
    let mean: Vec<f32> = sums.iter().map(|s| (s.0 / n) as f32).collect();
    let sq = channel_sums(b, c, |ch, p| {
        let (v, m) = (plane(p), mean[ch]);
        (lanes_sum3(v, v, v, |x, _, _| (x - m) * (x - m)), 0.0)
    });
    let var: Vec<f32> = sq.iter().map(|s| (s.0 / n) as f32).collect();
    let invstd: Vec<f32> = var
        .iter()
        .map(|v| 1.0 / (f64::from(*v) + eps).sqrt() as f32)
        .collect();
    let mut y = zeroed(x.len());
    y.par_chunks_mut(hw.max(1))
        .enumerate()
        .for_each(|(p, out)| {
            let ch = p % c;
            let (m, s, g, bt) = (mean[ch], invstd[ch], gamma[ch], beta[ch]);
            let src = &x[p * hw..(p + 1) * hw];
            for (o, v) in out.iter_mut().zip(src) {
                *o = ((v - m) * s * g + bt).max(0.0);
            }
        });
    (y, mean, invstd, var)
}

/// [`bwd_cpu`] from the gradient `g` of the 2×2-pooled output (`x` and `y` unpooled,
/// `[B, C, H, W]`): (∂x, ∂γ, ∂β).
pub(crate) fn pooled_bwd_cpu(
    x: &[f32],
    y: &[f32],
    g: &[f32],
    (b, c, h, w): (usize, usize, usize, usize),
    gamma: &[f32],
    mean: &[f32],
    invstd: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let gy = pool_backward(y, g, b * c, h, w);
    bwd_cpu(x, y, &gy, b, c, h * w, gamma, mean, invstd)
}

/// The training backward pass over borrowed slices: (∂x, ∂γ, ∂β).
#[allow(clippy::too_many_arguments)]
fn bwd_cpu(
    x: &[f32],
    y: &[f32],
    g: &[f32],
    b: usize,
    c: usize,
    hw: usize,
    gamma_v: &[f32],
    mean: &[f32],
    invstd: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    // Σ dy' and Σ dy'·x̂ per channel, dy' = dy where the ReLU passed.
    let sums = channel_sums(b, c, |ch, p| {
        let r = p * hw..(p + 1) * hw;
        let (xs, ys, gs) = (&x[r.clone()], &y[r.clone()], &g[r]);
        let (m, s) = (mean[ch], invstd[ch]);
        let dy = |y: f32, g: f32| if y > 0.0 { g } else { 0.0 };
        (
            lanes_sum3(ys, gs, gs, |y, g, _| dy(y, g)),
            lanes_sum3(xs, ys, gs, |x, y, g| dy(y, g) * (x - m)) * f64::from(s),
        )
    });
    let n = (b * hw) as f32;
    let dbeta: Vec<f32> = sums.iter().map(|s| s.0 as f32).collect();
    let dgamma: Vec<f32> = sums.iter().map(|s| s.1 as f32).collect();
    let mut dx = zeroed(x.len());
    dx.par_chunks_mut(hw.max(1))
        .enumerate()
        .for_each(|(p, out)| {
            let ch = p % c;
            let k = gamma_v[ch] * invstd[ch] / n;
            let (m, s, db, dg) = (mean[ch], invstd[ch], dbeta[ch], dgamma[ch]);
            let r = p * hw..(p + 1) * hw;
            let (xs, ys, gs) = (&x[r.clone()], &y[r.clone()], &g[r]);
            for (((o, &xv), &yv), &gv) in out.iter_mut().zip(xs).zip(ys).zip(gs) {
                let dy = if yv > 0.0 { gv } else { 0.0 };
                let xhat = (xv - m) * s;
                *o = k * (n * dy - db - xhat * dg);
            }
        });
    (dx, dgamma, dbeta)
}

/// BatchNorm with running statistics, then ReLU, in one pass over the activations:
/// `max(0, (x − mean) / std · γ + β)`, element for element the arithmetic of the five
/// candle operations it replaces (so the same numbers, bit for bit).
struct EvalBnRelu {
    /// Running mean per channel.
    mean: Vec<f32>,
    /// `√(running var + eps)` per channel.
    std: Vec<f32>,
}

impl CustomOp3 for EvalBnRelu {
    fn name(&self) -> &'static str {
        "ser-batchnorm-relu-eval"
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
        let (_, c, h, w) = l1.shape().dims4()?;
        let hw = h * w;
        let x = f32_slice(s1, l1, "batch-norm input")?;
        let gamma = f32_slice(s2, l2, "batch-norm weight")?;
        let beta = f32_slice(s3, l3, "batch-norm bias")?;
        if gamma.len() != c || beta.len() != c || self.mean.len() != c || self.std.len() != c {
            candle_core::bail!("batch-norm: {c} channels but parameters of other lengths");
        }
        let mut y = zeroed(x.len());
        y.par_chunks_mut(hw.max(1))
            .enumerate()
            .for_each(|(p, out)| {
                let ch = p % c;
                let (m, s, g, bt) = (self.mean[ch], self.std[ch], gamma[ch], beta[ch]);
                let src = &x[p * hw..(p + 1) * hw];
                for (o, v) in out.iter_mut().zip(src) {
                    *o = ((v - m) / s * g + bt).max(0.0);
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    /// Gradients for the rare case of training through a layer in evaluation mode, with
    /// candle's operations.
    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let c = self.mean.len();
        let dev = x.device();
        let shape = (1, c, 1, 1);
        let mean = Tensor::from_slice(&self.mean, shape, dev)?;
        let std = Tensor::from_slice(&self.std, shape, dev)?;
        let gy = (grad * res.gt(0.0)?.to_dtype(grad.dtype())?)?;
        let xhat = x.broadcast_sub(&mean)?.broadcast_div(&std)?;
        let per_channel = |t: &Tensor| {
            t.sum_keepdim(3)?
                .sum_keepdim(2)?
                .sum_keepdim(0)?
                .flatten_all()
        };
        let dgamma = per_channel(&(&gy * &xhat)?)?;
        let dbeta = per_channel(&gy)?;
        let dx = gy.broadcast_mul(&gamma.reshape(shape)?.broadcast_div(&std)?)?;
        Ok((Some(dx), Some(dgamma), Some(dbeta)))
    }
}

/// BatchNorm (per channel of `[B, C, H, W]`, names `weight`, `bias`, `running_mean`,
/// `running_var`) followed by ReLU.
#[derive(Debug, Clone)]
pub struct BatchNormRelu {
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    eps: f64,
    momentum: f64,
}

impl BatchNormRelu {
    /// `channels` features, `eps`, running-statistics `momentum` (PyTorch convention).
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(
        channels: usize,
        eps: f64,
        momentum: f64,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let running_mean = vb.get_with_hints(channels, "running_mean", Init::Const(0.0))?;
        let running_var = vb.get_with_hints(channels, "running_var", Init::Const(1.0))?;
        Ok(Self {
            weight: vb.get_with_hints(channels, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(channels, "bias", Init::Const(0.0))?,
            running_mean: Var::from_tensor(&running_mean)?,
            running_var: Var::from_tensor(&running_var)?,
            eps,
            momentum,
        })
    }

    /// Normalises with batch statistics (training: also updates the running statistics) or
    /// running statistics (evaluation), then applies ReLU.
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.forward_impl(x, train, true, false)
    }

    /// [`forward_t`](Self::forward_t) followed by [`max_pool2x2`]: the same numbers, and
    /// in training on the CPU one autograd node for the three, which spares candle the
    /// gradient of the full-size activation between them (a zero-filled tensor and an
    /// addition per step).
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward_pool_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.forward_impl(x, train, true, true)
    }

    /// As [`forward_t`](Self::forward_t), always through candle's operations: the path
    /// every device but the CPU takes in training. Public so that tests can run it on the
    /// CPU against the fused operation.
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward_t_generic(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.forward_impl(x, train, false, false)
    }

    fn forward_impl(
        &self,
        x: &Tensor,
        train: bool,
        fused: bool,
        pool: bool,
    ) -> candle_core::Result<Tensor> {
        let (y, pooled) = self.forward_inner(x, train, fused, pool)?;
        if pool && !pooled {
            return max_pool2x2(&y);
        }
        Ok(y)
    }

    /// The output, and whether it is pooled already (`pool` asks for the fused training
    /// node, which only the CPU in f32 has).
    fn forward_inner(
        &self,
        x: &Tensor,
        train: bool,
        fused: bool,
        pool: bool,
    ) -> candle_core::Result<(Tensor, bool)> {
        let c = self.running_mean.dim(0)?;
        let (b, cx, h, w) = x.dims4()?;
        if cx != c {
            candle_core::bail!("batch-norm: input has {cx} channels, expected {c}");
        }
        let shape = (1, c, 1, 1);
        if !train && fused && x.device().is_cpu() && x.dtype() == DType::F32 {
            let mean = self.running_mean.as_detached_tensor().to_vec1::<f32>()?;
            let var = self.running_var.as_detached_tensor().to_vec1::<f32>()?;
            // √(var + eps) in f32, as candle's `(var + eps).sqrt()` below computes it.
            let std = var.iter().map(|v| (v + self.eps as f32).sqrt()).collect();
            let op = EvalBnRelu { mean, std };
            let y =
                x.contiguous()?
                    .apply_op3_arc(&self.weight, &self.bias, Arc::new(Box::new(op)))?;
            return Ok((y, false));
        }
        if !train {
            let mean = self.running_mean.as_detached_tensor().reshape(shape)?;
            let std = (self.running_var.as_detached_tensor() + self.eps)?
                .sqrt()?
                .reshape(shape)?;
            let y = x
                .broadcast_sub(&mean)?
                .broadcast_div(&std)?
                .broadcast_mul(&self.weight.reshape(shape)?)?
                .broadcast_add(&self.bias.reshape(shape)?)?;
            return Ok((y.relu()?, false));
        }
        let n = (b * h * w) as f64;
        if fused && x.device().is_cpu() && x.dtype() == DType::F32 && n > 1.0 {
            let stats: Stats = Arc::new(Mutex::new(None));
            let op = FusedBnRelu {
                eps: self.eps,
                stats: stats.clone(),
                pool: pool.then(|| Mutex::new(None)),
            };
            let y =
                x.contiguous()?
                    .apply_op3_arc(&self.weight, &self.bias, Arc::new(Box::new(op)))?;
            self.update_from(&stats, n, x.device())?;
            return Ok((y, pool));
        }
        // Generic path: candle's operations.
        let mean = x.mean_keepdim(3)?.mean_keepdim(2)?.mean_keepdim(0)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred
            .sqr()?
            .mean_keepdim(3)?
            .mean_keepdim(2)?
            .mean_keepdim(0)?;
        let y = centred
            .broadcast_div(&(&var + self.eps)?.sqrt()?)?
            .broadcast_mul(&self.weight.reshape(shape)?)?
            .broadcast_add(&self.bias.reshape(shape)?)?
            .relu()?;
        let unbiased = if n > 1.0 {
            (var.detach() * (n / (n - 1.0)))?
        } else {
            var.detach()
        };
        self.update_running(&mean.detach().flatten_all()?, &unbiased.flatten_all()?)?;
        Ok((y, false))
    }

    /// γ, β and eps, for the fused convolution block ([`crate::block`]).
    pub(crate) fn affine(&self) -> (&Tensor, &Tensor, f64) {
        (&self.weight, &self.bias, self.eps)
    }

    /// Updates the running statistics from those a fused training pass left in `stats`
    /// (over `n` values per channel; nothing when it left none).
    pub(crate) fn update_from(
        &self,
        stats: &Stats,
        n: f64,
        dev: &candle_core::Device,
    ) -> candle_core::Result<()> {
        let guard = stats.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((mean, _, var)) = guard.as_ref() {
            let c = mean.len();
            let mean = Tensor::from_slice(mean, c, dev)?;
            let unbiased = (Tensor::from_slice(var, c, dev)? * (n / (n - 1.0)))?;
            self.update_running(&mean, &unbiased)?;
        }
        Ok(())
    }

    fn update_running(&self, mean: &Tensor, var: &Tensor) -> candle_core::Result<()> {
        let m = self.momentum;
        let rm = ((self.running_mean.as_tensor() * (1.0 - m))? + (mean * m)?)?;
        let rv = ((self.running_var.as_tensor() * (1.0 - m))? + (var * m)?)?;
        self.running_mean.set(&rm)?;
        self.running_var.set(&rv)
    }
}
