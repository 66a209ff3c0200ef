//! The batched VGG19: frozen layers, ImageNet weights by tensor name, the hub cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use ser_models::hub::{HubWeights, load_vgg19_features};
use ser_models::{Architecture, Mode, Model, ModelConfig};

fn small_vgg() -> ModelConfig {
    let mut cfg = ModelConfig::research(Architecture::Vgg19);
    cfg.input.n_mels = 32;
    cfg.input.frames = 32;
    cfg
}

#[test]
fn vgg19_runs_in_batches_and_trains_only_unfrozen_layers() {
    let model = Model::new(small_vgg(), 0, &Device::Cpu).unwrap();
    let names: Vec<String> = model.trainable_vars().into_iter().map(|(n, _)| n).collect();
    // features.0 .. features.23 are the first 15 Keras layers: frozen.
    for frozen in [
        "features.0.weight",
        "features.21.bias",
        "features.23.weight",
    ] {
        assert!(
            !names.contains(&frozen.to_string()),
            "{frozen} must be frozen"
        );
    }
    for trained in [
        "features.25.weight",
        "features.34.bias",
        "head.fc1.weight",
        "head.bn2.bias",
        "head.out.weight",
    ] {
        assert!(names.contains(&trained.to_string()), "{trained} must train");
    }
    let x = Tensor::randn(0f32, 1.0, (2, 3, 32, 32), &Device::Cpu).unwrap();
    let logits = model.forward_t(&x, Mode::Train { seed: 1 }).unwrap();
    assert_eq!(logits.dims(), &[2, 7]);
    let loss =
        candle_nn::loss::cross_entropy(&logits, &Tensor::new(&[0u32, 3], &Device::Cpu).unwrap())
            .unwrap();
    let grads = loss.backward().unwrap();
    let store = model.store();
    assert!(
        grads
            .get(&store.get("features.0.weight").unwrap())
            .is_none(),
        "no gradient reaches frozen layers"
    );
    assert!(
        grads
            .get(&store.get("features.25.weight").unwrap())
            .is_some()
    );
    // Wrong input: one channel.
    let one = Tensor::zeros((1, 1, 32, 32), DType::F32, &Device::Cpu).unwrap();
    assert!(model.forward_t(&one, Mode::Eval).is_err());
}

#[test]
fn imagenet_weights_load_by_name_and_mismatches_name_the_tensor() {
    let model = Model::new(small_vgg(), 0, &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A timm-style file: every features.N tensor (set to 0.5), plus tensors we do not use.
    let mut file: BTreeMap<String, Tensor> = model
        .store()
        .tensors()
        .into_iter()
        .filter(|(n, _)| n.starts_with("features."))
        .map(|(n, t)| (n, (t.ones_like().unwrap() * 0.5).unwrap()))
        .collect();
    file.insert(
        "pre_logits.fc1.weight".into(),
        Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap(),
    );
    let path = dir.path().join("model.safetensors");
    ser_models::io::save_safetensors(&path, &file, None).unwrap();
    load_vgg19_features(&model, &path).unwrap();
    let v: Vec<f32> = model
        .store()
        .get("features.34.bias")
        .unwrap()
        .as_tensor()
        .to_vec1()
        .unwrap();
    assert!(v.iter().all(|&x| x == 0.5));

    // A wrong shape is refused with the tensor's name and both shapes.
    file.insert(
        "features.2.weight".into(),
        Tensor::zeros((64, 64, 1, 1), DType::F32, &Device::Cpu).unwrap(),
    );
    ser_models::io::save_safetensors(&path, &file, None).unwrap();
    let e = load_vgg19_features(&model, &path).unwrap_err().to_string();
    assert!(
        e.contains("features.2.weight") && e.contains("[64, 64, 3, 3]"),
        "{e}"
    );
    // A missing tensor too.
    file.remove("features.2.weight");
    ser_models::io::save_safetensors(&path, &file, None).unwrap();
    let e = load_vgg19_features(&model, &path).unwrap_err().to_string();
    assert!(
        e.contains("features.2.weight") && e.contains("missing"),
        "{e}"
    );
    // Not a safetensors file.
    std::fs::write(&path, b"not safetensors").unwrap();
    assert!(load_vgg19_features(&model, &path).is_err());
}

#[test]
fn hub_cache_is_found_offline_and_misses_are_clear() {
    let cache = tempfile::tempdir().unwrap();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo = cache.path().join("models--timm--vgg19.tv_in1k");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    let snap = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(snap.join("model.safetensors"), b"x").unwrap();

    let w = HubWeights::vgg19().with_cache_dir(cache.path()).offline();
    assert_eq!(w.resolve().unwrap(), snap.join("model.safetensors"));
    let mut by_commit = w.clone();
    by_commit.revision = commit.into();
    assert_eq!(by_commit.resolve().unwrap(), snap.join("model.safetensors"));

    let missing = HubWeights::new("timm/other", "model.safetensors")
        .with_cache_dir(cache.path())
        .offline();
    let e = missing.resolve().unwrap_err().to_string();
    assert!(
        e.contains("timm/other") && e.contains("not in the cache"),
        "{e}"
    );
    #[cfg(not(feature = "hub"))]
    {
        let online =
            HubWeights::new("timm/other", "model.safetensors").with_cache_dir(cache.path());
        let e = online.resolve().unwrap_err().to_string();
        assert!(e.contains("offline") || e.contains("`hub` feature"), "{e}");
    }
}
