#!/usr/bin/env python3
"""Accuracy and UA of `predict --json` output on RAVDESS files, the true emotion read
from each file name (the third field; calm, 02, is not one of the seven classes).

Usage: predict --json FILES... | python3 scripts/timeline_accuracy.py
(standard library only; the model card's "timeline" column).
"""
import json
import sys

RAVDESS = {"01": "neutral", "03": "happy", "04": "sad", "05": "angry",
           "06": "fearful", "07": "disgust", "08": "surprise"}


def main():
    hits, per_class = 0, {}
    n = 0
    for line in sys.stdin:
        row = json.loads(line)
        true = RAVDESS[row["file"].rsplit("/", 1)[-1].split("-")[2]]
        ok = row["emotion"] == true
        hits += ok
        n += 1
        c = per_class.setdefault(true, [0, 0])
        c[0] += ok
        c[1] += 1
    ua = sum(h / t for h, t in per_class.values()) / len(per_class)
    print(f"{n} files: accuracy {100 * hits / n:.1f} %, UA {100 * ua:.1f} %")
    for e, (h, t) in sorted(per_class.items()):
        print(f"  {e:9} {h:3}/{t}")


if __name__ == "__main__":
    main()
