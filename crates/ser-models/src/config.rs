//! Model configurations, with the research's values as defaults.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The population's per-band log-mel statistics that speaker statistics are shrunk
/// towards ([`ModelConfig::band_prior`]): the standardisation of a recording uses
/// `(frames · prior + Σ its frames) / (frames + its frame count)` for the mean and the
/// second moment, so the first window leans on the population and a long recording on
/// itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandPrior {
    /// Mean of each mel band over the training frames (dB).
    pub mean: Vec<f32>,
    /// Variance of each mel band over the training frames (dB²).
    pub var: Vec<f32>,
    /// The prior's weight, in frames.
    pub frames: f32,
}

impl BandPrior {
    /// Checks the prior against `n_mels` bands: lengths, finite values, variances and
    /// weight not negative.
    ///
    /// # Errors
    /// [`Error::Config`] naming the field.
    pub fn validate(&self, n_mels: usize) -> Result<()> {
        for (field, v) in [
            ("band_prior.mean", &self.mean),
            ("band_prior.var", &self.var),
        ] {
            if v.len() != n_mels {
                return Err(Error::config(
                    field,
                    format!("{} values", v.len()),
                    format!("must have one per mel band ({n_mels})"),
                ));
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return Err(Error::config(field, x, "must be finite"));
            }
        }
        if let Some(x) = self.var.iter().find(|x| **x < 0.0) {
            return Err(Error::config("band_prior.var", x, "must not be negative"));
        }
        if !(self.frames.is_finite() && self.frames >= 0.0) {
            return Err(Error::config(
                "band_prior.frames",
                self.frames,
                "must be finite and not negative",
            ));
        }
        Ok(())
    }
}

/// The six classifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    /// Convolution blocks, global average pooling, a dense head.
    Cnn,
    /// Two stacked LSTMs of 64 over the mel frames.
    Lstm,
    /// Convolution blocks, then an LSTM over time.
    CnnLstm,
    /// Convolution blocks, then a bidirectional LSTM over time.
    CnnBlstm,
    /// Convolution blocks, a bidirectional LSTM and additive attention pooling over time:
    /// the research's best model.
    CnnBlstmAttn,
    /// VGG19 with ImageNet weights, its first convolutions frozen, and a new head.
    Vgg19,
}

impl Architecture {
    /// Every architecture.
    pub const ALL: [Self; 6] = [
        Self::Cnn,
        Self::Lstm,
        Self::CnnLstm,
        Self::CnnBlstm,
        Self::CnnBlstmAttn,
        Self::Vgg19,
    ];

    /// The name used on command lines and in `config.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Lstm => "lstm",
            Self::CnnLstm => "cnn-lstm",
            Self::CnnBlstm => "cnn-blstm",
            Self::CnnBlstmAttn => "cnn-blstm-attn",
            Self::Vgg19 => "vgg19",
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Architecture {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                Error::config(
                    "architecture",
                    s,
                    "expected cnn, lstm, cnn-lstm, cnn-blstm, cnn-blstm-attn or vgg19",
                )
            })
    }
}

/// How a log-mel spectrogram (dB) becomes the model's input channels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum InputMode {
    /// One channel: `(dB − mean) / std`, the statistics taken from the training set.
    LogMel {
        /// Mean of the training features (dB).
        mean: f32,
        /// Standard deviation of the training features (dB).
        std: f32,
    },
    /// One channel: every mel band standardised over the utterance's own frames,
    /// `(dB − mean_band) / sqrt(var_band + 1 dB²)` (per-utterance mean and variance
    /// normalisation). It takes out the band levels a voice and a microphone impose, which a
    /// global mean cannot; each window of a timeline is standardised on its own, as the
    /// 3 s training clips were. The 1 dB² floor keeps a band that barely moves (padding,
    /// silence) from being blown up to unit variance.
    LogMelCmvn,
    /// One channel: every mel band standardised with the statistics of the speaker, as
    /// [`LogMelCmvn`](Self::LogMelCmvn) does with the utterance's
    /// ([`BandStats`](crate::features::BandStats), the same 1 dB² floor). In training the
    /// statistics are the speaker's over all their clips; in a recognizer's timeline or
    /// stream they are the recording's, over every window heard so far; one clip on its
    /// own is its own statistics. All of them start from the model's
    /// [`band_prior`](ModelConfig::band_prior), if it has one. The model takes the
    /// standardised values as they are:
    /// whoever hands it spectrograms directly (`predict` on a [`Dataset`](crate::train::Dataset))
    /// standardises them first.
    LogMelSpeakerCmvn,
    /// The research's image: the dB map scaled to `[0, 1]` per utterance, through the magma
    /// colormap, as three channels (RGB), resized to the input size; optionally with
    /// ImageNet's mean and standard deviation taken out (for pretrained VGG19).
    Magma {
        /// Normalise with ImageNet's channel statistics.
        imagenet: bool,
    },
}

impl InputMode {
    /// The number of channels this mode produces.
    pub fn channels(self) -> usize {
        match self {
            Self::LogMel { .. } | Self::LogMelCmvn | Self::LogMelSpeakerCmvn => 1,
            Self::Magma { .. } => 3,
        }
    }
}

/// The input a model takes: `[batch, channels, n_mels, frames]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// How features become channels.
    pub mode: InputMode,
    /// Mel bands (image height).
    pub n_mels: usize,
    /// Frames (image width); features with another frame count are resized.
    pub frames: usize,
    /// Derivatives of the log-mel channel along the frames appended as further channels:
    /// 0 none, 1 its delta, 2 its delta and delta-delta (librosa's `feature.delta`, width
    /// 9, of the channel after its normalisation). Log-mel modes only.
    #[serde(default)]
    pub deltas: usize,
}

/// The most delta orders an [`InputSpec`] may append (delta and delta-delta).
pub const MAX_DELTAS: usize = 2;

/// The frames in each delta fit ([`InputSpec::deltas`]): librosa's default width.
pub const DELTA_WIDTH: usize = 9;

impl InputSpec {
    /// The input channels: the mode's, and one per delta order.
    pub fn channels(&self) -> usize {
        self.mode.channels() + self.deltas
    }

    /// Checks [`deltas`](Self::deltas): at most [`MAX_DELTAS`], on a one-channel log-mel
    /// input of at least [`DELTA_WIDTH`] frames.
    ///
    /// # Errors
    /// [`Error::Config`] naming `input.deltas` or `input.frames`.
    pub fn check_deltas(&self) -> Result<()> {
        if self.deltas == 0 {
            return Ok(());
        }
        if self.deltas > MAX_DELTAS {
            return Err(Error::config(
                "input.deltas",
                self.deltas,
                format!("must be at most {MAX_DELTAS} (delta and delta-delta)"),
            ));
        }
        if matches!(self.mode, InputMode::Magma { .. }) {
            return Err(Error::config(
                "input.deltas",
                self.deltas,
                "deltas are appended to log-mel input only, not to the magma image",
            ));
        }
        if self.frames < DELTA_WIDTH {
            return Err(Error::config(
                "input.frames",
                self.frames,
                format!("deltas need at least {DELTA_WIDTH} frames"),
            ));
        }
        Ok(())
    }
}

/// The most parameters a [`ModelConfig`] may describe (2²⁸, 1 GiB of `f32`); the research's
/// largest network, VGG19 with its head, has about 21 million.
pub const MAX_PARAMS: u64 = 1 << 28;

/// The largest size any one dimension of a [`ModelConfig`] may have (channels, units, bands,
/// frames, classes).
pub const MAX_DIM: usize = 1 << 16;

/// A model's shape and regularisation. [`ModelConfig::research`] gives the research's
/// values for each architecture; every field can be changed (tests use tiny models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// Which network.
    pub architecture: Architecture,
    /// The input.
    pub input: InputSpec,
    /// Output classes.
    pub classes: usize,
    /// Filters of each convolution block (3×3, BatchNorm, ReLU, MaxPool 2×2, Dropout).
    pub conv_channels: Vec<usize>,
    /// Dropout after each convolution block.
    pub conv_dropout: f32,
    /// Units of each (B)LSTM direction.
    pub rnn_hidden: usize,
    /// Stacked (B)LSTM layers.
    pub rnn_layers: usize,
    /// Dimension of the additive attention.
    pub attention_dim: usize,
    /// Dropout before (RNN family) or inside (VGG19) the dense head.
    pub dropout: f32,
    /// Hidden dense layers of the head.
    pub dense: Vec<usize>,
    /// L2 penalty on convolution kernels, added to the loss (Keras `l2(0.01)`).
    pub l2: f64,
    /// BatchNorm epsilon (Keras: 1e-3).
    pub bn_eps: f64,
    /// BatchNorm running-statistics momentum, PyTorch convention (Keras 0.99 = 0.01 here).
    pub bn_momentum: f64,
    /// VGG19: `features.N` layers with `N` below this are frozen (24: the first 15 Keras
    /// layers, up to `block4_conv3`).
    pub frozen_features: usize,
    /// [`InputMode::LogMelSpeakerCmvn`] only: the training population's per-band
    /// statistics, which a speaker's (or recording's) statistics are shrunk towards while
    /// they are few. `None`: no prior (one clip is standardised by itself alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band_prior: Option<BandPrior>,
    /// CNN-BLSTM-attention only: a transformer encoder in place of the BLSTM stack
    /// (`rnn_hidden` and `rnn_layers` are then unused). `None`: the BLSTM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<TransformerConfig>,
    /// CNN-BLSTM-attention only: how the sequence becomes one vector (default: additive
    /// attention).
    #[serde(default, skip_serializing_if = "SequencePooling::is_attention")]
    pub pooling: SequencePooling,
}

/// How the CNN-BLSTM-attention pools its sequence `[B, T, D]` into the vector its head
/// reads ([`ModelConfig::pooling`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequencePooling {
    /// Additive attention, `Σₜ αₜ hₜ` (`attn`; the research's): `[B, D]`.
    #[default]
    Attention,
    /// Statistics pooling: the mean and the standard deviation over time, concatenated
    /// (`√(var + 1e-5)`, the biased variance): `[B, 2·D]`, no parameters.
    MeanStd,
}

impl SequencePooling {
    /// Whether this is the default, additive attention.
    pub fn is_attention(&self) -> bool {
        *self == Self::Attention
    }
}

/// A transformer encoder in place of the CNN-BLSTM-attention's BLSTM
/// ([`ModelConfig::transformer`]): the convolution blocks' sequence projected to `dim`
/// (`proj`), a learned position embedding added (`pos`, one row per time step), `layers`
/// encoder layers as PyTorch's `nn.TransformerEncoderLayer` (`batch_first`, post-norm,
/// ReLU): self-attention of `heads` heads, a feed-forward of `ff` units, dropout `dropout`
/// on the attention weights and after each sub-layer, LayerNorm ε 1e-5; then the additive
/// attention pooling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads (divide `dim`).
    pub heads: usize,
    /// Model width.
    pub dim: usize,
    /// Feed-forward units.
    pub ff: usize,
    /// Dropout inside each layer.
    pub dropout: f32,
}

impl TransformerConfig {
    /// `layers` layers of width `dim`, 4 heads, a feed-forward of twice the width, dropout
    /// 0.1 (PyTorch's default).
    pub fn new(layers: usize, dim: usize) -> Self {
        Self {
            layers,
            heads: 4,
            dim,
            ff: 2 * dim,
            dropout: 0.1,
        }
    }

    /// The parameters of the encoder over `in_dim` features and `steps` time steps.
    fn param_estimate(&self, in_dim: u64, steps: u64) -> u64 {
        let (d, f) = (self.dim as u64, self.ff as u64);
        let lin = |i: u64, o: u64| i.saturating_add(1).saturating_mul(o);
        let layer = lin(d, 3u64.saturating_mul(d))
            .saturating_add(lin(d, d))
            .saturating_add(lin(d, f))
            .saturating_add(lin(f, d))
            .saturating_add(4u64.saturating_mul(d));
        lin(in_dim, d)
            .saturating_add(steps.saturating_mul(d))
            .saturating_add(layer.saturating_mul(self.layers as u64))
    }
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self::research(Architecture::CnnBlstmAttn)
    }
}

impl ModelConfig {
    /// The research's configuration of `architecture` for 7 classes and 3 s at 16 kHz
    /// (128 mel bands × 94 frames; VGG19: a 3 × 128 × 128 magma image).
    pub fn research(architecture: Architecture) -> Self {
        let base = Self {
            architecture,
            input: InputSpec {
                mode: InputMode::LogMel {
                    mean: 0.0,
                    std: 1.0,
                },
                n_mels: 128,
                frames: 94,
                deltas: 0,
            },
            classes: 7,
            conv_channels: vec![32, 64, 128, 256],
            conv_dropout: 0.25,
            rnn_hidden: 128,
            rnn_layers: 1,
            attention_dim: 128,
            dropout: 0.3,
            dense: vec![128],
            l2: 0.01,
            bn_eps: 1e-3,
            bn_momentum: 0.01,
            frozen_features: 24,
            band_prior: None,
            transformer: None,
            pooling: SequencePooling::Attention,
        };
        match architecture {
            Architecture::Lstm => Self {
                rnn_hidden: 64,
                rnn_layers: 2,
                dense: vec![64],
                l2: 0.0,
                ..base
            },
            Architecture::Vgg19 => Self {
                input: InputSpec {
                    mode: InputMode::Magma { imagenet: true },
                    n_mels: 128,
                    frames: 128,
                    deltas: 0,
                },
                dropout: 0.6,
                dense: vec![128, 64],
                l2: 0.0,
                ..base
            },
            _ => base,
        }
    }

    /// Frequency bins and frames left after the convolution blocks.
    pub fn conv_output(&self) -> (usize, usize) {
        let n = self.conv_channels.len() as u32;
        (self.input.n_mels >> n, self.input.frames >> n)
    }

    /// The number of scalar parameters the network will have (weights, biases and
    /// BatchNorm statistics; an upper bound within a few per cent), computed from the
    /// configuration alone, without allocating. Saturates instead of overflowing.
    pub fn param_estimate(&self) -> u64 {
        let u = |n: usize| n as u64;
        let mul = |a: u64, b: u64| a.saturating_mul(b);
        let dense = |mut d: u64| -> u64 {
            let mut n = 0u64;
            for &h in &self.dense {
                n = n.saturating_add(mul(d.saturating_add(1), u(h)).saturating_add(mul(4, u(h))));
                d = u(h);
            }
            n.saturating_add(mul(d.saturating_add(1), u(self.classes)))
        };
        let convs = |layout: &mut dyn Iterator<Item = usize>| -> (u64, u64) {
            let (mut n, mut c) = (0u64, u(self.input.channels()));
            for out in layout {
                n = n.saturating_add(mul(mul(9, c).saturating_add(5), u(out)));
                c = u(out);
            }
            (n, c)
        };
        match self.architecture {
            Architecture::Vgg19 => {
                let layout = [
                    64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512,
                ];
                let (n, c) = convs(&mut layout.into_iter());
                let flat = mul(mul(c, u(self.input.n_mels >> 5)), u(self.input.frames >> 5));
                n.saturating_add(dense(flat))
            }
            Architecture::Cnn => {
                let (n, c) = convs(&mut self.conv_channels.iter().copied());
                n.saturating_add(dense(c))
            }
            _ => {
                let (mut n, mut d) = if self.architecture == Architecture::Lstm {
                    (0, mul(u(self.input.channels()), u(self.input.n_mels)))
                } else {
                    let (n, c) = convs(&mut self.conv_channels.iter().copied());
                    (n, mul(c, u(self.conv_output().0)))
                };
                let dirs = if matches!(
                    self.architecture,
                    Architecture::CnnBlstm | Architecture::CnnBlstmAttn
                ) {
                    2
                } else {
                    1
                };
                if let Some(t) = self.transformer.as_ref() {
                    n = n.saturating_add(t.param_estimate(d, u(self.conv_output().1)));
                    d = u(t.dim);
                } else {
                    let h = u(self.rnn_hidden);
                    for _ in 0..self.rnn_layers {
                        let gates = mul(mul(4, h), d.saturating_add(h).saturating_add(2));
                        n = n.saturating_add(mul(dirs, gates));
                        d = mul(dirs, h);
                    }
                }
                if self.architecture == Architecture::CnnBlstmAttn {
                    match self.pooling {
                        SequencePooling::Attention => {
                            let a = u(self.attention_dim);
                            n = n.saturating_add(mul(d.saturating_add(2), a));
                        }
                        SequencePooling::MeanStd => d = mul(2, d),
                    }
                }
                n.saturating_add(dense(d))
            }
        }
    }

    /// Checks the sizes fit together, and that the network stays under
    /// [`MAX_PARAMS`] parameters and [`MAX_DIM`] per dimension, before anything is
    /// allocated (a hostile `config.json` with `rnn_hidden` 10⁷ is an error, not 10 GB).
    ///
    /// # Errors
    /// [`Error::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let dims = [
            ("input.n_mels", self.input.n_mels),
            ("input.frames", self.input.frames),
            ("classes", self.classes),
            ("rnn_hidden", self.rnn_hidden),
            ("rnn_layers", self.rnn_layers),
            ("attention_dim", self.attention_dim),
        ];
        let encoder = self.transformer.iter().flat_map(|t| {
            [
                ("transformer.layers", t.layers),
                ("transformer.heads", t.heads),
                ("transformer.dim", t.dim),
                ("transformer.ff", t.ff),
            ]
        });
        let lists = self.conv_channels.iter().map(|&c| ("conv_channels", c));
        let lists = lists.chain(encoder);
        let lists = lists.chain(self.dense.iter().map(|&d| ("dense", d)));
        for (field, n) in dims.into_iter().chain(lists) {
            if n > MAX_DIM {
                return Err(Error::config(
                    field,
                    n,
                    format!("must be at most {MAX_DIM}"),
                ));
            }
        }
        if self.conv_channels.len() > 16 || self.dense.len() > 16 {
            return Err(Error::config(
                "conv_channels/dense",
                format!("{} / {} layers", self.conv_channels.len(), self.dense.len()),
                "at most 16 layers each",
            ));
        }
        if let Some(p) = &self.band_prior {
            p.validate(self.input.n_mels)?;
        }
        self.input.check_deltas()?;
        let params = self.param_estimate();
        if params > MAX_PARAMS {
            return Err(Error::config(
                "model",
                format!("{params} parameters"),
                format!("more than the {MAX_PARAMS} a model may have"),
            ));
        }
        if self.classes < 2 {
            return Err(Error::config("classes", self.classes, "need at least 2"));
        }
        if self.input.n_mels == 0 || self.input.frames == 0 {
            return Err(Error::config(
                "input",
                format!("{}x{}", self.input.n_mels, self.input.frames),
                "must not be empty",
            ));
        }
        for (field, p) in [
            ("conv_dropout", self.conv_dropout),
            ("dropout", self.dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::config(field, p, "must be in [0, 1)"));
            }
        }
        if !(self.bn_momentum.is_finite() && self.bn_momentum > 0.0 && self.bn_momentum <= 1.0) {
            return Err(Error::config(
                "bn_momentum",
                self.bn_momentum,
                "must be in (0, 1]",
            ));
        }
        if !(self.bn_eps.is_finite() && self.bn_eps > 0.0) {
            return Err(Error::config(
                "bn_eps",
                self.bn_eps,
                "must be finite and > 0",
            ));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(Error::config("l2", self.l2, "must be finite and >= 0"));
        }
        if self.dense.contains(&0) {
            return Err(Error::config(
                "dense",
                format!("{:?}", self.dense),
                "no layer may be empty",
            ));
        }
        match self.architecture {
            Architecture::Vgg19 => {
                if self.input.channels() != 3 {
                    return Err(Error::config(
                        "input",
                        "1 channel",
                        "VGG19 takes 3 channels",
                    ));
                }
                if self.input.n_mels < 32 || self.input.frames < 32 {
                    return Err(Error::config(
                        "input",
                        format!("{}x{}", self.input.n_mels, self.input.frames),
                        "VGG19 needs at least 32x32 (five 2x2 poolings)",
                    ));
                }
            }
            Architecture::Lstm => {
                if self.rnn_hidden == 0 || self.rnn_layers == 0 {
                    return Err(Error::config("rnn_hidden", self.rnn_hidden, "must be >= 1"));
                }
            }
            _ => {
                if self.conv_channels.is_empty() || self.conv_channels.contains(&0) {
                    return Err(Error::config(
                        "conv_channels",
                        format!("{:?}", self.conv_channels),
                        "need at least one block, none empty",
                    ));
                }
                let (f, t) = self.conv_output();
                if f == 0 || t == 0 {
                    return Err(Error::config(
                        "input",
                        format!("{}x{}", self.input.n_mels, self.input.frames),
                        format!("too small for {} 2x2 poolings", self.conv_channels.len()),
                    ));
                }
                if self.architecture != Architecture::Cnn
                    && (self.rnn_hidden == 0 || self.rnn_layers == 0)
                {
                    return Err(Error::config("rnn_hidden", self.rnn_hidden, "must be >= 1"));
                }
                if self.architecture == Architecture::CnnBlstmAttn && self.attention_dim == 0 {
                    return Err(Error::config("attention_dim", 0, "must be >= 1"));
                }
            }
        }
        if !self.pooling.is_attention() && self.architecture != Architecture::CnnBlstmAttn {
            return Err(Error::config(
                "pooling",
                self.architecture,
                "chooses the pooling of cnn-blstm-attn only",
            ));
        }
        if let Some(t) = &self.transformer {
            if self.architecture != Architecture::CnnBlstmAttn {
                return Err(Error::config(
                    "transformer",
                    self.architecture,
                    "replaces the BLSTM of cnn-blstm-attn only",
                ));
            }
            if t.layers == 0 || t.layers > 16 {
                return Err(Error::config(
                    "transformer.layers",
                    t.layers,
                    "must be in 1..=16",
                ));
            }
            if t.heads == 0 || t.dim == 0 || t.ff == 0 || t.dim % t.heads != 0 {
                return Err(Error::config(
                    "transformer",
                    format!("dim {} heads {} ff {}", t.dim, t.heads, t.ff),
                    "dim, heads and ff must be >= 1, and heads divide dim",
                ));
            }
            if !(0.0..1.0).contains(&t.dropout) {
                return Err(Error::config(
                    "transformer.dropout",
                    t.dropout,
                    "must be in [0, 1)",
                ));
            }
        }
        Ok(())
    }
}
