#!/usr/bin/env bash
# peer.sh: measures the peer a registry benchmark compares Arca against,
# Debian's distribution registry (package docker-registry, 2.8.x) driven by
# skopeo, on loopback.
#
#   peer.sh V1_FILE V2_FILE RANDOM_FILE     (files made by arca-bench-datagen)
#
# Environment: RUNS (runs per measurement, default 3; medians are reported),
# WORK (directory under which a temporary work directory is made, default
# /tmp; only that temporary directory is removed at the end).
#
# Each file is packaged as an OCI image of ONE layer whose blob is the raw file
# bytes (not a tar; skopeo and the registry only move and hash blobs, so they
# accept it), media type application/vnd.oci.image.layer.v1.tar, i.e.
# uncompressed. skopeo runs with --preserve-digests, which is what keeps it from
# gzipping the layer on push (--dest-compress=false alone does not), and
# --dest-oci-accept-uncompressed-layers on pulls into an OCI layout.
#
# Cases (time = wall time of the one timed `skopeo copy`, median of RUNS):
#   push_v1_cold      v1 into an empty registry (restarted on empty storage)
#   push_v1_warm      v1 again into the registry that already holds it
#   push_v2_after_v1  v2 into a registry holding v1
#   pull_v1_cold      v1 into an empty local OCI layout
#   pull_v2_after_v1  v2 into a local OCI layout holding v1
#   pull_v1_warm      v1 into a local OCI layout already holding v1
#   push_random_cold, pull_random_cold: the same for the random file
#
# stdout: one TSV line per case,
#   peer <case> <bytes_of_data> <median_seconds> <MB_per_s> <bytes_moved>
# where MB = 1e6 bytes, MB_per_s = bytes_of_data / median_seconds (for the warm
# and after-v1 cases an effective rate), and bytes_moved = median over runs of
# the growth of the `lo` receive counter in /proc/net/dev: every byte of every
# packet on loopback in either direction, IP and TCP headers included, counted
# once. The script re-executes itself in a private network namespace
# (unshare --net) when it can, so that this lo carries only the benchmark's
# traffic; otherwise (warned on stderr) other programs' loopback traffic would
# inflate it. The log on stderr cross-checks it against the bytes the registry
# stored (pushes) or skopeo wrote into the layout (pulls), and shows the CPU
# seconds of skopeo and of the registry.
set -euo pipefail

readonly kRepo=bench/model

log() { printf 'peer.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ $# -ne 3 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
RUNS=${RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
declare -A kFile=([v1]="$1" [v2]="$2" [random]="$3")
for tag in v1 v2 random; do
  [[ -f ${kFile[$tag]} ]] || die "${kFile[$tag]}: no such file"
  kFile[$tag]=$(realpath "${kFile[$tag]}")
done

# --- Tools -----------------------------------------------------------------

install_missing() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v curl >/dev/null || missing+=(curl)
  [[ ${#missing[@]} -eq 0 ]] && return
  log "installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  # This script runs its own server on its own port and never uses the
  # package's service (which a systemd machine starts on :5000 on install).
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}" >&2
}
install_missing

# Run in a network namespace of our own when we can (root, or user namespaces
# allowed), so that its `lo` carries only this benchmark's traffic.
if [[ -z ${ARCA_PEER_NETNS:-} ]] && command -v ip >/dev/null &&
   unshare --net true 2>/dev/null; then
  # shellcheck disable=SC2016  # $0 and $@ are the inner bash's arguments
  exec unshare --net env ARCA_PEER_NETNS=1 \
    bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
if [[ -z ${ARCA_PEER_NETNS:-} ]]; then
  log "warning: no private network namespace; lo counts other programs' loopback traffic too"
fi

# --- Work directory and cleanup --------------------------------------------

mkdir -p "${WORK:-/tmp}"
TMP=$(mktemp -d "${WORK:-/tmp}/arca-peer.XXXXXX")
REG_PID=""
PORT=""

stop_registry() {
  if [[ -n $REG_PID ]]; then
    kill "$REG_PID" 2>/dev/null || true
    wait "$REG_PID" 2>/dev/null || true
    REG_PID=""
  fi
}
cleanup() {
  stop_registry
  rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Registry --------------------------------------------------------------

# Starts docker-registry on empty storage at $TMP/registry, on a free port.
fresh_registry() {
  stop_registry
  rm -rf -- "$TMP/registry"
  mkdir -p "$TMP/registry"
  local _
  for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    if command -v ss >/dev/null && ss -Htln "sport = :$PORT" | grep -q .; then continue; fi
    cat >"$TMP/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMP/registry
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
    docker-registry serve "$TMP/registry.yml" >>"$TMP/registry.log" 2>&1 &
    REG_PID=$!
    for _ in $(seq 100); do
      if ! kill -0 "$REG_PID" 2>/dev/null; then break; fi
      if curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/"; then return 0; fi
      sleep 0.1
    done
    stop_registry
  done
  tail -n 20 "$TMP/registry.log" >&2 || true
  die "docker-registry did not start"
}

# --- Source OCI layout -----------------------------------------------------

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }

# Adds image `tag` (one raw layer: `file`) to the OCI layout $TMP/src and
# prints its index.json entry.
add_image() {
  local tag=$1 file=$2 blobs=$TMP/src/blobs/sha256
  local layer layer_size config manifest
  layer=$(sha256_of "$file")
  layer_size=$(size_of "$file")
  ln -sf "$file" "$blobs/$layer"
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$layer" >"$TMP/blob"
  config=$(sha256_of "$TMP/blob")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'`
         `'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},'`
         `'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(size_of "$TMP/blob")" "$layer" "$layer_size" >"$TMP/manifest"
  mv "$TMP/blob" "$blobs/$config"
  manifest=$(sha256_of "$TMP/manifest")
  local manifest_size
  manifest_size=$(size_of "$TMP/manifest")
  mv "$TMP/manifest" "$blobs/$manifest"
  printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,'`
         `'"annotations":{"org.opencontainers.image.ref.name":"%s"}}' "$manifest" "$manifest_size" "$tag"
}

make_source_layout() {
  mkdir -p "$TMP/src/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$TMP/src/oci-layout"
  local entries=() tag
  for tag in v1 v2 random; do
    log "hashing ${kFile[$tag]} into the source OCI layout as :$tag"
    entries+=("$(add_image "$tag" "${kFile[$tag]}")")
  done
  local IFS=,
  printf '{"schemaVersion":2,"manifests":[%s]}' "${entries[*]}" >"$TMP/src/index.json"
}

# --- Measurement -----------------------------------------------------------

lo_rx() { awk '/^ *lo:/ { sub(/.*lo:/, ""); print $1 }' /proc/net/dev; }
# Sum of the sizes of the regular files under $1 (0 if it does not exist).
tree_bytes() {
  if [[ -d $1 ]]; then find "$1" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'
  else echo 0; fi
}

skopeo_copy() {
  skopeo --insecure-policy copy -q --preserve-digests \
    --src-tls-verify=false --dest-tls-verify=false \
    --dest-compress=false --dest-oci-accept-uncompressed-layers "$@"
}
push() { skopeo_copy "oci:$TMP/src:$1" "docker://127.0.0.1:$PORT/$kRepo:$1"; }
pull() { skopeo_copy "docker://127.0.0.1:$PORT/$kRepo:$1" "oci:$TMP/pull:$1"; }

declare -A SECS MOVED   # case -> space-separated per-run values

kTicks=$(getconf CLK_TCK)
readonly kTicks
# CPU seconds (user + system) used so far by the registry process.
registry_cpu() { awk -v t="$kTicks" '{ print ($14 + $15) / t }' "/proc/$REG_PID/stat"; }
# CPU seconds used so far by this shell's finished children (skopeo). `times`
# must run in this shell, not in a $(...) subshell, whose child times start at 0.
children_cpu() {
  times >"$TMP/times"
  tail -n 1 "$TMP/times" |
    awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); n += p[1] * 60 + p[2] }; print n }'
}

# timed CASE WATCH_DIR COMMAND...: runs the command once, timed, after
# flushing dirty pages (so one run's writeback does not land in the next);
# records seconds and loopback bytes, and logs the growth of WATCH_DIR and the
# CPU time of skopeo and of the registry.
timed() {
  local name=$1 watch=$2
  shift 2
  sync
  local d0 lo0 r0 t0 t1 lo1 r1 d1
  d0=$(tree_bytes "$watch")
  children_cpu >"$TMP/c0"
  r0=$(registry_cpu)
  lo0=$(lo_rx)
  t0=$EPOCHREALTIME
  "$@"
  t1=$EPOCHREALTIME
  lo1=$(lo_rx)
  r1=$(registry_cpu)
  children_cpu >"$TMP/c1"
  d1=$(tree_bytes "$watch")
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  SECS[$name]+="$secs "
  MOVED[$name]+="$((lo1 - lo0)) "
  log "$(printf '%-17s %7.3f s  lo %10d B  %-8s grew %10d B  cpu: skopeo %5.2f s, registry %5.2f s' \
    "$name" "$secs" "$((lo1 - lo0))" "${watch##*/}" "$((d1 - d0))" \
    "$(awk 'NR == FNR { a = $1; next } { print $1 - a }' "$TMP/c0" "$TMP/c1")" \
    "$(awk -v a="$r0" -v b="$r1" 'BEGIN { print b - a }')")"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
  END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

report() {
  local name=$1 bytes=$2 secs moved
  secs=$(median <<<"${SECS[$name]}")
  moved=$(median <<<"${MOVED[$name]}")
  printf 'peer\t%s\t%s\t%.3f\t%.1f\t%.0f\n' "$name" "$bytes" "$secs" \
    "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { print b / s / 1e6 }')" "$moved"
}

# --- Run -------------------------------------------------------------------

log "docker-registry: $(docker-registry --version 2>&1 | head -n1)"
log "skopeo: $(skopeo --version)"
log "runs: $RUNS; private netns: ${ARCA_PEER_NETNS:-no}; load before: $(cut -d' ' -f1-3 /proc/loadavg); work dir: $TMP"
make_source_layout
cat "${kFile[@]}" >/dev/null  # inputs in the page cache, like the registry's blobs
V1_BYTES=$(size_of "${kFile[v1]}")
V2_BYTES=$(size_of "${kFile[v2]}")
RANDOM_BYTES=$(size_of "${kFile[random]}")

for _ in $(seq "$RUNS"); do
  fresh_registry
  timed push_v1_cold "$TMP/registry" push v1
  timed push_v1_warm "$TMP/registry" push v1
done
report push_v1_cold "$V1_BYTES"
report push_v1_warm "$V1_BYTES"

for _ in $(seq "$RUNS"); do
  fresh_registry
  push v1
  timed push_v2_after_v1 "$TMP/registry" push v2
done
report push_v2_after_v1 "$V2_BYTES"

# The registry now holds v1 and v2.
for _ in $(seq "$RUNS"); do
  rm -rf -- "$TMP/pull"
  timed pull_v1_cold "$TMP/pull" pull v1
done
report pull_v1_cold "$V1_BYTES"

for _ in $(seq "$RUNS"); do
  rm -rf -- "$TMP/pull"
  pull v1
  timed pull_v2_after_v1 "$TMP/pull" pull v2
  timed pull_v1_warm "$TMP/pull" pull v1
done
report pull_v2_after_v1 "$V2_BYTES"
report pull_v1_warm "$V1_BYTES"

for _ in $(seq "$RUNS"); do
  fresh_registry
  timed push_random_cold "$TMP/registry" push random
done
report push_random_cold "$RANDOM_BYTES"

for _ in $(seq "$RUNS"); do
  rm -rf -- "$TMP/pull"
  timed pull_random_cold "$TMP/pull" pull random
done
report pull_random_cold "$RANDOM_BYTES"

log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
