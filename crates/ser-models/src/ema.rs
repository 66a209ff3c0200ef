//! An exponential moving average of a model's weights (Polyak averaging, as timm's
//! `ModelEmaV2` and torch's `AveragedModel` with an EMA function keep it).
//!
//! After each optimizer step every tensor of the [`ParamStore`] — the trainable weights and
//! the BatchNorm running statistics alike — is blended into its average:
//! `avg ← d·avg + (1 − d)·w`, with the decay warmed up as TensorFlow's
//! `ExponentialMovingAverage(num_updates=…)` and timm's `ModelEma` do,
//! `d = min(decay, (1 + step) / (10 + step))`, so that the first steps are not dominated by
//! the random initial weights. The warm-up term stays below 0.99 for the first 890 steps,
//! so on short runs it is the decay throughout, and the average spans about the last
//! tenth of the steps (`1/(1 − d) = (10 + step)/9`). The average is a smoother model than
//! the last step's weights, which on small, noisy training sets behaves like an ensemble
//! of the recent epochs at the cost of one model.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::Tensor;

use crate::error::{Error, Result};
use crate::io::tensor_of_shape;
use crate::params::ParamStore;

/// The warm-up of the decay, TensorFlow's 10: see [`WeightAverage::current_decay`].
pub const DEFAULT_WARMUP: f64 = 10.0;

/// The running average of every tensor of a [`ParamStore`].
#[derive(Debug, Clone)]
pub struct WeightAverage {
    decay: f64,
    warmup: f64,
    updates: u64,
    average: BTreeMap<String, Tensor>,
}

impl WeightAverage {
    /// Starts the average at the store's current weights; `decay` is the largest weight of
    /// the old average per update, in `[0, 1)`.
    ///
    /// # Errors
    /// [`Error::Config`] for a decay outside `[0, 1)`; device errors.
    pub fn new(store: &ParamStore, decay: f64) -> Result<Self> {
        Self::check_decay(decay)?;
        Ok(Self {
            decay,
            warmup: DEFAULT_WARMUP,
            updates: 0,
            average: deep_copy(&store.tensors())?,
        })
    }

    /// The average continued from saved tensors (see [`tensors`](Self::tensors)), after
    /// `updates` updates; every tensor of the store must be there with its shape (`path`
    /// names the source in errors).
    ///
    /// # Errors
    /// As [`new`](Self::new); [`Error::MissingTensor`] or [`Error::TensorShape`].
    pub fn from_tensors(
        store: &ParamStore,
        decay: f64,
        updates: u64,
        tensors: &BTreeMap<String, Tensor>,
        path: &Path,
    ) -> Result<Self> {
        Self::check_decay(decay)?;
        let average = store
            .tensors()
            .into_iter()
            .map(|(name, w)| {
                let t = tensor_of_shape(tensors, &name, w.dims(), path)?;
                Ok((name, t.to_device(w.device())?.to_dtype(w.dtype())?.detach()))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            decay,
            warmup: DEFAULT_WARMUP,
            updates,
            average,
        })
    }

    fn check_decay(decay: f64) -> Result<()> {
        if (0.0..1.0).contains(&decay) {
            Ok(())
        } else {
            Err(Error::config("ema", decay, "must be in [0, 1)"))
        }
    }

    /// The same average with the warm-up `w` in place of [`DEFAULT_WARMUP`]: the decay
    /// after `n` updates becomes `min(decay, (1 + n) / (w + n))`. A smaller `w` reaches the
    /// largest decay sooner (`w = 2`: 0.99 after 98 updates; the default 10: after 890),
    /// so the average spans more steps; `w = 1` would never move and is refused.
    ///
    /// # Errors
    /// [`Error::Config`] for a `w` that is not finite and above 1.
    pub fn with_warmup(mut self, w: f64) -> Result<Self> {
        if !(w.is_finite() && w > 1.0) {
            return Err(Error::config("ema_warmup", w, "must be finite and > 1"));
        }
        self.warmup = w;
        Ok(self)
    }

    /// The decay used by the next update: `min(decay, (1 + n) / (w + n))` after `n`
    /// updates, `w` the warm-up ([`DEFAULT_WARMUP`] unless
    /// [`with_warmup`](Self::with_warmup) set another).
    pub fn current_decay(&self) -> f64 {
        let n = self.updates as f64;
        self.decay.min((1.0 + n) / (self.warmup + n))
    }

    /// Updates taken so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Blends the store's current weights into the average.
    ///
    /// # Errors
    /// [`Error::MissingTensor`] when the store has a tensor the average lacks; device errors.
    pub fn update(&mut self, store: &ParamStore) -> Result<()> {
        let d = self.current_decay();
        for (name, w) in store.tensors() {
            let avg = self
                .average
                .get_mut(&name)
                .ok_or_else(|| Error::MissingTensor {
                    path: "<weight average>".into(),
                    name: name.clone(),
                })?;
            // Detached, so that no average keeps the one before it (and all before that)
            // alive as its autograd history.
            let w = w.detach();
            *avg = ((&*avg * d)? + (w * (1.0 - d))?)?.detach();
        }
        self.updates += 1;
        Ok(())
    }

    /// The averaged tensors, by name (for saving, or for
    /// [`ParamStore::load_from`]).
    pub fn tensors(&self) -> &BTreeMap<String, Tensor> {
        &self.average
    }
}

/// A copy of every tensor that shares no storage with the originals (a [`ParamStore`]'s
/// tensors share theirs with the variables, which training overwrites in place), detached:
/// no copy keeps a variable in an autograd history.
pub(crate) fn deep_copy(m: &BTreeMap<String, Tensor>) -> Result<BTreeMap<String, Tensor>> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), v.copy()?.detach())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn store_with(values: &[f32]) -> ParamStore {
        let store = ParamStore::new(1);
        let vb = store.var_builder(DType::F32, &Device::Cpu);
        let _ = vb
            .get_with_hints(values.len(), "w", candle_nn::Init::Const(0.0))
            .unwrap();
        let t = Tensor::new(values, &Device::Cpu).unwrap();
        store.get("w").unwrap().set(&t).unwrap();
        store
    }

    fn get(avg: &WeightAverage) -> Vec<f32> {
        avg.tensors()["w"].to_vec1().unwrap()
    }

    #[test]
    fn average_follows_the_warmed_up_decay() {
        let store = store_with(&[1.0, -2.0]);
        let mut ema = WeightAverage::new(&store, 0.9).unwrap();
        // First update: d = min(0.9, 1/10) = 0.1.
        store
            .get("w")
            .unwrap()
            .set(&Tensor::new(&[3.0f32, 0.0], &Device::Cpu).unwrap())
            .unwrap();
        ema.update(&store).unwrap();
        let v = get(&ema);
        assert!((v[0] - (0.1 * 1.0 + 0.9 * 3.0)).abs() < 1e-6, "{v:?}");
        assert!((v[1] - (0.1 * -2.0)).abs() < 1e-6, "{v:?}");
        // Much later the decay is the configured one.
        ema.updates = 1000;
        assert_eq!(ema.current_decay(), 0.9);
        let before = get(&ema);
        ema.update(&store).unwrap();
        let v = get(&ema);
        assert!((v[0] - (0.9 * before[0] + 0.1 * 3.0)).abs() < 1e-6);
        assert_eq!(ema.updates(), 1001);
        // A warm-up of 2 reaches the largest decay after 98 updates, not before; 1 (no
        // move ever) and NaN are refused.
        let mut short = WeightAverage::new(&store, 0.99)
            .unwrap()
            .with_warmup(2.0)
            .unwrap();
        short.updates = 97;
        assert!((short.current_decay() - 98.0 / 99.0).abs() < 1e-12);
        short.updates = 98;
        assert_eq!(short.current_decay(), 0.99);
        for w in [1.0, 0.5, f64::NAN, f64::INFINITY] {
            assert!(
                WeightAverage::new(&store, 0.99)
                    .unwrap()
                    .with_warmup(w)
                    .is_err()
            );
        }
        // No average keeps an autograd history (which would keep every earlier average
        // alive: memory growing with the steps).
        assert!(ema.tensors().values().all(|t| !t.track_op()));
    }

    #[test]
    fn average_owns_its_storage() {
        let store = store_with(&[5.0]);
        let ema = WeightAverage::new(&store, 0.99).unwrap();
        store
            .get("w")
            .unwrap()
            .set(&Tensor::new(&[7.0f32], &Device::Cpu).unwrap())
            .unwrap();
        assert_eq!(get(&ema), vec![5.0]);
    }

    #[test]
    fn bad_decay_and_bad_saved_tensors_are_errors() {
        let store = store_with(&[1.0, 2.0]);
        for d in [-0.1, 1.0, f64::NAN, 2.0] {
            assert!(matches!(
                WeightAverage::new(&store, d),
                Err(Error::Config { .. })
            ));
        }
        let wrong = BTreeMap::from([(
            "w".to_string(),
            Tensor::new(&[1.0f32, 2.0, 3.0], &Device::Cpu).unwrap(),
        )]);
        assert!(matches!(
            WeightAverage::from_tensors(&store, 0.9, 3, &wrong, Path::new("x")),
            Err(Error::TensorShape { .. })
        ));
        assert!(matches!(
            WeightAverage::from_tensors(&store, 0.9, 3, &BTreeMap::new(), Path::new("x")),
            Err(Error::MissingTensor { .. })
        ));
        let right = BTreeMap::from([(
            "w".to_string(),
            Tensor::new(&[4.0f32, 5.0], &Device::Cpu).unwrap(),
        )]);
        let ema = WeightAverage::from_tensors(&store, 0.9, 3, &right, Path::new("x")).unwrap();
        assert_eq!(get(&ema), vec![4.0, 5.0]);
        assert_eq!(ema.updates(), 3);
    }
}
