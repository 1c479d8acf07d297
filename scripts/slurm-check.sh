#!/usr/bin/env bash
# The cluster path, run for real: starts a throwaway single-node Slurm cluster (munged,
# slurmctld and slurmd as root, no systemd, all state in a temporary folder), then, exactly as
# the README shows:
#   1. submits a small sweep (sweep-depth cut to depths 1-2 x Adam x true/random labels x seeds
#      0-1: 8 runs) as the array job of experiments/slurm/sweep.sbatch (3 tasks, more than one
#      run each), and the dependent `runner report` job;
#   2. cancels one array task while it trains (scancel), waits, and submits the array and the
#      report job again;
#   3. checks that summary.csv holds exactly one row per run and layer, equal (value for value,
#      timings aside) to the summary of the same sweep run locally without Slurm, and that the
#      report job ran after the array;
# then stops the cluster and removes everything. It prints what it does and exits 1 on any
# difference. It installs Debian's slurm-wlm and munge when they are missing (apt-get, as
# .ci/run does for Mesa) and builds the release runner when there is none (RUNNER=path uses
# another build; .ci/run passes the debug one its tests built).
#
#   bash scripts/slurm-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
say() { echo "slurm-check [$((SECONDS - start)) s]: $*"; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge (Debian)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
# Cargo's target folder, wherever CARGO_TARGET_DIR puts it.
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
runner=$(realpath -m "${RUNNER:-$target_dir/release/runner}")
if [ ! -x "$runner" ]; then
  say "building the release runner"
  cargo build --release -p runner
  runner=$target_dir/release/runner
fi
export RUNNER=$runner

# --- the cluster ----------------------------------------------------------------------------
T=$(mktemp -d /tmp/slurm-check.XXXXXX)
chmod 755 "$T"   # munged wants every folder above its socket searchable
mkdir -p "$T"/{munge,log,run,spool/ctld,spool/d}
node=$(hostname -s)
# Slurm refuses a node whose real memory is below what it declares: 80% of what is available.
memory=$(( $(awk '/MemAvailable/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
cleanup() {
  set +e
  if [ -n "${SLURM_CONF:-}" ]; then
    scontrol shutdown >/dev/null 2>&1
    for _ in $(seq 100); do pgrep -f "$T/slurm.conf" >/dev/null || break; sleep 0.1; done
    pkill -f "$T/slurm.conf" 2>/dev/null
  fi
  [ -S "$T/munge/munge.socket" ] && munged -S "$T/munge/munge.socket" -s 2>/dev/null
  rm -rf "$T"
  rm -f "$root"/slurm-slurm-check-*.out
}
trap cleanup EXIT
mungekey -c -k "$T/munge/munge.key"
munged --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/run/munged.pid" --log-file="$T/log/munged.log" --seed-file="$T/munge/munged.seed"
: > "$T/plugstack.conf"
cat > "$T/slurm.conf" <<EOF
ClusterName=slurm-check
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/spool/ctld
SlurmdSpoolDir=$T/spool/d
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
PlugStackConfig=$T/plugstack.conf
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$node"
for _ in $(seq 300); do [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -N -o %t)" = idle ] || { echo "slurm-check: the node never became idle" >&2; cat "$T"/log/*; exit 1; }
say "cluster up: one node ($node, $(nproc) CPUs), Slurm $(sinfo --version | cut -d' ' -f2); runner: $runner"

# Waits until none of the jobs is in the queue any more.
wait_jobs() { for j in "$@"; do while [ -n "$(squeue -h -j "$j" 2>/dev/null)" ]; do sleep 0.5; done; done; }

# --- the sweep ------------------------------------------------------------------------------
exp=$T/sweep.toml
sed -e 's/^name = "sweep-depth"/name = "slurm-check"/' \
    -e 's/^model.depth = .*/model.depth = [1, 2]/' \
    -e 's/^seed = \[0, 1, 2\]/seed = [0, 1]/' \
    -e '/^optimizer = \[/,/^\]/c optimizer = [{ name = "adam", lr = 1e-3 }]' \
    experiments/sweep-depth.toml > "$exp"
runs=$("$runner" run "$exp" --dry-run | head -1 | sed 's/.*: \([0-9]*\) runs.*/\1/')
[ "$runs" = 8 ] || { echo "slurm-check: expected 8 runs, the file has $runs" >&2; exit 1; }
out=$T/runs
submit() {
  jid=$(sbatch --parsable --job-name=slurm-check --array=1-3 --cpus-per-task=1 --mem=1G \
    --output="slurm-%x-%A_%a.out" --export=ALL,EXP="$exp",OUT="$out",CHECKPOINT_EVERY=0 \
    experiments/slurm/sweep.sbatch)
  rid=$(sbatch --parsable --job-name=slurm-check-report --output="$T/report-%j.out" \
    --dependency=afterany:"$jid" --wrap "$runner report $out")
}
submit
say "submitted array job $jid (3 tasks, 8 runs) and report job $rid (afterany:$jid)"

# Cancel task 2 while it trains: its shard (runs 2, 5 and 8 of the grid) ends with a run on
# shuffled labels, which takes several seconds.
victim=${jid}_2
for _ in $(seq 600); do
  [ "$(squeue -h -j "$victim" -o %T 2>/dev/null || true)" = RUNNING ] && break
  sleep 0.2
done
sleep 2
scancel "$victim"
say "cancelled task $victim while it trained"
wait_jobs "$jid" "$rid"
first=$(find "$out" -mindepth 2 -name result.json | wc -l)
say "first round over: $first of 8 runs done; the report job ran: $(ls "$T"/report-*.out | wc -l)"
[ "$first" -lt 8 ] || { echo "slurm-check: the cancelled task left nothing undone" >&2; exit 1; }

submit
say "resubmitted: array job $jid and report job $rid"
wait_jobs "$jid" "$rid"
say "second round over: $(find "$out" -mindepth 2 -name result.json | wc -l) of 8 runs done, $(grep -l '"resumed_from"' "$out"/*/result.json | wc -l) resumed from a checkpoint"
for f in "$T"/report-*.out; do
  grep -q "wrote summary.csv" "$f" || { echo "slurm-check: report job output $f:" >&2; cat "$f" >&2; exit 1; }
done

# --- the check ------------------------------------------------------------------------------
say "running the same sweep locally, without Slurm"
"$runner" run "$exp" --out "$T/local" --jobs "$(nproc)" >/dev/null 2>&1
python3 - "$out/summary.csv" "$T/local/summary.csv" <<'PY'
import csv, math, sys
slurm, local = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
keys = lambda rows: sorted((r["run_id"], r["layer"]) for r in rows)
ks, kl = keys(slurm), keys(local)
if len(ks) != len(set(ks)):
    sys.exit(f"slurm-check: summary.csv repeats rows: {len(ks)} rows, {len(set(ks))} distinct")
if ks != kl:
    sys.exit(f"slurm-check: the rows differ: {sorted(set(ks) ^ set(kl))[:5]}")
by = lambda rows: {(r["run_id"], r["layer"]): r for r in rows}
bs, bl = by(slurm), by(local)
for k in ks:
    for col, a in bs[k].items():
        b = bl[k][col]
        if col == "seconds" or a == b:
            continue
        try:
            if math.isclose(float(a), float(b), rel_tol=1e-15):
                continue
        except ValueError:
            pass
        sys.exit(f"slurm-check: {k} {col}: {a} on Slurm, {b} locally")
runs = len({k[0] for k in ks})
print(f"slurm-check: summary.csv: {len(ks)} rows, one per run and layer of {runs} runs, "
      "equal to the local sweep's (timings aside)")
PY
say "passed; stopping the cluster"
