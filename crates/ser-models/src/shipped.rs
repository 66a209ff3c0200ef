//! The shipped model's files, embedded (feature `shipped-model`): an ensemble of three
//! members, the default recipe trained from seeds 42, 43 and 44. Made by
//! `scripts/train-shipped-model.sh`; described in `docs/model-card.md`. The weights are
//! under CC BY-NC-SA 4.0 (they derive from RAVDESS), see `shipped/LICENSE.md`.

/// How errors name the embedded model.
pub(crate) const NAME: &str = "<shipped model>";
/// `config.json` of the first member's run (the members' differ only in their seed; the
/// crate's tests check that).
pub(crate) const CONFIG_JSON: &str = include_str!("../shipped/member-1/config.json");
/// The weights of each member of the shipped ensemble, in f16.
pub(crate) static WEIGHTS: &[&[u8]] = &[
    include_bytes!("../shipped/member-1/model.safetensors"),
    include_bytes!("../shipped/member-2/model.safetensors"),
    include_bytes!("../shipped/member-3/model.safetensors"),
];
