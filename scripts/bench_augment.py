#!/usr/bin/env python3
"""Single-threaded speed of time-stretch and pitch-shift: librosa vs audiomentations vs ser.

On the first 48000 samples (3 s) of fixtures/audio/speech_long_16k.wav (soundfile, float32),
one thread everywhere (OMP/MKL/OpenBLAS/numba = 1, set before numpy is imported), times:

* librosa 0.11        effects.time_stretch(y, rate) for rate 0.8 and 1.2, and
                      effects.pitch_shift(y, sr=16000, n_steps) for ±2 (soxr_hq)
* audiomentations     TimeStretch(min_rate=max_rate=rate, leave_length_unchanged=False, p=1.0)
                      and PitchShift(min_semitones=max_semitones=n, p=1.0), with both of its
                      backends: method="signalsmith_stretch" (its default, python-stretch) and
                      method="librosa_phase_vocoder"
* ser (ours)          `cargo bench -p ser-augment --bench augment` (criterion), read back from
                      target/criterion/augment_3s/<case>/new/estimates.json (median)

Python figures are the median of --repeats calls after one warm-up call. Results are printed
and written (atomically) between `<!-- bench_augment:begin -->` and `<!-- bench_augment:end -->`
in docs/benchmarks.md (appended if the markers are missing; --no-write to skip).

Usage, from the repository root (audiomentations and python-stretch in .venv):

    .venv/bin/python scripts/bench_augment.py
    .venv/bin/python scripts/bench_augment.py --repeats 50 --skip-cargo   # reuse criterion data
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- bench_augment:begin -->"
END = "<!-- bench_augment:end -->"
SR = 16000
CASES = [("time_stretch_0.8", "time_stretch", 0.8), ("time_stretch_1.2", "time_stretch", 1.2),
         ("pitch_shift_+2", "pitch_shift", 2), ("pitch_shift_-2", "pitch_shift", -2)]
CARGO = ["cargo", "bench", "-p", "ser-augment", "--bench", "augment"]


def median_ms(f, repeats: int) -> float:
    f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1e3)


def librosa_fn(y, op, v):
    if op == "time_stretch":
        return lambda: librosa.effects.time_stretch(y, rate=v)
    return lambda: librosa.effects.pitch_shift(y, sr=SR, n_steps=v)


def audiomentations_fn(y, op, v, method):
    import audiomentations as A
    if op == "time_stretch":
        t = A.TimeStretch(min_rate=v, max_rate=v, leave_length_unchanged=False, method=method, p=1.0)
    else:
        t = A.PitchShift(min_semitones=v, max_semitones=v, method=method, p=1.0)
    return lambda: t(samples=y, sample_rate=SR)


def ours(skip_cargo: bool) -> dict[str, float]:
    if not skip_cargo:
        subprocess.run(CARGO, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    out = {}
    for name, _, _ in CASES:
        path = os.path.join(ROOT, "target", "criterion", "augment_3s", name, "new", "estimates.json")
        with open(path) as f:
            out[name] = json.load(f)["median"]["point_estimate"] / 1e6
    return out


def write_section(text: str) -> None:
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    old = open(path).read() if os.path.exists(path) else ""
    block = f"{BEGIN}\n{text.rstrip()}\n{END}"
    if BEGIN in old and END in old:
        a, b = old.index(BEGIN), old.index(END) + len(END)
        new = old[:a] + block + old[b:]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--skip-cargo", action="store_true", help="reuse target/criterion results")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    y, sr = sf.read(os.path.join(ROOT, "fixtures", "audio", "speech_long_16k.wav"), dtype="float32")
    assert sr == SR
    y = np.ascontiguousarray(y[:48000])
    try:
        import audiomentations
        am_version = audiomentations.__version__
    except ImportError:
        am_version = None
    rows = []
    ser = ours(args.skip_cargo)
    for name, op, v in CASES:
        lib = median_ms(librosa_fn(y, op, v), args.repeats)
        am_ss = am_pv = None
        if am_version:
            am_ss = median_ms(audiomentations_fn(y, op, v, "signalsmith_stretch"), args.repeats)
            am_pv = median_ms(audiomentations_fn(y, op, v, "librosa_phase_vocoder"), args.repeats)
        rows.append((name, lib, am_ss, am_pv, ser[name]))

    def fmt(x):
        return "–" if x is None else f"{x:.2f}"

    def ratio(a, b):
        return "–" if a is None else f"{a / b:.1f}×"

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "## Augmentation: time-stretch and pitch-shift (`scripts/bench_augment.py`)",
        "",
        f"3 s of 16 kHz speech (first 48000 samples of fixtures/audio/speech_long_16k.wav), one "
        f"thread, milliseconds per call (median). CPU: {cpu}, {os.cpu_count()} logical cores "
        f"(shared with other work while measured). Python {platform.python_version()}, "
        f"librosa {librosa.__version__}, numpy {np.__version__}, audiomentations {am_version or 'absent'}; "
        "ser: criterion median, release profile, no extra rustflags (baseline x86-64).",
        "",
        "| case | librosa | audiomentations (signalsmith) | audiomentations (librosa PV) | ser | ser vs librosa | ser vs audiomentations (signalsmith) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, lib, ss, pv, s in rows:
        lines.append(f"| {name} | {fmt(lib)} | {fmt(ss)} | {fmt(pv)} | {s:.2f} | {ratio(lib, s)} | {ratio(ss, s)} |")
    lines += [
        "",
        "Command: `.venv/bin/python scripts/bench_augment.py` (runs `" + " ".join(CARGO) + "`).",
        "audiomentations' default backend is signalsmith-stretch (python-stretch), a different "
        "algorithm from librosa's phase vocoder; its `librosa_phase_vocoder` method calls librosa. "
        "ser's pitch shift resamples with rubato at a rational approximation of the ratio "
        "(see crates/ser-augment/src/stretch.rs); planned resamplers are cached per thread, so "
        "fixed shifts (as here) do not pay the planning, random fractional ones do.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    sys.exit(main())
