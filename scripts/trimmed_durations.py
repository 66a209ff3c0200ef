#!/usr/bin/env python3
"""How long RAVDESS's utterances are once silence-trimmed as `ser`'s log-mel does
(peak-normalised, librosa.effects.trim at 20 dB, frames of 2048, hop 512): whether a 3 s
crop holds the whole utterance (docs/results.md, "Unseen speakers").

Usage: python3 scripts/trimmed_durations.py ../shared/corpus/RAVDESS
(needs numpy, soundfile and librosa: `pip install numpy soundfile librosa`).
"""
import glob
import sys

import librosa
import numpy as np
import soundfile as sf


def main(root):
    files = sorted(glob.glob(f"{root}/**/*.flac", recursive=True))
    raw, trimmed = [], []
    for f in files:
        y, sr = sf.read(f, dtype="float32")
        if y.ndim > 1:
            y = y.mean(axis=1)
        y = y / max(1e-9, float(np.abs(y).max()))
        t, _ = librosa.effects.trim(y, top_db=20, frame_length=2048, hop_length=512)
        raw.append(len(y) / sr)
        trimmed.append(len(t) / sr)
    d = np.array(trimmed)
    print(
        f"{len(files)} files, {np.mean(raw):.2f} s on average as recorded; trimmed: "
        f"mean {d.mean():.2f} s, median {np.median(d):.2f}, 90th percentile "
        f"{np.percentile(d, 90):.2f}, longest {d.max():.2f}; over 3 s {100 * (d > 3).mean():.1f} %, "
        f"over 2 s {100 * (d > 2).mean():.1f} %"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/RAVDESS")
