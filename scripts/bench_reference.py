#!/usr/bin/env python3
"""Single-threaded speed of the log-mel feature pipeline: librosa vs torchaudio vs ser.

Times, on the same audio files and on one CPU thread each:

* librosa 0.11   decode (soundfile) -> mono -> peak normalise -> effects.trim(top_db=20)
                 -> resample to 16 kHz (soxr_hq; skipped for 16 kHz input) -> pad/crop to
                 3 s -> melspectrogram(n_fft 2048, hop 512, n_mels 128, fmax 8000)
                 -> power_to_db(ref=max, top_db=80)
* torchaudio     the same with torch ops: soundfile decode, torch normalise, a torch port
                 of librosa's RMS trim, torchaudio.functional.resample, F.pad,
                 transforms.MelSpectrogram(slaney) + AmplitudeToDB(top_db=80) - 10 log10(max)
* ser (ours)     `cargo run --release -q --example bench_features -- --json FILES...`,
                 which prints one JSON object (see RUST_JSON below); skipped with a
                 warning when the example does not exist yet or fails.

Each file is run once as warm-up, then `--repeats` times; the figure reported for a
stage is the mean over files of the per-file median over repeats ("median-of-repeats,
mean per file"), in milliseconds. Stage timings come from a separate, instrumented run
of the same steps; `pipeline` is the un-instrumented end-to-end time.  The `logmel`
stage is melspectrogram + power_to_db on the 3 s, 16 kHz clip.

Default input: a fixed, evenly spaced sample of 100 RAVDESS FLAC files (16 kHz mono,
~3.5 s) from ../shared/corpus/RAVDESS (relative to the repository root), sorted by
path.  `--also-48k` also writes 48 kHz 16-bit WAV copies of them (soxr VHQ) to a
temporary folder and times that set too, so the resampling path is measured.

Results: printed as tables, and written (atomically) between the markers
`<!-- bench_reference:begin -->` / `<!-- bench_reference:end -->` in
docs/benchmarks.md (created if missing; `--no-write` to skip).

Usage, from the repository root:

    python3 scripts/bench_reference.py                       # 100 RAVDESS files
    python3 scripts/bench_reference.py --also-48k
    python3 scripts/bench_reference.py --files 'fixtures/audio/*.wav' --repeats 3

torchaudio must match the installed torch (torchaudio 2.11.0 needs torch 2.11.0).
If the system Python's pair is mismatched, use a venv, e.g.
    python3 -m venv --system-site-packages .venv && .venv/bin/pip install torch==2.11.0
    .venv/bin/python scripts/bench_reference.py
Without a working torchaudio the torchaudio column is left empty.
"""

from __future__ import annotations

import os

# One thread everywhere: must be set before numpy / torch are imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

import librosa  # noqa: E402

try:
    import torch  # noqa: E402
    import torchaudio  # noqa: E402

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    TORCH_ERROR = None
except Exception as e:  # noqa: BLE001 - any import failure just disables the column
    torch = None
    torchaudio = None
    TORCH_ERROR = f"{type(e).__name__}: {e}".splitlines()[0]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpus" / "RAVDESS"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench_reference:begin -->"
END = "<!-- bench_reference:end -->"

SR = 16000
TARGET_LEN = 3 * SR
N_FFT, HOP, N_MELS, FMAX = 2048, 512, 128, 8000.0
TOP_DB_TRIM, TOP_DB = 20.0, 80.0

STAGES = ["decode", "normalize", "trim", "resample", "pad", "stft", "mel", "db", "logmel",
          "pipeline"]
STAGE_DOC = {
    "decode": "read file (soundfile / ser-audio-io) + downmix to mono, float32",
    "normalize": "divide by peak |y|",
    "trim": "RMS trim, top_db 20, frame 2048, hop 512",
    "resample": "to 16 kHz (0 when the input is already 16 kHz)",
    "pad": "symmetric zero pad / crop to 48000 samples",
    "stft": "|STFT|^2, n_fft 2048, hop 512, hann, centred",
    "mel": "128-band slaney mel projection (librosa builds the filterbank per call)",
    "db": "power_to_db(ref=max, top_db=80)",
    "logmel": "melspectrogram + power_to_db on the 3 s 16 kHz clip",
    "pipeline": "whole pipeline, end to end, not instrumented",
}
# What the Rust example prints (one JSON object on stdout):
RUST_JSON = {"files": "N", "repeats": "R", "threads": 1,
             "per_file_ms": {s: "x" for s in STAGES},
             "batch": {"threads": "T", "files_per_s": "x"}}


def now_ns() -> int:
    return time.perf_counter_ns()


def pad_or_crop_np(y: np.ndarray, n: int) -> np.ndarray:
    m = y.shape[-1]
    if m < n:
        left = (n - m) // 2
        return np.pad(y, (left, n - m - left))
    return y[:n]


# ---------------------------------------------------------------------------
# librosa
# ---------------------------------------------------------------------------

def lr_decode(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    y = x.T
    y = librosa.to_mono(y) if y.shape[0] > 1 else y[0]
    return np.ascontiguousarray(y), sr


def lr_normalize(y):
    peak = np.max(np.abs(y))
    return y / peak if peak > 0 else y


def lr_trim(y):
    return librosa.effects.trim(y, top_db=TOP_DB_TRIM)[0]


def lr_resample(y, sr):
    if sr == SR:
        return y
    return librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq")


def lr_logmel(y):
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP,
                                       n_mels=N_MELS, fmax=FMAX)
    return librosa.power_to_db(S, ref=np.max, top_db=TOP_DB)


def lr_pipeline(path):
    y, sr = lr_decode(path)
    y = lr_normalize(y)
    y = lr_trim(y)
    y = lr_resample(y, sr)
    y = pad_or_crop_np(y, TARGET_LEN)
    return lr_logmel(y)


def lr_stages(path) -> dict:
    t = {}
    t0 = now_ns(); y, sr = lr_decode(path); t["decode"] = now_ns() - t0
    t0 = now_ns(); y = lr_normalize(y); t["normalize"] = now_ns() - t0
    t0 = now_ns(); y = lr_trim(y); t["trim"] = now_ns() - t0
    t0 = now_ns(); y = lr_resample(y, sr); t["resample"] = now_ns() - t0
    t0 = now_ns(); y = pad_or_crop_np(y, TARGET_LEN); t["pad"] = now_ns() - t0
    t0 = now_ns()
    P = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
    t["stft"] = now_ns() - t0
    t0 = now_ns()
    M = librosa.feature.melspectrogram(S=P, sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmax=FMAX)
    t["mel"] = now_ns() - t0
    t0 = now_ns(); D = librosa.power_to_db(M, ref=np.max, top_db=TOP_DB); t["db"] = now_ns() - t0
    t0 = now_ns(); D2 = lr_logmel(y); t["logmel"] = now_ns() - t0
    assert D.shape == D2.shape == (N_MELS, TARGET_LEN // HOP + 1)
    return t


# ---------------------------------------------------------------------------
# torchaudio
# ---------------------------------------------------------------------------

class Torch:
    def __init__(self) -> None:
        T = torchaudio.transforms
        self.melspec = T.MelSpectrogram(
            sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, f_max=FMAX,
            norm="slaney", mel_scale="slaney", power=2.0, center=True, pad_mode="constant")
        self.todb = T.AmplitudeToDB("power", top_db=TOP_DB)  # amin 1e-10, ref 1.0
        self.amin = 1e-10

    @staticmethod
    def decode(path):
        x, sr = sf.read(path, dtype="float32", always_2d=True)
        y = torch.from_numpy(x.T.copy())
        y = y.mean(dim=0) if y.shape[0] > 1 else y[0]
        return y, sr

    @staticmethod
    def normalize(y):
        peak = y.abs().max()
        return y / peak if peak > 0 else y

    @staticmethod
    def trim_index(y, top_db=TOP_DB_TRIM, frame_length=2048, hop_length=512):
        """Port of librosa.effects.trim (rms, center=True, zero padding, ref=max)."""
        half = frame_length // 2
        yp = torch.nn.functional.pad(y, (half, half))
        frames = yp.unfold(0, frame_length, hop_length)  # (n_frames, frame_length)
        power = frames.square().mean(dim=-1)              # rms**2
        amin = 1e-10                                      # (1e-5)**2
        db = 10.0 * torch.log10(power.clamp(min=amin))
        db = db - 10.0 * torch.log10(power.max().clamp(min=amin))
        nz = torch.nonzero(db > -top_db).flatten()
        if nz.numel() == 0:
            return 0, 0
        start = int(nz[0]) * hop_length
        end = min(y.shape[-1], (int(nz[-1]) + 1) * hop_length)
        return start, end

    def trim(self, y):
        s, e = self.trim_index(y)
        return y[s:e]

    @staticmethod
    def resample(y, sr):
        if sr == SR:
            return y
        return torchaudio.functional.resample(y, sr, SR)

    @staticmethod
    def pad(y):
        m = y.shape[-1]
        if m < TARGET_LEN:
            left = (TARGET_LEN - m) // 2
            return torch.nn.functional.pad(y, (left, TARGET_LEN - m - left))
        return y[:TARGET_LEN]

    def db(self, M):
        D = self.todb(M)
        return D - 10.0 * torch.log10(M.max().clamp(min=self.amin))

    def logmel(self, y):
        return self.db(self.melspec(y))

    def pipeline(self, path):
        with torch.inference_mode():
            y, sr = self.decode(path)
            y = self.normalize(y)
            y = self.trim(y)
            y = self.resample(y, sr)
            y = self.pad(y)
            return self.logmel(y)

    def stages(self, path) -> dict:
        t = {}
        with torch.inference_mode():
            t0 = now_ns(); y, sr = self.decode(path); t["decode"] = now_ns() - t0
            t0 = now_ns(); y = self.normalize(y); t["normalize"] = now_ns() - t0
            t0 = now_ns(); y = self.trim(y); t["trim"] = now_ns() - t0
            t0 = now_ns(); y = self.resample(y, sr); t["resample"] = now_ns() - t0
            t0 = now_ns(); y = self.pad(y); t["pad"] = now_ns() - t0
            t0 = now_ns(); P = self.melspec.spectrogram(y); t["stft"] = now_ns() - t0
            t0 = now_ns(); M = self.melspec.mel_scale(P); t["mel"] = now_ns() - t0
            t0 = now_ns(); D = self.db(M); t["db"] = now_ns() - t0
            t0 = now_ns(); D2 = self.logmel(y); t["logmel"] = now_ns() - t0
        assert tuple(D.shape) == tuple(D2.shape) == (N_MELS, TARGET_LEN // HOP + 1)
        return t


# ---------------------------------------------------------------------------
# timing harness
# ---------------------------------------------------------------------------

def time_impl(files, pipeline_fn, stages_fn, repeats: int, label: str) -> dict:
    """Per stage: mean over files of the median over repeats (ms)."""
    per_stage = {s: [] for s in STAGES}
    for f in files[:5]:  # global warm-up: lazy imports, caches, CPU clocks
        for _ in range(3):
            pipeline_fn(f)
            stages_fn(f)
    t_start = time.perf_counter()
    for i, f in enumerate(files):
        pipeline_fn(f)  # warm-up (also warms the page cache)
        stages_fn(f)
        runs = []
        for _ in range(repeats):
            t0 = now_ns(); pipeline_fn(f); runs.append(now_ns() - t0)
        per_stage["pipeline"].append(np.median(runs))
        st = [stages_fn(f) for _ in range(repeats)]
        for s in STAGES[:-1]:
            per_stage[s].append(np.median([r[s] for r in st]))
        if (i + 1) % 25 == 0 or i + 1 == len(files):
            print(f"  {label}: {i + 1}/{len(files)} files "
                  f"({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)
    return {s: float(np.mean(v)) / 1e6 for s, v in per_stage.items()}


def run_rust(files, timeout: int) -> tuple[dict | None, str | None]:
    cmd = ["cargo", "run", "--release", "-q", "--example", "bench_features", "--",
           "--json", *map(str, files)]
    try:
        build = subprocess.run(["cargo", "build", "--release", "-q", "--example",
                                "bench_features"], cwd=ROOT, capture_output=True,
                               text=True, timeout=timeout)
        if build.returncode != 0:
            return None, "cargo build of example bench_features failed: " + \
                (build.stderr.strip().splitlines() or ["?"])[-1]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{type(e).__name__}: {e}"
    if p.returncode != 0:
        return None, f"bench_features exited {p.returncode}: " + \
            (p.stderr.strip().splitlines() or ["?"])[-1]
    for line in reversed(p.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line), None
            except json.JSONDecodeError:
                break
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError as e:
        return None, f"could not parse bench_features output as JSON: {e}"


def check_agreement(files, tch: Torch | None) -> dict:
    """Sanity: trim indices of the torch port vs librosa, and log-mel differences."""
    out = {"files": len(files), "trim_equal": 0, "max_abs_db_diff": 0.0}
    if tch is None:
        return out
    for f in files:
        y, sr = lr_decode(f)
        y = lr_normalize(y)
        _, idx = librosa.effects.trim(y, top_db=TOP_DB_TRIM)
        with torch.inference_mode():
            ti = Torch.trim_index(torch.from_numpy(y))
        out["trim_equal"] += int((int(idx[0]), int(idx[1])) == ti)
        a = lr_pipeline(f)
        b = tch.pipeline(f).numpy()
        out["max_abs_db_diff"] = max(out["max_abs_db_diff"], float(np.abs(a - b).max()))
    return out


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(cmd) -> str | None:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return p.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def versions() -> dict:
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scipy": scipy.__version__, "librosa": librosa.__version__,
         "soxr": soxr.__version__, "soundfile": sf.__version__,
         "libsndfile": sf.__libsndfile_version__}
    if torch is not None:
        v["torch"] = torch.__version__
        v["torchaudio"] = torchaudio.__version__
    rv = tool_version(["rustc", "--version"])
    if rv:
        v["rustc"] = rv.removeprefix("rustc ")
    return v


def fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def ratio(a, b) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.1f}×"


def table(set_res: dict) -> str:
    lr, ta = set_res["librosa"], set_res.get("torchaudio")
    ser = (set_res.get("ser") or {}).get("per_file_ms") or {}
    rows = ["| stage | librosa ms | torchaudio ms | ser ms | librosa / ser | torchaudio / ser |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in STAGES:
        a = lr.get(s)
        b = ta.get(s) if ta else None
        c = ser.get(s)
        rows.append(f"| {s} | {fmt(a)} | {fmt(b)} | {fmt(c)} | {ratio(a, c)} | {ratio(b, c)} |")
    return "\n".join(rows)


def batch_lines(set_res: dict) -> list[str]:
    lines = []
    lr, ta = set_res["librosa"], set_res.get("torchaudio")
    lines.append(f"- librosa, 1 thread: {1000 / lr['pipeline']:.1f} files/s")
    if ta:
        lines.append(f"- torchaudio, 1 thread: {1000 / ta['pipeline']:.1f} files/s")
    ser = set_res.get("ser")
    if ser:
        pf = (ser.get("per_file_ms") or {}).get("pipeline")
        if pf:
            lines.append(f"- ser, 1 thread: {1000 / pf:.1f} files/s")
        b = ser.get("batch") or {}
        if b.get("files_per_s"):
            lines.append(f"- ser, batch on {b.get('threads')} threads: "
                         f"{b['files_per_s']:.1f} files/s")
    return lines


def render(results: dict) -> str:
    m = results["machine"]
    out = [BEGIN, "## Reference implementations (librosa, torchaudio) vs ser", "",
           f"Generated by `scripts/bench_reference.py` on {results['date']}.", "",
           f"- Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs "
           f"({m['usable_cpus']} usable by this process), {m['os']}; 1-min load average "
           f"{results['loadavg_before']} before / {results['loadavg_after']} after the run "
           "(the benchmark itself adds ~1; more means other work competed for the CPUs)",
           "- Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
           f"- Command: `{results['command']}`",
           f"- Timing: single thread (OMP/MKL/OpenBLAS/Numba = 1, torch.set_num_threads(1)); "
           f"1 warm-up + {results['repeats']} repeats per file; figures are the mean over "
           "files of the per-file median, in ms per file.", ""]
    for name, set_res in results["sets"].items():
        out += [f"### {name}", "", set_res["description"], "", table(set_res), ""]
        if set_res.get("ser_error"):
            out += [f"ser column missing: {set_res['ser_error']}", ""]
        if set_res.get("torch_error"):
            out += [f"torchaudio column missing: {set_res['torch_error']}", ""]
        out += ["Throughput:", "", *batch_lines(set_res), ""]
        ag = set_res.get("agreement")
        if ag and ag.get("files"):
            out += [f"Agreement check ({ag['files']} files): torch trim port gives librosa's "
                    f"trim interval on {ag['trim_equal']}/{ag['files']}; max |librosa - "
                    f"torchaudio| log-mel difference {ag['max_abs_db_diff']:.3g} dB "
                    "(resampler differences included).", ""]
    out += ["Stages:", ""] + [f"- `{s}`: {d}" for s, d in STAGE_DOC.items()] + ["", END]
    return "\n".join(out)


def write_doc(section: str, path: Path) -> None:
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            pre, rest = text.split(BEGIN, 1)
            _, post = rest.split(END, 1)
            text = pre + section + post
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = "# Benchmarks\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------

def default_files(n: int) -> list[Path]:
    allf = sorted(DEFAULT_CORPUS.resolve().glob("**/*.flac"))
    if not allf:
        sys.exit(f"no FLAC files under {DEFAULT_CORPUS}; use --files GLOB")
    if n >= len(allf):
        return allf
    return [allf[i * len(allf) // n] for i in range(n)]  # evenly spaced, deterministic


def make_48k_copies(files, outdir: Path) -> list[Path]:
    out = []
    for i, f in enumerate(files):
        x, sr = sf.read(f, dtype="float64", always_2d=True)
        y = soxr.resample(x, sr, 48000, quality="VHQ")
        p = outdir / f"{i:04d}_{Path(f).stem}.wav"
        sf.write(p, np.clip(y, -1.0, 32767 / 32768), 48000, subtype="PCM_16")
        out.append(p)
    return out


def bench_set(name, description, files, args, tch) -> dict:
    print(f"== {name}: {len(files)} files", file=sys.stderr)
    res = {"description": description, "n_files": len(files)}
    res["librosa"] = time_impl(files, lr_pipeline, lr_stages, args.repeats, "librosa")
    if tch is not None:
        res["torchaudio"] = time_impl(files, tch.pipeline, tch.stages, args.repeats,
                                      "torchaudio")
        res["agreement"] = check_agreement(files[: args.check_files], tch)
    else:
        res["torch_error"] = TORCH_ERROR
    if args.no_ser:
        res["ser_error"] = "skipped (--no-ser)"
    else:
        ser, err = run_rust(files, args.rust_timeout)
        res["ser"], res["ser_error"] = ser, err
        if err:
            print(f"  ser: {err}", file=sys.stderr)
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", help="glob of input files (relative to the cwd); "
                    "default: 100 RAVDESS FLACs from ../shared/corpus/RAVDESS")
    ap.add_argument("-n", "--n-files", type=int, default=100,
                    help="how many files to sample (default 100)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per file (5)")
    ap.add_argument("--also-48k", action="store_true",
                    help="also time 48 kHz WAV copies (resampling path)")
    ap.add_argument("--no-ser", action="store_true", help="do not run the Rust example")
    ap.add_argument("--no-torch", action="store_true", help="skip torchaudio")
    ap.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    ap.add_argument("--doc", type=Path, default=DOC, help="markdown file to update")
    ap.add_argument("--json-out", type=Path, help="also write the raw results as JSON")
    ap.add_argument("--check-files", type=int, default=20,
                    help="files used for the librosa/torch agreement check (20)")
    ap.add_argument("--rust-timeout", type=int, default=3600)
    args = ap.parse_args()

    warnings.filterwarnings("ignore", category=UserWarning)
    if args.files:
        files = sorted(Path(p).resolve() for p in glob.glob(args.files, recursive=True))
        if not files:
            sys.exit(f"--files {args.files!r} matched nothing")
        files = files[: args.n_files] if args.n_files < len(files) else files
        source = f"{len(files)} files matching `{args.files}`"
    else:
        files = default_files(args.n_files)
        source = (f"{len(files)} RAVDESS FLAC files (16 kHz mono 16-bit), an evenly spaced "
                  "sample of the sorted list in ../shared/corpus/RAVDESS")
    durs = [sf.info(f).duration for f in files]
    rates = sorted({sf.info(f).samplerate for f in files})
    source += f"; mean duration {np.mean(durs):.2f} s, rate(s) {', '.join(map(str, rates))} Hz."

    tch = None if (args.no_torch or torch is None) else Torch()
    if args.no_torch:
        global TORCH_ERROR
        TORCH_ERROR = "skipped (--no-torch)"

    exe = Path(sys.executable)
    py = os.path.relpath(exe, ROOT) if ROOT in exe.parents else "python3"
    cmd = py + " " + " ".join(shlex.quote(a) for a in
                                [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    results = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
                    "usable_cpus": len(os.sched_getaffinity(0)),
                    "os": f"{platform.system()} {platform.release()}"},
        "versions": versions(), "command": cmd, "repeats": args.repeats, "sets": {},
        "loadavg_before": round(os.getloadavg()[0], 2),
    }
    results["sets"]["Native rate"] = bench_set("Native rate", source, files, args, tch)
    if args.also_48k:
        with tempfile.TemporaryDirectory(prefix="bench48k_") as td:
            f48 = make_48k_copies(files, Path(td))
            results["sets"]["48 kHz copies (resampling path)"] = bench_set(
                "48 kHz copies", f"The same {len(files)} files converted to 48 kHz 16-bit WAV "
                "with soxr VHQ before timing, so every pipeline resamples 48 kHz → 16 kHz.",
                f48, args, tch)

    results["loadavg_after"] = round(os.getloadavg()[0], 2)
    for name, r in results["sets"].items():
        print(f"\n{name}\n{table(r)}")
        print("\n".join(batch_lines(r)))
        if r.get("agreement", {}).get("files"):
            print("agreement:", r["agreement"])
    section = render(results)
    if not args.no_write:
        write_doc(section, args.doc)
        print(f"\nupdated {os.path.relpath(args.doc, Path.cwd())}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
