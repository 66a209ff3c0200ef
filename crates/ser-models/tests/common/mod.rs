//! What the test files share (`tests/parity.rs` and `tests/device.rs` most of it): the golden files, the tolerance
//! check, the small CNN-BLSTM-attention, and the golden PyTorch case of the whole model,
//! written once for a `&Device`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor, Var};
use ser_models::{Architecture, InputMode, InputSpec, Mode, Model, ModelConfig};

/// The bits of every value of `t`, flattened: for checks that two paths agree exactly.
pub(crate) fn bits(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// A result for test cases that use `?`.
pub(crate) type Res = Result<(), Box<dyn std::error::Error>>;

/// A golden file of `fixtures/golden/ser-models`, loaded onto `dev`: found beside the
/// sources this test was built from or, for a test binary copied to another machine (the
/// GPU one), under `fixtures/` of the working directory.
pub(crate) fn fixture(name: &str, dev: &Device) -> (PathBuf, BTreeMap<String, Tensor>) {
    let rel = PathBuf::from("fixtures/golden/ser-models").join(name);
    let path = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&rel),
        rel.clone(),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("{} not found (run from the repository root)", rel.display()));
    let t = ser_models::io::load_safetensors(&path, dev).unwrap();
    (path, t)
}

/// The values of `t` on the host, flattened, as f32.
pub(crate) fn host(t: &Tensor) -> Vec<f32> {
    t.to_device(&Device::Cpu)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Asserts `|got − want| ≤ abs + rel · max|want|` everywhere (both brought to the host;
/// a NaN fails); on failure names the worst element and both values.
pub(crate) fn assert_close(what: &str, got: &Tensor, want: &Tensor, abs: f32, rel: f32) {
    assert_eq!(got.dims(), want.dims(), "{what}: shapes differ");
    let (g, w) = (host(got), host(want));
    let scale = w.iter().fold(0f32, |m, v| m.max(v.abs()));
    let (worst, d) = g
        .iter()
        .zip(&w)
        .map(|(a, b)| (a - b).abs())
        .enumerate()
        .fold((0, 0f32), |best, (i, d)| {
            if d > best.1 || d.is_nan() {
                (i, d)
            } else {
                best
            }
        });
    assert!(
        d <= abs + rel * scale,
        "{what}: max |diff| {d:e} at flat index {worst} (got {}, want {}), scale {scale:e}",
        g[worst],
        w[worst]
    );
}

/// The small CNN-BLSTM-attention of the golden files (32 bands × `frames`).
pub(crate) fn small_config(mode: InputMode, frames: usize) -> ModelConfig {
    ModelConfig {
        input: InputSpec {
            mode,
            n_mels: 32,
            frames,
            deltas: 0,
        },
        conv_channels: vec![4, 8, 8, 16],
        rnn_hidden: 8,
        attention_dim: 8,
        dense: vec![16],
        ..ModelConfig::research(Architecture::CnnBlstmAttn)
    }
}

/// The checks of a whole-model golden file `t` whose weights `model` holds: logits to 1e-4
/// absolute (computed on the input's device), the cross-entropy loss to 1e-5, the input
/// gradient and every parameter's gradient (all of the file's, none left out) to 1e-4
/// absolute plus 1e-3 relative.
pub(crate) fn logits_loss_and_gradients_match(
    model: &Model,
    t: &BTreeMap<String, candle_core::Tensor>,
) -> Res {
    let x = Var::from_tensor(&t["input"])?;
    let logits = model.forward_t(&x, Mode::Eval)?;
    assert!(logits.device().same_device(t["input"].device()));
    assert_close("logits", &logits, &t["logits"], 1e-4, 0.0);
    let labels = t["labels"].to_dtype(DType::U32)?;
    let loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
    assert_close("loss", &loss, &t["loss"], 1e-5, 0.0);
    let grads = loss.backward()?;
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
    Ok(())
}

/// The golden PyTorch 2.11 case of the whole small CNN-BLSTM-attention on `dev`
/// ([`logits_loss_and_gradients_match`]); then the three-channel (magma) model's logits
/// to 1e-4.
pub(crate) fn cnn_blstm_attention_matches_pytorch(dev: &Device) -> Res {
    let (path, t) = fixture("cnn_blstm_attn.safetensors", dev);
    let config = small_config(
        InputMode::LogMel {
            mean: 0.0,
            std: 1.0,
        },
        64,
    );
    let model = Model::new(config, 1, dev)?;
    model.store().load_from(&t, &path)?;
    logits_loss_and_gradients_match(&model, &t)?;

    let (path, t) = fixture("cnn_blstm_attn_rgb.safetensors", dev);
    let model = Model::new(
        small_config(InputMode::Magma { imagenet: false }, 48),
        1,
        dev,
    )?;
    model.store().load_from(&t, &path)?;
    let logits = model.forward_t(&t["input"], Mode::Eval)?;
    assert_close("rgb logits", &logits, &t["logits"], 1e-4, 0.0);
    Ok(())
}
