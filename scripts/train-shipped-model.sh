#!/usr/bin/env bash
# Trains the model that ships in ser-models (`Recognizer::shipped`): `train`'s default
# recipe, an ensemble of three members from seeds 42, 43 and 44 (`--members 3`, the
# default), written to crates/ser-models/shipped/member-K/ (config.json + f16
# model.safetensors each), then measures the f32 run and the f16 export, each member alone
# and the ensemble, on the held-out actors. docs/model-card.md describes the result.
#
#   bash scripts/train-shipped-model.sh [RAVDESS_DIR] [SEED]     # SEED: 42, the first member's
#
# RAVDESS only (CC BY-NC-SA 4.0; TESS's CC BY-NC-ND 4.0 forbids derivatives such as
# weights), speaker-independent: trained on actors 01-16 (no validation split: train's
# default), tested on 17-20 (never heard). One CPU thread, so that the run repeats exactly
# (the committed model was trained so); about 15 minutes on one core. Replaces the
# committed model: review `git diff --stat` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/corpus/RAVDESS}
SEED=${2:-42}
RUN=runs/shipped
cargo build --release --example train --example export_model --example evaluate --example predict
# train's defaults (docs/results.md, "Unseen speakers"): the half-width CNN-BLSTM-attention,
# per-speaker band standardisation with random histories and a population prior, the
# moving average of the weights (--ema 0.99, warmed up: see crates/ser-models/src/ema.rs),
# no validation split (every actor but the test ones trains for 30 epochs and the last
# weight average is kept) and three members from seeds SEED, SEED+1, SEED+2 on one split.
RAYON_NUM_THREADS=1 target/release/examples/train --data "$DATA" --split speaker \
    --test-speakers ravdess:17,ravdess:18,ravdess:19,ravdess:20 --seed "$SEED" \
    --cache runs/cache --out "$RUN" --overwrite
target/release/examples/export_model --run "$RUN" --out "$RUN-f16" --dtype f16 --copy-split --overwrite
echo "== f32 (as trained), each member alone, then the ensemble; test actors 17-20"
for M in "$RUN"/member-*; do target/release/examples/evaluate --run "$M" --data "$DATA"; done
target/release/examples/evaluate --run "$RUN" --data "$DATA"
echo "== f16 (as shipped), the ensemble, test actors 17-20"
target/release/examples/evaluate --run "$RUN-f16" --data "$DATA"
rm -rf crates/ser-models/shipped/member-*
target/release/examples/export_model --run "$RUN" --out crates/ser-models/shipped --dtype f16
# The regression fixture of the shipped model (crates/ser-models/tests/recognizer.rs): the
# demo clips as the new model hears them, from a build that embeds it.
cargo build --release --example predict
target/release/examples/predict --json demo/03-*.flac > fixtures/golden/shipped-model/demo.jsonl
