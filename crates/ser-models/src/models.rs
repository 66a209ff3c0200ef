//! The six classifiers behind one [`Classifier`] trait, and [`Model`], a network with its
//! configuration, parameters and device.

use std::fmt;
use std::path::Path;

use candle_core::{DType, Device, Module, ModuleT, Tensor, Var};
use candle_nn::{BatchNorm, BatchNormConfig, Linear, VarBuilder};

use crate::config::{Architecture, ModelConfig, SequencePooling};
use crate::error::{Error, Result};
use crate::layers::{AttentionPool, Blstm, Conv2d, ConvBlock, Dropout, Lstm, Mode, linear};
use crate::params::ParamStore;
use crate::transformer::TransformerEncoder;

/// A speech-emotion classifier: features `[B, C, n_mels, frames]` to logits `[B, classes]`.
///
/// Training, evaluation and the examples only see this trait (through [`Model`]).
pub trait Classifier: Send + Sync + fmt::Debug {
    /// Logits for a batch, in training or evaluation [`Mode`].
    ///
    /// # Errors
    /// Shape and device errors.
    fn forward_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<Tensor>;

    /// The kernels the L2 penalty applies to.
    fn regularized(&self) -> Vec<Tensor> {
        Vec::new()
    }

    /// The width of the pooled representation the dense head reads, for networks that
    /// have one (see [`forward_embedded_t`](Self::forward_embedded_t)); `None` otherwise.
    fn embedding_dim(&self) -> Option<usize> {
        None
    }

    /// Logits and the pooled representation `[B, embedding_dim]` the head read from, in
    /// one pass (what speaker-adversarial training needs). Networks without
    /// [`embedding_dim`](Self::embedding_dim) return an error.
    ///
    /// # Errors
    /// Shape and device errors; an error when the network has no pooled representation.
    fn forward_embedded_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<(Tensor, Tensor)> {
        let _ = (xs, mode);
        Err(candle_core::Error::Msg(
            "this network has no pooled representation".into(),
        ))
    }

    /// Whether the variable `name` is trained (BatchNorm running statistics and frozen
    /// layers are not).
    fn is_trainable(&self, name: &str) -> bool {
        !(name.ends_with("running_mean") || name.ends_with("running_var"))
    }
}

fn blocks(cfg: &ModelConfig, vb: &VarBuilder) -> candle_core::Result<Vec<ConvBlock>> {
    let mut in_c = cfg.input.channels();
    let mut out = Vec::with_capacity(cfg.conv_channels.len());
    for (i, &c) in cfg.conv_channels.iter().enumerate() {
        out.push(ConvBlock::new(
            in_c,
            c,
            cfg.conv_dropout,
            cfg.bn_eps,
            cfg.bn_momentum,
            vb.pp(format!("blocks.{i}")),
        )?);
        in_c = c;
    }
    Ok(out)
}

fn run_blocks(blocks: &[ConvBlock], xs: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
    let mut x = xs.clone();
    for b in blocks {
        x = b.forward(&x, mode)?;
    }
    Ok(x)
}

/// `[B, C, F, T]` → `[B, T, C·F]`: the feature map read as a time sequence along the frames.
pub fn to_sequence(x: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, f, t) = x.dims4()?;
    x.permute((0, 3, 1, 2))?.reshape((b, t, c * f))
}

/// Statistics pooling: `[B, T, D]` → `[B, 2·D]`, the mean over time and `√(var + 1e-5)`
/// (the biased variance) side by side.
///
/// # Errors
/// Shape and device errors.
pub fn mean_std_pool(h: &Tensor) -> candle_core::Result<Tensor> {
    let mean = h.mean_keepdim(1)?;
    let var = h.broadcast_sub(&mean)?.sqr()?.mean(1)?;
    Tensor::cat(&[mean.squeeze(1)?, (var + 1e-5)?.sqrt()?], 1)
}

/// Name of the `i`-th layer of a stack: `base`, `base1`, `base2`, ...
fn nth(base: &str, i: usize) -> String {
    if i == 0 {
        base.to_string()
    } else {
        format!("{base}{i}")
    }
}

/// Dropout → (Dense + ReLU)* → Dense: names `fc`, `fc1`, ..., `out`.
#[derive(Debug, Clone)]
struct Head {
    dropout: Dropout,
    hidden: Vec<Linear>,
    out: Linear,
    /// The width of the representation it reads.
    in_dim: usize,
}

impl Head {
    fn new(in_dim: usize, cfg: &ModelConfig, vb: &VarBuilder) -> candle_core::Result<Self> {
        let mut hidden = Vec::new();
        let mut d = in_dim;
        for (i, &h) in cfg.dense.iter().enumerate() {
            hidden.push(linear(d, h, true, vb.pp(nth("fc", i)))?);
            d = h;
        }
        Ok(Self {
            dropout: Dropout::new(cfg.dropout, &format!("{}head", vb.prefix())),
            hidden,
            out: linear(d, cfg.classes, true, vb.pp("out"))?,
            in_dim,
        })
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let mut x = self.dropout.forward(x, mode)?;
        for l in &self.hidden {
            x = l.forward(&x)?.relu()?;
        }
        self.out.forward(&x)
    }
}

/// Convolution blocks, global average pooling, dense head.
#[derive(Debug, Clone)]
pub struct Cnn {
    blocks: Vec<ConvBlock>,
    head: Head,
}

impl Cnn {
    /// Builds the network under `vb`.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let blocks = blocks(cfg, &vb)?;
        let c = cfg
            .conv_channels
            .last()
            .copied()
            .unwrap_or(cfg.input.channels());
        Ok(Self {
            blocks,
            head: Head::new(c, cfg, &vb)?,
        })
    }
}

impl Classifier for Cnn {
    fn forward_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        Ok(self.forward_embedded_t(xs, mode)?.0)
    }

    fn embedding_dim(&self) -> Option<usize> {
        Some(self.head.in_dim)
    }

    fn forward_embedded_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<(Tensor, Tensor)> {
        let x = run_blocks(&self.blocks, xs, mode)?;
        let x = x.mean(3)?.mean(2)?;
        Ok((self.head.forward(&x, mode)?, x))
    }

    fn regularized(&self) -> Vec<Tensor> {
        self.blocks.iter().map(|b| b.kernel().clone()).collect()
    }
}

/// How a recurrent stack's outputs become one vector per utterance.
#[derive(Debug, Clone)]
enum Pooling {
    /// The last step (and, bidirectional, the backward direction's first step).
    Last { bidirectional: bool, hidden: usize },
    /// Additive attention over all steps.
    Attention(AttentionPool),
    /// The mean and standard deviation over the steps.
    MeanStd,
}

#[derive(Debug, Clone)]
enum Rnn {
    Uni(Lstm),
    Bi(Blstm),
}

impl Rnn {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Uni(l) => l.forward(x),
            Self::Bi(l) => l.forward(x),
        }
    }
}

/// Optional convolution blocks, a stack of (B)LSTMs over time (or, CNN-BLSTM-attention
/// with [`ModelConfig::transformer`], a transformer encoder), pooling, dense head: the
/// LSTM, CNN-LSTM, CNN-BLSTM and CNN-BLSTM-attention networks.
#[derive(Debug, Clone)]
pub struct Recurrent {
    blocks: Vec<ConvBlock>,
    rnn: Vec<Rnn>,
    /// In place of `rnn` ([`ModelConfig::transformer`]).
    encoder: Option<TransformerEncoder>,
    pooling: Pooling,
    head: Head,
}

impl Recurrent {
    /// Builds the network under `vb` (`cfg.architecture` picks the variant).
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let (blocks, mut d) = if cfg.architecture == Architecture::Lstm {
            (Vec::new(), cfg.input.channels() * cfg.input.n_mels)
        } else {
            let (f, _) = cfg.conv_output();
            let c = cfg.conv_channels.last().copied().unwrap_or(1);
            (blocks(cfg, &vb)?, c * f)
        };
        let bidirectional = matches!(
            cfg.architecture,
            Architecture::CnnBlstm | Architecture::CnnBlstmAttn
        );
        let mut rnn = Vec::new();
        let mut encoder = None;
        if let Some(t) = &cfg.transformer {
            let steps = cfg.conv_output().1;
            encoder = Some(TransformerEncoder::new(t, d, steps, vb.pp("encoder"))?);
            d = t.dim;
        }
        for i in 0..cfg.rnn_layers * usize::from(encoder.is_none()) {
            if bidirectional {
                rnn.push(Rnn::Bi(Blstm::new(
                    d,
                    cfg.rnn_hidden,
                    vb.pp(nth("blstm", i)),
                )?));
                d = 2 * cfg.rnn_hidden;
            } else {
                rnn.push(Rnn::Uni(Lstm::new(
                    d,
                    cfg.rnn_hidden,
                    vb.pp(nth("lstm", i)),
                )?));
                d = cfg.rnn_hidden;
            }
        }
        let pooling = if cfg.architecture == Architecture::CnnBlstmAttn {
            match cfg.pooling {
                SequencePooling::Attention => {
                    Pooling::Attention(AttentionPool::new(d, cfg.attention_dim, vb.pp("attn"))?)
                }
                SequencePooling::MeanStd => {
                    d *= 2;
                    Pooling::MeanStd
                }
            }
        } else {
            Pooling::Last {
                bidirectional,
                hidden: cfg.rnn_hidden,
            }
        };
        Ok(Self {
            blocks,
            rnn,
            encoder,
            pooling,
            head: Head::new(d, cfg, &vb)?,
        })
    }
}

impl Classifier for Recurrent {
    fn forward_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        Ok(self.forward_embedded_t(xs, mode)?.0)
    }

    fn embedding_dim(&self) -> Option<usize> {
        Some(self.head.in_dim)
    }

    fn forward_embedded_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<(Tensor, Tensor)> {
        let x = run_blocks(&self.blocks, xs, mode)?;
        let mut h = to_sequence(&x)?;
        for l in &self.rnn {
            h = l.forward(&h)?;
        }
        if let Some(e) = &self.encoder {
            h = e.forward(&h, mode)?;
        }
        let pooled = match &self.pooling {
            Pooling::Attention(a) => a.forward(&h)?.0,
            Pooling::MeanStd => mean_std_pool(&h)?,
            Pooling::Last {
                bidirectional,
                hidden,
            } => {
                let t = h.dim(1)?;
                let last = h.narrow(1, t - 1, 1)?.squeeze(1)?;
                if *bidirectional {
                    let fw = last.narrow(1, 0, *hidden)?;
                    let bw = h.narrow(1, 0, 1)?.squeeze(1)?.narrow(1, *hidden, *hidden)?;
                    Tensor::cat(&[fw, bw], 1)?
                } else {
                    last
                }
            }
        };
        Ok((self.head.forward(&pooled, mode)?, pooled))
    }

    fn regularized(&self) -> Vec<Tensor> {
        self.blocks.iter().map(|b| b.kernel().clone()).collect()
    }
}

/// torchvision's VGG19 `features` layout: channels of each 3×3 convolution, `0` for a
/// max-pooling.
const VGG19_LAYOUT: [usize; 21] = [
    64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0,
];

/// VGG19 over batches, under `timm/vgg19.tv_in1k`'s tensor names (`features.N.weight`,
/// `features.N.bias`), the first `frozen_features` layers frozen, and the research's head
/// (`head.fc1`, `head.bn1`, `head.fc2`, `head.bn2`, `head.out`).
#[derive(Debug, Clone)]
pub struct Vgg19 {
    /// `(features index, conv)`; `None` marks a max-pooling.
    features: Vec<(usize, Option<Conv2d>)>,
    frozen: usize,
    fc: Vec<(Linear, BatchNorm)>,
    dropout: Vec<Dropout>,
    out: Linear,
}

impl Vgg19 {
    /// Builds the network under `vb`.
    ///
    /// # Errors
    /// When the store already holds the names with other shapes.
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let mut features = Vec::new();
        let mut idx = 0;
        let mut c = cfg.input.channels();
        let (mut h, mut w) = (cfg.input.n_mels, cfg.input.frames);
        for &l in &VGG19_LAYOUT {
            if l == 0 {
                features.push((idx, None));
                idx += 1;
                h /= 2;
                w /= 2;
            } else {
                features.push((
                    idx,
                    Some(Conv2d::new(c, l, 3, 1, vb.pp(format!("features.{idx}")))?),
                ));
                c = l;
                idx += 2; // conv, ReLU
            }
        }
        let bn_cfg = BatchNormConfig {
            eps: cfg.bn_eps,
            remove_mean: true,
            affine: true,
            momentum: cfg.bn_momentum,
        };
        let mut d = c * h * w;
        let mut fc = Vec::new();
        let mut dropout = Vec::new();
        for (i, &n) in cfg.dense.iter().enumerate() {
            let vh = vb.pp("head");
            let l = linear(d, n, true, vh.pp(format!("fc{}", i + 1)))?;
            let bn = candle_nn::batch_norm(n, bn_cfg, vh.pp(format!("bn{}", i + 1)))?;
            fc.push((l, bn));
            dropout.push(Dropout::new(cfg.dropout, &format!("head.dropout{}", i + 1)));
            d = n;
        }
        Ok(Self {
            features,
            frozen: cfg.frozen_features,
            fc,
            dropout,
            out: linear(d, cfg.classes, true, vb.pp("head.out"))?,
        })
    }

    fn layer_index(name: &str) -> Option<usize> {
        name.strip_prefix("features.")?
            .split('.')
            .next()?
            .parse()
            .ok()
    }
}

impl Classifier for Vgg19 {
    fn forward_t(&self, xs: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let mut x = xs.clone();
        let mut detached = self.frozen == 0;
        for (idx, layer) in &self.features {
            if !detached && *idx >= self.frozen {
                // Nothing before this point trains: cut the graph so that backward stops.
                x = x.detach();
                detached = true;
            }
            x = match layer {
                Some(conv) => conv.forward(&x)?.relu()?,
                None => crate::ops::max_pool2x2(&x)?,
            };
        }
        let mut x = x.flatten_from(1)?;
        for ((l, bn), d) in self.fc.iter().zip(&self.dropout) {
            x = l.forward(&x)?.relu()?;
            x = bn.forward_t(&x, mode.is_train())?;
            x = d.forward(&x, mode)?;
        }
        self.out.forward(&x)
    }

    fn is_trainable(&self, name: &str) -> bool {
        if name.ends_with("running_mean") || name.ends_with("running_var") {
            return false;
        }
        Self::layer_index(name).is_none_or(|i| i >= self.frozen)
    }
}

/// Builds the network `cfg` describes under `vb` (any candle [`VarBuilder`]: a
/// [`ParamStore`], a `VarMap`, or memory-mapped safetensors).
///
/// # Errors
/// [`Error::Config`] for an invalid configuration; tensor errors from `vb`.
pub fn build(cfg: &ModelConfig, vb: VarBuilder) -> Result<Box<dyn Classifier>> {
    cfg.validate()?;
    Ok(match cfg.architecture {
        Architecture::Cnn => Box::new(Cnn::new(cfg, vb)?),
        Architecture::Vgg19 => Box::new(Vgg19::new(cfg, vb)?),
        _ => Box::new(Recurrent::new(cfg, vb)?),
    })
}

/// A network with its configuration, its (seeded) parameters and its device.
#[derive(Debug)]
pub struct Model {
    config: ModelConfig,
    store: ParamStore,
    net: Box<dyn Classifier>,
    device: Device,
}

impl Model {
    /// A new model with initial weights drawn from `seed`, on `device`.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration; device errors.
    pub fn new(config: ModelConfig, seed: u64, device: &Device) -> Result<Self> {
        let store = ParamStore::new(seed);
        let net = build(&config, store.var_builder(DType::F32, device))?;
        Ok(Self {
            config,
            store,
            net,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters (and BatchNorm statistics).
    pub fn store(&self) -> &ParamStore {
        &self.store
    }

    /// The network.
    pub fn net(&self) -> &dyn Classifier {
        self.net.as_ref()
    }

    /// The number of scalar parameters, trainable and not.
    pub fn n_params(&self) -> usize {
        self.store.n_params()
    }

    /// The variables the optimizer updates, sorted by name.
    pub fn trainable_vars(&self) -> Vec<(String, Var)> {
        self.store
            .vars()
            .into_iter()
            .filter(|(n, _)| self.net.is_trainable(n))
            .collect()
    }

    /// Checks `xs` is `[B, C, n_mels, frames]` for this model, with `B ≥ 1`.
    ///
    /// # Errors
    /// [`Error::InputShape`].
    pub fn check_input(&self, xs: &Tensor) -> Result<()> {
        let i = &self.config.input;
        let ok = matches!(xs.dims(), &[b, c, m, f] if b >= 1 && c == i.channels() && m == i.n_mels && f == i.frames);
        if ok {
            Ok(())
        } else {
            Err(Error::InputShape {
                expected: format!("[batch, {}, {}, {}]", i.channels(), i.n_mels, i.frames),
                got: xs.dims().to_vec(),
            })
        }
    }

    /// Logits `[B, classes]`.
    ///
    /// # Errors
    /// [`Error::InputShape`]; device errors.
    pub fn forward_t(&self, xs: &Tensor, mode: Mode) -> Result<Tensor> {
        self.check_input(xs)?;
        Ok(self.net.forward_t(xs, mode)?)
    }

    /// Logits and the pooled representation the head read (see
    /// [`Classifier::forward_embedded_t`]).
    ///
    /// # Errors
    /// [`Error::InputShape`]; [`Error::Config`] when the architecture has no pooled
    /// representation (VGG19); device errors.
    pub fn forward_embedded_t(&self, xs: &Tensor, mode: Mode) -> Result<(Tensor, Tensor)> {
        self.check_input(xs)?;
        if self.net.embedding_dim().is_none() {
            return Err(Error::config(
                "architecture",
                self.config.architecture,
                "has no pooled representation",
            ));
        }
        Ok(self.net.forward_embedded_t(xs, mode)?)
    }

    /// Class probabilities `[B, classes]` in evaluation mode.
    ///
    /// # Errors
    /// As [`forward_t`](Self::forward_t).
    pub fn predict_proba(&self, xs: &Tensor) -> Result<Tensor> {
        let logits = self.forward_t(xs, Mode::Eval)?;
        Ok(candle_nn::ops::softmax(&logits, 1)?)
    }

    /// `l2 · Σ‖kernel‖²` over the regularised kernels, or `None` when `l2` is 0.
    ///
    /// # Errors
    /// Device errors.
    pub fn l2_penalty(&self) -> Result<Option<Tensor>> {
        if self.config.l2 == 0.0 {
            return Ok(None);
        }
        let mut total: Option<Tensor> = None;
        for k in self.net.regularized() {
            let s = k.sqr()?.sum_all()?;
            total = Some(match total {
                Some(t) => (t + s)?,
                None => s,
            });
        }
        Ok(match total {
            Some(t) => Some((t * self.config.l2)?),
            None => None,
        })
    }

    /// Writes every variable to a safetensors file, atomically.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save_weights(&self, path: &Path) -> Result<()> {
        crate::io::save_safetensors(path, &self.store.tensors(), None)
    }

    /// Loads every variable from a safetensors file (extra tensors are ignored).
    ///
    /// # Errors
    /// [`Error::MissingTensor`], [`Error::TensorShape`], I/O and format errors.
    pub fn load_weights(&self, path: &Path) -> Result<()> {
        let tensors = crate::io::load_safetensors(path, &Device::Cpu)?;
        self.store.load_from(&tensors, path)
    }
}
