//! A convolution block's training step on the CPU as one autograd node: the 3×3
//! convolution, BatchNorm with batch statistics, ReLU and the 2×2 max-pool.
//!
//! As separate nodes ([`ops::conv2d`](crate::ops::conv2d), then
//! [`BatchNormRelu::forward_pool_t`]), candle's autograd gives the convolution's output —
//! the largest tensor of the block — a gradient of its own: a zero-filled tensor of that
//! size, and an addition into it of the one gradient it ever gets, every step. One node
//! hands the BatchNorm's input gradient straight to the convolution's backward pass
//! instead. The numbers are those of the separate nodes: the same functions run on the
//! same values in the same order (`conv_bn_relu_pool_is_the_separate_nodes`).
//!
//! Candle's custom operations take three inputs, the block has five (input, kernel, bias,
//! γ, β): the three per-channel vectors enter as one, `cat([bias, γ, β])`, whose gradient
//! candle splits back.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};

use crate::bn::{BatchNormRelu, Stats, pooled_bwd_cpu, train_forward};
use crate::ops::{
    ConvGeometry, conv_backward_tensors, conv_forward, f32_slice, pool_forward, with_slice,
};

/// What the forward pass keeps for the backward pass: the convolution's output and the
/// unpooled activation.
type Saved = Mutex<Option<(Vec<f32>, Vec<f32>)>>;

struct ConvBnReluPool {
    geometry: ConvGeometry,
    eps: f64,
    stats: Stats,
    saved: Saved,
}

impl CustomOp3 for ConvBnReluPool {
    fn name(&self) -> &'static str {
        "ser-conv-batchnorm-relu-pool"
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
        let g = self.geometry;
        let (b, c, h, w) = l1.shape().dims4()?;
        if (c, h, w) != (g.channels, g.height, g.width) {
            candle_core::bail!("conv block: input {:?} does not match {g:?}", l1.dims());
        }
        let x = f32_slice(s1, l1, "conv block input")?;
        let wt = f32_slice(s2, l2, "conv block kernel")?;
        let params = f32_slice(s3, l3, "conv block bias, weight and shift")?;
        let o = params.len() / 3;
        if params.len() != 3 * o || wt.len() != o * g.k() {
            candle_core::bail!(
                "conv block: kernel of {} values and {} channel parameters for {o} outputs of {}",
                wt.len(),
                params.len(),
                g.k()
            );
        }
        let (bias, rest) = params.split_at(o);
        let (gamma, beta) = rest.split_at(o);
        let (oh, ow) = (g.out_h(), g.out_w());
        let conv = conv_forward(x, wt, bias, b, &g);
        let (y, mean, invstd, var) = train_forward(&conv, gamma, beta, (b, o, oh * ow), self.eps);
        let pooled = pool_forward(&y, b * o, oh, ow);
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = Some((mean, invstd, var));
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some((conv, y));
        Ok((CpuStorage::F32(pooled), Shape::from((b, o, oh / 2, ow / 2))))
    }

    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        params: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = self.geometry;
        let Some((mean, invstd, _)) = self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
        else {
            candle_core::bail!("conv block backward before forward");
        };
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        let Some((conv, y)) = saved.as_ref() else {
            candle_core::bail!("conv block backward before forward");
        };
        let (b, o, ph, pw) = grad.dims4()?;
        let (oh, ow) = (g.out_h(), g.out_w());
        if (ph, pw) != (oh / 2, ow / 2) || conv.len() != b * o * oh * ow {
            candle_core::bail!("conv block backward: gradient {:?}", grad.dims());
        }
        let params_v = params.to_vec1::<f32>()?;
        let gamma = &params_v[o..2 * o];
        let grad = grad.detach().contiguous()?;
        let (dconv, dgamma, dbeta) = with_slice(&grad, |gp| {
            pooled_bwd_cpu(conv, y, gp, (b, o, oh, ow), gamma, &mean, &invstd)
        })?;
        let (dx, dw, mut dparams) = conv_backward_tensors(x, weight, &dconv, (b, o), &g)?;
        dparams.extend_from_slice(&dgamma);
        dparams.extend_from_slice(&dbeta);
        Ok((
            dx,
            Some(dw),
            Some(Tensor::from_vec(dparams, 3 * o, &candle_core::Device::Cpu)?),
        ))
    }
}

/// Whether [`conv_bn_relu_pool`] can run: on the CPU in f32, a kernel that fits the input
/// (else the separate convolution reports the mismatch) and more than one value per
/// channel for the batch statistics.
pub(crate) fn fits(x: &Tensor, weight: &Tensor, g: &ConvGeometry) -> bool {
    let kernel_fits = weight.dims4().is_ok_and(|(_, c, kh, kw)| {
        c == g.channels && g.height + 2 * g.padding >= kh && g.width + 2 * g.padding >= kw
    });
    kernel_fits
        && x.device().is_cpu()
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && x.dim(0).unwrap_or(0) * g.out_h() * g.out_w() > 1
}

/// The block `pool(relu(bn(conv(x))))` in training, as one node (see the
/// [module docs](self)); updates `bn`'s running statistics as its own training pass does.
///
/// # Errors
/// Shape and device errors.
pub(crate) fn conv_bn_relu_pool(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    geometry: ConvGeometry,
    bn: &BatchNormRelu,
) -> candle_core::Result<Tensor> {
    let (gamma, beta, eps) = bn.affine();
    let params = Tensor::cat(&[bias, gamma, beta], 0)?;
    let stats: Stats = Arc::new(Mutex::new(None));
    let op = ConvBnReluPool {
        geometry,
        eps,
        stats: stats.clone(),
        saved: Mutex::new(None),
    };
    let y =
        x.contiguous()?
            .apply_op3_arc(&weight.contiguous()?, &params, Arc::new(Box::new(op)))?;
    let n = (x.dim(0)? * geometry.out_h() * geometry.out_w()) as f64;
    bn.update_from(&stats, n, x.device())?;
    Ok(y)
}
