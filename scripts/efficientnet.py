#!/usr/bin/env python3
"""EfficientNet-Lite in plain PyTorch: the reference for the Rust implementation (dev-only).

PyTorch never enters the build, the runtime or CI; this script only produces the committed test
fixtures under tests/fixtures/efficientnet/ and the PyTorch side of the throughput comparison.
Install and run:

    python3 -m venv .venv && .venv/bin/pip install torch numpy pillow
    bash scripts/fetch-data.sh data          # the Lite0 weights and the foolbox ImageNet samples
    .venv/bin/python scripts/efficientnet.py reference --weights \\
        data/efficientnet-lite0/efficientnet-lite0-57934424.pth --images data/imagenet-samples \\
        --out tests/fixtures/efficientnet/imagenet-reference.json
    .venv/bin/python scripts/efficientnet.py tiny --out tests/fixtures/efficientnet
    .venv/bin/python scripts/efficientnet.py bench --weights \\
        data/efficientnet-lite0/efficientnet-lite0-57934424.pth --resolution 224 --batch 16

The network (EfficientNet-Lite: no squeeze-and-excitation, ReLU6, fixed stem and head):
- every convolution has no bias and uses TensorFlow's "same" padding: per spatial axis, total
  pad = max((ceil(in / s) - 1) * s + k - in, 0), pad // 2 before and the rest (the odd pixel)
  after, then a convolution with padding 0. With stride 1 (odd k) that is symmetric; with
  stride 2 on an even size it is asymmetric (k=3: 0 before, 1 after; k=5: 1 before, 2 after);
- batch norm in inference mode with eps 1e-3 (not PyTorch's default 1e-5);
- stem: 3x3 stride-2 convolution 3 -> stem, BN, ReLU6;
- blocks (MBConv): [1x1 expand convolution in -> in * expand_ratio, BN, ReLU6, skipped when
  expand_ratio == 1] -> kxk depthwise stride-s convolution (groups = channels), BN, ReLU6 ->
  1x1 project convolution -> out, BN (no activation) -> + the block's input when s == 1 and
  in == out. A stage's first block has the stage's stride and in = the previous out; its repeats
  have stride 1 and in = out;
- head: 1x1 convolution -> head channels, BN, ReLU6, global average pool, linear (with bias).
Module and parameter names are the checkpoint's (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`,
`_blocks.N._bn0`, `_blocks.N._depthwise_conv`, `_blocks.N._bn1`, `_blocks.N._project_conv`,
`_blocks.N._bn2`, `_conv_head`, `_bn1`, `_fc`), so the weights load with strict=True.

Input: `reference` and `bench` feed RGB uint8 pixels x as (x - 127) / 128, NCHW float32. The
`tiny` fixture's forward takes already-normalised input (see `tiny_input`), fed unchanged.

The foolbox samples are NOT 224 x 224: 19 are 512 x 512 and imagenet_10_541.jpg is 1024 x 683.
`reference` does what foolbox's own `samples()` does: decode with PIL, convert to RGB, resize to
224 x 224 with `Image.resize((224, 224), Image.BICUBIC)` (Pillow's default filter for resize;
no crop, so the 1024 x 683 image is squashed). The top-5 depend on that filter (PIL bilinear:
same 17/20; nearest or box: 19/20), so a Rust check must feed the same pixels:
`--save-resized DIR` writes them as lossless PNGs (imagenet_NN_LABEL.png).
"""

import argparse
import json
import math
import os
import re
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-3

# (kernel, stride, expand_ratio, out_channels, repeats)
LITE0 = dict(
    stem=32,
    stages=[(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
            (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)],
    head=1280,
    classes=1000,
)

TINY = dict(
    stem=8,
    stages=[(3, 1, 1, 8, 1), (3, 2, 2, 8, 2), (5, 2, 2, 16, 2)],
    head=32,
    classes=5,
)

TINY_CASES = [(2, 3, 32, 32), (1, 3, 27, 27)]


def same_pads(size, k, s):
    """TensorFlow 'same' padding along one axis: (before, after), the odd pixel after."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """nn.Conv2d without bias, padded as TensorFlow's 'same' (computed from the input's size)."""

    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = same_pads(x.shape[2], k, s)
        left, right = same_pads(x.shape[3], k, s)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def bn(c):
    return nn.BatchNorm2d(c, eps=BN_EPS)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand_ratio):
        super().__init__()
        mid = cin * expand_ratio
        self.expand = expand_ratio != 1
        if self.expand:
            self._expand_conv = SameConv2d(cin, mid, 1)
            self._bn0 = bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, k, stride=stride, groups=mid)
        self._bn1 = bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1)
        self._bn2 = bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        h = x
        if self.expand:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h


class EfficientNetLite(nn.Module):
    def __init__(self, stem, stages, head, classes):
        super().__init__()
        self._conv_stem = SameConv2d(3, stem, 3, stride=2)
        self._bn0 = bn(stem)
        blocks = []
        cin = stem
        for k, s, e, cout, repeats in stages:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, k, s if r == 0 else 1, e))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, head, 1)
        self._bn1 = bn(head)
        self._fc = nn.Linear(head, classes)

    def forward(self, x, taps=False):
        """Logits; with taps=True a dict of every intermediate: stem, block0..blockN-1, head
        (after BN + ReLU6, before pooling), pooled, logits."""
        out = {}
        x = F.relu6(self._bn0(self._conv_stem(x)))
        out["stem"] = x
        for i, b in enumerate(self._blocks):
            x = b(x)
            out[f"block{i}"] = x
        x = F.relu6(self._bn1(self._conv_head(x)))
        out["head"] = x
        x = x.mean(dim=(2, 3))
        out["pooled"] = x
        x = self._fc(x)
        out["logits"] = x
        return out if taps else x


def load_lite0(weights):
    model = EfficientNetLite(**LITE0)
    sd = torch.load(weights, map_location="cpu", weights_only=False)
    model.load_state_dict(sd, strict=True)
    return model.eval()


def normalise(pixels_u8):
    """RGB uint8 HWC (or NHWC) -> (x - 127) / 128 as float32 NCHW."""
    x = torch.from_numpy(np.ascontiguousarray(pixels_u8)).to(torch.float32)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    return ((x - 127.0) / 128.0).permute(0, 3, 1, 2).contiguous()


# ---------------------------------------------------------------------------------------------


def cmd_reference(args):
    from PIL import Image

    torch.set_num_threads(2)
    model = load_lite0(args.weights)
    pat = re.compile(r"^imagenet_(\d+)_(\d+)\.jpg$")
    names = sorted(n for n in os.listdir(args.images) if pat.match(n))
    assert names, f"no imagenet_*.jpg in {args.images}"
    results = []
    correct = 0
    with torch.no_grad():
        for name in names:
            label = int(pat.match(name).group(2))
            img = Image.open(os.path.join(args.images, name)).convert("RGB")
            size = img.size
            if size != (224, 224):
                img = img.resize((224, 224), Image.BICUBIC)
            assert img.size == (224, 224)
            if args.save_resized:
                os.makedirs(args.save_resized, exist_ok=True)
                img.save(os.path.join(args.save_resized, name[:-4] + ".png"))
            logits = model(normalise(np.array(img, dtype=np.uint8)))[0]
            top = torch.topk(logits, 5)
            top5 = [int(i) for i in top.indices]
            ok = top5[0] == label
            correct += ok
            print(f"{name} ({size[0]}x{size[1]}): label {label}, "
                  f"top-1 {top5[0]} ({'ok' if ok else 'WRONG'}), "
                  f"top-5 {top5}")
            results.append({
                "image": name,
                "label": label,
                "top5": top5,
                "top5_logits": [round(float(v), 5) for v in top.values],
            })
    print(f"top-1 accuracy: {correct}/{len(names)}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r) for r in results) + "\n]\n")
    print(f"wrote {args.out}")


def tiny_input(shape):
    """The tiny fixture's input, regenerated in Rust without files: element i (flat, NCHW) is
    sin(0.37 * i) * 0.5 + 0.5 in f64 (libm's sin, i.e. Rust's `(0.37 * i as f64).sin()`),
    then rounded to f32. Fed to the network as is (already normalised: no (x - 127) / 128)."""
    n = int(np.prod(shape))
    vals = np.array([math.sin(0.37 * i) * 0.5 + 0.5 for i in range(n)], dtype=np.float64)
    return torch.from_numpy(vals.astype(np.float32).reshape(shape))


def f32_list(t):
    """Flat list of Python floats, each the shortest decimal that parses back to the same f32."""
    return [float(str(v)) for v in t.detach().contiguous().view(-1).numpy().astype(np.float32)]


def cmd_tiny(args):
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = EfficientNetLite(**TINY)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.empty(c).uniform_(0.5, 1.5))
                m.bias.copy_(torch.randn(c) * 0.1)
                m.running_mean.copy_(torch.randn(c) * 0.1)
                m.running_var.copy_(torch.empty(c).uniform_(0.5, 1.5))
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    sd = model.state_dict()
    pth = os.path.join(args.out, "tiny.pth")
    torch.save(sd, pth, _use_new_zipfile_serialization=False)

    # Check the saved file loads back strictly into a fresh model.
    check = EfficientNetLite(**TINY)
    check.load_state_dict(torch.load(pth, map_location="cpu", weights_only=False), strict=True)

    cases = []
    with torch.no_grad():
        for shape in TINY_CASES:
            x = tiny_input(shape)
            outs = model(x, taps=True)
            cases.append({
                "shape": list(shape),
                "input_sum": float(x.double().sum()),
                "outputs": {k: f32_list(v) for k, v in outs.items()},
                "shapes": {k: list(v.shape) for k, v in outs.items()},
            })
    doc = {
        "about": "scripts/efficientnet.py tiny: a seeded EfficientNet-Lite (weights in tiny.pth, "
                 "PyTorch's old pickle format) run in eval mode on tiny_input(shape): element i "
                 "(flat NCHW) = f32(sin(0.37 * i) * 0.5 + 0.5), computed in f64 and fed as is "
                 "(no (x - 127) / 128). Outputs are flat NCHW (or N x C), each value the shortest "
                 "decimal of its f32. stages: (kernel, stride, expand_ratio, out_channels, "
                 "repeats). head = after BN + ReLU6, before pooling.",
        "config": {
            "stem": TINY["stem"],
            "stages": [list(s) for s in TINY["stages"]],
            "head": TINY["head"],
            "classes": TINY["classes"],
            "bn_eps": BN_EPS,
        },
        "cases": cases,
    }
    js = os.path.join(args.out, "tiny-expected.json")
    with open(js, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    for p in (pth, js):
        print(f"wrote {p}: {os.path.getsize(p)} bytes")
    assert os.path.getsize(js) < 300_000, "tiny-expected.json should stay under 300 KB"


def cmd_bench(args):
    torch.set_num_threads(2)
    model = load_lite0(args.weights) if args.weights else EfficientNetLite(**LITE0).eval()
    x = torch.rand(args.batch, 3, args.resolution, args.resolution) * 2 - 1
    times = []
    with torch.no_grad():
        for _ in range(2):
            model(x)
        for _ in range(args.iters):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    ips = args.batch / statistics.median(times)
    print(f"pytorch efficientnet-lite0 res={args.resolution} batch={args.batch}: "
          f"{ips:.1f} images/s (median of {args.iters})")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference", help="Lite0 top-5 on the foolbox ImageNet samples -> JSON")
    r.add_argument("--weights", required=True)
    r.add_argument("--images", required=True, help="folder with imagenet_NN_LABEL.jpg")
    r.add_argument("--out", default="tests/fixtures/efficientnet/imagenet-reference.json")
    r.add_argument("--save-resized", metavar="DIR",
                   help="also write the 224 x 224 RGB pixels fed to the network as PNGs")
    r.set_defaults(func=cmd_reference)
    t = sub.add_parser("tiny", help="seeded tiny net: tiny.pth and tiny-expected.json")
    t.add_argument("--out", default="tests/fixtures/efficientnet")
    t.set_defaults(func=cmd_tiny)
    b = sub.add_parser("bench", help="Lite0 forward throughput (2 threads)")
    b.add_argument("--weights", help="checkpoint (default: random init; speed is the same)")
    b.add_argument("--resolution", type=int, default=224)
    b.add_argument("--batch", type=int, default=16)
    b.add_argument("--iters", type=int, default=10)
    b.set_defaults(func=cmd_bench)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
