#!/usr/bin/env bash
# Trains the model that ships in ser-models (`Recognizer::shipped`): an ensemble of the
# default recipe trained from three seeds, written to crates/ser-models/shipped/member-K/
# (config.json + f16 model.safetensors each), then measures the f32 runs and the f16
# export, alone and together, on the held-out actors. docs/model-card.md describes the
# result.
#
#   bash scripts/train-shipped-model.sh [RAVDESS_DIR] [SEEDS]     # SEEDS: "42 43 44"
#
# RAVDESS only (CC BY-NC-SA 4.0; TESS's CC BY-NC-ND 4.0 forbids derivatives such as
# weights), speaker-independent: trained on actors 01-16 (no validation split: train's
# default), tested on 17-20 (never heard). One CPU thread per run, so that each run repeats
# exactly; about 10 minutes of training on 2 cores. Replaces the committed model: review
# `git diff --stat` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/corpus/RAVDESS}
SEEDS=${2:-42 43 44}
TEST=ravdess:17,ravdess:18,ravdess:19,ravdess:20
cargo build --release --example train --example export_model --example evaluate
# train's defaults (docs/results.md, "Unseen speakers"): the half-width CNN-BLSTM-attention,
# per-speaker band standardisation with random histories and a population prior, the
# moving average of the weights (--ema 0.99, warmed up: see crates/ser-models/src/ema.rs)
# and no validation split: every actor but the test ones trains for 30 epochs and the
# last weight average is kept. The members differ only in their seed (weights, shuffling,
# augmentation); the split is the same (--test-speakers).
RUNS=() ; F16=()
for SEED in $SEEDS; do
    RUN=runs/shipped-s$SEED
    RAYON_NUM_THREADS=1 target/release/examples/train --data "$DATA" --split speaker \
        --test-speakers "$TEST" --seed "$SEED" --cache runs/cache --out "$RUN" --overwrite
    target/release/examples/export_model --run "$RUN" --out "$RUN-f16" --dtype f16 --copy-split --overwrite
    RUNS+=(--run "$RUN") ; F16+=(--run "$RUN-f16")
done
echo "== f32 (as trained), each member alone, then the ensemble; test actors 17-20"
for SEED in $SEEDS; do target/release/examples/evaluate --run "runs/shipped-s$SEED" --data "$DATA"; done
target/release/examples/evaluate "${RUNS[@]}" --data "$DATA"
echo "== f16 (as shipped), the ensemble, test actors 17-20"
target/release/examples/evaluate "${F16[@]}" --data "$DATA"
rm -rf crates/ser-models/shipped/member-*
K=1
for SEED in $SEEDS; do
    target/release/examples/export_model --run "runs/shipped-s$SEED" \
        --out "crates/ser-models/shipped/member-$K" --dtype f16
    K=$((K + 1))
done
# The regression fixture of the shipped model (crates/ser-models/tests/recognizer.rs): the
# demo clips as the new model hears them, from a build that embeds it.
cargo build --release --example predict
target/release/examples/predict --json demo/03-*.flac > fixtures/golden/shipped-model/demo.jsonl
