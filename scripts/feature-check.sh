#!/usr/bin/env bash
# Features build alone: every library crate checks without its default features and with each
# of its features alone (where the rest of CI does not compile that configuration already), and
# the GPU-only runner (`--no-default-features --features wgpu`) compiles neither this project's
# CPU kernels nor burn's ndarray backend. Run by .ci/run and
# `just features`; `cargo check` only (no code generation), so it adds minutes, not a build.
#
#   bash scripts/feature-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

check() {
    local t=$(date +%s)
    cargo check -q "$@"
    echo "feature-check: cargo check $* ($(( $(date +%s) - t )) s)"
}

# Crates without features of their own, alone (in the workspace their dependencies' features are
# unified with everyone else's).
for pkg in repalign-data repalign-flex-kernels repalign-report repalign-subnormals; do
    check -p "$pkg" --all-targets
done
# Crates with features: none, then each alone. Configurations the rest of CI compiles anyway
# are not repeated: models with flex and optim with both backends (the workspace's tests),
# alignment and train with wgpu (the GPU tests and the GPU-only runner below), the python
# feature (the package's pip build).
check -p repalign-models --no-default-features
check -p repalign-optim --no-default-features
check -p repalign-optim --no-default-features --features flex
check -p repalign-optim --no-default-features --features ndarray
check -p repalign-alignment --no-default-features
check -p repalign-train --no-default-features
check -p repalign-python --no-default-features
# The runner as the backends' docs build it: GPU only.
check -p runner --no-default-features --features wgpu

# The GPU-only runner's dependency graph holds no CPU backend of ours or ndarray's.
for pkg in repalign-flex-kernels burn-ndarray; do
    if cargo tree -q -p runner --no-default-features --features wgpu -e normal -i "$pkg" \
        2>/dev/null | grep -q .; then
        echo "feature-check: the GPU-only runner build compiles $pkg:" >&2
        cargo tree -p runner --no-default-features --features wgpu -e features -i "$pkg" >&2
        exit 1
    fi
done
echo "feature-check: every configuration checks ($(( $(date +%s) - start )) s)"
