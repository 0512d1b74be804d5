#!/usr/bin/env bash
# run.sh: the registry benchmark. Arca (arca-registry + arca) against the
# peer (Debian's docker-registry + skopeo, bench/registry/peer.sh) in the same
# run, on loopback, on the same generated files:
#
#   v1      512 MiB of bf16 weights ~ N(0, 0.02)
#   v2      v1 with 5% of its 4 MiB blocks redrawn and 100 bytes inserted
#   random  512 MiB of uniformly random bytes
#
#   bench/registry/run.sh [BUILD_DIR]      (default: build)
#
# Environment: RUNS (default 3; medians are reported), SIZE_MIB (default 512),
# WORK (default /tmp), SKIP_PEER=1 to measure Arca alone.
#
# Every case is timed as the wall time of one command (process start, cache
# open and the final fsyncs included). Bytes moved are counted on the `lo`
# interface (receive counter of /proc/net/dev: every packet in either
# direction, headers included) inside a private network namespace, exactly as
# peer.sh counts them. Each run starts from an empty registry and empty
# client caches. Prints TSV lines, then a Markdown table with the targets.
set -euo pipefail

build=$(realpath "${1:-build}")
bin=$build/bin
here=$(dirname "$(realpath "$0")")
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-512}

log() { printf 'run.sh: %s\n' "$*" >&2; }

for b in arca arca-registry arca-bench-datagen; do
  [[ -x $bin/$b ]] || { log "$bin/$b is missing: build first (make build)"; exit 1; }
done

# Arca's half runs in a private network namespace so that lo counts only it.
if [[ -z ${ARCA_BENCH_NETNS:-} ]] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  exec unshare --net env ARCA_BENCH_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
[[ -n ${ARCA_BENCH_NETNS:-} ]] || log "warning: no private network namespace; lo counts include other traffic"

T=$(mktemp -d "${WORK:-/tmp}/arca-bench-registry.XXXXXX")
registry_pid=
cleanup() { [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

log "generating data (${SIZE_MIB} MiB each) in $T"
mkdir -p "$T/v1" "$T/v2" "$T/random"
"$bin/arca-bench-datagen" --kind bf16 --size-mib "$SIZE_MIB" --seed 1 -o "$T/v1/model.bin" >/dev/null
ideal=$("$bin/arca-bench-datagen" --kind v2 --size-mib "$SIZE_MIB" --seed 1 -o "$T/v2/model.bin" |
        sed -n 's/^ideal_new_bytes=//p')
"$bin/arca-bench-datagen" --kind random --size-mib "$SIZE_MIB" --seed 2 -o "$T/random/model.bin" >/dev/null
bytes=$(stat -c %s "$T/v1/model.bin")
log "v2 changed bytes (ideal transfer): $ideal"

lo_rx() { awk '/^ *lo:/ { sub(/.*lo:/, ""); print $1 }' /proc/net/dev; }

start_registry() {
  rm -rf "$T/reg"
  export ARCA_TOKEN
  ARCA_TOKEN=$("$bin/arca-registry" token create --data "$T/reg" --namespace bench --scope push 2>/dev/null)
  coproc REG { exec "$bin/arca-registry" serve --data "$T/reg" --listen 127.0.0.1:0 2>>"$T/registry.log"; }
  registry_pid=$REG_PID
  local line
  read -r line <&"${REG[0]}"
  host=$(sed -n 's|.*http://\(127\.0\.0\.1:[0-9]*\).*|\1|p' <<<"$line")
  [[ -n $host ]] || { log "registry did not start: $line"; exit 1; }
}
stop_registry() { kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=; }

declare -A SECS MOVED
# measure CASE COMMAND...: times one command, records seconds and lo bytes.
measure() {
  local name=$1; shift
  local lo0 lo1 t0 t1
  sync
  lo0=$(lo_rx); t0=$(date +%s.%N)
  "$@" --quiet >/dev/null || { log "$name failed: $*"; exit 1; }
  t1=$(date +%s.%N); lo1=$(lo_rx)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  SECS[$name]+="$secs "
  MOVED[$name]+="$((lo1 - lo0)) "
  log "$(printf '%-22s %7.3f s  lo %11d B' "$name" "$secs" "$((lo1 - lo0))")"
}

for run in $(seq "$RUNS"); do
  log "arca run $run of $RUNS"
  start_registry
  rm -rf "$T/c"*  "$T/o"*
  a=(--store "$T/c1")
  measure push_v1_cold "$bin/arca" push "$T/v1" "$host/bench/model:v1" "${a[@]}"
  measure push_v1_warm "$bin/arca" push "$T/v1" "$host/bench/model:v1" "${a[@]}"
  measure push_v2_after_v1 "$bin/arca" push "$T/v2" "$host/bench/model:v2" "${a[@]}"
  a=(--store "$T/c2")
  measure pull_v1_cold "$bin/arca" pull --allow-unsigned "$host/bench/model:v1" "$T/o1" "${a[@]}"
  measure pull_v1_warm "$bin/arca" pull --allow-unsigned "$host/bench/model:v1" "$T/o1" "${a[@]}"
  measure pull_v1_warm_cache_new_dir "$bin/arca" pull --allow-unsigned "$host/bench/model:v1" "$T/o2" "${a[@]}"
  measure pull_v2_after_v1 "$bin/arca" pull --allow-unsigned "$host/bench/model:v2" "$T/o1" "${a[@]}"
  cmp "$T/v2/model.bin" "$T/o1/model.bin" || { log "pulled v2 differs"; exit 1; }
  measure push_random_cold "$bin/arca" push "$T/random" "$host/bench/random:v1" --store "$T/c3"
  measure pull_random_cold "$bin/arca" pull --allow-unsigned "$host/bench/random:v1" "$T/o3" --store "$T/c4"
  cmp "$T/random/model.bin" "$T/o3/model.bin" || { log "pulled random differs"; exit 1; }
  stop_registry
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
out=$T/results.tsv
for name in push_v1_cold push_v1_warm push_v2_after_v1 pull_v1_cold pull_v1_warm pull_v1_warm_cache_new_dir \
            pull_v2_after_v1 push_random_cold pull_random_cold; do
  s=$(median <<<"${SECS[$name]}")
  m=$(median <<<"${MOVED[$name]}")
  printf 'arca\t%s\t%s\t%s\t%.1f\t%.0f\n' "$name" "$bytes" "$s" "$(awk -v b="$bytes" -v s="$s" 'BEGIN { print b / s / 1e6 }')" "$m"
done | tee "$out"

if [[ ${SKIP_PEER:-0} != 1 ]]; then
  log "peer: docker-registry + skopeo (bench/registry/peer.sh)"
  RUNS=$RUNS WORK=$T bash "$here/peer.sh" "$T/v1/model.bin" "$T/v2/model.bin" "$T/random/model.bin" | tee -a "$out"
fi

python3 - "$out" "$ideal" "$RUNS" <<'PY'
import sys
rows, ideal, runs = {}, int(sys.argv[2]), sys.argv[3]
for line in open(sys.argv[1]):
    who, case, nbytes, secs, mbs, moved = line.rstrip("\n").split("\t")
    rows[(who, case)] = (float(secs), float(mbs), int(float(moved)))
def cell(who, case):
    r = rows.get((who, case))
    return ("%.3f s" % r[0], "%.0f MB/s" % r[1], "%.1f MiB" % (r[2] / 2**20)) if r else ("-", "-", "-")
cases = ["push_v1_cold", "push_v1_warm", "push_v2_after_v1", "pull_v1_cold", "pull_v1_warm",
         "pull_v1_warm_cache_new_dir", "pull_v2_after_v1", "push_random_cold", "pull_random_cold"]
print("\n| case | Arca time | Arca rate | Arca moved | peer time | peer rate | peer moved | Arca/peer speed |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for c in cases:
    a, p = cell("arca", c), cell("peer", c)
    ra, rp = rows.get(("arca", c)), rows.get(("peer", c))
    ratio = "%.2fx" % (rp[0] / ra[0]) if ra and rp else "-"
    print("| %s | %s | %s | %s | %s | %s | %s | %s |" % ((c,) + a + p + (ratio,)))
print("\nmedians of %s runs; rate = data size / wall time; moved = bytes on lo (both directions, headers included)" % runs)
def target(name, ok, text):
    print("| %s | %s | %s |" % (name, text, "met" if ok else "MISSED"))
print("\n| target | measured | |\n|---|---|---|")
for c in ["push_v1_cold", "pull_v1_cold"]:
    a, p = rows.get(("arca", c)), rows.get(("peer", c))
    if a and p:
        target(c + " >= 3x peer", a[1] >= 3 * p[1], "%.0f vs %.0f MB/s = %.2fx" % (a[1], p[1], a[1] / p[1]))
a = rows.get(("arca", "push_v2_after_v1"))
if a:
    target("push v2 after v1 moves <= 1.2x changed bytes", a[2] <= 1.2 * ideal,
           "%.1f MiB moved / %.1f MiB changed = %.2fx" % (a[2] / 2**20, ideal / 2**20, a[2] / ideal))
w, c = rows.get(("arca", "pull_v1_warm")), rows.get(("arca", "pull_v1_cold"))
if w and c:
    target("warm pull < 10% of cold pull time", w[0] < 0.1 * c[0], "%.3f s / %.3f s = %.1f%%" % (w[0], c[0], 100 * w[0] / c[0]))
PY
