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
use crate::io::tensor_of_shape;
use crate::ops::zeroed;
use crate::par::prelude::*;

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
            let (m, v, p) = match fused_cpu_step(&self.m[i], &self.v[i], g, var, &c, bc1, bc2)? {
                Some(t) => t,
                None => candle_step(&self.m[i], &self.v[i], g, var, &c, bc1, bc2)?,
            };
            var.set(&p)?;
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
                let t = tensor_of_shape(tensors, &key, var.dims(), path)?;
                out.push(t.to_device(var.device())?.to_dtype(var.dtype())?);
            }
        }
        self.m = m;
        self.v = v;
        self.step = step;
        Ok(())
    }
}

/// One Adam update as candle operations (any device and dtype): `(m, v, new value)`.
fn candle_step(
    m: &Tensor,
    v: &Tensor,
    g: &Tensor,
    var: &Var,
    c: &AdamConfig,
    bc1: f64,
    bc2: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let m = ((m * c.beta1)? + (g * (1.0 - c.beta1))?)?;
    let v = ((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
    let denom = ((&v / bc2)?.sqrt()? + c.eps)?;
    let update = ((&m / bc1)? / denom)?;
    let p = (var.as_tensor() - (update * c.learning_rate)?)?;
    Ok((m, v, p))
}

/// Elements per parallel chunk of the fused update.
const ADAM_CHUNK: usize = 1 << 14;

/// One Adam update of a contiguous f32 variable on the CPU in a single parallel pass:
/// `(m, v, new value)`, or `None` elsewhere (the caller then runs [`candle_step`]). Each
/// element goes through the operations candle's would, in the same order with the same
/// f32 constants (candle computes `x * c` as `x·c + 0` and `x / c` as `x·(1/c) + 0`), so
/// both paths give the same bits (tested): one pass instead of twelve tensors.
fn fused_cpu_step(
    m: &Tensor,
    v: &Tensor,
    g: &Tensor,
    var: &Var,
    c: &AdamConfig,
    bc1: f64,
    bc2: f64,
) -> Result<Option<(Tensor, Tensor, Tensor)>> {
    let p = var.as_tensor();
    let cpu_f32 = |t: &Tensor| t.device().is_cpu() && t.dtype() == candle_core::DType::F32;
    if ![m, v, g, p]
        .into_iter()
        .all(|t| cpu_f32(t) && t.is_contiguous())
        || g.shape() != p.shape()
    {
        return Ok(None);
    }
    let (b1, omb1) = (c.beta1 as f32, (1.0 - c.beta1) as f32);
    let (b2, omb2) = (c.beta2 as f32, (1.0 - c.beta2) as f32);
    let (inv_bc1, inv_bc2) = ((1.0 / bc1) as f32, (1.0 / bc2) as f32);
    let (eps, lr) = (c.eps as f32, c.learning_rate as f32);
    let n = p.elem_count();
    // The three results are written straight into their own buffers, chunk by chunk.
    let (mut m_out, mut v_out, mut p_out) = (zeroed(n), zeroed(n), zeroed(n));
    crate::ops::with_slice(m, |ms| {
        crate::ops::with_slice(v, |vs| {
            crate::ops::with_slice(g, |gs| {
                crate::ops::with_slice(p, |ps| {
                    m_out
                        .par_chunks_mut(ADAM_CHUNK)
                        .zip(v_out.par_chunks_mut(ADAM_CHUNK))
                        .zip(p_out.par_chunks_mut(ADAM_CHUNK))
                        .enumerate()
                        .for_each(|(ci, ((mc, vc), pc))| {
                            let at = ci * ADAM_CHUNK;
                            for (j, ((mo, vo), po)) in mc
                                .iter_mut()
                                .zip(vc.iter_mut())
                                .zip(pc.iter_mut())
                                .enumerate()
                            {
                                let (mi, vi, gi, pi) =
                                    (ms[at + j], vs[at + j], gs[at + j], ps[at + j]);
                                let m_new = (mi * b1 + 0.0) + (gi * omb1 + 0.0);
                                let v_new = (vi * b2 + 0.0) + ((gi * gi) * omb2 + 0.0);
                                let denom = (v_new * inv_bc2 + 0.0).sqrt() + eps;
                                let update = (m_new * inv_bc1 + 0.0) / denom;
                                (*mo, *vo, *po) = (m_new, v_new, pi - (update * lr + 0.0));
                            }
                        });
                })
            })
        })
    })????;
    let dev = p.device();
    Ok(Some((
        Tensor::from_vec(m_out, p.shape(), dev)?,
        Tensor::from_vec(v_out, p.shape(), dev)?,
        Tensor::from_vec(p_out, p.shape(), dev)?,
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The fused pass and candle's operations agree to the bit over several steps, with
    /// signed zeros, tiny and large gradients among the values.
    #[test]
    fn fused_step_is_candle_arithmetic_to_the_bit() {
        let dev = candle_core::Device::Cpu;
        let n = 3 * ADAM_CHUNK + 7;
        let vals = |k: usize| -> Vec<f32> {
            (0..n)
                .map(|i| match (i + k) % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => 1e-30,
                    _ => ((i * 31 + k * 17) % 1000) as f32 / 97.0 - 5.0,
                })
                .collect()
        };
        let var = Var::from_vec(vals(0), n, &dev).unwrap();
        let c = AdamConfig::default();
        let (mut m1, mut v1) = (
            Tensor::zeros(n, candle_core::DType::F32, &dev).unwrap(),
            Tensor::zeros(n, candle_core::DType::F32, &dev).unwrap(),
        );
        let (mut m2, mut v2) = (m1.clone(), v1.clone());
        let var2 = Var::from_tensor(var.as_tensor()).unwrap();
        for step in 1..=4 {
            let g = Tensor::from_vec(vals(step), n, &dev).unwrap();
            let bc1 = 1.0 - c.beta1.powi(step as i32);
            let bc2 = 1.0 - c.beta2.powi(step as i32);
            let (m, v, p) = fused_cpu_step(&m1, &v1, &g, &var, &c, bc1, bc2)
                .unwrap()
                .unwrap();
            var.set(&p).unwrap();
            (m1, v1) = (m, v);
            let (m, v, p) = candle_step(&m2, &v2, &g, &var2, &c, bc1, bc2).unwrap();
            var2.set(&p).unwrap();
            (m2, v2) = (m, v);
            let bits = |t: &Tensor| -> Vec<u32> {
                t.to_vec1::<f32>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect()
            };
            assert_eq!(bits(&m1), bits(&m2), "m, step {step}");
            assert_eq!(bits(&v1), bits(&v2), "v, step {step}");
            assert_eq!(
                bits(var.as_tensor()),
                bits(var2.as_tensor()),
                "value, step {step}"
            );
        }
    }
}
