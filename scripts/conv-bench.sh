#!/usr/bin/env bash
# Convolutions: ours (burn's flex backend, the default) beside PyTorch's, measured in one
# invocation on this machine, with ratios. Dev-only: PyTorch comes from the Python registry
# (python3 -m venv .venv && .venv/bin/pip install torch numpy), never from the build or CI.
#
#   bash scripts/conv-bench.sh            # PYTHON=path/to/python to use another interpreter
#
# 1. cargo bench -p repalign-flex-kernels --bench conv: the layers of deep-cnn, EfficientNet-style
#    blocks and the MLPs at batch 64, forward alone and forward + backward; then
#    cargo bench -p repalign-models --bench efficientnet: EfficientNet-Lite0's forward pass in
#    images/s (scripts/efficientnet.py bench is PyTorch's side);
# 2. the deep-cnn experiment's 6-block model alone (seed 0, --jobs 1) as one `runner run`
#    process: training (8 epochs on 3000 embedded MNIST images) plus the measure and probes;
#    then the same with burn's own flex operations (REPALIGN_BURN_OPS=1), the reference;
# 3. scripts/conv-bench.py: the same layers and the same training loop in PyTorch (2 threads);
# then a table: our time, PyTorch's, and PyTorch's / ours (>= 1: we are as fast or faster).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# The runner cargo built, wherever CARGO_TARGET_DIR puts it (relative to the root).
RUNNER_BIN=$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")/release/runner
PY=${PYTHON:-.venv/bin/python}
"$PY" -c "import torch" 2>/dev/null || {
  echo "conv-bench: $PY has no torch (python3 -m venv .venv && .venv/bin/pip install torch numpy)" >&2
  exit 1
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cargo build --release -p runner -q
cargo bench -q -p repalign-flex-kernels --bench conv > "$T/ours.jsonl"
cargo bench -q -p repalign-models --bench efficientnet >> "$T/ours.jsonl"

# The deep model of experiments/deep-cnn.toml, alone.
"$PY" - experiments/deep-cnn.toml > "$T/deep-cnn.toml" <<'PY'
import sys, tomllib
text = open(sys.argv[1]).read()
models = tomllib.loads(text)["sweep"]["model"]
deep = max(models, key=lambda m: m["depth"])
def v(x):
    if isinstance(x, bool): return str(x).lower()
    if isinstance(x, str): return f'"{x}"'
    if isinstance(x, list): return "[" + ", ".join(v(e) for e in x) + "]"
    return str(x)
print(text[: text.index("[sweep]")] + "[sweep]\nmodel = [{ " + ", ".join(f"{k} = {v(x)}" for k, x in deep.items()) + " }]\nseed = [0]")
PY
# Ours (this project's flex kernels, the default), then burn's own flex operations
# (REPALIGN_BURN_OPS=1) for reference; a fresh output folder each, so nothing resumes.
for ops in 0 1; do
  start=$(date +%s.%N)
  # Run from $T: no data/ folder there, so the embedded subset, as on a fresh clone.
  (cd "$T" && REPALIGN_BURN_OPS=$ops "$RUNNER_BIN" run deep-cnn.toml \
    --out "runs-$ops" --jobs 1 > run.log 2>&1) || { cat "$T/run.log" >&2; exit 1; }
  end=$(date +%s.%N)
  name="deep-cnn training"; [ "$ops" = 1 ] && name="deep-cnn training, burn's own ops"
  echo "{\"name\": \"$name\", \"seconds\": $(echo "$end - $start" | bc)}" >> "$T/ours.jsonl"
done

"$PY" scripts/conv-bench.py > "$T/torch.jsonl"
# EfficientNet-Lite0's forward pass (the network of scripts/efficientnet.py, 2 threads).
for rb in "224 16" "96 64"; do
  set -- $rb
  ips=$("$PY" scripts/efficientnet.py bench --resolution "$1" --batch "$2" | sed -E 's/.*: ([0-9.]+) images\/s.*/\1/')
  echo "{\"name\": \"efficientnet-lite0 forward $1x$1 batch $2\", \"images_per_s\": $ips}" >> "$T/torch.jsonl"
done

"$PY" - "$T/ours.jsonl" "$T/torch.jsonl" <<'PY'
import json, sys
ours = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
torch = {r["name"]: r for r in map(json.loads, open(sys.argv[2]))}
import subprocess
cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")), "unknown")
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model\t") or l.startswith("model ")), "?")
print(f"CPU: {cpu} (model {model})\n")
print("| workload | ours | PyTorch (2 threads) | speed ratio (>= 1: ours as fast or faster) |")
print("|---|---|---|---|")
for name, o in ours.items():
    t = torch[name.split(",")[0]] if name.startswith("deep-cnn") else torch[name]
    if "images_per_s" in o:
        print(f"| {name} | {o['images_per_s']:.1f} images/s | {t['images_per_s']:.1f} images/s "
              f"| {o['images_per_s'] / t['images_per_s']:.2f} |")  # throughput: ours / PyTorch's
        continue
    if "seconds" in o:
        print(f"| {name} (ours: one runner process with the measure; PyTorch: training loop) "
              f"| {o['seconds']:.1f} s | {t['seconds']:.1f} s | {t['seconds'] / o['seconds']:.2f} |")
        continue
    for key, what in (("forward_ms", "forward"), ("train_ms", "forward + backward")):
        print(f"| {name}, {what} | {o[key]:.2f} ms | {t[key]:.2f} ms | {t[key] / o[key]:.2f} |")
PY
