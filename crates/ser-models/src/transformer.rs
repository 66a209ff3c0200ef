//! A transformer encoder over the convolution blocks' sequence, in place of the
//! CNN-BLSTM-attention's BLSTM ([`TransformerConfig`]): a projection, a learned position
//! embedding and layers as PyTorch's `nn.TransformerEncoderLayer` (`batch_first`,
//! post-norm, ReLU), under the same tensor names (`in_proj`, `out_proj`, `linear1`,
//! `linear2`, `norm1`, `norm2`) so that the tests load PyTorch's weights.

use candle_core::{D, Module, Tensor};
use candle_nn::{Init, Linear, VarBuilder};

use crate::config::TransformerConfig;
use crate::layers::{Dropout, Mode, linear};

/// PyTorch's LayerNorm ε.
const LAYER_NORM_EPS: f64 = 1e-5;

/// Layer normalisation over the last dimension (`weight`, `bias`, ε 1e-5), from
/// candle's basic operations so that gradients flow through it.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// A LayerNorm of `dim` features (weight 1, bias 0).
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(dim: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
        })
    }

    /// `(x − mean) / √(var + ε) · weight + bias` over the last dimension (biased variance).
    ///
    /// # Errors
    /// Shape and device errors.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        centred
            .broadcast_div(&(var + LAYER_NORM_EPS)?.sqrt()?)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// Multi-head self-attention as PyTorch's `nn.MultiheadAttention` with `batch_first`:
/// `in_proj` (weight `[3·dim, dim]`: queries, keys, values) and `out_proj`; dropout on the
/// attention weights.
#[derive(Debug, Clone)]
struct SelfAttention {
    in_proj: Linear,
    out_proj: Linear,
    heads: usize,
    dropout: Dropout,
}

impl SelfAttention {
    fn new(cfg: &TransformerConfig, vb: VarBuilder, name: &str) -> candle_core::Result<Self> {
        Ok(Self {
            in_proj: linear(cfg.dim, 3 * cfg.dim, true, vb.pp("in_proj"))?,
            out_proj: linear(cfg.dim, cfg.dim, true, vb.pp("out_proj"))?,
            heads: cfg.heads,
            dropout: Dropout::new(cfg.dropout, &format!("{name}.attn_dropout")),
        })
    }

    /// `[B, T, dim]` → `[B, T, dim]`.
    fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        let dh = d / self.heads;
        let qkv = self.in_proj.forward(x)?;
        // [B, T, dim] → [B, heads, T, dim / heads]
        let part = |i: usize| {
            qkv.narrow(2, i * d, d)?
                .reshape((b, t, self.heads, dh))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = (part(0)? * (1.0 / (dh as f64).sqrt()))?;
        let (k, v) = (part(1)?, part(2)?);
        let weights = candle_nn::ops::softmax(&q.matmul(&k.t()?.contiguous()?)?, D::Minus1)?;
        let weights = self.dropout.forward(&weights, mode)?;
        let out = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, d))?;
        self.out_proj.forward(&out)
    }
}

/// One post-norm encoder layer: `x = norm1(x + drop(attn(x)))`, then
/// `x = norm2(x + drop(linear2(drop(relu(linear1(x))))))`.
#[derive(Debug, Clone)]
struct EncoderLayer {
    attn: SelfAttention,
    linear1: Linear,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
    dropout: Dropout,
    dropout1: Dropout,
    dropout2: Dropout,
}

impl EncoderLayer {
    fn new(cfg: &TransformerConfig, vb: VarBuilder, name: &str) -> candle_core::Result<Self> {
        let drop = |what: &str| Dropout::new(cfg.dropout, &format!("{name}.{what}"));
        Ok(Self {
            attn: SelfAttention::new(cfg, vb.pp("self_attn"), name)?,
            linear1: linear(cfg.dim, cfg.ff, true, vb.pp("linear1"))?,
            linear2: linear(cfg.ff, cfg.dim, true, vb.pp("linear2"))?,
            norm1: LayerNorm::new(cfg.dim, vb.pp("norm1"))?,
            norm2: LayerNorm::new(cfg.dim, vb.pp("norm2"))?,
            dropout: drop("dropout"),
            dropout1: drop("dropout1"),
            dropout2: drop("dropout2"),
        })
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let a = self.dropout1.forward(&self.attn.forward(x, mode)?, mode)?;
        let x = self.norm1.forward(&(x + a)?)?;
        let f = self.linear1.forward(&x)?.relu()?;
        let f = self.linear2.forward(&self.dropout.forward(&f, mode)?)?;
        let f = self.dropout2.forward(&f, mode)?;
        self.norm2.forward(&(x + f)?)
    }
}

/// The encoder: `proj` (the sequence's features to `dim`), `pos` (`[steps, dim]`, added
/// to every item), then `layers.{i}`.
#[derive(Debug, Clone)]
pub struct TransformerEncoder {
    proj: Linear,
    pos: Tensor,
    layers: Vec<EncoderLayer>,
}

impl TransformerEncoder {
    /// An encoder of `cfg` over sequences of `steps` steps of `in_dim` features.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(
        cfg: &TransformerConfig,
        in_dim: usize,
        steps: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let layers = (0..cfg.layers)
            .map(|i| EncoderLayer::new(cfg, vb.pp(format!("layers.{i}")), &format!("encoder{i}")))
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            proj: linear(in_dim, cfg.dim, true, vb.pp("proj"))?,
            pos: vb.get_with_hints(
                (steps, cfg.dim),
                "pos",
                Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            )?,
            layers,
        })
    }

    /// `[B, steps, in_dim]` → `[B, steps, dim]`.
    ///
    /// # Errors
    /// Shape and device errors (another number of steps than the encoder's).
    pub fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let mut h = self.proj.forward(x)?.broadcast_add(&self.pos)?;
        for layer in &self.layers {
            h = layer.forward(&h, mode)?;
        }
        Ok(h)
    }
}
