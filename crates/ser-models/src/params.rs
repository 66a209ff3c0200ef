//! A seeded parameter store: every variable a model creates, initialised from our own RNG.
//!
//! Candle cannot seed its CPU random generator, so [`candle_nn::VarMap`] gives different
//! weights on every run. [`ParamStore`] is a [`candle_nn::var_builder::SimpleBackend`]: models
//! are built through an ordinary [`VarBuilder`], and each variable is drawn from a ChaCha8
//! stream seeded by `(seed, name)`, so the initial weights do not depend on the order in
//! which layers are built, nor on the device.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NormalOrUniform};
use candle_nn::{Init, VarBuilder};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::Result;
use crate::io::tensor_of_shape;

#[derive(Debug, Default)]
struct Inner {
    vars: BTreeMap<String, Var>,
}

/// The variables of one model, created on demand with seeded initial values.
///
/// Cloning shares the variables.
#[derive(Debug, Clone)]
pub struct ParamStore {
    inner: Arc<Mutex<Inner>>,
    seed: u64,
}

impl ParamStore {
    /// An empty store whose variables will be initialised from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::default())),
            seed,
        }
    }

    /// The seed of the initial values.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked while holding it; the map
        // itself is never left half-updated.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A [`VarBuilder`] creating `dtype` variables on `device` in this store.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), dtype, device.clone())
    }

    /// All variables, sorted by name.
    pub fn vars(&self) -> Vec<(String, Var)> {
        self.lock()
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The variable called `name`.
    pub fn get(&self, name: &str) -> Option<Var> {
        self.lock().vars.get(name).cloned()
    }

    /// The number of scalar parameters.
    pub fn n_params(&self) -> usize {
        self.lock().vars.values().map(|v| v.elem_count()).sum()
    }

    /// Every variable as a plain tensor, for saving.
    pub fn tensors(&self) -> BTreeMap<String, Tensor> {
        self.lock()
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect()
    }

    /// Sets the variables from `tensors`; every variable must be there with its shape
    /// (`path` names the source in errors). Extra tensors are ignored.
    ///
    /// # Errors
    /// [`Error::MissingTensor`](crate::Error::MissingTensor) or
    /// [`Error::TensorShape`](crate::Error::TensorShape) naming the first bad tensor.
    pub fn load_from(&self, tensors: &BTreeMap<String, Tensor>, path: &Path) -> Result<()> {
        self.load_matching(tensors, path, |_| true)
    }

    /// Sets the variables accepted by `select` from `tensors` (the others keep their values).
    ///
    /// # Errors
    /// As [`load_from`](Self::load_from), for the selected variables.
    pub fn load_matching(
        &self,
        tensors: &BTreeMap<String, Tensor>,
        path: &Path,
        select: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let inner = self.lock();
        // Check everything before changing anything.
        for (name, var) in inner.vars.iter().filter(|(n, _)| select(n)) {
            tensor_of_shape(tensors, name, var.dims(), path)?;
        }
        for (name, var) in inner.vars.iter().filter(|(n, _)| select(n)) {
            if let Some(t) = tensors.get(name) {
                let t = t.to_device(var.device())?.to_dtype(var.dtype())?;
                var.set(&t)?;
            }
        }
        Ok(())
    }

    fn create(&self, shape: &Shape, name: &str, init: Init) -> Vec<f32> {
        let n = shape.elem_count();
        let mut rng = ChaCha8Rng::seed_from_u64(ser_core::seed::mix_seed(self.seed, name));
        let uniform = |rng: &mut ChaCha8Rng, lo: f64, up: f64| -> Vec<f32> {
            (0..n)
                .map(|_| (lo + (up - lo) * rng.random::<f64>()) as f32)
                .collect()
        };
        let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    (mean + std * z) as f32
                })
                .collect()
        };
        match init {
            Init::Const(c) => vec![c as f32; n],
            Init::Uniform { lo, up } => uniform(&mut rng, lo, up),
            Init::Randn { mean, stdev } => normal(&mut rng, mean, stdev),
            Init::Kaiming {
                dist,
                fan,
                non_linearity,
            } => {
                let fan = match fan {
                    FanInOut::FanIn => FanInOut::FanIn.for_shape(shape),
                    FanInOut::FanOut => FanInOut::FanOut.for_shape(shape),
                };
                let std = non_linearity.gain() / (fan.max(1) as f64).sqrt();
                match dist {
                    NormalOrUniform::Uniform => {
                        let bound = 3f64.sqrt() * std;
                        uniform(&mut rng, -bound, bound)
                    }
                    NormalOrUniform::Normal => normal(&mut rng, 0.0, std),
                }
            }
        }
    }
}

impl candle_nn::var_builder::SimpleBackend for ParamStore {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if let Some(v) = self.lock().vars.get(name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "variable `{name}` exists with shape {:?}, asked for {:?}",
                    v.dims(),
                    s.dims()
                );
            }
            return Ok(v.as_tensor().clone());
        }
        let values = self.create(&s, name, h);
        let t = Tensor::from_vec(values, &s, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        self.lock().vars.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.lock().vars.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no variable `{name}` (its shape is needed to create it)"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().vars.contains_key(name)
    }
}
