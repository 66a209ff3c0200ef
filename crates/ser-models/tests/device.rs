//! The same model on another device gives the CPU's numbers: each case is written once for a
//! `&Device` and expanded by `test_device!` into a CPU test (always) and CUDA / Metal tests
//! (with the `cuda` / `metal` features), as candle-core's `test_device!` does.
//!
//! The reference is always the CPU with its fast paths (fused BatchNorm+ReLU, im2col
//! convolution, the 2×2 pooling op); other devices run candle's generic operations, so a
//! device test compares two implementations as well as two devices. On the CPU the model
//! cases compare the CPU with itself, and [`generic_ops_match_the_cpu_fast_paths`] runs
//! the generic operations on the CPU against the fast ones.
//!
//! Tolerances: 1e-4 of the reference's largest magnitude (plus 1e-6 absolute) for logits,
//! losses and gradients; the golden PyTorch cases keep `tests/parity.rs`'s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ser_models::bn::BatchNormRelu;
use ser_models::train::{Dataset, TrainConfig, Trainer, cross_entropy};
use ser_models::{InputMode, Mode, Model, ModelConfig, ParamStore, ops};

#[cfg(any(feature = "cuda", feature = "metal"))]
use common::cnn_blstm_attention_matches_pytorch;
use common::{Res, assert_close, host, small_config};

/// `test_device!(case, cpu_name, cuda_name, metal_name)`: `case(&Device) -> Res` on the
/// CPU, and on GPU 0 when the crate is built with that backend.
/// `test_device!(gpu: case, cuda_name, metal_name)` leaves the CPU out, for a case whose
/// CPU run is a test elsewhere.
macro_rules! test_device {
    ($case:ident, $cpu:ident, $cuda:ident, $metal:ident) => {
        #[test]
        fn $cpu() -> Res {
            $case(&Device::Cpu)
        }

        test_device!(gpu: $case, $cuda, $metal);
    };
    (gpu: $case:ident, $cuda:ident, $metal:ident) => {
        #[cfg(feature = "cuda")]
        #[test]
        fn $cuda() -> Res {
            $case(&Device::new_cuda(0)?)
        }

        #[cfg(feature = "metal")]
        #[test]
        fn $metal() -> Res {
            $case(&Device::new_metal(0)?)
        }
    };
}

test_device!(
    initial_weights_and_logits_match_cpu,
    initial_weights_and_logits_match_cpu_cpu,
    initial_weights_and_logits_match_cpu_cuda,
    initial_weights_and_logits_match_cpu_metal
);
test_device!(
    training_step_matches_cpu,
    training_step_matches_cpu_cpu,
    training_step_matches_cpu_cuda,
    training_step_matches_cpu_metal
);
test_device!(
    weights_round_trip_through_the_cpu,
    weights_round_trip_through_the_cpu_cpu,
    weights_round_trip_through_the_cpu_cuda,
    weights_round_trip_through_the_cpu_metal
);
// On the CPU: tests/parity.rs.
test_device!(
    gpu: cnn_blstm_attention_matches_pytorch,
    cnn_blstm_attention_matches_pytorch_cuda,
    cnn_blstm_attention_matches_pytorch_metal
);
test_device!(
    generic_ops_match_the_cpu_fast_paths,
    generic_ops_match_the_cpu_fast_paths_cpu,
    generic_ops_match_the_cpu_fast_paths_cuda,
    generic_ops_match_the_cpu_fast_paths_metal
);

// ---------------------------------------------------------------------------------------
// Helpers

const CPU: Device = Device::Cpu;

/// The gradients of `sum(y · g)`: `g` (on the CPU) is the upstream gradient of `y`.
fn backward_against(y: &Tensor, g: &Tensor) -> candle_core::backprop::GradStore {
    (y * g.to_device(y.device()).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap()
}

/// The reference's tolerance for values computed the same way on two devices.
fn assert_same(what: &str, got: &Tensor, want: &Tensor) {
    assert_close(what, got, want, 1e-6, 1e-4);
}

fn assert_bits_equal(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dims(), want.dims(), "{what}: shapes differ");
    let (g, w) = (host(got), host(want));
    let differ = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a.to_bits() != b.to_bits());
    if let Some(i) = differ {
        panic!("{what}: element {i} differs: {} vs {}", g[i], w[i]);
    }
}

fn uniform(rng: &mut ChaCha8Rng, shape: &[usize], lo: f32, hi: f32, dev: &Device) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| lo + (hi - lo) * rng.random::<f32>())
        .collect();
    Tensor::from_vec(v, shape, dev).unwrap()
}

fn log_mel_config() -> ModelConfig {
    small_config(
        InputMode::LogMel {
            mean: -40.0,
            std: 20.0,
        },
        64,
    )
}

/// `n` log-mel-like spectrograms (dB) of 32 × 64 and labels cycling over 7 classes.
fn spectrograms(n: usize, seed: u64) -> (Vec<Array2<f32>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let feats = (0..n)
        .map(|_| Array2::from_shape_fn((32, 64), |_| -80.0 + 80.0 * rng.random::<f32>()))
        .collect();
    (feats, (0..n).map(|i| i % 7).collect())
}

fn input(n: usize, seed: u64, dev: &Device) -> Tensor {
    let (f, _) = spectrograms(n, seed);
    let spec = log_mel_config().input;
    ser_models::features::batch_tensor(f.iter().map(|a| a.view()), &spec, dev).unwrap()
}

fn train_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        patience: None,
        seed: 17,
        ..TrainConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Cases

/// The parameter store draws every initial value on the host, so the same seed gives the
/// same bits on every device; the logits then agree to rounding, in evaluation and in
/// training mode (batch statistics, dropout masks drawn on the host).
fn initial_weights_and_logits_match_cpu(dev: &Device) -> Res {
    let cpu = Model::new(log_mel_config(), 5, &CPU)?;
    let model = Model::new(log_mel_config(), 5, dev)?;
    let (a, b) = (cpu.store().tensors(), model.store().tensors());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same variables"
    );
    for (name, t) in &b {
        assert!(t.device().same_device(dev), "{name} is not on {dev:?}");
        assert_bits_equal(name, t, &a[name]);
    }
    let x = input(4, 1, dev);
    let xc = x.to_device(&CPU)?;
    let logits = model.forward_t(&x, Mode::Eval)?;
    assert!(logits.device().same_device(dev));
    assert_same("eval logits", &logits, &cpu.forward_t(&xc, Mode::Eval)?);
    let mode = Mode::Train { seed: 3 };
    assert_same(
        "train logits",
        &model.forward_t(&x, mode)?,
        &cpu.forward_t(&xc, mode)?,
    );
    Ok(())
}

/// One training step: the loss and every gradient agree with the CPU's; two epochs of
/// [`Trainer`] (data to the device, augmentation, Adam) give the CPU's losses.
fn training_step_matches_cpu(dev: &Device) -> Res {
    let cpu = Model::new(log_mel_config(), 6, &CPU)?;
    let model = Model::new(log_mel_config(), 6, dev)?;
    let x = input(6, 2, dev);
    let labels: Vec<u32> = vec![0, 1, 2, 3, 4, 5];
    let step = |m: &Model, x: &Tensor| {
        let y = Tensor::new(labels.as_slice(), m.device()).unwrap();
        let logits = m.forward_t(x, Mode::Train { seed: 11 }).unwrap();
        let mut loss = cross_entropy(&logits, &y, None).unwrap();
        if let Some(p) = m.l2_penalty().unwrap() {
            loss = (loss + p).unwrap();
        }
        let grads = loss.backward().unwrap();
        (loss, grads)
    };
    let (loss_c, grads_c) = step(&cpu, &x.to_device(&CPU)?);
    let (loss_d, grads_d) = step(&model, &x);
    assert_same("loss", &loss_d, &loss_c);
    let vars_c: BTreeMap<String, Var> = cpu.trainable_vars().into_iter().collect();
    let mut checked = 0;
    for (name, v) in model.trainable_vars() {
        let gd = grads_d
            .get(&v)
            .unwrap_or_else(|| panic!("no gradient for {name}"));
        let gc = grads_c.get(&vars_c[&name]).unwrap();
        if name.ends_with("conv.bias") {
            // BatchNorm follows and removes any constant: zero up to rounding.
            assert_close(&name, gd, gc, 1e-5, 0.0);
        } else {
            assert_same(&name, gd, gc);
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        vars_c.len(),
        "every trainable variable has a gradient"
    );

    // The same through the trainer: epoch 1's loss comes before any update, epoch 2's
    // after one Adam step.
    let (f, l) = spectrograms(8, 3);
    let data = Dataset::new(f, l.clone(), 8)?;
    let cpu = Model::new(log_mel_config(), 7, &CPU)?;
    let model = Model::new(log_mel_config(), 7, dev)?;
    let mut tc = Trainer::new(&cpu, train_config(2), &l)?;
    let mut td = Trainer::new(&model, train_config(2), &l)?;
    for (epoch, rel) in [(1, 1e-4), (2, 1e-3)] {
        let c = tc.train_epoch(&data, &mut |_| {})?.loss;
        let d = td.train_epoch(&data, &mut |_| {})?.loss;
        assert!(
            (c - d).abs() <= rel * c.abs(),
            "epoch {epoch}: loss {d} on {dev:?}, {c} on the CPU"
        );
    }
    Ok(())
}

/// Weights trained on the device, saved, give the same logits when loaded on the CPU; saved
/// again from the CPU they reload on the device bit for bit. A trainer checkpoint written on
/// the device resumes on the CPU (Adam's moments included).
fn weights_round_trip_through_the_cpu(dev: &Device) -> Res {
    let dir = tempfile::tempdir()?;
    let (f, l) = spectrograms(8, 4);
    let data = Dataset::new(f, l.clone(), 8)?;
    let model = Model::new(log_mel_config(), 8, dev)?;
    let mut t = Trainer::new(&model, train_config(2), &l)?;
    t.train_epoch(&data, &mut |_| {})?; // weights and running statistics move off their init
    let from_dev = dir.path().join("device.safetensors");
    model.save_weights(&from_dev)?;
    let saved = ser_models::io::load_safetensors(&from_dev, &CPU)?;
    for (name, v) in model.store().tensors() {
        assert_bits_equal(&name, &saved[&name], &v);
    }

    let cpu = Model::new(log_mel_config(), 0, &CPU)?;
    cpu.load_weights(&from_dev)?;
    let x = input(4, 5, dev);
    let logits = model.forward_t(&x, Mode::Eval)?;
    assert_same(
        "logits on the CPU",
        &cpu.forward_t(&x.to_device(&CPU)?, Mode::Eval)?,
        &logits,
    );

    let from_cpu = dir.path().join("cpu.safetensors");
    cpu.save_weights(&from_cpu)?;
    let back = Model::new(log_mel_config(), 1, dev)?;
    back.load_weights(&from_cpu)?;
    let (a, b) = (model.store().tensors(), back.store().tensors());
    for (name, v) in &b {
        assert!(v.device().same_device(dev), "{name} is not on {dev:?}");
        assert_bits_equal(name, v, &a[name]);
    }
    assert_close(
        "logits after the round trip",
        &back.forward_t(&x, Mode::Eval)?,
        &logits,
        1e-6,
        0.0,
    );

    // Trainer checkpoint: device -> CPU, then one more epoch on each.
    let ckpt = dir.path().join("checkpoint");
    t.save_checkpoint(&ckpt)?;
    let resumed = Model::new(log_mel_config(), 0, &CPU)?;
    let mut tc = Trainer::resume(&resumed, &ckpt, None)?;
    assert_eq!(tc.state().step, t.state().step);
    let c = tc.train_epoch(&data, &mut |_| {})?.loss;
    let d = t.train_epoch(&data, &mut |_| {})?.loss;
    assert!(
        (c - d).abs() <= 1e-4 * c.abs(),
        "epoch 2 after resuming: {c} on the CPU, {d} on {dev:?}"
    );
    Ok(())
}

/// The generic operations (what every non-CPU device runs) on `dev` against the CPU fast
/// paths, forward and gradients: candle's convolution against the im2col op, candle's
/// BatchNorm operations against the fused BatchNorm+ReLU (running statistics included),
/// the reshape-and-max pooling against the 2×2 pooling op (odd sizes, no ties).
fn generic_ops_match_the_cpu_fast_paths(dev: &Device) -> Res {
    let mut rng = ChaCha8Rng::seed_from_u64(21);

    // Convolution, 3×3, padding 1, odd sizes.
    let x = uniform(&mut rng, &[3, 4, 9, 11], -1.0, 1.0, &CPU);
    let w = uniform(&mut rng, &[6, 4, 3, 3], -0.5, 0.5, &CPU);
    let b = uniform(&mut rng, &[6], -0.5, 0.5, &CPU);
    let g = uniform(&mut rng, &[3, 6, 9, 11], -1.0, 1.0, &CPU);
    let run = |generic: bool, dev: &Device| {
        let (x, w, b) = (
            Var::from_tensor(&x.to_device(dev).unwrap()).unwrap(),
            Var::from_tensor(&w.to_device(dev).unwrap()).unwrap(),
            Var::from_tensor(&b.to_device(dev).unwrap()).unwrap(),
        );
        let y = if generic {
            ops::conv2d_generic(&x, &w, Some(&b), 1, 1).unwrap()
        } else {
            ops::conv2d(&x, &w, Some(&b), 1, 1).unwrap()
        };
        let gs = backward_against(&y, &g);
        let grads = [&x, &w, &b].map(|v| gs.get(v).unwrap().clone());
        (y, grads)
    };
    let (yf, gf) = run(false, &CPU);
    let (yg, gg) = run(true, dev);
    assert_same("conv2d", &yg, &yf);
    for (name, (a, b)) in ["conv2d grad x", "conv2d grad w", "conv2d grad b"]
        .iter()
        .zip(gg.iter().zip(&gf))
    {
        assert_same(name, a, b);
    }

    // BatchNorm + ReLU in training mode, then in evaluation mode.
    let (c, x) = (5, uniform(&mut rng, &[4, 5, 6, 7], -2.0, 3.0, &CPU));
    let gamma = uniform(&mut rng, &[c], 0.5, 1.5, &CPU);
    let beta = uniform(&mut rng, &[c], -0.3, 0.3, &CPU);
    let g = uniform(&mut rng, &[4, 5, 6, 7], -1.0, 1.0, &CPU);
    let run = |generic: bool, dev: &Device| {
        let store = ParamStore::new(0);
        let bn = BatchNormRelu::new(c, 1e-3, 0.1, store.var_builder(DType::F32, dev)).unwrap();
        let (wv, bv) = (store.get("weight").unwrap(), store.get("bias").unwrap());
        wv.set(&gamma.to_device(dev).unwrap()).unwrap();
        bv.set(&beta.to_device(dev).unwrap()).unwrap();
        let x = Var::from_tensor(&x.to_device(dev).unwrap()).unwrap();
        let forward = |x: &Tensor, train| {
            if generic {
                bn.forward_t_generic(x, train).unwrap()
            } else {
                bn.forward_t(x, train).unwrap()
            }
        };
        let y = forward(&x, true);
        let gs = backward_against(&y, &g);
        let eval = forward(&x, false);
        // Gradients through evaluation mode (fine-tuning with frozen statistics).
        let eval_gs = backward_against(&eval, &g);
        let eval_generic = bn.forward_t_generic(&x, false).unwrap();
        [
            y,
            gs.get(&x).unwrap().clone(),
            gs.get(&wv).unwrap().clone(),
            gs.get(&bv).unwrap().clone(),
            store.get("running_mean").unwrap().as_tensor().clone(),
            store.get("running_var").unwrap().as_tensor().clone(),
            eval,
            eval_gs.get(&x).unwrap().clone(),
            eval_gs.get(&wv).unwrap().clone(),
            eval_gs.get(&bv).unwrap().clone(),
            eval_generic,
        ]
    };
    let (fast, generic) = (run(false, &CPU), run(true, dev));
    let names = [
        "batch-norm",
        "batch-norm grad x",
        "batch-norm grad weight",
        "batch-norm grad bias",
        "running mean",
        "running var",
        "batch-norm eval",
        "batch-norm eval grad x",
        "batch-norm eval grad weight",
        "batch-norm eval grad bias",
    ];
    for (name, (a, b)) in names.iter().zip(generic.iter().zip(&fast)) {
        assert_same(name, a, b);
    }
    // The fused evaluation pass does the generic path's arithmetic element for element.
    assert_bits_equal("batch-norm eval (fused)", &fast[6], &fast[10]);

    // 2×2 max pooling on an odd-sized input.
    let x = uniform(&mut rng, &[2, 3, 7, 9], -1.0, 1.0, &CPU);
    let g = uniform(&mut rng, &[2, 3, 3, 4], -1.0, 1.0, &CPU);
    let run = |generic: bool, dev: &Device| {
        let x = Var::from_tensor(&x.to_device(dev).unwrap()).unwrap();
        let y = if generic {
            ops::max_pool2x2_generic(&x).unwrap()
        } else {
            ops::max_pool2x2(&x).unwrap()
        };
        let gs = backward_against(&y, &g);
        (y, gs.get(&x).unwrap().clone())
    };
    let ((yf, gf), (yg, gg)) = (run(false, &CPU), run(true, dev));
    assert_bits_equal("max pool", &yg, &yf);
    assert_bits_equal("max pool grad", &gg, &gf);
    Ok(())
}
