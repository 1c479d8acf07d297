"""The Python package against numpy's and torch's SVDs, and measure_layers' memory.

Dev-only benchmark (not a test). Each case runs in a fresh Python process so its peak memory
(ru_maxrss) is its own; times are medians of 3 calls from Python, whole calls (input conversion
included). Prints the CPU and, per case, ratios measured in this one invocation.

    python3 -m venv .venv-py && .venv-py/bin/pip install ./crates/python torch
    .venv-py/bin/python scripts/python-bench.py

Cases:
- (n, p) = (10000, 513) and (60000, 129), binary labels: repalign.alignment against
  numpy.linalg.svd(full_matrices=False) and torch.linalg.svd of the same Phi (f64), which give
  only the SVD, not the measure built on it (a lower bound on their cost);
- measure_layers over a small CNN on 2,500 / 5,000 / 10,000 random 28 x 28 images (pooled conv
  layers and the dense layers), against collecting every chosen layer's activations and calling
  repalign.alignment on them: peak memory as the images grow.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time


def cpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        name = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except Exception:
        name = platform.processor()
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model\t") or line.startswith("model "):
                model = line.split(":")[1].strip()
                break
    except OSError:
        pass
    return f"{name} (model {model}), {os.cpu_count()} cores"


CHILD = r'''
import json, resource, statistics, sys, time
import numpy as np
case, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def median_time(f, reps=3):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

rng = np.random.default_rng(0)
out = {}
if case in ("repalign", "numpy", "torch"):
    n, d = a, b - 1
    x = rng.normal(size=(n, d)); y = (np.arange(n) % 2).astype(np.float64)
    x[:, 0] += y
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if case == "repalign":
        import repalign
        out["seconds"] = median_time(lambda: repalign.alignment(x, y))
    else:
        phi = np.hstack([x, np.ones((n, 1))]); phi /= np.linalg.norm(phi, axis=1, keepdims=True)
        if case == "numpy":
            out["seconds"] = median_time(lambda: np.linalg.svd(phi, full_matrices=False))
        else:
            import torch
            t = torch.from_numpy(phi)
            out["seconds"] = median_time(lambda: torch.linalg.svd(t, full_matrices=False))
    out["peak_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
else:
    import torch, repalign, repalign.torch as rt
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 49, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    layers = ["1", "4", "8"]
    images = a
    def loader():
        g = torch.Generator().manual_seed(1)
        for i in range(0, images, 250):
            yield torch.randn(250, 1, 28, 28, generator=g), torch.arange(i, i + 250) % 10
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if case == "layers":
        rt.measure_layers(model, loader(), classes=range(10), layers=layers, pool="avg")
    else:
        kept = {l: [] for l in layers}; ys = []
        hooks = [dict(model.named_modules())[l].register_forward_hook(
            lambda m, i, o, l=l: kept[l].append(o.detach().mean(dim=(2, 3)) if o.dim() == 4 else o.detach().clone()))
            for l in layers]
        with torch.no_grad():
            for x, y in loader():
                model(x); ys.append(y)
        for h in hooks: h.remove()
        yy = torch.cat(ys).numpy()
        for l in layers:
            repalign.alignment(torch.cat(kept[l]).numpy(), yy)
    out["seconds"] = time.perf_counter() - t
    out["peak_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
'''


# Fresh processes per side and size, interleaved.
ROUNDS = 5


def child(case, a, b=0):
    r = subprocess.run([sys.executable, "-c", CHILD, case, str(a), str(b)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"python-bench: {case} {a} {b} failed:\n{r.stderr}")
    return json.loads(r.stdout)


def main():
    print(f"CPU: {cpu()}")
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch not installed: its cases are left out")
    print("\n| n x p | repalign.alignment | numpy thin SVD | torch.linalg.svd | numpy / repalign | torch / repalign |")
    print("|---|---|---|---|---|---|")
    for n, p in [(10000, 513), (60000, 129)]:
        # Each side in ROUNDS fresh processes, interleaved, so a slow spell of a shared machine
        # falls on both; the medians are compared.
        times = {"repalign": [], "numpy": [], "torch": []}
        for _ in range(ROUNDS):
            for case in times:
                if case != "torch" or have_torch:
                    times[case].append(child(case, n, p)["seconds"])
        ours, npy = statistics.median(times["repalign"]), statistics.median(times["numpy"])
        tor = statistics.median(times["torch"]) if have_torch else float("nan")
        print(f"| {n} x {p} | {ours:.3f} s | {npy:.3f} s | {tor:.3f} s | {npy / ours:.1f}x | {tor / ours:.1f}x |")
    if not have_torch:
        return
    print("\n| images | measure_layers | peak MiB | collect + alignment | peak MiB |")
    print("|---|---|---|---|---|")
    for images in [2500, 5000, 10000]:
        a, b = child("layers", images), child("collect", images)
        print(f"| {images} | {a['seconds']:.2f} s | {a['peak_mib']:.0f} | {b['seconds']:.2f} s | {b['peak_mib']:.0f} |")


if __name__ == "__main__":
    main()
