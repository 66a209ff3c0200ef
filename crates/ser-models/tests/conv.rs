//! The im2col convolution against candle's own `conv2d`: forward and both gradients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use candle_core::{Device, Tensor, Var};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ser_models::ops::conv2d;

mod common;

fn rand_tensor(rng: &mut ChaCha8Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[allow(clippy::too_many_arguments)]
fn check(b: usize, c: usize, o: usize, h: usize, w: usize, k: usize, pad: usize, stride: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64((b * 1000 + c * 100 + h * 10 + w) as u64);
    let x = Var::from_tensor(&rand_tensor(&mut rng, &[b, c, h, w])).unwrap();
    let wt = Var::from_tensor(&rand_tensor(&mut rng, &[o, c, k, k])).unwrap();
    let bias = Var::from_tensor(&rand_tensor(&mut rng, &[o])).unwrap();
    let ours = conv2d(&x, &wt, Some(&bias), pad, stride).unwrap();
    let theirs = x
        .conv2d(&wt, pad, stride, 1, 1)
        .unwrap()
        .broadcast_add(&bias.reshape((1, o, 1, 1)).unwrap())
        .unwrap();
    let tol = 1e-4 * (c * k * k) as f32;
    assert!(
        max_abs_diff(&ours, &theirs) < tol,
        "forward {b} {c} {o} {h} {w} {k} {pad} {stride}"
    );
    let g = rand_tensor(&mut rng, ours.dims());
    let go = (&ours * &g).unwrap().sum_all().unwrap().backward().unwrap();
    let gt = (&theirs * &g)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (name, v) in [("x", &x), ("w", &wt), ("b", &bias)] {
        let a = go.get(v).unwrap();
        let e = gt.get(v).unwrap();
        assert!(
            max_abs_diff(a, e) < tol * 4.0,
            "grad {name}: {b} {c} {o} {h} {w} {k} {pad} {stride}"
        );
    }
}

#[test]
fn matches_candle_conv2d_forward_and_gradients() {
    check(2, 3, 4, 8, 7, 3, 1, 1);
    check(1, 1, 2, 5, 5, 3, 0, 1);
    check(3, 2, 5, 11, 9, 3, 1, 1);
    // Strided cases where candle's own backward pass recovers the input size.
    check(2, 4, 3, 9, 11, 3, 1, 2);
    check(1, 2, 2, 6, 6, 1, 0, 1);
    check(2, 2, 3, 7, 5, 5, 2, 1);
    check(1, 3, 2, 11, 11, 3, 2, 3);
    // Batches cut into several units of images, the last one shorter.
    check(11, 2, 3, 6, 5, 3, 1, 1);
    check(17, 3, 4, 9, 11, 3, 1, 2);
    check(32, 1, 4, 9, 8, 3, 1, 1);
}

/// Forward output and the three gradients of one convolution, as bits.
fn bits_of_step(x: &Tensor, w: &Tensor, bias: &Tensor, g: &Tensor) -> Vec<Vec<u32>> {
    let (x, w, bias) = (
        Var::from_tensor(x).unwrap(),
        Var::from_tensor(w).unwrap(),
        Var::from_tensor(bias).unwrap(),
    );
    let y = conv2d(&x, &w, Some(&bias), 1, 1).unwrap();
    let grads = (&y * g).unwrap().sum_all().unwrap().backward().unwrap();
    let mut out = vec![y];
    for v in [&x, &w, &bias] {
        out.push(grads.get(v).unwrap().clone());
    }
    out.iter().map(common::bits).collect()
}

#[test]
fn same_bits_on_one_thread_and_on_three() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = rand_tensor(&mut rng, &[13, 3, 10, 9]);
    let w = rand_tensor(&mut rng, &[5, 3, 3, 3]);
    let bias = rand_tensor(&mut rng, &[5]);
    let g = rand_tensor(&mut rng, &[13, 5, 10, 9]);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| bits_of_step(&x, &w, &bias, &g))
    };
    assert_eq!(on(1), on(3));
}

#[test]
fn wrong_shapes_are_errors_not_panics() {
    let x = Tensor::zeros((1, 3, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    let w = Tensor::zeros((2, 2, 3, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(conv2d(&x, &w, None, 1, 1).is_err());
    let w = Tensor::zeros((2, 3, 7, 7), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(conv2d(&x, &w, None, 1, 1).is_err());
    let x3 = Tensor::zeros((3, 4, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(conv2d(&x3, &w, None, 1, 1).is_err());
}
