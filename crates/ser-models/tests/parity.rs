//! Layer and model parity with PyTorch 2.11 (eval mode), on the golden files made by
//! `fixtures/scripts/make_golden_models.py`: outputs to 1e-4 absolute, gradients to 1e-4
//! absolute plus 1e-3 relative.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor, Var};
use ser_models::layers::{AttentionPool, Blstm, ConvBlock, Mode};
use ser_models::{Architecture, InputMode, InputSpec, Model, ModelConfig, ParamStore};

fn fixture(name: &str) -> (PathBuf, BTreeMap<String, Tensor>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/golden/ser-models")
        .join(name);
    let t = ser_models::io::load_safetensors(&path, &Device::Cpu).unwrap();
    (path, t)
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
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

fn assert_close(what: &str, got: &Tensor, want: &Tensor, abs: f32, rel: f32) {
    let scale: f32 = want
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    let d = max_abs(got, want);
    assert!(
        d <= abs + rel * scale,
        "{what}: max |diff| {d:e} (scale {scale:e})"
    );
}

fn conv_block_case(file: &str, in_c: usize, out_c: usize) {
    let (path, t) = fixture(file);
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
    let grads = (&y * &t["grad_output"])
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
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
    let (path, t) = fixture("blstm.safetensors");
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
    let (path, t) = fixture("attention.safetensors");
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

fn small_config(mode: InputMode, frames: usize) -> ModelConfig {
    ModelConfig {
        input: InputSpec {
            mode,
            n_mels: 32,
            frames,
        },
        conv_channels: vec![4, 8, 8, 16],
        rnn_hidden: 8,
        attention_dim: 8,
        dense: vec![16],
        ..ModelConfig::research(Architecture::CnnBlstmAttn)
    }
}

#[test]
fn cnn_blstm_attention_matches_pytorch_logits_loss_and_gradients() {
    let (path, t) = fixture("cnn_blstm_attn.safetensors");
    let model = Model::new(
        small_config(
            InputMode::LogMel {
                mean: 0.0,
                std: 1.0,
            },
            64,
        ),
        1,
        &Device::Cpu,
    )
    .unwrap();
    model.store().load_from(&t, &path).unwrap();
    let x = Var::from_tensor(&t["input"]).unwrap();
    let logits = model.forward_t(&x, Mode::Eval).unwrap();
    assert_close("logits", &logits, &t["logits"], 1e-4, 0.0);
    let labels = t["labels"].to_dtype(DType::U32).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &labels).unwrap();
    assert_close("loss", &loss, &t["loss"], 1e-5, 0.0);
    let grads = loss.backward().unwrap();
    assert_close(
        "grad_input",
        grads.get(&x).unwrap(),
        &t["grad_input"],
        1e-4,
        1e-3,
    );
    let mut checked = 0;
    for (name, var) in model.trainable_vars() {
        let want = t
            .get(&format!("grad.{name}"))
            .unwrap_or_else(|| panic!("no grad.{name}"));
        assert_close(&name, grads.get(&var).unwrap(), want, 1e-4, 1e-3);
        checked += 1;
    }
    let in_file = t.keys().filter(|k| k.starts_with("grad.")).count();
    assert_eq!(checked, in_file, "every parameter's gradient is compared");
}

#[test]
fn cnn_blstm_attention_on_three_channels_matches_pytorch() {
    let (path, t) = fixture("cnn_blstm_attn_rgb.safetensors");
    let model = Model::new(
        small_config(InputMode::Magma { imagenet: false }, 48),
        1,
        &Device::Cpu,
    )
    .unwrap();
    model.store().load_from(&t, &path).unwrap();
    let logits = model.forward_t(&t["input"], Mode::Eval).unwrap();
    assert_close("logits", &logits, &t["logits"], 1e-4, 0.0);
}
