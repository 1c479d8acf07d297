#!/usr/bin/env bash
# Runs experiments with two `runner` binaries and checks that their results are the same:
# table.md identical, summary.csv the same except the `seconds` column (wall time; numbers to
# 1e-15 relative, see same_csv), and the new binary's `runner report` of the old binary's folder
# identical to the old table.md. Kept to show
# that a refactor changed no number (see issue 12 in the README's notes).
#
#   scripts/same-results.sh OLD_RUNNER NEW_RUNNER [EXPERIMENT[@FLAGS]] ...
#
# Without experiments it runs a set that covers every analysis and model kind in a few minutes:
# demo, learning-speed, transfer, transfer-mnist, deep-cnn, and a shard of sweep-depth,
# sweep-arch and layers. FLAGS are extra `runner run` flags, comma-separated
# (e.g. experiments/layers.toml@--backend,flex,--shard,1/6). Exits 1 on any difference.
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2"); shift 2
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  set -- experiments/demo.toml experiments/learning-speed.toml experiments/transfer.toml \
    experiments/transfer-mnist.toml experiments/deep-cnn.toml@--backend,flex \
    experiments/sweep-depth.toml@--shard,1/9 experiments/sweep-arch.toml@--backend,flex,--shard,1/12 \
    experiments/layers.toml@--backend,flex,--shard,1/6
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Two summary.csv files agree: the same rows and columns, text fields identical, numbers equal
# to 1e-15 relative (the old binary may read result files one ulp off: serde_json's default float
# parser is best-effort, the workspace now uses its exact one), `seconds` (wall time) aside.
same_csv() { python3 - "$1" "$2" <<'PY'
import csv, math, sys
a, b = (list(csv.reader(open(f))) for f in sys.argv[1:3])
if len(a) != len(b) or a[0] != b[0]:
    sys.exit(1)
skip = a[0].index("seconds")
def close(x, y):
    if x == y:
        return True
    try:
        u, v = float(x), float(y)
    except ValueError:
        return False
    return math.isclose(u, v, rel_tol=1e-15, abs_tol=0.0)
for ra, rb in zip(a[1:], b[1:]):
    if len(ra) != len(rb) or not all(close(x, y) for i, (x, y) in enumerate(zip(ra, rb)) if i != skip):
        print("  first differing row:", ra, rb, sep="\n  ")
        sys.exit(1)
PY
}
status=0
for spec in "$@"; do
  file=${spec%%@*}
  flags=()
  [[ $spec == *@* ]] && IFS=, read -r -a flags <<< "${spec#*@}"
  name=$(basename "$file" .toml)
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    start=$SECONDS
    "$bin" run "$file" --out "$tmp/$which/$name" "${flags[@]}" >/dev/null 2>"$tmp/$which-$name.log" || {
      echo "$name: $which runner failed:"; tail -5 "$tmp/$which-$name.log"; status=1; continue 2; }
    echo "$name: $which runner, $((SECONDS - start)) s"
  done
  same=yes
  cmp -s "$tmp/old/$name/table.md" "$tmp/new/$name/table.md" || { same=no; echo "$name: table.md differs:"; diff "$tmp/old/$name/table.md" "$tmp/new/$name/table.md" | head -20; }
  same_csv "$tmp/old/$name/summary.csv" "$tmp/new/$name/summary.csv" || { same=no; echo "$name: summary.csv differs (timings aside)"; }
  cp "$tmp/old/$name/table.md" "$tmp/old-$name-table.md"
  "$new" report "$tmp/old/$name" >/dev/null 2>&1
  cmp -s "$tmp/old-$name-table.md" "$tmp/old/$name/table.md" || { same=no; echo "$name: the new runner reports the old folder differently"; }
  echo "$name: same results: $same"
  [ $same = yes ] || status=1
done
exit $status
