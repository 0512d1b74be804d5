#!/usr/bin/env bash
# run.sh: the mirror benchmark (issue 6). Real processes on loopback: an
# upstream `arca-registry serve` holding a model pushed and signed by `arca`,
# and a mirror data directory filled by
# `arca-registry mirror sync --config FILE --once --json`, on bench/registry's
# generated files:
#
#   v1   512 MiB of bf16 weights ~ N(0, 0.02)          (arca-bench-datagen --kind bf16)
#   v2   v1 with 5% of its 4 MiB blocks redrawn and    (arca-bench-datagen --kind v2)
#        100 bytes inserted: a fine-tune touching a fraction of the tensors
#
#   bench/mirror/run.sh [BUILD_DIR]      (default: build)
#
# Environment: RUNS (default 3; medians are reported), SIZE_MIB (default 512),
# WORK (default /tmp), PROFILE=1 to profile one more cold v1 sync with perf
# after the timed runs (PROFILE_DIR=DIR keeps the perf.data files).
#
# Each run starts from an empty upstream, an empty mirror and empty client
# caches, and measures, each as the wall time of one command:
#
#   ceiling_cat_packs      cat of the upstream's pack files to /dev/null (page cache)
#   ceiling_sha256_file    openssl dgst -sha256 of the v1 file (one SHA-256 stream, page cache)
#   ceiling_curl_packs     curl GET /v1/packs/<digest> of every upstream pack, 4 at once
#                          (the mirror's default concurrency), to /dev/null
#   sync_v1_cold           mirror sync of v1 into an empty mirror
#   sync_v1_noop           the same sync again: nothing to fetch (the fixed cost of a pass)
#   pull_v1_cold           `arca pull` of v1 from the upstream into an empty cache and
#                          a new directory (the client path the mirror reuses; it also
#                          writes the files, which the mirror does not)
#   sync_v2_after_v1       mirror sync after v2 was pushed (v1 is up to date)
#   pull_v2_after_v1       `arca pull` of v2 with the v1 cache, into the v1 directory
#   export_v1_cold_cache   `arca export REF -o v1.arca` with an empty cache (pull + write)
#   export_v1_warm_cache   the same again with the cache it filled (archive write alone)
#   import_v1              `arca-registry import v1.arca --data NEW --policy P --log-key K`
#   export_v2_since_v1     `arca export v2 -o v2.arca --since v1.arca` (cache holds v1)
#   import_v2_since_v1     import of v2.arca into the registry that imported v1.arca
#
# The export/import rows are measured only when `arca export --help` and
# `arca-registry import --help` exist in BUILD_DIR.
#
# Bytes moved: the sync's own `bytes_fetched` (pack bytes received) from its
# JSON, and every byte on `lo` (receive counter of /proc/net/dev: each packet
# in either direction, headers included) inside a private network namespace,
# as bench/registry/run.sh counts them.
#
# Ideals: for v1, the stored size of the v1 bundle at the upstream (the bytes
# of the pack files its push created there); for v2, the stored bytes of the
# chunks new in v2 (the growth of the upstream's pack files when v2 is pushed
# after v1, i.e. the packs of the chunks v2 added; cross-checked against the
# push's own `bytes_sent`). Prints TSV lines, then Markdown tables.
set -euo pipefail

build=$(realpath "${1:-build}")
bin=$build/bin
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-512}
CONCURRENCY=4

log() { printf 'run.sh: %s\n' "$*" >&2; }

for b in arca arca-registry arca-bench-datagen; do
  [[ -x $bin/$b ]] || { log "$bin/$b is missing: build first (make build)"; exit 1; }
done

# Everything runs in a private network namespace so that lo counts only it.
if [[ -z ${ARCA_BENCH_NETNS:-} ]] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  exec unshare --net env ARCA_BENCH_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
[[ -n ${ARCA_BENCH_NETNS:-} ]] || log "warning: no private network namespace; lo counts include other traffic"

T=$(mktemp -d "${WORK:-/tmp}/arca-bench-mirror.XXXXXX")
registry_pid=
cleanup() {
  if [[ -n $registry_pid ]]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

have_archive=0
if "$bin/arca" export --help >/dev/null 2>&1 && "$bin/arca-registry" import --help >/dev/null 2>&1; then
  have_archive=1
else
  log "arca export / arca-registry import are not in $bin: their rows are skipped"
fi

log "generating data (${SIZE_MIB} MiB each) in $T"
mkdir -p "$T/v1" "$T/v2"
"$bin/arca-bench-datagen" --kind bf16 --size-mib "$SIZE_MIB" --seed 1 -o "$T/v1/model.bin" >/dev/null
raw_changed=$("$bin/arca-bench-datagen" --kind v2 --size-mib "$SIZE_MIB" --seed 1 -o "$T/v2/model.bin" |
              sed -n 's/^ideal_new_bytes=//p')
bytes=$(stat -c %s "$T/v1/model.bin")
log "v1 $bytes bytes; v2 raw changed bytes $raw_changed"

# The publisher's key and the two trust policies (a site policy for the
# mirror and the importer, the same plus the upstream's log key for clients).
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_STATE_HOME=$T/home/.state
export ARCA_KEYS_DIR=$T/home/keys ARCA_POLICY=$T/home/client-policy.json ARCA_KEY_PASSPHRASE=bench
export ARCA_STATE_DIR=$T/home/state
mkdir -p "$HOME"
"$bin/arca" key generate alice --json >/dev/null
"$bin/arca" key export alice >"$T/alice.pub.json"
policy() {  # policy LOG_KEY|"" > FILE
  python3 - "$T/alice.pub.json" "$1" <<'PY'
import json, sys
p = {"schema": "arca.policy.v1", "keys": {"alice": json.load(open(sys.argv[1]))},
     "rules": [{"repositories": "bench/*", "keys": ["alice"], "threshold": 1}]}
if sys.argv[2]:
    p["logs"] = {"keys": [sys.argv[2]]}
print(json.dumps(p))
PY
}
policy "" >"$T/site-policy.json"

lo_rx() { awk '/^ *lo:/ { sub(/.*lo:/, ""); print $1 }' /proc/net/dev; }
# Bytes of the upstream's pack files (the registry's stored chunks).
pack_files() { find "$T/up" -type f -name '*.pack' "$@"; }
pack_bytes() { pack_files -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

start_registry() {
  rm -rf "$T/up"
  ARCA_TOKEN=$("$bin/arca-registry" token create --data "$T/up" --namespace bench --scope push 2>/dev/null)
  export ARCA_TOKEN
  "$bin/arca-registry" token create --data "$T/up" --namespace '*' --scope pull 2>/dev/null >"$T/pull.token"
  chmod 600 "$T/pull.token"
  up_key=$("$bin/arca-registry" log-key --data "$T/up")
  policy "$up_key" >"$ARCA_POLICY"
  coproc REG { exec "$bin/arca-registry" serve --data "$T/up" --listen 127.0.0.1:0 2>>"$T/registry.log"; }
  registry_pid=$REG_PID
  local line
  read -r line <&"${REG[0]}"
  host=$(sed -n 's|.*http://\(127\.0\.0\.1:[0-9]*\).*|\1|p' <<<"$line")
  [[ -n $host ]] || { log "registry did not start: $line"; exit 1; }
}
stop_registry() { kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=; }

mirror_config() {  # mirror_config DATA > FILE
  python3 - "$1" "$T/site-policy.json" "http://$host" "$up_key" "$T/pull.token" "$CONCURRENCY" <<'PY'
import json, sys
data, pol, url, key, tok, conc = sys.argv[1:]
print(json.dumps({"schema": "arca.mirror.v1", "data": data, "policy": pol,
                  "upstreams": [{"name": "up", "url": url, "log_key": key, "token_file": tok,
                                 "namespaces": ["bench"], "concurrency": int(conc)}]}))
PY
}

declare -A SECS MOVED FETCHED SYNCSECS CPU RCPU
# CPU seconds (user + system) of the upstream registry process so far.
registry_cpu() { if [[ -n $registry_pid ]]; then awk '{ print $14 + $15 }' "/proc/$registry_pid/stat"; else echo 0; fi; }
# measure CASE COMMAND...: times one command (stdout to $T/out/CASE.out),
# records seconds and lo bytes.
measure() {
  local name=$1; shift
  local lo0 lo1 t0 t1 secs r0 r1 cpu rcpu
  mkdir -p "$T/out"
  sync
  r0=$(registry_cpu)
  lo0=$(lo_rx); t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$T/out/$name.time" "$@" >"$T/out/$name.out" 2>"$T/out/$name.err" ||
    { log "$name failed: $*"; cat "$T/out/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N); lo1=$(lo_rx)
  r1=$(registry_cpu)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$T/out/$name.time")
  rcpu=$(awk -v a="$r0" -v b="$r1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
  SECS[$name]+="$secs "
  MOVED[$name]+="$((lo1 - lo0)) "
  CPU[$name]+="$cpu "
  RCPU[$name]+="$rcpu "
  log "$(printf '%-22s %7.3f s  lo %11d B  cpu: command %5.2f s, upstream %5.2f s (load %s)' "$name" "$secs" \
         "$((lo1 - lo0))" "$cpu" "$rcpu" "$(cut -d' ' -f1 /proc/loadavg)")"
}
# sync_json CASE: checks the sync's JSON (one model updated, none failed) and
# records bytes_fetched and the sync's own seconds.
sync_json() {
  local name=$1 fetched secs
  read -r fetched secs < <(python3 - "$T/out/$name.out" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["upstreams"][0]
if u.get("updated") != 1 or u.get("failed") != 0:
    sys.exit("unexpected sync result: %s" % json.dumps(u))
print(u["bytes_fetched"], u["seconds"])
PY
  ) || { log "$name: $(cat "$T/out/$name.out")"; exit 1; }
  FETCHED[$name]+="$fetched "
  SYNCSECS[$name]+="$secs "
  log "$(printf '%-22s bytes_fetched %d, sync says %.3f s, %s' "$name" "$fetched" "$secs" \
         "$(python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["upstreams"][0]; print("chunks_fetched %d chunks_held %d" % (u["chunks_fetched"], u["chunks_held"]))' "$T/out/$name.out")")"
}
pull_json() {  # pull_json CASE: records the pull's bytes_fetched
  FETCHED[$1]+="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_fetched"])' "$T/out/$1.out") "
}
push_sent() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_sent"])' "$T/out/$1.out"; }

declare -A IDEAL
for run in $(seq "$RUNS"); do
  log "run $run of $RUNS"
  start_registry
  rm -rf "$T/c"* "$T/o"* "$T/m"* "$T/i"* "$T"/*.arca

  # The publisher pushes v1, signed, from its own cache.
  p0=$(pack_bytes)
  measure push_v1 "$bin/arca" push "$T/v1" "$host/bench/model:v1" --sign alice --license MIT --json --store "$T/c1"
  p1=$(pack_bytes)
  IDEAL[v1_stored]+="$((p1 - p0)) "
  IDEAL[v1_push_sent]+="$(push_sent push_v1) "

  # Raw ceilings: the pack files read from the page cache, and fetched whole
  # over loopback by curl (4 at once).
  measure ceiling_cat_packs bash -c 'find "$1" -type f -name "*.pack" -print0 | xargs -0 cat >/dev/null' _ "$T/up"
  # One SHA-256 stream over the file (the mirror hashes every file whole once
  # more after its chunks, PROTOCOL.md §3.2 step 8).
  measure ceiling_sha256_file openssl dgst -sha256 "$T/v1/model.bin"
  pack_files -printf '%f\n' | sed 's/\.pack$//' >"$T/packs.txt"
  measure ceiling_curl_packs bash -c 'xargs -P "$3" -I{} curl -sSf -o /dev/null -H "Authorization: Bearer $2" "http://$1/v1/packs/sha256:{}" <"$4"' \
    _ "$host" "$(cat "$T/pull.token")" "$CONCURRENCY" "$T/packs.txt"

  # The mirror, cold.
  mirror_config "$T/m" >"$T/mirror.json"
  "$bin/arca-registry" log-key --data "$T/m" >/dev/null
  measure sync_v1_cold "$bin/arca-registry" mirror sync --config "$T/mirror.json" --once --json
  sync_json sync_v1_cold
  # The fixed cost of a pass: the same sync again, nothing to fetch.
  measure sync_v1_noop "$bin/arca-registry" mirror sync --config "$T/mirror.json" --once --json

  # The client path the mirror reuses, on the same model.
  measure pull_v1_cold "$bin/arca" pull "$host/bench/model:v1" "$T/o1" --store "$T/c2" --json
  pull_json pull_v1_cold
  cmp "$T/v1/model.bin" "$T/o1/model.bin" || { log "pulled v1 differs"; exit 1; }

  if [[ $have_archive == 1 ]]; then
    measure export_v1_cold_cache "$bin/arca" export "$host/bench/model:v1" -o "$T/v1.arca" --store "$T/c3" --quiet
    measure export_v1_warm_cache "$bin/arca" export "$host/bench/model:v1" -o "$T/v1b.arca" --store "$T/c3" --quiet
    ARCHIVE_V1+="$(stat -c %s "$T/v1.arca") "
    rm -f "$T/v1b.arca"
    measure import_v1 "$bin/arca-registry" import "$T/v1.arca" --data "$T/i" --policy "$T/site-policy.json" \
      --log-key "$up_key"
  fi

  # v2 after v1: the publisher pushes from the same cache.
  measure push_v2 "$bin/arca" push "$T/v2" "$host/bench/model:v2" --sign alice --license MIT --json --store "$T/c1"
  p2=$(pack_bytes)
  IDEAL[v2_stored]+="$((p2 - p1)) "
  IDEAL[v2_push_sent]+="$(push_sent push_v2) "

  measure sync_v2_after_v1 "$bin/arca-registry" mirror sync --config "$T/mirror.json" --once --json
  sync_json sync_v2_after_v1
  measure pull_v2_after_v1 "$bin/arca" pull "$host/bench/model:v2" "$T/o1" --store "$T/c2" --json
  pull_json pull_v2_after_v1
  cmp "$T/v2/model.bin" "$T/o1/model.bin" || { log "pulled v2 differs"; exit 1; }

  if [[ $have_archive == 1 ]]; then
    measure export_v2_since_v1 "$bin/arca" export "$host/bench/model:v2" -o "$T/v2.arca" --since "$T/v1.arca" \
      --store "$T/c3" --quiet
    ARCHIVE_V2+="$(stat -c %s "$T/v2.arca") "
    measure import_v2_since_v1 "$bin/arca-registry" import "$T/v2.arca" --data "$T/i" \
      --policy "$T/site-policy.json" --log-key "$up_key"
  fi
  if [[ ${PROFILE:-0} == 1 && $run == "$RUNS" ]]; then
    # After the timed runs: one more cold sync into a new mirror under perf
    # (the sync process and, separately, the upstream serving it).
    mirror_config "$T/mp" >"$T/mirror-profile.json"
    "$bin/arca-registry" log-key --data "$T/mp" >/dev/null
    perf record -q -F 499 -g -o "$T/perf-upstream.data" -p "$registry_pid" 2>/dev/null &
    perf_up=$!
    sleep 1
    perf record -q -F 499 -g -o "$T/perf-sync.data" -- \
      "$bin/arca-registry" mirror sync --config "$T/mirror-profile.json" --once --json >/dev/null 2>&1
    kill -INT "$perf_up"; wait "$perf_up" || true
    for who in sync upstream; do
      if [[ -n ${PROFILE_DIR:-} ]]; then cp "$T/perf-$who.data" "$PROFILE_DIR/"; fi
      for key in dso symbol; do
        perf report -i "$T/perf-$who.data" --no-children --sort "$key" --stdio 2>/dev/null >"$T/perf-$who-$key.txt" || true
        log "profile of the $who process during a cold v1 sync (perf, self time by $key, top 20):"
        grep -E '^ +[0-9]' "$T/perf-$who-$key.txt" | sed -n 1,20p | sed 's/  */ /g' | cut -c1-110 >&2 || true
      done
    done
  fi
  stop_registry
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
out=$T/results.tsv
{
  printf 'machine\t%s\t%s\n' "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" "$(nproc)"
  printf 'runs\t%s\n' "$RUNS"
  printf 'file_bytes\t%s\n' "$bytes"
  printf 'raw_changed\t%s\n' "$raw_changed"
  for k in v1_stored v1_push_sent v2_stored v2_push_sent; do printf 'ideal\t%s\t%s\n' "$k" "$(median <<<"${IDEAL[$k]}")"; done
  printf 'archive\tv1\t%s\n' "$(median <<<"${ARCHIVE_V1:-}")"
  printf 'archive\tv2\t%s\n' "$(median <<<"${ARCHIVE_V2:-}")"
  for name in push_v1 ceiling_cat_packs ceiling_sha256_file ceiling_curl_packs sync_v1_cold sync_v1_noop pull_v1_cold export_v1_cold_cache \
              export_v1_warm_cache import_v1 push_v2 sync_v2_after_v1 pull_v2_after_v1 export_v2_since_v1 \
              import_v2_since_v1; do
    [[ -n ${SECS[$name]:-} ]] || continue
    printf 'case\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(median <<<"${SECS[$name]}")" "$(median <<<"${MOVED[$name]}")" \
      "$(median <<<"${FETCHED[$name]:-}")" "$(median <<<"${SYNCSECS[$name]:-}")" "${SECS[$name]}" \
      "$(median <<<"${CPU[$name]}")" "$(median <<<"${RCPU[$name]}")"
  done
} | tee "$out"
if [[ -n ${KEEP_TSV:-} ]]; then cp "$out" "$KEEP_TSV"; fi

python3 - "$out" <<'PY'
import sys
ideal, case, archive = {}, {}, {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "machine": machine = "%s, %s hardware threads" % (f[1], f[2])
    elif f[0] == "runs": runs = f[1]
    elif f[0] == "file_bytes": size = int(f[1])
    elif f[0] == "raw_changed": raw_changed = int(f[1])
    elif f[0] == "ideal": ideal[f[1]] = int(float(f[2]))
    elif f[0] == "archive" and f[2]: archive[f[1]] = int(float(f[2]))
    elif f[0] == "case":
        case[f[1]] = dict(secs=float(f[2]), lo=int(float(f[3])), fetched=int(float(f[4])) if f[4] else None,
                          syncsecs=float(f[5]) if f[5] else None, all=f[6].split(),
                          cpu=float(f[7]), rcpu=float(f[8]))
MiB = 2**20
v1s, v2s = ideal["v1_stored"], ideal["v2_stored"]
print("\nmachine: %s; medians of %s runs; file = %.0f MiB; rate = file bytes / wall time" % (machine, runs, size / MiB))
print("v1 stored at the upstream (its push's new pack bytes): %.1f MiB (push bytes_sent %.1f MiB)" %
      (v1s / MiB, ideal["v1_push_sent"] / MiB))
print("v2 new chunks stored at the upstream (pack bytes added by the v2 push): %.2f MiB (push bytes_sent %.2f MiB; "
      "raw changed bytes %.2f MiB)" % (v2s / MiB, ideal["v2_push_sent"] / MiB, raw_changed / MiB))
rows = [("ceiling_cat_packs", v1s, "v1 packs"), ("ceiling_sha256_file", v1s, "v1 packs"), ("ceiling_curl_packs", v1s, "v1 packs"),
        ("sync_v1_cold", v1s, "v1 stored"), ("sync_v1_noop", v1s, "v1 stored"), ("pull_v1_cold", v1s, "v1 stored"),
        ("sync_v2_after_v1", v2s, "v2 new stored"), ("pull_v2_after_v1", v2s, "v2 new stored"),
        ("export_v1_cold_cache", v1s, "v1 stored"), ("export_v1_warm_cache", v1s, "v1 stored"),
        ("import_v1", v1s, "v1 stored"), ("export_v2_since_v1", v2s, "v2 new stored"),
        ("import_v2_since_v1", v2s, "v2 new stored"),
        ("push_v1", v1s, "v1 stored"), ("push_v2", v2s, "v2 new stored")]
print("\n| case | time (median) | file MB/s | bytes moved (sync, pull: bytes_fetched) | moved / s | on lo | ideal | moved / ideal | CPU s: command / upstream | runs (s) |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
for name, ideal_b, what in rows:
    c = case.get(name)
    if not c: continue
    moved = c["fetched"]
    if moved is None and name.startswith(("export", "import")):
        moved = archive.get("v1" if "v1" in name and "since" not in name else "v2")
    if moved is None and name.startswith("ceiling"): moved = v1s
    if name in ("ceiling_sha256_file", "sync_v1_noop"): moved = None
    rate = size / c["secs"] / 1e6
    mv = "%.2f MiB" % (moved / MiB) if moved is not None else "-"
    mvs = "%.0f MB/s" % (moved / c["secs"] / 1e6) if moved is not None else "-"
    ratio = "%.3fx" % (moved / ideal_b) if moved is not None else "-"
    if name in ("ceiling_cat_packs", "ceiling_sha256_file"): lo = "-"
    else: lo = "%.2f MiB" % (c["lo"] / MiB)
    print("| %s | %.3f s | %.0f | %s | %s | %s | %.2f MiB (%s) | %s | %.2f / %.2f | %s |" %
          (name, c["secs"], rate, mv, mvs, lo, ideal_b / MiB, what, ratio, c["cpu"], c["rcpu"], " ".join(c["all"])))
print("\nexport/import rows: bytes moved = the archive's size (v2: incremental, --since v1).")
print("v2 rows: file MB/s is v2's size / time although only the changed part moves.")
def target(name, ok, text):
    print("| %s | %s | %s |" % (name, text, "met" if ok else "MISSED"))
print("\n| target | measured | |\n|---|---|---|")
s1 = case.get("sync_v1_cold")
if s1:
    r = size / s1["secs"] / 1e6
    target("v1 sync >= 500 MB/s", r >= 500, "%.0f MB/s (%.0f MiB in %.3f s; pack bytes %.0f MB/s)" %
           (r, size / MiB, s1["secs"], s1["fetched"] / s1["secs"] / 1e6))
s2 = case.get("sync_v2_after_v1")
if s2:
    target("v2 moves <= 1.2x changed bytes", s2["fetched"] <= 1.2 * v2s,
           "%.2f MiB fetched / %.2f MiB new stored = %.3fx (on lo %.2f MiB = %.3fx; vs raw changed %.2f MiB: %.3fx)" %
           (s2["fetched"] / MiB, v2s / MiB, s2["fetched"] / v2s, s2["lo"] / MiB, s2["lo"] / v2s,
            raw_changed / MiB, s2["fetched"] / raw_changed))
p1 = case.get("pull_v1_cold")
if s1 and p1:
    print("\nsync_v1_cold / pull_v1_cold time: %.2f; sync / curl ceiling: %.2f; sync / cat ceiling: %.2f" %
          (s1["secs"] / p1["secs"], s1["secs"] / case["ceiling_curl_packs"]["secs"],
           s1["secs"] / case["ceiling_cat_packs"]["secs"]))
PY
