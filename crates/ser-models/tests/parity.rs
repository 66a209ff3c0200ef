//! Layer and model parity with PyTorch 2.11 (eval mode), on the golden files made by
//! `fixtures/scripts/make_golden_models.py`: outputs to 1e-4 absolute, gradients to 1e-4
//! absolute plus 1e-3 relative.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use common::{assert_close, fixture};
use ser_models::ParamStore;
use ser_models::layers::{AttentionPool, Blstm, ConvBlock, Mode};

/// The gradients of `sum(y · grad_output)`: what PyTorch's `y.backward(grad_output)` gives.
fn backward_through(y: &Tensor, grad_output: &Tensor) -> GradStore {
    (y * grad_output)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap()
}

fn conv_block_case(file: &str, in_c: usize, out_c: usize) {
    let (path, t) = fixture(file, &Device::Cpu);
    let store = ParamStore::new(0);
    let block = ConvBlock::new(
        in_c,
        out_c,
        0.25,
        1e-3,
        0.01,
        store.var_builder(DType::F32, &Device::Cpu).pp("blocks.0"),
    )
    .unwrap();
    store.load_from(&t, &path).unwrap();
    let x = Var::from_tensor(&t["input"]).unwrap();
    let y = block.forward(&x, Mode::Eval).unwrap();
    assert_close("output", &y, &t["output"], 1e-4, 0.0);
    let grads = backward_through(&y, &t["grad_output"]);
    assert_close(
        "grad_input",
        grads.get(&x).unwrap(),
        &t["grad_input"],
        1e-4,
        1e-3,
    );
    for name in [
        "blocks.0.conv.weight",
        "blocks.0.conv.bias",
        "blocks.0.bn.weight",
        "blocks.0.bn.bias",
    ] {
        let v = store.get(name).unwrap();
        assert_close(
            name,
            grads.get(&v).unwrap(),
            &t[&format!("grad.{name}")],
            1e-4,
            1e-3,
        );
    }
}

#[test]
fn conv_block_matches_pytorch() {
    conv_block_case("conv_block.safetensors", 3, 8);
}

#[test]
fn conv_block_with_odd_sizes_matches_pytorch() {
    conv_block_case("conv_odd.safetensors", 2, 5);
}

#[test]
fn blstm_matches_pytorch() {
    let (path, t) = fixture("blstm.safetensors", &Device::Cpu);
    let store = ParamStore::new(0);
    let l = Blstm::new(
        12,
        6,
        store.var_builder(DType::F32, &Device::Cpu).pp("blstm"),
    )
    .unwrap();
    store.load_from(&t, &path).unwrap();
    let y = l.forward(&t["input"]).unwrap();
    assert_close("output", &y, &t["output"], 1e-4, 0.0);
}

#[test]
fn attention_matches_pytorch() {
    let (path, t) = fixture("attention.safetensors", &Device::Cpu);
    let store = ParamStore::new(0);
    let a = AttentionPool::new(
        12,
        8,
        store.var_builder(DType::F32, &Device::Cpu).pp("attn"),
    )
    .unwrap();
    store.load_from(&t, &path).unwrap();
    let (ctx, alpha) = a.forward(&t["input"]).unwrap();
    assert_close("output", &ctx, &t["output"], 1e-4, 0.0);
    assert_close("alpha", &alpha, &t["alpha"], 1e-4, 0.0);
}

/// Statistics pooling (`--pooling mean-std`): the output and the input's gradient.
#[test]
fn statistics_pooling_matches_pytorch() {
    let (_, t) = fixture("stats_pool.safetensors", &Device::Cpu);
    let x = Var::from_tensor(&t["input"]).unwrap();
    let y = ser_models::models::mean_std_pool(&x).unwrap();
    assert_close("output", &y, &t["output"], 1e-5, 0.0);
    let grads = backward_through(&y, &t["grad_output"]);
    assert_close(
        "grad_input",
        grads.get(&x).unwrap(),
        &t["grad_input"],
        1e-5,
        1e-4,
    );
}

/// The whole small CNN-BLSTM-attention: logits, loss and every gradient, and the
/// three-channel model's logits (the case `tests/device.rs` also runs on GPUs).
#[test]
fn cnn_blstm_attention_matches_pytorch_logits_loss_and_gradients() -> common::Res {
    common::cnn_blstm_attention_matches_pytorch(&Device::Cpu)
}

/// The small CNN with a transformer encoder in place of the BLSTM against two
/// `nn.TransformerEncoderLayer`s (`fixtures/scripts/make_golden_transformer.py`): logits,
/// loss, the input's gradient and every parameter's (the projection, the position
/// embedding, attention, feed-forward and LayerNorm weights included), none left out.
#[test]
fn cnn_transformer_attention_matches_pytorch_logits_loss_and_gradients() -> common::Res {
    let (path, t) = fixture("cnn_transformer_attn.safetensors", &Device::Cpu);
    let mut config = common::small_config(
        ser_models::InputMode::LogMel {
            mean: 0.0,
            std: 1.0,
        },
        64,
    );
    config.transformer = Some(ser_models::TransformerConfig {
        layers: 2,
        heads: 4,
        dim: 16,
        ff: 32,
        dropout: 0.1,
    });
    let model = ser_models::Model::new(config, 1, &Device::Cpu)?;
    model.store().load_from(&t, &path)?;
    common::logits_loss_and_gradients_match(&model, &t)?;
    // The configuration's estimate counts what was built (no BatchNorm statistics here
    // beyond the blocks', which the estimate includes).
    assert!(model.config().param_estimate() >= model.n_params() as u64);
    Ok(())
}

/// The training loss against `F.cross_entropy(weight=…, label_smoothing=ε)`
/// (`fixtures/scripts/make_golden_loss.py`): value and gradient, with and without class
/// weights, at ε 0, 0.1 and 0.35.
#[test]
fn loss_matches_pytorch_with_weights_and_label_smoothing() {
    use ser_models::train::smoothed_cross_entropy;
    let (_, t) = fixture("loss.safetensors", &Device::Cpu);
    let labels = t["labels"].to_dtype(DType::U32).unwrap();
    for (kind, w) in [("plain", None), ("weighted", Some(&t["weights"]))] {
        for (tag, eps) in [("000", 0.0), ("010", 0.1), ("035", 0.35)] {
            let x = Var::from_tensor(&t["logits"]).unwrap();
            let loss = smoothed_cross_entropy(&x, &labels, w, eps).unwrap();
            assert_close(
                &format!("loss.{kind}.{tag}"),
                &loss,
                &t[&format!("loss.{kind}.{tag}")],
                1e-6,
                1e-6,
            );
            let g = loss.backward().unwrap();
            assert_close(
                &format!("grad.{kind}.{tag}"),
                g.get(&x).unwrap(),
                &t[&format!("grad.{kind}.{tag}")],
                1e-7,
                1e-5,
            );
        }
    }
}
