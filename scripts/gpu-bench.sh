#!/usr/bin/env bash
# The GPU Gram benchmark as one self-contained step on a machine with a real GPU (an NVIDIA H200,
# say): checks the Vulkan driver, builds the benchmark (release, --features wgpu) unless given a
# prebuilt binary, runs the full grid and saves the table.
#
#   bash scripts/gpu-bench.sh                      # build and run (needs cargo and crates.io)
#   GRAM_BENCH_BIN=path/to/gram_gpu bash scripts/gpu-bench.sh   # a binary built elsewhere
#
# Prints, for n in {10^4, 10^5} and d in {128, 512, 2048}: the kernel, burn's matmul(F^T, F) on the
# same device and the f64 CPU path (time and effective GFLOP/s), and the kernel's share of the
# device's measured f32 matmul rate. The table is also written to gpu-bench-<host>-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi
if command -v vulkaninfo >/dev/null 2>&1; then
    vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion" || true
else
    echo "note: vulkaninfo not found; wgpu needs a Vulkan driver (NVIDIA's ships one with the driver)"
fi

bin="${GRAM_BENCH_BIN:-}"
if [ -z "$bin" ]; then
    cargo bench -p repalign-alignment --features wgpu --bench gram_gpu --no-run
    bin=$(ls -t target/release/deps/gram_gpu-* | grep -v '\.d$' | head -1)
fi
out="gpu-bench-$(hostname)-$(date +%Y%m%d-%H%M).txt"
"$(realpath "$bin")" | tee "$out"
echo "wrote $out"
