//! The shipped model's files, embedded (feature `shipped-model`). Made by
//! `scripts/train-shipped-model.sh`; described in `docs/model-card.md`. The weights are
//! under CC BY-NC-SA 4.0 (they derive from RAVDESS), see `shipped/LICENSE.md`.

/// How errors name the embedded model.
pub(crate) const NAME: &str = "<shipped model>";
/// `config.json` of the shipped run.
pub(crate) const CONFIG_JSON: &str = include_str!("../shipped/config.json");
/// The weights of each member of the shipped ensemble, in f16.
pub(crate) static WEIGHTS: &[&[u8]] = &[include_bytes!("../shipped/model.safetensors")];
