#!/usr/bin/env python3
"""Timings that name their machine: ours beside PyTorch's, measured in one invocation.

Prints the CPU (``lscpu``'s model name and ``/proc/cpuinfo``'s model number), its subnormal
penalty (numpy: a multiply over 133k f32 values, subnormal against normal), then for each
workload our time (one ``runner run`` process: training plus the measure) and PyTorch's
training loop on the same recipe (2 threads), and the ratio PyTorch / ours (>= 1: we are as
fast or faster):

- demo: MNIST 0 vs 1 (500 + 500 images of the embedded subset, drawn as the runner draws them),
  MLP 784-128x3-1 without hidden bias, Adam 1e-3, batch 64, 100 epochs;
- the slowest cells of sweep-depth: depth 8, shuffled labels, seed 0, each optimizer, trained
  until the stop rule (100% training accuracy and loss < 0.01) or 1000 epochs. The two sides
  draw different initial weights and batch orders, so their epoch counts differ: the table
  also gives ms per epoch and compares those;
- deep-cnn's 6-block CNN (the model of experiments/deep-cnn.toml; 3000 images, Adam, 8 epochs);
  PyTorch's side is scripts/conv-bench.py's loop.

Dev-only: PyTorch comes from the Python registry, never from the build or CI.

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    cargo build --release -p runner
    .venv/bin/python scripts/timings.py [--repeat 3] [--only demo]
"""

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import parity  # noqa: E402  (the runner's task draw and the PyTorch MLP, shared)
import importlib  # noqa: E402

conv_bench = importlib.import_module("conv-bench")


def cpu():
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = re.search(r"^Model name:\s*(.+)$", out, re.M)
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if re.match(r"^model\s*:", line):
                model = line.split(":", 1)[1].strip()
                break
    return (name.group(1).strip() if name else "unknown"), model, os.cpu_count()


def subnormal_penalty():
    """ns per element of a multiply over 133k f32 values: normal, subnormal."""
    n = 133_000

    def ns(value):
        a = np.full(n, value, dtype=np.float32)
        out = np.empty_like(a)
        best = float("inf")
        for _ in range(7):
            t = time.perf_counter()
            for _ in range(50):
                np.multiply(a, np.float32(0.9), out=out)
            best = min(best, (time.perf_counter() - t) / 50 / n * 1e9)
        return best

    return ns(1e-3), ns(1e-39)


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def embedded_task(classes=(0, 1), per_class=500, draw_seed=0):
    """The demo's images from the embedded subset (assets/mnist-subset), as `Task::draw`."""
    d = os.path.join(ROOT, "assets", "mnist-subset")
    images = read_idx_gz(os.path.join(d, "train-images-idx3-ubyte.gz"))
    labels = read_idx_gz(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    rng = parity.SplitMix64.derive(draw_seed, "draw")
    chosen = []
    for label, c in enumerate(classes):
        idx = [i for i in range(len(labels)) if labels[i] == c]
        rng.shuffle(idx)
        chosen += [(i, label) for i in sorted(idx[:per_class])]
    chosen.sort()
    rows = np.array([i for i, _ in chosen])
    x = images[rows].reshape(len(rows), -1).astype(np.float32) * np.float32(2.0 / 255.0) - 1.0
    return x, np.array([l for _, l in chosen], dtype=np.int64)


def shuffled(y, seed):
    out = list(y)
    parity.SplitMix64.derive(seed, "random-labels").shuffle(out)
    return np.array(out, dtype=np.int64)


def torch_mlp(x, y, make_opt, depth, epochs, stop, seed=0):
    """PyTorch's training loop alone: (seconds, epochs)."""
    torch.manual_seed(seed)
    net = parity.mlp(depth)
    opt = make_opt(net.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).float()
    n = len(y)
    g = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    done = 0
    for epoch in range(1, epochs + 1):
        loss_sum, correct = 0.0, 0
        for idx in torch.randperm(n, generator=g).split(64):
            z = net(xt[idx]).squeeze(1)
            loss = loss_fn(z, yt[idx])
            loss_sum += loss.item() * len(idx)
            correct += int(((z > 0).float() == yt[idx]).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
        done = epoch
        if stop and correct / n >= stop[0] and loss_sum / n < stop[1]:
            break
    return time.perf_counter() - start, done


def experiment_file(source, sweep, tmp, name):
    """`source`'s text with its [sweep] table replaced by `sweep` (TOML lines)."""
    text = open(os.path.join(ROOT, source)).read()
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(text[: text.index("[sweep]")] + "[sweep]\n" + sweep + "\n")
    return path


def ours(runner, path, tmp, tag):
    """Wall seconds of one `runner run` process (from a folder without data/: the embedded
    subset, as on a fresh clone), and the epochs it trained (summed over its runs)."""
    out = os.path.join(tmp, f"out-{tag}-{time.monotonic_ns()}")
    start = time.perf_counter()
    subprocess.run([runner, "run", path, "--out", out], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    epochs = 0
    for dirpath, _, files in os.walk(out):
        if "result.json" in files:
            epochs += json.load(open(os.path.join(dirpath, "result.json")))["epochs"]
    return seconds, epochs


OPTIMIZERS = {
    "sgd": ('{ name = "sgd", lr = 0.01, momentum = 0.9 }',
            lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
    "adam": ('{ name = "adam", lr = 1e-3 }', lambda p: torch.optim.Adam(p, lr=1e-3)),
    "rmsprop": ('{ name = "rmsprop", lr = 1e-4 }', lambda p: torch.optim.RMSprop(p, lr=1e-4)),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runner", default=os.path.join(ROOT, "target", "release", "runner"))
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's threads")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of demo and deep-cnn")
    ap.add_argument("--only", help="only the workloads whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    name, model, cores = cpu()
    normal, sub = subnormal_penalty()
    print(f"CPU: {name} (model {model}), {cores} cores; torch {torch.__version__}, "
          f"{args.threads} threads")
    print(f"subnormal penalty (numpy multiply, 133k f32): normal {normal:.3f} ns/element, "
          f"subnormal {sub:.3f} ns/element, {sub / normal:.1f}x")
    print()
    print("| workload | ours (one runner process) | PyTorch (training loop) | PyTorch / ours |")
    print("|---|---|---|---|")
    want = lambda w: not args.only or args.only in w  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        if want("demo"):
            x, y = embedded_task()
            path = os.path.join(ROOT, "experiments", "demo.toml")
            o, t = [], []
            for _ in range(args.repeat):  # alternating, so drifts in the machine hit both
                o.append(ours(args.runner, path, tmp, "demo")[0])
                t.append(torch_mlp(x, y, OPTIMIZERS["adam"][1], 3, 100, None)[0])
            mo, mt = statistics.median(o), statistics.median(t)
            print(f"| demo, 100 epochs (median of {args.repeat}) | {mo:.2f} s | {mt:.2f} s "
                  f"| {mt / mo:.2f} |", flush=True)
        for opt, (toml, make) in OPTIMIZERS.items():
            w = f"sweep-depth depth 8 random {opt}"
            if not want(w):
                continue
            x, y = embedded_task()
            path = experiment_file("experiments/sweep-depth.toml",
                                   f'model.depth = [8]\noptimizer = [{toml}]\n'
                                   f'labels = ["random"]\nseed = [0]', tmp, opt)
            so, eo = ours(args.runner, path, tmp, opt)
            st, et = torch_mlp(x, shuffled(y, 0), make, 8, 1000, (1.0, 0.01))
            print(f"| {w}, seed 0 | {so:.1f} s ({eo} epochs, {so / eo * 1e3:.1f} ms/epoch) "
                  f"| {st:.1f} s ({et} epochs, {st / et * 1e3:.1f} ms/epoch) "
                  f"| {st / so:.2f} (per epoch {(st / et) / (so / eo):.2f}) |", flush=True)
        if want("deep-cnn"):
            spec = tomllib.load(open(os.path.join(ROOT, "experiments", "deep-cnn.toml"), "rb"))
            deep = max(spec["sweep"]["model"], key=lambda m: m["depth"])
            inline = ", ".join(f"{k} = {json.dumps(v)}" for k, v in deep.items())
            path = experiment_file("experiments/deep-cnn.toml",
                                   f"model = [{{ {inline} }}]\nseed = [0]", tmp, "deep-cnn")
            o, t = [], []
            for _ in range(args.repeat):
                o.append(ours(args.runner, path, tmp, "deep-cnn")[0])
                t.append(conv_bench.train_deep_cnn())
            mo, mt = statistics.median(o), statistics.median(t)
            print(f"| deep-cnn 6-block CNN, 8 epochs (median of {args.repeat}) | {mo:.1f} s "
                  f"| {mt:.1f} s | {mt / mo:.2f} |", flush=True)


if __name__ == "__main__":
    main()
