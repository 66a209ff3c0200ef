#!/usr/bin/env python3
"""PyTorch CPU speed reference for the CNN-BLSTM-attention model (a benchmark, not a test).

Times the same full-size model as `ser-models` in PyTorch on the CPU:

    4 conv blocks, channels [32, 64, 128, 256]; each Conv2d(k 3, pad 1, bias)
      -> BatchNorm2d(eps 1e-3, momentum 0.01) -> ReLU -> MaxPool2d(2, 2) -> Dropout(0.25)
    -> [B, C, F, T'] -> permute(0, 3, 1, 2) -> [B, T', C*F]
    -> BLSTM (hidden 128 per direction) -> additive attention (128)
    -> Dropout(0.3) -> Linear(256 -> 128) + ReLU -> Linear(128 -> 7)

Training step: model.train(), forward, loss = cross-entropy + 0.01 * sum of squared
conv kernels (Keras `l2(0.01)` on the conv kernels; biases, BN and the rest
unregularised), backward, Adam(lr 1e-3; PyTorch's defaults otherwise) step.
Inference: model.eval() under torch.no_grad().  Inputs are N(0, 1) batches of shape
[batch, C, n_mels, frames] (fixed per shape, seeded) with random labels.

For each --shape (CxHxW = channels x n_mels x frames), after --warmup untimed
iterations, each of --steps training steps and then --steps inference batches is timed
on its own (time.perf_counter); the figures reported are the medians, in seconds.
`params` counts trainable parameters (BatchNorm running statistics excluded).

Usage, from the repository root:

    .venv/bin/python scripts/bench_models.py                 # both default shapes
    .venv/bin/python scripts/bench_models.py --json --threads 1 --shape 1x128x94
    # with ser beside it, same shapes and threads, in the same run:
    .venv/bin/python scripts/bench_models.py --ser target/release/examples/bench_models

With --json, only one JSON object per shape is printed (one per line), e.g.
    {"framework": "pytorch", "torch": "2.11.0", "threads": 2, "batch": 32,
     "shape": [3, 128, 128], "train_step_s": ..., "infer_batch_s": ..., "params": N, ...}
Without it, a readable line per shape is printed before each JSON object.
Requires only torch (pinned in scripts/requirements-bench.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

DEFAULT_SHAPES = ["3x128x128", "1x128x94"]


def parse_shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape must look like 3x128x128, got {text!r}")
    if min(c, h, w) < 1 or h < 16 or w < 16:
        raise argparse.ArgumentTypeError(f"shape {text!r}: need C >= 1 and H, W >= 16")
    return c, h, w


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (2)")
    p.add_argument("--batch", type=int, default=32, help="batch size (32)")
    p.add_argument("--shape", type=parse_shape, action="append",
                   help="input CxHxW (channels x n_mels x frames); repeatable; "
                        f"default {' and '.join(DEFAULT_SHAPES)}")
    p.add_argument("--conv-channels", default="32,64,128,256",
                   help="convolution channels per block (32,64,128,256; train's default "
                        "is 16,32,64,128)")
    p.add_argument("--steps", type=int, default=10, help="timed iterations (10)")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (3)")
    p.add_argument("--json", action="store_true", help="print only the JSON lines")
    p.add_argument("--ser", metavar="BIN",
                   help="also run ser's bench_models binary (target/release/examples/"
                        "bench_models) with the same shape, batch, steps and threads "
                        "(RAYON_NUM_THREADS) right after PyTorch, and print the ratios")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="after the timings, profile N training steps and N inference "
                        "batches with torch.profiler and print the ops by self CPU time")
    args = p.parse_args(argv)
    if args.shape is None:
        args.shape = [parse_shape(s) for s in DEFAULT_SHAPES]
    if args.steps < 1 or args.warmup < 0 or args.threads < 1 or args.batch < 1:
        p.error("--steps, --threads and --batch must be >= 1, --warmup >= 0")
    return args


ARGS = parse_args()
# Thread counts for the OpenMP / BLAS pools must be set before torch is imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int, dropout: float):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1, bias=True)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.pool = nn.MaxPool2d(2, 2)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.pool(F.relu(self.bn(self.conv(x)))))


class Attention(nn.Module):
    def __init__(self, dim: int, attn: int):
        super().__init__()
        self.proj = nn.Linear(dim, attn, bias=True)
        self.score = nn.Linear(attn, 1, bias=False)

    def forward(self, h):
        alpha = torch.softmax(self.score(torch.tanh(self.proj(h))).squeeze(-1), dim=1)
        return (alpha.unsqueeze(-1) * h).sum(dim=1)


class CnnBlstmAttn(nn.Module):
    def __init__(self, in_channels=1, n_mels=128, channels=(32, 64, 128, 256),
                 conv_dropout=0.25, hidden=128, attn=128, dropout=0.3, dense=128,
                 classes=7):
        super().__init__()
        blocks, cin, freq = [], in_channels, n_mels
        for c in channels:
            blocks.append(ConvBlock(cin, c, conv_dropout))
            cin, freq = c, freq // 2
        self.blocks = nn.ModuleList(blocks)
        self.blstm = nn.LSTM(cin * freq, hidden, num_layers=1, batch_first=True,
                             bidirectional=True)
        self.attn = Attention(2 * hidden, attn)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, dense)
        self.out = nn.Linear(dense, classes)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        bsz, c, f, t = x.shape
        h, _ = self.blstm(x.permute(0, 3, 1, 2).reshape(bsz, t, c * f))
        return self.out(F.relu(self.fc(self.drop(self.attn(h)))))

    def l2_penalty(self):
        return sum((b.conv.weight ** 2).sum() for b in self.blocks)


def bench_shape(shape, args) -> dict:
    c, h, w = shape
    torch.manual_seed(0)
    channels = tuple(int(v) for v in args.conv_channels.split(","))
    model = CnnBlstmAttn(in_channels=c, n_mels=h, channels=channels)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, c, h, w)
    y = torch.randint(0, 7, (args.batch,))

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y) + 0.01 * model.l2_penalty()
        loss.backward()
        opt.step()
        return loss

    def infer():
        with torch.no_grad():
            return model(x)

    def timed(fn, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return times

    model.train()
    timed(train_step, args.warmup)
    train_times = timed(train_step, args.steps)
    model.eval()
    timed(infer, args.warmup)
    infer_times = timed(infer, args.steps)
    if args.profile:
        profile(train_step, infer, model, args)
    return {
        "framework": "pytorch",
        "torch": torch.__version__.split("+")[0],
        "threads": args.threads,
        "batch": args.batch,
        "shape": [c, h, w],
        "train_step_s": round(statistics.median(train_times), 6),
        "infer_batch_s": round(statistics.median(infer_times), 6),
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "steps": args.steps,
        "warmup": args.warmup,
        "train_step_min_s": round(min(train_times), 6),
        "infer_batch_min_s": round(min(infer_times), 6),
        "cpu": platform.processor() or platform.machine(),
    }


def profile(train_step, infer, model, args) -> None:
    """Prints torch.profiler's per-op table (self CPU time) for training and inference."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for name, fn, mode in (("train step", train_step, model.train),
                           ("inference batch", infer, model.eval)):
        mode()
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.profile):
                fn()
        print(f"== torch.profiler: {args.profile} x {name}, {args.threads} thread(s)",
              file=sys.stderr)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25),
              file=sys.stderr)


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    torch.set_num_interop_threads(1)
    for shape in ARGS.shape:
        r = bench_shape(shape, ARGS)
        if not ARGS.json:
            print(f"pytorch {r['torch']}  {'x'.join(map(str, r['shape']))}  "
                  f"batch {r['batch']}  threads {r['threads']}: "
                  f"train step {r['train_step_s']:.3f} s, "
                  f"inference {r['infer_batch_s']:.3f} s/batch "
                  f"(median of {r['steps']}), {r['params']} params", file=sys.stderr)
        print(json.dumps(r), flush=True)
        if ARGS.ser:
            shape_s = "x".join(map(str, r["shape"]))
            cmd = [ARGS.ser, "--json", "--shape", shape_s, "--conv-channels", ARGS.conv_channels,
                   "--batch", str(ARGS.batch),
                   "--steps", str(ARGS.steps), "--warmup", str(ARGS.warmup)]
            env = dict(os.environ, RAYON_NUM_THREADS=str(ARGS.threads))
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            ours = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(ours), flush=True)
            ratio = {
                "shape": r["shape"],
                "train_step_ratio_pytorch_over_ser": round(r["train_step_s"] / ours["train_step_s"], 3),
                "infer_ratio_pytorch_over_ser": round(r["infer_batch_s"] / ours["infer_batch_s"], 3),
            }
            print(json.dumps(ratio), flush=True)


if __name__ == "__main__":
    main()
