//! Adam, with its state (moments and step count) readable and restorable for checkpoints.
//!
//! Candle ships AdamW only and keeps its moments private. The research trains with Keras's
//! Adam, whose L2 regularisation is a penalty added to the loss (see
//! [`Model::l2_penalty`](crate::Model::l2_penalty)), not decoupled weight decay; this is
//! that Adam, with PyTorch's update rule (bias-corrected moments, `eps` outside the square
//! root).

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdamConfig {
    /// Learning rate (research: 1e-3; VGG19 5e-5).
    pub learning_rate: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the root of the second moment (Keras: 1e-7).
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        }
    }
}

/// Adam over a fixed list of named variables.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: u64,
}

impl Adam {
    /// Adam over `vars` (only these are updated: frozen layers are simply left out).
    ///
    /// # Errors
    /// [`Error::Config`] for a non-positive learning rate or betas outside `[0, 1)`; device
    /// errors.
    pub fn new(vars: Vec<(String, Var)>, config: AdamConfig) -> Result<Self> {
        if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
            return Err(Error::config(
                "learning_rate",
                config.learning_rate,
                "must be > 0",
            ));
        }
        for (f, b) in [("beta1", config.beta1), ("beta2", config.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::config(f, b, "must be in [0, 1)"));
            }
        }
        let m = vars
            .iter()
            .map(|(_, v)| v.as_tensor().zeros_like())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(Self {
            config,
            vars,
            m,
            v,
            step: 0,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// The current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.config.learning_rate
    }

    /// Changes the learning rate (schedules).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.learning_rate = lr;
    }

    /// One update from `grads`; variables without a gradient are left alone.
    ///
    /// # Errors
    /// Device errors.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2 = 1.0 - c.beta2.powi(t);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var) else { continue };
            let m = ((&self.m[i] * c.beta1)? + (g * (1.0 - c.beta1))?)?;
            let v = ((&self.v[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let denom = ((&v / bc2)?.sqrt()? + c.eps)?;
            let update = ((&m / bc1)? / denom)?;
            var.set(&(var.as_tensor() - (update * c.learning_rate)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }

    /// The moments as `m.<name>` and `v.<name>`.
    pub fn state_tensors(&self) -> BTreeMap<String, Tensor> {
        let mut out = BTreeMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.insert(format!("m.{name}"), self.m[i].clone());
            out.insert(format!("v.{name}"), self.v[i].clone());
        }
        out
    }

    /// Restores the moments (from [`state_tensors`](Self::state_tensors)) and the step
    /// count; `path` names the source in errors.
    ///
    /// # Errors
    /// [`Error::MissingTensor`] / [`Error::TensorShape`] for the first bad moment.
    pub fn load_state(
        &mut self,
        tensors: &BTreeMap<String, Tensor>,
        step: u64,
        path: &Path,
    ) -> Result<()> {
        let mut m = Vec::with_capacity(self.vars.len());
        let mut v = Vec::with_capacity(self.vars.len());
        for (name, var) in &self.vars {
            for (prefix, out) in [("m", &mut m), ("v", &mut v)] {
                let key = format!("{prefix}.{name}");
                let t = tensors.get(&key).ok_or_else(|| Error::MissingTensor {
                    path: path.to_path_buf(),
                    name: key.clone(),
                })?;
                if t.dims() != var.dims() {
                    return Err(Error::TensorShape {
                        path: path.to_path_buf(),
                        name: key,
                        expected: var.dims().to_vec(),
                        got: t.dims().to_vec(),
                    });
                }
                out.push(t.to_device(var.device())?.to_dtype(var.dtype())?);
            }
        }
        self.m = m;
        self.v = v;
        self.step = step;
        Ok(())
    }
}
