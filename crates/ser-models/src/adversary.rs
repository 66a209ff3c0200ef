//! Speaker-adversarial training: a speaker classifier on the network's pooled
//! representation, trained through a gradient reversal (Ganin & Lempitsky, 2015, "Unsupervised
//! domain adaptation by backpropagation"; for emotion, e.g. Abdelwahab & Busso, 2018).
//!
//! The speaker head learns to tell the training speakers apart from the representation the
//! emotion head reads; between the two, [`reverse_gradient`] passes the representation on
//! unchanged but sends the speaker loss's gradient back multiplied by `−λ`, so the encoder
//! learns to make the speakers *harder* to tell apart while the emotion loss keeps the
//! representation useful. Only training uses it: the speaker head is not part of the model,
//! its weights live in the checkpoint beside the model's and are dropped with it.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::Linear;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layers::linear;
use crate::params::ParamStore;

/// The prefix of the speaker head's variables in the optimizer's state.
pub(crate) const PREFIX: &str = "adversary.";

/// Settings of the speaker adversary
/// ([`TrainConfig::speaker_adversary`](crate::train::TrainConfig::speaker_adversary)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeakerAdversary {
    /// `λ`: the weight of the reversed speaker gradient in the encoder (the speaker head
    /// itself learns at full weight). 0 trains the head without touching the encoder.
    pub weight: f64,
    /// Hidden units of the speaker head (dense + ReLU, then one dense layer per speaker).
    pub hidden: usize,
    /// The number of training speakers: the head's classes, `0..speakers`.
    pub speakers: usize,
}

impl SpeakerAdversary {
    /// `weight` with a head of 128 hidden units over `speakers` speakers.
    pub fn new(weight: f64, speakers: usize) -> Self {
        Self {
            weight,
            hidden: 128,
            speakers,
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::Config`] for a weight that is negative or not finite, no hidden unit, or
    /// fewer than two speakers.
    pub fn validate(&self) -> Result<()> {
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(Error::config(
                "speaker_adversary.weight",
                self.weight,
                "must be finite and >= 0",
            ));
        }
        if self.hidden == 0 {
            return Err(Error::config("speaker_adversary.hidden", 0, "must be >= 1"));
        }
        if self.speakers < 2 {
            return Err(Error::config(
                "speaker_adversary.speakers",
                self.speakers,
                "needs at least two training speakers",
            ));
        }
        Ok(())
    }
}

/// `x` unchanged going forward; going backward its gradient multiplied by `−lambda`.
///
/// Written as `(1 + λ)·detach(x) − λ·x`, whose value is `x` (to a rounding of the last
/// bit) and whose only path to `x` is `−λ·x`: it runs on every device, without a custom op.
///
/// # Errors
/// Device errors.
pub fn reverse_gradient(x: &Tensor, lambda: f64) -> candle_core::Result<Tensor> {
    (x.detach() * (1.0 + lambda))? - (x * lambda)?
}

/// The speaker head: reversal, dense + ReLU, dense to one logit per speaker.
#[derive(Debug)]
pub(crate) struct Adversary {
    config: SpeakerAdversary,
    store: ParamStore,
    hidden: Linear,
    out: Linear,
}

impl Adversary {
    /// A head reading representations of width `embedding`, initialised from `seed`.
    pub(crate) fn new(
        config: SpeakerAdversary,
        embedding: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        let store = ParamStore::new(seed ^ 0x7370_6561_6b00);
        let vb = store.var_builder(DType::F32, device);
        let hidden = linear(embedding, config.hidden, true, vb.pp("hidden"))?;
        let out = linear(config.hidden, config.speakers, true, vb.pp("out"))?;
        Ok(Self {
            config,
            store,
            hidden,
            out,
        })
    }

    /// The head's variables, named with [`PREFIX`] for the shared optimizer.
    pub(crate) fn vars(&self) -> Vec<(String, Var)> {
        self.store
            .vars()
            .into_iter()
            .map(|(n, v)| (format!("{PREFIX}{n}"), v))
            .collect()
    }

    /// The head's weights.
    pub(crate) fn store(&self) -> &ParamStore {
        &self.store
    }

    /// Speaker logits `[B, speakers]` of pooled representations `[B, embedding]`, through the
    /// gradient reversal.
    pub(crate) fn logits(&self, embedding: &Tensor) -> candle_core::Result<Tensor> {
        let x = reverse_gradient(embedding, self.config.weight)?;
        self.out.forward(&self.hidden.forward(&x)?.relu()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversal_is_identity_forward_and_negated_backward() {
        let dev = Device::Cpu;
        let x = Var::new(&[[0.5f32, -1.25, 3.0], [2.0, 0.0, -7.5]], &dev).unwrap();
        let w = Tensor::new(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &dev).unwrap();
        let y = reverse_gradient(x.as_tensor(), 0.3).unwrap();
        let got: Vec<Vec<f32>> = y.to_vec2().unwrap();
        let want: Vec<Vec<f32>> = x.as_tensor().to_vec2().unwrap();
        for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
            assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{g} vs {w}");
        }
        let grads = (y * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g: Vec<Vec<f32>> = grads.get(x.as_tensor()).unwrap().to_vec2().unwrap();
        let expect: Vec<Vec<f32>> = (w * -0.3).unwrap().to_vec2().unwrap();
        for (a, b) in g.iter().flatten().zip(expect.iter().flatten()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn refuses_bad_settings() {
        for bad in [
            SpeakerAdversary::new(-0.1, 4),
            SpeakerAdversary::new(f64::NAN, 4),
            SpeakerAdversary::new(0.1, 1),
            SpeakerAdversary {
                hidden: 0,
                ..SpeakerAdversary::new(0.1, 4)
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(Error::Config { .. })),
                "{bad:?}"
            );
        }
        assert!(SpeakerAdversary::new(0.0, 2).validate().is_ok());
    }
}
