#!/usr/bin/env python3
"""One markdown row per crossval run: mean ± sample sd over its folds.

Usage: python3 scripts/cv_rows.py runs/cv-baseline runs/cv-small ...
(the rows of docs/results.md's ablation table; standard library only).
"""
import json
import statistics
import sys


def pct(values):
    m = 100 * statistics.mean(values)
    s = 100 * statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{m:.1f} ± {s:.1f}"


def main(runs):
    print(
        "| run | folds | accuracy % | UA % | macro-F1 % | women % | men % "
        "| UA, one clip alone % | min per fold |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        with open(f"{run}/summary.json") as f:
            folds = json.load(f)["folds"]
        col = lambda k: [fold[k] for fold in folds]  # noqa: E731
        # An ensemble (crossval --ensemble) trained nothing of its own: no minutes.
        times = [m for m in col("train_minutes") if m is not None]
        minutes = f"{statistics.mean(times):.1f}" if times else "-"

        # Speaker-standardised models also report each test clip standardised alone;
        # for the others the UA column is already that.
        one = pct(col("ua_one_clip")) if all("ua_one_clip" in f for f in folds) else "= UA"
        print(
            f"| {run.rstrip('/').split('/')[-1]} | {len(folds)} | {pct(col('accuracy'))} "
            f"| {pct(col('ua'))} | {pct(col('macro_f1'))} | {pct(col('accuracy_women'))} "
            f"| {pct(col('accuracy_men'))} | {one} | {minutes} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
