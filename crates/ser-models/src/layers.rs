//! The building blocks: convolution blocks, a bidirectional LSTM, additive attention
//! pooling, dense layers and seeded dropout, each named like the PyTorch modules whose
//! outputs the tests compare against.

use candle_core::{D, IndexOp, Module, Tensor};
use candle_nn::{Init, Linear, VarBuilder};

use crate::bn::BatchNormRelu;
use crate::{block, blstm};

use crate::ops;

/// Whether a forward pass trains (batch statistics, dropout drawn from `seed`) or
/// evaluates (running statistics, no dropout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Inference.
    Eval,
    /// Training; every dropout layer draws its mask from `seed` and its own name.
    Train {
        /// The step's seed.
        seed: u64,
    },
}

impl Mode {
    /// Whether this is training.
    pub fn is_train(self) -> bool {
        matches!(self, Self::Train { .. })
    }
}

/// Glorot (Xavier) uniform, Keras's default kernel initialiser.
pub fn glorot_uniform(fan_in: usize, fan_out: usize) -> Init {
    let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    Init::Uniform {
        lo: -limit,
        up: limit,
    }
}

/// A dense layer `y = x Wᵀ + b` (Glorot-uniform `weight` `[out, in]`, zero `bias`).
///
/// # Errors
/// When the store already holds the names with other shapes.
pub fn linear(
    in_dim: usize,
    out_dim: usize,
    bias: bool,
    vb: VarBuilder,
) -> candle_core::Result<Linear> {
    let w = vb.get_with_hints((out_dim, in_dim), "weight", glorot_uniform(in_dim, out_dim))?;
    let b = if bias {
        Some(vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?)
    } else {
        None
    };
    Ok(Linear::new(w, b))
}

/// Dropout with probability `p`, its mask seeded by the step's seed and `salt`.
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f32,
    salt: u64,
}

impl Dropout {
    /// Dropout of probability `p`; `name` makes its masks independent of other layers'.
    pub fn new(p: f32, name: &str) -> Self {
        Self {
            p,
            salt: ser_core::seed::mix_seed(0x5e5d_0d0f, name),
        }
    }

    /// Applies dropout in training mode, the identity otherwise.
    ///
    /// # Errors
    /// Device errors.
    pub fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        match mode {
            Mode::Train { seed } if self.p > 0.0 => ops::dropout(x, self.p, seed ^ self.salt),
            _ => Ok(x.clone()),
        }
    }
}

/// A 2-D convolution layer (`weight` `[out, in, k, k]`, `bias` `[out]`), through
/// [`ops::conv2d`].
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    padding: usize,
}

impl Conv2d {
    /// A `k`×`k` convolution, stride 1, `padding` zeros each side, Glorot-uniform kernel and
    /// zero bias (Keras's defaults).
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(
        in_c: usize,
        out_c: usize,
        k: usize,
        padding: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let init = glorot_uniform(in_c * k * k, out_c * k * k);
        let weight = vb.get_with_hints((out_c, in_c, k, k), "weight", init)?;
        let bias = Some(vb.get_with_hints(out_c, "bias", Init::Const(0.0))?);
        Ok(Self {
            weight,
            bias,
            padding,
        })
    }

    /// The kernel.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The geometry of this convolution on `x` `[B, C, H, W]`.
    fn geometry(&self, x: &Tensor) -> candle_core::Result<ops::ConvGeometry> {
        let (_, channels, height, width) = x.dims4()?;
        let (_, _, kernel_h, kernel_w) = self.weight.dims4()?;
        Ok(ops::ConvGeometry {
            channels,
            height,
            width,
            kernel_h,
            kernel_w,
            padding: self.padding,
            stride: 1,
        })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        ops::conv2d(x, &self.weight, self.bias.as_ref(), self.padding, 1)
    }
}

/// Conv 3×3 (same padding) → BatchNorm → ReLU → MaxPool 2×2 → Dropout; names `conv`, `bn`.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    conv: Conv2d,
    bn: BatchNormRelu,
    dropout: Dropout,
}

impl ConvBlock {
    /// A block from `in_c` to `out_c` channels.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(
        in_c: usize,
        out_c: usize,
        dropout: f32,
        bn_eps: f64,
        bn_momentum: f64,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let conv = Conv2d::new(in_c, out_c, 3, 1, vb.pp("conv"))?;
        let bn = BatchNormRelu::new(out_c, bn_eps, bn_momentum, vb.pp("bn"))?;
        let dropout = Dropout::new(dropout, &vb.prefix());
        Ok(Self { conv, bn, dropout })
    }

    /// The convolution kernel (for the L2 penalty).
    pub fn kernel(&self) -> &Tensor {
        self.conv.weight()
    }

    /// `[B, in, H, W]` → `[B, out, H/2, W/2]`.
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let g = self.conv.geometry(x)?;
        let fused = match &self.conv.bias {
            Some(bias) if mode.is_train() && block::fits(x, &self.conv.weight, &g) => Some(
                block::conv_bn_relu_pool(x, &self.conv.weight, bias, g, &self.bn)?,
            ),
            _ => None,
        };
        let x = match fused {
            Some(y) => y,
            None => {
                let x = self.conv.forward(x)?;
                self.bn.forward_pool_t(&x, mode.is_train())?
            }
        };
        self.dropout.forward(&x, mode)
    }
}

/// A unidirectional LSTM (PyTorch names `weight_ih_l0`, ...) returning every step's output.
#[derive(Debug, Clone)]
pub struct Lstm {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
    in_dim: usize,
    hidden: usize,
}

impl Lstm {
    /// An LSTM from `in_dim` features to `hidden` units, initialised as PyTorch does:
    /// U(−1/√H, 1/√H) for every weight and bias.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(in_dim: usize, hidden: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        let k = 1.0 / (hidden as f64).sqrt();
        let u = Init::Uniform { lo: -k, up: k };
        // The names, order and initialisation of candle_nn's `lstm`, whose weights these were.
        Ok(Self {
            w_ih: vb.get_with_hints((4 * hidden, in_dim), "weight_ih_l0", u)?,
            w_hh: vb.get_with_hints((4 * hidden, hidden), "weight_hh_l0", u)?,
            b_ih: vb.get_with_hints(4 * hidden, "bias_ih_l0", u)?,
            b_hh: vb.get_with_hints(4 * hidden, "bias_hh_l0", u)?,
            in_dim,
            hidden,
        })
    }

    /// `[B, T, in]` → `[B, T, hidden]`, step by step as candle operations (those of
    /// candle_nn's LSTM, in its order).
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let zeros = Tensor::zeros((b, self.hidden), x.dtype(), x.device())?;
        let (mut h, mut c) = (zeros.clone(), zeros);
        let mut out = Vec::with_capacity(t);
        for s in 0..t {
            let input = x.i((.., s, ..))?.contiguous()?;
            let a_ih = input.matmul(&self.w_ih.t()?)?.broadcast_add(&self.b_ih)?;
            let a_hh = h.matmul(&self.w_hh.t()?)?.broadcast_add(&self.b_hh)?;
            let chunks = (&a_ih + &a_hh)?.chunk(4, 1)?;
            let in_gate = candle_nn::ops::sigmoid(&chunks[0])?;
            let forget_gate = candle_nn::ops::sigmoid(&chunks[1])?;
            let cell_gate = chunks[2].tanh()?;
            let out_gate = candle_nn::ops::sigmoid(&chunks[3])?;
            c = forget_gate.mul(&c)?.add(&in_gate.mul(&cell_gate)?)?;
            h = out_gate.mul(&c.tanh()?)?;
            out.push(h.clone());
        }
        Tensor::stack(&out, 1)
    }

    /// The weights and biases, `[W_ih, W_hh, b_ih, b_hh]`.
    fn params(&self) -> [&Tensor; 4] {
        [&self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh]
    }
}

/// A bidirectional LSTM built from two LSTMs (`fw` over the sequence, `bw` over it
/// reversed), as candle has none: output `[B, T, 2·hidden]`, the backward half aligned with
/// the input steps, like PyTorch's `bidirectional=True`. On the CPU in f32, for batches of
/// 8 or more (training's, a timeline's), the whole layer is one autograd node (both
/// directions side by side, see `blstm.rs`); elsewhere, and for the live recognizer's
/// single windows, where the node's setup costs more than it saves, it is the two LSTMs'
/// candle operations.
#[derive(Debug, Clone)]
pub struct Blstm {
    fw: Lstm,
    bw: Lstm,
}

impl Blstm {
    /// A BLSTM from `in_dim` features to `hidden` units per direction.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(in_dim: usize, hidden: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            fw: Lstm::new(in_dim, hidden, vb.pp("fw"))?,
            bw: Lstm::new(in_dim, hidden, vb.pp("bw"))?,
        })
    }

    /// `[B, T, in]` → `[B, T, 2·hidden]`.
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if blstm::fits(x, self.fw.in_dim) {
            return blstm::blstm(x, self.fw.params(), self.bw.params(), self.fw.hidden);
        }
        self.forward_nodes(x)
    }

    /// [`forward`](Self::forward) as the two LSTMs' candle operations, on any device.
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward_nodes(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let f = self.fw.forward(x)?;
        let b = self.bw.forward(&x.flip(&[1])?)?.flip(&[1])?;
        Tensor::cat(&[f, b], 2)
    }
}

/// Additive attention pooling over time: `α = softmax_t(vᵀ tanh(W hₜ + b))`,
/// `context = Σₜ αₜ hₜ`; names `proj` (W, b) and `score` (v).
#[derive(Debug, Clone)]
pub struct AttentionPool {
    proj: Linear,
    score: Linear,
}

impl AttentionPool {
    /// Attention of dimension `dim` over `in_dim` features.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(in_dim: usize, dim: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            proj: linear(in_dim, dim, true, vb.pp("proj"))?,
            score: linear(dim, 1, false, vb.pp("score"))?,
        })
    }

    /// `[B, T, D]` → (context `[B, D]`, weights `[B, T]`).
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward(&self, h: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let u = self.proj.forward(h)?.tanh()?;
        let e = self.score.forward(&u)?.squeeze(D::Minus1)?;
        let alpha = candle_nn::ops::softmax(&e, 1)?;
        let context = alpha.unsqueeze(2)?.broadcast_mul(h)?.sum(1)?;
        Ok((context, alpha))
    }
}
