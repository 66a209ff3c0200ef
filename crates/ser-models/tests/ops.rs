//! The fused BatchNorm+ReLU and the 2×2 max pooling against candle's own operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use candle_core::{DType, Device, ModuleT, Tensor, Var};
use candle_nn::{BatchNormConfig, VarBuilder, VarMap};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use ser_models::ParamStore;
use ser_models::bn::BatchNormRelu;
use ser_models::ops::max_pool2x2;

fn rand_tensor(rng: &mut ChaCha8Rng, shape: &[usize], lo: f32, hi: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| lo + (hi - lo) * rng.random::<f32>())
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

#[test]
fn fused_batchnorm_relu_matches_candle_in_training() {
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (b, c, h, w) = (4, 5, 7, 6);
    let x = Var::from_tensor(&rand_tensor(&mut rng, &[b, c, h, w], -2.0, 3.0)).unwrap();
    let gamma = rand_tensor(&mut rng, &[c], 0.5, 1.5);
    let beta = rand_tensor(&mut rng, &[c], -0.3, 0.3);

    // Ours, through a ParamStore.
    let store = ParamStore::new(0);
    let ours = BatchNormRelu::new(c, 1e-3, 0.1, store.var_builder(DType::F32, &dev)).unwrap();
    store.get("weight").unwrap().set(&gamma).unwrap();
    store.get("bias").unwrap().set(&beta).unwrap();
    // Candle's, with the same parameters.
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let cfg = BatchNormConfig {
        eps: 1e-3,
        remove_mean: true,
        affine: true,
        momentum: 0.1,
    };
    let theirs = candle_nn::batch_norm(c, cfg, vb).unwrap();
    vm.data().lock().unwrap()["weight"].set(&gamma).unwrap();
    vm.data().lock().unwrap()["bias"].set(&beta).unwrap();

    let yo = ours.forward_t(&x, true).unwrap();
    let yt = theirs.forward_t(&x, true).unwrap().relu().unwrap();
    assert!(max_abs(&yo, &yt) < 1e-5, "forward");
    let g = rand_tensor(&mut rng, &[b, c, h, w], -1.0, 1.0);
    let go = (&yo * &g).unwrap().sum_all().unwrap().backward().unwrap();
    let gt = (&yt * &g).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(
        max_abs(go.get(&x).unwrap(), gt.get(&x).unwrap()) < 1e-4,
        "grad x"
    );
    let wv = store.get("weight").unwrap();
    let wt = vm.data().lock().unwrap()["weight"].clone();
    assert!(
        max_abs(go.get(&wv).unwrap(), gt.get(&wt).unwrap()) < 1e-4,
        "grad weight"
    );
    let bv = store.get("bias").unwrap();
    let bt = vm.data().lock().unwrap()["bias"].clone();
    assert!(
        max_abs(go.get(&bv).unwrap(), gt.get(&bt).unwrap()) < 1e-4,
        "grad bias"
    );
    // Running statistics updated the same way (unbiased variance).
    assert!(
        max_abs(
            store.get("running_mean").unwrap().as_tensor(),
            theirs.running_mean()
        ) < 1e-6
    );
    assert!(
        max_abs(
            store.get("running_var").unwrap().as_tensor(),
            theirs.running_var()
        ) < 1e-5
    );
    // Evaluation mode uses the running statistics.
    let eo = ours.forward_t(&x, false).unwrap();
    let et = theirs.forward_t(&x, false).unwrap().relu().unwrap();
    assert!(max_abs(&eo, &et) < 1e-5, "eval");
}

/// BatchNorm+ReLU+pool as one node gives the bits of BatchNorm+ReLU then the pool: output,
/// the three gradients and the running statistics; odd sizes, ties (ReLU's zeros) included.
#[test]
fn batchnorm_relu_pool_node_is_bn_then_pool_to_the_bit() {
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (b, c, h, w) = (3, 4, 9, 7);
    let x = rand_tensor(&mut rng, &[b, c, h, w], -2.0, 3.0);
    let gamma = rand_tensor(&mut rng, &[c], 0.5, 1.5);
    let beta = rand_tensor(&mut rng, &[c], -0.3, 0.3);
    let g = rand_tensor(&mut rng, &[b, c, h / 2, w / 2], -1.0, 1.0);
    let bits = common::bits;
    let run = |fused: bool| {
        let store = ParamStore::new(0);
        let bn = BatchNormRelu::new(c, 1e-3, 0.1, store.var_builder(DType::F32, &dev)).unwrap();
        store.get("weight").unwrap().set(&gamma).unwrap();
        store.get("bias").unwrap().set(&beta).unwrap();
        let xv = Var::from_tensor(&x).unwrap();
        let y = if fused {
            bn.forward_pool_t(&xv, true).unwrap()
        } else {
            max_pool2x2(&bn.forward_t(&xv, true).unwrap()).unwrap()
        };
        let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let mut out = vec![bits(&y), bits(grads.get(&xv).unwrap())];
        for name in ["weight", "bias"] {
            out.push(bits(grads.get(&store.get(name).unwrap()).unwrap()));
        }
        for name in ["running_mean", "running_var"] {
            out.push(bits(store.get(name).unwrap().as_tensor()));
        }
        out.push(bits(&bn.forward_pool_t(&x, false).unwrap()));
        out
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn max_pool_matches_candle_forward_and_routes_gradient_to_the_first_maximum() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = Var::from_tensor(&rand_tensor(&mut rng, &[2, 3, 8, 6], -1.0, 1.0)).unwrap();
    let ours = max_pool2x2(&x).unwrap();
    let theirs = x.max_pool2d(2).unwrap();
    assert_eq!(max_abs(&ours, &theirs), 0.0);
    // Odd sizes floor.
    let odd = rand_tensor(&mut rng, &[1, 2, 5, 7], -1.0, 1.0);
    assert_eq!(max_pool2x2(&odd).unwrap().dims(), &[1, 2, 2, 3]);
    // Gradient: 1 at the first maximum of each window, 0 elsewhere (ties included).
    let t = Var::from_tensor(&Tensor::new(&[[[[1f32, 3.0], [3.0, 0.0]]]], &Device::Cpu).unwrap())
        .unwrap();
    let g = max_pool2x2(&t)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let got: Vec<f32> = g.get(&t).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(got, vec![0.0, 1.0, 0.0, 0.0]);
    assert!(max_pool2x2(&Tensor::zeros((1, 1, 1, 4), DType::F32, &Device::Cpu).unwrap()).is_err());
}

#[test]
fn max_pool_windows_with_nan_zero_signs_and_odd_edges() {
    let nan = f32::NAN;
    // Four windows of a 2×9 map (the last column is outside every window):
    // [NaN, 2 | NaN, 5] → 5 at the last cell; all NaN → NaN, gradient to the first cell;
    // [-0, 0 | 0, -0] → the first (−0); [1, NaN | 1, 0] → the first 1.
    let rows = [
        [nan, 2.0, nan, nan, -0.0, 0.0, 1.0, nan, 9.0],
        [nan, 5.0, nan, nan, 0.0, -0.0, 1.0, 0.0, 9.0],
    ];
    let t = Var::from_tensor(&Tensor::new(&[[rows]], &Device::Cpu).unwrap()).unwrap();
    let y = max_pool2x2(&t).unwrap();
    let got: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(got[0], 5.0);
    assert!(got[1].is_nan());
    assert_eq!(got[2].to_bits(), (-0.0f32).to_bits());
    assert_eq!(got[3], 1.0);
    let w = Tensor::new(&[[[[10f32, 20.0, 30.0, 40.0]]]], &Device::Cpu).unwrap();
    let g = (y * w).unwrap().sum_all().unwrap().backward().unwrap();
    let got: Vec<f32> = g.get(&t).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    let want = [
        [0.0, 0.0, 20.0, 0.0, 30.0, 0.0, 40.0, 0.0, 0.0],
        [0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ];
    assert_eq!(got, want.concat());
}

#[test]
fn dropout_is_seeded_and_scaled() {
    let x = Tensor::ones((1000,), DType::F32, &Device::Cpu).unwrap();
    let a = ser_models::ops::dropout(&x, 0.25, 7).unwrap();
    let b = ser_models::ops::dropout(&x, 0.25, 7).unwrap();
    let c = ser_models::ops::dropout(&x, 0.25, 8).unwrap();
    assert_eq!(max_abs(&a, &b), 0.0);
    assert!(max_abs(&a, &c) > 0.0);
    let v: Vec<f32> = a.to_vec1().unwrap();
    let kept = v.iter().filter(|&&x| x > 0.0).count();
    assert!((700..800).contains(&kept), "kept {kept}");
    assert!(v.iter().all(|&x| x == 0.0 || (x - 1.0 / 0.75).abs() < 1e-6));
    assert!(ser_models::ops::dropout(&x, 1.0, 0).is_err());
}

/// The mask is word i of the seed's ChaCha8 stream for element i, however the work is cut
/// (its blocks fill in parallel): checked against one pass in order, over several blocks.
#[test]
fn dropout_mask_is_the_seed_stream_in_order() {
    use rand::Rng;
    let n = 3 * 65536 + 5;
    let x = Tensor::ones((n,), DType::F32, &Device::Cpu).unwrap();
    let got: Vec<f32> = ser_models::ops::dropout(&x, 0.5, 11)
        .unwrap()
        .to_vec1()
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let want: Vec<f32> = (0..n)
        .map(|_| if rng.next_u32() >= 1 << 31 { 2.0 } else { 0.0 })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn running_statistics_follow_candle_over_many_steps() {
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let c = 3;
    let store = ParamStore::new(0);
    let ours = BatchNormRelu::new(c, 1e-3, 0.1, store.var_builder(DType::F32, &dev)).unwrap();
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let cfg = BatchNormConfig {
        eps: 1e-3,
        remove_mean: true,
        affine: true,
        momentum: 0.1,
    };
    let theirs = candle_nn::batch_norm(c, cfg, vb).unwrap();
    for step in 0..20 {
        let x = (rand_tensor(&mut rng, &[4, c, 5, 6], -1.0, 1.0) * (1.0 + step as f64)).unwrap();
        let x = (x + 3.0).unwrap();
        ours.forward_t(&x, true).unwrap();
        theirs.forward_t(&x, true).unwrap();
    }
    let rm = store.get("running_mean").unwrap();
    let rv = store.get("running_var").unwrap();
    assert!(max_abs(rm.as_tensor(), theirs.running_mean()) < 1e-4);
    assert!(
        max_abs(rv.as_tensor(), theirs.running_var()) < 1e-3,
        "{:?} {:?}",
        rv.as_tensor().to_vec1::<f32>(),
        theirs.running_var().to_vec1::<f32>()
    );
}

/// A convolution block in training is one node on the CPU (`block.rs`): the same output,
/// gradients (input, kernel, bias, γ, β) and running statistics as the convolution node
/// followed by the BatchNorm+ReLU+pool node. Values are compared exactly (a zero may
/// differ in sign only: candle's accumulation adds the separate path's gradient to +0).
#[test]
fn conv_bn_relu_pool_is_the_separate_nodes() {
    use ser_models::layers::ConvBlock;
    use ser_models::ops::conv2d;
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    // 11 images (more than one unit of the convolution's batch split), odd sizes.
    let (b, ci, co, h, w) = (11, 3, 4, 9, 7);
    let x = rand_tensor(&mut rng, &[b, ci, h, w], -1.0, 1.0);
    let kernel = rand_tensor(&mut rng, &[co, ci, 3, 3], -0.4, 0.4);
    let bias = rand_tensor(&mut rng, &[co], -0.2, 0.2);
    let gamma = rand_tensor(&mut rng, &[co], -1.5, 1.5);
    let beta = rand_tensor(&mut rng, &[co], -0.3, 0.3);
    let g = rand_tensor(&mut rng, &[b, co, h / 2, w / 2], -1.0, 1.0);
    let values = |t: &Tensor| -> Vec<f32> { t.flatten_all().unwrap().to_vec1().unwrap() };
    let run = |fused: bool| {
        let store = ParamStore::new(0);
        let vb = store.var_builder(DType::F32, &dev);
        let block = ConvBlock::new(ci, co, 0.0, 1e-3, 0.1, vb.clone()).unwrap();
        for (name, t) in [
            ("conv.weight", &kernel),
            ("conv.bias", &bias),
            ("bn.weight", &gamma),
            ("bn.bias", &beta),
        ] {
            store.get(name).unwrap().set(t).unwrap();
        }
        let xv = Var::from_tensor(&x).unwrap();
        let y = if fused {
            block
                .forward(&xv, ser_models::Mode::Train { seed: 1 })
                .unwrap()
        } else {
            let bn = BatchNormRelu::new(co, 1e-3, 0.1, vb.pp("bn")).unwrap();
            let conv = conv2d(
                &xv,
                store.get("conv.weight").unwrap().as_tensor(),
                Some(store.get("conv.bias").unwrap().as_tensor()),
                1,
                1,
            )
            .unwrap();
            bn.forward_pool_t(&conv, true).unwrap()
        };
        assert_eq!(y.dims(), &[b, co, h / 2, w / 2]);
        let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let mut out = vec![values(&y), values(grads.get(&xv).unwrap())];
        for name in ["conv.weight", "conv.bias", "bn.weight", "bn.bias"] {
            out.push(values(grads.get(&store.get(name).unwrap()).unwrap()));
        }
        for name in ["bn.running_mean", "bn.running_var"] {
            out.push(values(store.get(name).unwrap().as_tensor()));
        }
        out
    };
    let (fused, separate) = (run(true), run(false));
    assert_eq!(fused.len(), separate.len());
    for (i, (a, b)) in fused.iter().zip(&separate).enumerate() {
        assert_eq!(a, b, "output {i}");
    }
}

/// The bidirectional LSTM is one node on the CPU (`blstm.rs`): the same output and
/// gradients (input, and each direction's two weight matrices and two biases) as the two
/// LSTMs' candle operations, to float rounding (the sums run in another order). Odd sizes,
/// one step too; batches of 8 or more, which take the node.
#[test]
fn fused_blstm_is_the_separate_nodes() {
    use ser_models::layers::Blstm;
    let dev = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    for (b, t, i, h) in [(9, 5, 7, 4), (8, 1, 3, 2), (11, 2, 1, 5)] {
        let x = rand_tensor(&mut rng, &[b, t, i], -1.5, 1.5);
        let g = rand_tensor(&mut rng, &[b, t, 2 * h], -1.0, 1.0);
        let names: Vec<String> = ["fw", "bw"]
            .iter()
            .flat_map(|d| {
                ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
                    .map(|n| format!("{d}.{n}"))
            })
            .collect();
        let values = |t: &Tensor| -> Vec<f32> { t.flatten_all().unwrap().to_vec1().unwrap() };
        let run = |fused: bool| {
            // The same seed: the same weights (wider than PyTorch's init, to reach the
            // nonlinearities' curved parts).
            let store = ParamStore::new(5);
            let layer = Blstm::new(i, h, store.var_builder(DType::F32, &dev)).unwrap();
            for n in &names {
                let v = store.get(n).unwrap();
                v.set(&(v.as_tensor() * 3.0).unwrap()).unwrap();
            }
            let xv = Var::from_tensor(&x).unwrap();
            let y = if fused {
                layer.forward(&xv).unwrap()
            } else {
                layer.forward_nodes(&xv).unwrap()
            };
            assert_eq!(y.dims(), &[b, t, 2 * h]);
            let grads = (&y * &g).unwrap().sum_all().unwrap().backward().unwrap();
            let mut out = vec![values(&y), values(grads.get(&xv).unwrap())];
            for n in &names {
                out.push(values(grads.get(&store.get(n).unwrap()).unwrap()));
            }
            out
        };
        let (fused, nodes) = (run(true), run(false));
        for (k, (a, e)) in fused.iter().zip(&nodes).enumerate() {
            assert_eq!(a.len(), e.len(), "{b}x{t}x{i}, h {h}: output {k}");
            for (j, (p, q)) in a.iter().zip(e).enumerate() {
                assert!(
                    (p - q).abs() <= 1e-5 * (1.0 + q.abs()),
                    "{b}x{t}x{i}, h {h}: output {k}[{j}]: {p} vs {q}"
                );
            }
        }
        // Not the same numbers by accident: the gradients are not all zero.
        assert!(fused[2].iter().any(|v| v.abs() > 1e-3));
    }
}
