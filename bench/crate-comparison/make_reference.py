#!/usr/bin/env python3
"""The reference for the crate comparison: librosa 0.11's log-mel of real clips.

Reads 8 RAVDESS clips from the shared corpus (16 kHz FLAC; every 150th file of
actors 01-20 in sorted order), cuts the middle 3 s (48 000 samples) of each,
and writes to ``bench/crate-comparison/data/`` (not committed):

* ``clips.npy``   float32 (8, 48000): the samples, as soundfile reads them
                  (int16 / 32768), which the Rust program reads, so that every
                  crate and librosa see the same numbers;
* ``librosa.npy`` float32 (8, 128, 94):
                  ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=16000))``
                  (n_fft 2048, hop 512, periodic Hann, centred with zeros,
                  128 Slaney mels to 8 kHz, power 2; ref 1.0, amin 1e-10, top_db 80);
* ``clips.txt``   the clips' paths.

It also prints librosa's own time per clip (median of 20 passes after one
warm-up pass), for scale.

Command (from the repository root, with the venv of fixtures/scripts/requirements.txt):
    .venv/bin/python bench/crate-comparison/make_reference.py [CORPUS_DIR]
CORPUS_DIR defaults to ../shared/corpus/RAVDESS.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

import librosa

HERE = Path(__file__).resolve().parent
SR = 16_000
N = 48_000
N_CLIPS = 8
STEP = 150


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "corpus" / "RAVDESS"
    files = sorted(corpus.glob("Actor_*/*.flac"))
    if len(files) < N_CLIPS * STEP:
        print(f"expected at least {N_CLIPS * STEP} FLAC files under {corpus}", file=sys.stderr)
        return 1
    chosen = files[::STEP][:N_CLIPS]
    clips = np.zeros((N_CLIPS, N), dtype=np.float32)
    for i, path in enumerate(chosen):
        y, sr = sf.read(path, dtype="float32")
        assert sr == SR and y.ndim == 1 and y.size >= N, path
        start = (y.size - N) // 2
        clips[i] = y[start:start + N]
    ref = np.stack([librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR))
                    for y in clips]).astype(np.float32)
    out = HERE / "data"
    out.mkdir(exist_ok=True)
    np.save(out / "clips.npy", clips, allow_pickle=False)
    np.save(out / "librosa.npy", ref, allow_pickle=False)
    (out / "clips.txt").write_text("".join(f"{p.relative_to(corpus)}\n" for p in chosen))
    print(f"librosa {librosa.__version__}: {N_CLIPS} clips, reference {ref.shape} in {out}")
    per_clip = []
    for i in range(21):
        t0 = time.perf_counter()
        for y in clips:
            librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR))
        if i > 0:
            per_clip.append((time.perf_counter() - t0) * 1e3 / N_CLIPS)
    print(f"librosa: {np.median(per_clip):.3f} ms per clip (median of 20 passes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
