#!/usr/bin/env python3
"""PyTorch's side of the convolution benchmark (dev-only; PyTorch never enters the build or CI).

Times, with 2 threads by default, the same layers and shapes as
crates/flex-kernels/benches/conv.rs (batch 64; forward alone under no_grad, and forward +
backward with the input's and the weights' gradients), and the deep-cnn experiment's
training loop: the 6-block CNN (16-16-32-32-64-64, 3x3 same convolutions, batch norm, ReLU,
2x2 max-pool after every second block, a linear head on the flattened features), 3000 28 x 28 images, 10 classes, Adam 1e-3,
batch 64 reshuffled every epoch, 8 epochs. Prints one JSON object per line, as the Rust side.

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    .venv/bin/python scripts/conv-bench.py [--threads 2]
(scripts/conv-bench.sh runs both sides and prints the ratios.)
"""
import argparse
import json
import time

import torch
import torch.nn as nn

CASES = [
    ("conv3x3 1->16 28x28", (64, 1, 28, 28), ("conv", 16, 3, 1)),
    ("conv3x3 16->16 28x28", (64, 16, 28, 28), ("conv", 16, 3, 1)),
    ("conv3x3 32->32 14x14", (64, 32, 14, 14), ("conv", 32, 3, 1)),
    ("conv3x3 64->64 7x7", (64, 64, 7, 7), ("conv", 64, 3, 1)),
    ("depthwise3x3 96 28x28", (64, 96, 28, 28), ("conv", 96, 3, 96)),
    ("conv1x1 96->24 28x28", (64, 96, 28, 28), ("conv", 24, 1, 1)),
    ("maxpool2x2 16 28x28", (64, 16, 28, 28), ("pool",)),
    ("batchnorm 16 28x28", (64, 16, 28, 28), ("bn",)),
    ("dense 784->128", (64, 784), ("dense", 128)),
    ("dense 128->128", (64, 128), ("dense", 128)),
]


def median_ms(f):
    """Median milliseconds over repetitions: 3 warm-ups, then at least 5 and until 1 s."""
    for _ in range(3):
        f()
    ms = []
    start = time.perf_counter()
    while len(ms) < 5 or (time.perf_counter() - start < 1.0 and len(ms) < 200):
        t = time.perf_counter()
        f()
        ms.append((time.perf_counter() - t) * 1e3)
    ms.sort()
    return ms[len(ms) // 2]


def layer_of(spec, c_in):
    if spec[0] == "pool":
        return nn.MaxPool2d(2)
    if spec[0] == "bn":
        return nn.BatchNorm2d(c_in)
    if spec[0] == "dense":
        return nn.Linear(c_in, spec[1])
    _, out, k, groups = spec
    return nn.Conv2d(c_in, out, k, padding=k // 2, groups=groups)


def deep_cnn():
    blocks, c = [], 1
    for i, out in enumerate([16, 16, 32, 32, 64, 64]):
        blocks += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
        if (i + 1) % 2 == 0:
            blocks.append(nn.MaxPool2d(2))
        c = out
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(64 * 3 * 3, 10))


def train_deep_cnn(epochs=8, n=3000, batch=64):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    model = deep_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(n, generator=g).split(batch):
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-deep-cnn", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, shape, spec in CASES:
        x = torch.randn(*shape)
        layer = layer_of(spec, shape[1])
        # Forward alone is inference (batch norm uses its running statistics), forward +
        # backward is training (batch norm uses the batch's), as on the Rust side.
        layer.eval()
        with torch.no_grad():
            forward = median_ms(lambda: layer(x))
        layer.train()
        xg = x.clone().requires_grad_(True)

        def step():
            layer.zero_grad(set_to_none=True)
            xg.grad = None
            layer(xg).sum().backward()

        print(json.dumps({"name": name, "forward_ms": round(forward, 3),
                          "train_ms": round(median_ms(step), 3)}), flush=True)
    if not args.no_deep_cnn:
        print(json.dumps({"name": "deep-cnn training", "seconds": round(train_deep_cnn(), 2)}),
              flush=True)


if __name__ == "__main__":
    main()
