#!/usr/bin/env bash
# Trains the model that ships in ser-models (`Recognizer::shipped`) and writes it to
# crates/ser-models/shipped/ (config.json + f16 model.safetensors), then measures the f32
# run and the f16 export on the held-out actors. docs/model-card.md describes the result.
#
#   bash scripts/train-shipped-model.sh [RAVDESS_DIR] [SEED]
#
# RAVDESS only (CC BY-NC-SA 4.0; TESS's CC BY-NC-ND 4.0 forbids derivatives such as
# weights), speaker-independent: trained on actors 01-16 (no validation split: train's
# default), tested on 17-20 (never heard). One CPU thread, so that the run repeats exactly;
# a few minutes of training. Replaces the committed model: review `git diff --stat` before
# committing.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/corpus/RAVDESS}
SEED=${2:-42}
RUN=runs/shipped-s$SEED
cargo build --release --example train --example export_model --example evaluate
# train's defaults (docs/results.md, "Unseen speakers"): the half-width CNN-BLSTM-attention,
# per-speaker band standardisation with random histories and a population prior, the
# moving average of the weights (--ema 0.99, warmed up: see crates/ser-models/src/ema.rs)
# and no validation split: every actor but the test ones trains for 14 epochs and the
# last weight average is kept.
RAYON_NUM_THREADS=1 target/release/examples/train --data "$DATA" --split speaker \
    --test-speakers ravdess:17,ravdess:18,ravdess:19,ravdess:20 \
    --seed "$SEED" --cache runs/cache --out "$RUN"
target/release/examples/export_model --run "$RUN" --out "$RUN-f16" --dtype f16 --copy-split --overwrite
echo "== f32 (as trained), test actors 17-20"
target/release/examples/evaluate --run "$RUN" --data "$DATA"
echo "== f16 (as shipped), test actors 17-20"
target/release/examples/evaluate --run "$RUN-f16" --data "$DATA"
target/release/examples/export_model --run "$RUN" --out crates/ser-models/shipped --dtype f16 --overwrite
# The regression fixture of the shipped model (crates/ser-models/tests/recognizer.rs): the
# demo clips as the new model hears them, from a build that embeds it.
cargo build --release --example predict
target/release/examples/predict --json demo/03-*.flac > fixtures/golden/shipped-model/demo.jsonl
