#!/usr/bin/env python3
"""Parity with PyTorch: the paper's recipes run in PyTorch and through `runner`, side by side.

For each check (the demo with Adam; depth-3 MLPs of sweep-depth with SGD + momentum and with
RMSProp), both sides train the same architecture on the same images over several seeds and
measure every layer's alignment (auc) on the training set. The script prints, per layer, the
mean and standard deviation over seeds on each side, their difference and its standard error,
and writes the same table as markdown (``--markdown FILE``) for the README.

What is shared: the task (the same MNIST images, drawn here with the runner's SplitMix64 draw,
scaled as the runner scales them), the architecture (784 -> 128 x depth -> 1, ReLU, no hidden
bias), PyTorch's default initialisation (``nn.Linear``: U(+-1/sqrt(fan_in)) for weights and
biases), the loss (BCE with logits), the optimizer and its settings, batch 64 reshuffled every
epoch, the epoch budget and stop rule, and the measure (written here in numpy, f64). What is
not: the random streams (initial weights and batch order), so the comparison is between
distributions over seeds. The input layer's auc depends only on the images and the measure,
so it must agree to ~1e-9: the script checks that first (same draw, same measure).

Dev-only (never a build, runtime or CI dependency). Install and run:

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    bash scripts/fetch-data.sh data
    cargo build --release -p runner
    .venv/bin/python scripts/parity.py --data data        # 20 seeds per side, ~2 minutes
    .venv/bin/python scripts/parity.py --data DIR --dataset cifar10   # the authors' CIFAR-10 demo

Threads: PyTorch uses ``--threads`` (default 2); the runner trains ``--jobs`` runs in parallel.
"""

import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

MASK = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# The runner's task draw (crates/data/src/rng.rs and task.rs), so both sides see the same images.


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    @staticmethod
    def derive(seed, purpose):
        h = 0xCBF29CE484222325
        for b in purpose.encode():
            h = ((h ^ b) * 0x100000001B3) & MASK
        return SplitMix64(seed ^ h)

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        zone = MASK - (MASK % n)
        while True:
            v = self.next_u64()
            if v < zone:
                return v % n

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_cifar10_train(data_dir):
    """The 50,000 training images (n x 3072, channel planes R, G, B) and labels of CIFAR-10's
    binary version (DATA/cifar-10-batches-bin/data_batch_1.bin .. 5), as the runner reads them."""
    records = []
    for i in range(1, 6):
        path = os.path.join(data_dir, "cifar-10-batches-bin", f"data_batch_{i}.bin")
        with open(path, "rb") as f:
            records.append(np.frombuffer(f.read(), dtype=np.uint8).reshape(-1, 3073))
    r = np.concatenate(records)
    return r[:, 1:], r[:, 0]


def draw_task(data_dir, classes, per_class, draw_seed, dataset="mnist"):
    """Training images and labels of a binary task, as `Task::draw` gives them."""
    if dataset == "cifar10":
        images, labels = read_cifar10_train(data_dir)
    else:
        images = read_idx(os.path.join(data_dir, "mnist", "train-images-idx3-ubyte"))
        labels = read_idx(os.path.join(data_dir, "mnist", "train-labels-idx1-ubyte"))
    rng = SplitMix64.derive(draw_seed, "draw")
    chosen = []
    for label, c in enumerate(classes):
        idx = [i for i in range(len(labels)) if labels[i] == c]
        rng.shuffle(idx)
        idx = sorted(idx[:per_class])
        chosen += [(i, label) for i in idx]
    chosen.sort()
    rows = np.array([i for i, _ in chosen])
    x = images[rows].reshape(len(rows), -1).astype(np.float32) * np.float32(2.0 / 255.0) - 1.0
    y = np.array([l for _, l in chosen], dtype=np.int64)
    return x, y


# ---------------------------------------------------------------------------------------------
# The measure (SPEC section 2), in f64: Phi = [F, 1] with unit rows, e_i = (v_i^T b)^2 / l_i.


def auc(features, y01):
    f = np.asarray(features, dtype=np.float64)
    n = f.shape[0]
    phi = np.hstack([f, np.ones((n, 1))])
    norms = np.linalg.norm(phi, axis=1, keepdims=True)
    phi = phi / np.where(norms > 0, norms, 1.0)
    y = np.where(y01 == 1, 1.0, -1.0)
    p = phi.shape[1]
    if p <= n:
        lam, v = np.linalg.eigh(phi.T @ phi)
        b = phi.T @ y
        keep = lam > lam.max() * max(n, p) * 2.0**-52
        lam, v = lam[keep], v[:, keep]
        energy = (v.T @ b) ** 2 / lam
    else:
        lam, u = np.linalg.eigh(phi @ phi.T)
        keep = lam > lam.max() * max(n, p) * 2.0**-52
        lam, u = lam[keep], u[:, keep]
        energy = (u.T @ y) ** 2
    sigma = np.sqrt(lam)
    return float((energy * sigma).sum() / (math.sqrt(n) * (y @ y)))


# ---------------------------------------------------------------------------------------------
# The recipes.

CHECKS = {
    # name: (optimizer TOML, torch optimizer factory, depth, epochs, stop rule)
    "demo (adam)": (
        '{ name = "adam", lr = 1e-3 }',
        lambda params: torch.optim.Adam(params, lr=1e-3),
        3,
        100,
        None,
    ),
    "sweep-depth d3 (sgd)": (
        '{ name = "sgd", lr = 0.01, momentum = 0.9 }',
        lambda params: torch.optim.SGD(params, lr=0.01, momentum=0.9),
        3,
        1000,
        (1.0, 0.01),
    ),
    "sweep-depth d3 (rmsprop)": (
        '{ name = "rmsprop", lr = 1e-4 }',
        lambda params: torch.optim.RMSprop(params, lr=1e-4),
        3,
        1000,
        (1.0, 0.01),
    ),
}


def mlp(depth, width=128, inputs=784):
    layers, fan_in = [], inputs
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width, bias=False), torch.nn.ReLU()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 1))
    return torch.nn.Sequential(*layers)


def torch_run(x, y, seed, make_opt, depth, epochs, stop):
    """Trains as the runner's loop does; returns (auc per layer, epochs, final train acc)."""
    torch.manual_seed(seed)
    net = mlp(depth, inputs=x.shape[1])
    opt = make_opt(net.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).float()
    n = len(y)
    g = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    done = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=g)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, 64):
            idx = order[start : start + 64]
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
    with torch.no_grad():
        h, layers = xt, [x]
        for m in net[:-1]:
            h = m(h)
            if isinstance(m, torch.nn.ReLU):
                layers.append(h.numpy())
        acc = float(((net(xt).squeeze(1) > 0).long() == torch.from_numpy(y)).float().mean())
    return [auc(l, y) for l in layers], done, acc


EXPERIMENT = """name = "parity"
labels = "true"
seed = 0
[data]
dataset = "{dataset}"
[task]
classes = [0, 1]
train_per_class = 500
draw_seed = 0
[model]
kind = "mlp"
depth = {depth}
width = 128
activation = "relu"
hidden_bias = false
init = "pytorch"
[optimizer]
name = "adam"
lr = 1e-3
[train]
epochs = {epochs}
batch_size = 64
loss = "logistic"
{stop}
[measure]
grid = "normalized"
[sweep]
optimizer = [{optimizer}]
seed = [{seeds}]
"""


def runner_runs(runner, data, optimizer, depth, epochs, stop, seeds, jobs, dataset="mnist"):
    """Per-layer auc lists (layer_index -> [auc per seed]), epochs and accuracies from `runner`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "parity.toml")
        stop_line = f"stop = {{ train_acc = {stop[0]}, loss = {stop[1]} }}" if stop else ""
        with open(path, "w") as f:
            f.write(
                EXPERIMENT.format(
                    dataset=dataset,
                    depth=depth,
                    epochs=epochs,
                    stop=stop_line,
                    optimizer=optimizer,
                    seeds=", ".join(str(s) for s in seeds),
                )
            )
        out = os.path.join(tmp, "out")
        cmd = [runner, "run", path, "--data", data, "--out", out, "--jobs", str(jobs)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        layers, epochs_run, accs = {}, {}, {}
        with open(os.path.join(out, "summary.csv")) as f:
            for row in csv.DictReader(f):
                if row["status"] != "done":
                    raise SystemExit(f"runner run {row['run_id']}: {row['status']} {row['reason']}")
                layers.setdefault(int(row["layer_index"]), []).append(float(row["auc"]))
                epochs_run[row["run_id"]] = int(row["epochs"])
                accs[row["run_id"]] = float(row["train_acc"])
        return layers, list(epochs_run.values()), list(accs.values())


def mean_std(v):
    v = np.asarray(v, dtype=np.float64)
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data", help="folder of scripts/fetch-data.sh")
    ap.add_argument(
        "--dataset",
        choices=["mnist", "cifar10"],
        default="mnist",
        help="cifar10: the authors' own demo (airplane vs automobile, MLP 3072-128x3-1) on the"
        " CIFAR-10 binary version in DATA/cifar-10-batches-bin/ (bring your own copy); the demo"
        " check only",
    )
    ap.add_argument(
        "--runner",
        default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "runner"),
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=20,
        help="seeds per side (hidden layers spread by ~0.05 over seeds: 5 seeds resolve a"
        " difference of means only to ~0.03)",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="run only the checks whose name contains this")
    ap.add_argument("--markdown", help="also write the table as markdown to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    x, y = draw_task(args.data, [0, 1], 500, 0, args.dataset)
    names = ["input"] + [f"hidden{i}" for i in range(1, 9)]
    lines = [
        f"| recipe ({len(seeds)} seeds each) | layer | runner auc | PyTorch auc | difference"
        " (± its standard error) | runner epochs | PyTorch epochs |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for check, (opt_toml, make_opt, depth, epochs, stop) in CHECKS.items():
        if args.only and args.only not in check:
            continue
        if args.dataset == "cifar10" and not check.startswith("demo"):
            continue
        t0 = time.time()
        ours, our_epochs, our_acc = runner_runs(
            args.runner, args.data, opt_toml, depth, epochs, stop, seeds, args.jobs, args.dataset
        )
        t1 = time.time()
        theirs, their_epochs, their_acc = {}, [], []
        for s in seeds:
            aucs, e, acc = torch_run(x, y, s, make_opt, depth, epochs, stop)
            for i, a in enumerate(aucs):
                theirs.setdefault(i, []).append(a)
            their_epochs.append(e)
            their_acc.append(acc)
        t2 = time.time()
        print(f"\n{check}: {len(seeds)} seeds, runner {t1 - t0:.1f} s, PyTorch {t2 - t1:.1f} s")
        print(f"  final train acc: runner {np.mean(our_acc):.4f}, PyTorch {np.mean(their_acc):.4f}")
        # Same images, same measure: the input's auc agrees to rounding.
        gap = max(abs(a - theirs[0][0]) for a in ours[0])
        if gap > 1e-9:
            raise SystemExit(f"input auc differs by {gap:.2e}: not the same draw or measure")
        print(f"  input auc agrees to {gap:.1e} (same images, same measure)")
        print(f"  {'layer':8} {'runner':>16} {'PyTorch':>16} {'diff':>8} {'std err':>8}")
        e_ours, e_theirs = mean_std(our_epochs), mean_std(their_epochs)
        for i in sorted(ours):
            (mo, so), (mt, st) = mean_std(ours[i]), mean_std(theirs[i])
            # Standard error of the difference of two independent means.
            se = math.sqrt(so**2 / len(ours[i]) + st**2 / len(theirs[i]))
            if i > 0:
                worst = max(worst, abs(mo - mt))
            print(
                f"  {names[i]:8} {mo:8.3f} ± {so:5.3f} {mt:8.3f} ± {st:5.3f} {mo - mt:+8.3f} {se:8.3f}"
            )
            lines.append(
                f"| {check} | {names[i]} | {mo:.3f} ± {so:.3f} | {mt:.3f} ± {st:.3f}"
                f" | {mo - mt:+.3f} ± {se:.3f} | {e_ours[0]:.0f} ± {e_ours[1]:.0f}"
                f" | {e_theirs[0]:.0f} ± {e_theirs[1]:.0f} |"
            )
    print(f"\nlargest |difference of means| over hidden layers: {worst:.3f}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
