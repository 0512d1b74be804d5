#!/usr/bin/env bash
# The two-site example, run for real on loopback (deploy/README.md):
#
#   site A  the publisher's registry ("upstream"): `arca-registry serve --data A`
#   site B  a national mirror following A: `arca-registry serve --config B.json`
#
# A publisher pushes a signed model to A; B takes it in on its first sync pass
# (verifying A's log, the publisher's signature under B's site policy and
# every chunk); a client pulls it from B under a policy that lists the
# publisher's key and B's log key, compares the files and verifies the pulled
# directory offline. The configs are made from deploy/config/*.json with this
# run's paths, URL and keys, so the examples stay valid. The systemd units in
# deploy/systemd/ are checked with `systemd-analyze verify` when it exists.
#
# Usage: bash deploy/two-site.sh BIN_DIR [WORK_DIR]
#   BIN_DIR   holds the built `arca` and `arca-registry` (e.g. build/bin)
#   WORK_DIR  where both sites, the publisher and the client keep their files
#             (created; must be empty; kept afterwards). Default: a temporary
#             directory, removed on success and kept on failure.
# Nothing outside WORK_DIR is touched: HOME and every ARCA_* / XDG_* location
# point into it. Exit 0 on success; otherwise non-zero with the reason.
set -euo pipefail

START_TIMEOUT=20   # seconds for a server to print "listening on"
SYNC_TIMEOUT=60    # seconds for the mirror's first pass to take the model in
MODEL_MIB=4        # size of the generated weights file
REPO=acme/tiny-demo
TAG=v1

fail() {
  echo "two-site: FAILED: $*" >&2
  exit 1
}
step() { printf '== [%5ss] %s\n' "$(elapsed)" "$*"; }
t0=${EPOCHREALTIME/[.,]/}  # microseconds (bash 5)
elapsed() {
  local us=$((${EPOCHREALTIME/[.,]/} - t0))
  printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash deploy/two-site.sh BIN_DIR [WORK_DIR]" >&2
  exit 2
fi
[ -d "$1" ] || fail "BIN_DIR $1 is not a directory"
BIN=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARCA="$BIN/arca"
REG="$BIN/arca-registry"
for b in "$ARCA" "$REG"; do
  [ -x "$b" ] || fail "$b is missing: build it (cmake --build BUILD --target arca arca-registry)"
done
command -v python3 >/dev/null || fail "python3 is needed to write and read the JSON files"
# The interpreter itself: a version manager's shim may take a second a call.
PY=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 does not run"

if [ $# -eq 2 ]; then
  WORK=$2
  mkdir -p "$WORK"
  [ -z "$(ls -A "$WORK")" ] || fail "WORK_DIR $WORK is not empty"
  WORK=$(cd "$WORK" && pwd)
  KEEP_WORK=1
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/arca-two-site.XXXXXX")
  KEEP_WORK=0
fi

A_DATA="$WORK/site-a/var/lib/arca"
B_DATA="$WORK/site-b/var/lib/arca-mirror"
B_ETC="$WORK/site-b/etc/arca"
PUB="$WORK/publisher"
CLIENT="$WORK/client"
mkdir -p "$WORK/site-a/log" "$WORK/site-b/log" "$B_ETC" "$PUB/home" "$CLIENT/home"

A_PID=""
B_PID=""
SERVED_PID=""  # the server serve() started last, until the caller keeps it
stop_server() {  # PID NAME: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "two-site: $2 (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local code=$?
  trap - EXIT
  stop_server "$SERVED_PID" "a server that did not come up"
  stop_server "$B_PID" "site B"
  stop_server "$A_PID" "site A"
  if [ "$code" -ne 0 ]; then
    for f in "$WORK/site-a/log/serve.log" "$WORK/site-b/log/serve.log"; do
      [ -s "$f" ] && { echo "---- last lines of $f" >&2; tail -n 25 "$f" >&2; }
    done
    echo "two-site: the work directory is kept for inspection: $WORK" >&2
  elif [ "$KEEP_WORK" = 0 ]; then
    rm -rf "$WORK"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every process runs with HOME and the Arca locations inside WORK.
unset ARCA_STATE_DIR ARCA_CA_CERT ARCA_INSECURE_HTTP ARCA_TOKEN ARCA_POLICY ARCA_STORE ARCA_KEYS_DIR \
  ARCA_MODELS_DIR ARCA_KEY_PASSPHRASE XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME
export HOME="$WORK/home"
mkdir -p "$HOME"
PASSPHRASE=$(head -c 18 /dev/urandom | base64)

# As the publisher: own home, keyring, cache, the push token.
publisher() {
  HOME="$PUB/home" XDG_CONFIG_HOME="$PUB/home/.config" XDG_STATE_HOME="$PUB/home/.state" \
    XDG_CACHE_HOME="$PUB/home/.cache" ARCA_STORE="$PUB/cache" ARCA_KEYS_DIR="$PUB/keys" \
    ARCA_POLICY="$PUB/policy.json" ARCA_KEY_PASSPHRASE="$PASSPHRASE" ARCA_TOKEN="${PUSH_TOKEN:-}" \
    timeout 120 "$ARCA" "$@"
}
# As a client of site B: no token (B serves anonymous pull), an empty cache
# and log state of its own.
client() {
  HOME="$CLIENT/home" XDG_CONFIG_HOME="$CLIENT/home/.config" XDG_STATE_HOME="$CLIENT/home/.state" \
    XDG_CACHE_HOME="$CLIENT/home/.cache" ARCA_STORE="${CLIENT_STORE:-$CLIENT/cache}" ARCA_KEYS_DIR="$CLIENT/keys" \
    ARCA_MODELS_DIR="$CLIENT/models" ARCA_POLICY="$CLIENT/policy.json" \
    timeout 120 "$ARCA" "$@"
}
registry() { timeout 60 "$REG" "$@"; }

# Starts `arca-registry serve ARGS...` on a free loopback port; sets
# SERVED_PID and SERVED_HOST (127.0.0.1:PORT) from its "listening on" line.
serve() {
  local name=$1 log=$2
  shift 2
  : >"$log"
  "$REG" serve --listen 127.0.0.1:0 "$@" >>"$log" 2>&1 &
  SERVED_PID=$!
  SERVED_HOST=""
  local deadline=$((SECONDS + START_TIMEOUT)) line
  while [ $SECONDS -lt $deadline ]; do
    if line=$(grep -m1 -o 'listening on https\?://127\.0\.0\.1:[0-9]\+' "$log"); then
      SERVED_HOST=${line##*://}
      return 0
    fi
    kill -0 "$SERVED_PID" 2>/dev/null || { wait "$SERVED_PID" || true; cat "$log" >&2; fail "$name exited at start"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "$name printed no 'listening on' line within ${START_TIMEOUT}s"
}

# Reads a JSON template, sets fields, writes the result (mode 0644).
#   render TEMPLATE OUT PYTHON-STATEMENTS (on `c`, the parsed template)
render() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import json, os, sys
template, out, code = sys.argv[1:4]
with open(template) as f:
    c = json.load(f)
env = os.environ
exec(code)
with open(out, "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PY
}

echo "two-site: work directory $WORK"

# ---------------------------------------------------------------- 0. units
if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify deploy/systemd/* (ExecStart pointed at $REG)"
  units="$WORK/units"
  mkdir -p "$units"
  for u in "$HERE"/systemd/*.service "$HERE"/systemd/*.timer; do
    sed "s|/usr/local/bin/arca-registry|$REG|g" "$u" >"$units/$(basename "$u")"
  done
  # verify exits 0 on warnings (unknown keys, bad values): any output fails.
  if ! out=$(cd "$units" && systemd-analyze verify ./*.service ./*.timer 2>&1) || [ -n "$out" ]; then
    echo "$out" >&2
    fail "systemd-analyze verify found problems in deploy/systemd/"
  fi
else
  step "systemd-analyze is not installed: unit check skipped"
fi

# ---------------------------------------------------------------- 1. site A
step "site A: log key, tokens (before serving)"
A_LOG_KEY=$(registry log-key --data "$A_DATA" --origin models.acme.example) || fail "log-key --data site A"
PUSH_TOKEN=$(registry token create --data "$A_DATA" --namespace acme --scope push 2>>"$WORK/site-a/log/tokens.log") ||
  { cat "$WORK/site-a/log/tokens.log" >&2; fail "push token for site A"; }
(
  umask 077
  registry token create --data "$A_DATA" --namespace '*' --scope pull >"$B_ETC/upstream.token" \
    2>>"$WORK/site-a/log/tokens.log"
) || { cat "$WORK/site-a/log/tokens.log" >&2; fail "pull token for site B"; }
chmod 0600 "$B_ETC/upstream.token"
echo "   site A log key: $A_LOG_KEY"

step "publisher: signing key and a ${MODEL_MIB} MiB model"
publisher key generate acme-release >"$PUB/keygen.log" 2>&1 || { cat "$PUB/keygen.log" >&2; fail "arca key generate"; }
PUBKEY=$(publisher key export acme-release) || fail "arca key export"
export PUBKEY
MODEL="$PUB/tiny-demo"
mkdir -p "$MODEL"
head -c $((MODEL_MIB << 20)) /dev/urandom >"$MODEL/weights.bin"
printf '{"architecture": "demo", "note": "random bytes for the two-site example"}\n' >"$MODEL/config.json"
printf 'MIT License\n\nCopyright (c) 2026 Acme\n\nPermission is hereby granted, free of charge, ...\n' >"$MODEL/LICENSE"

step "site A: arca-registry serve --data $A_DATA"
serve "site A" "$WORK/site-a/log/serve.log" --data "$A_DATA"
A_PID=$SERVED_PID SERVED_PID=""
A_HOST=$SERVED_HOST
echo "   site A at http://$A_HOST"

step "publisher: arca push --sign acme-release $A_HOST/$REPO:$TAG"
publisher push "$MODEL" "$A_HOST/$REPO:$TAG" --license MIT --license-file LICENSE \
  --sign acme-release >"$PUB/push.log" 2>&1 || { cat "$PUB/push.log" >&2; fail "push to site A"; }

# ---------------------------------------------------------------- 2. site B
step "site B: log key (before serving), site policy and mirror config from deploy/config/"
B_LOG_KEY=$(registry log-key --data "$B_DATA" --origin mirror.national.example) || fail "log-key --data site B"
export B_LOG_KEY A_LOG_KEY A_HOST B_DATA B_ETC
echo "   site B log key: $B_LOG_KEY"
render "$HERE/config/site-policy.json" "$B_ETC/site-policy.json" '
c["keys"]["acme-release"] = json.loads(env["PUBKEY"])' || fail "deploy/config/site-policy.json"
render "$HERE/config/mirror.json" "$B_ETC/mirror.json" '
c["data"] = env["B_DATA"]
c["policy"] = env["B_ETC"] + "/site-policy.json"
c["key"] = env["B_DATA"] + "/keys/mirror.key"
(u,) = c["upstreams"]
u["url"] = "http://" + env["A_HOST"]
u["token_file"] = env["B_ETC"] + "/upstream.token"
u["log_key"] = env["A_LOG_KEY"]' || fail "deploy/config/mirror.json"
# The config is parsed as the server will: fields, ranges, token file mode.
registry mirror status --config "$B_ETC/mirror.json" >"$WORK/site-b/log/status-before.txt" 2>&1 ||
  { cat "$WORK/site-b/log/status-before.txt" >&2; fail "site B's mirror config is refused"; }
# The mirror key (created now) signs site B's countersignatures; clients may
# list it so that those show as attestations rather than unknown signers.
MIRROR_KEY=$(registry mirror key --config "$B_ETC/mirror.json") || fail "mirror key of site B"
export MIRROR_KEY

step "site B: arca-registry serve --config $B_ETC/mirror.json --anonymous-pull"
serve "site B" "$WORK/site-b/log/serve.log" --config "$B_ETC/mirror.json" --anonymous-pull
B_PID=$SERVED_PID SERVED_PID=""
B_HOST=$SERVED_HOST
echo "   site B at http://$B_HOST"

step "site B: waiting for its first pass to take in $REPO:$TAG (up to ${SYNC_TIMEOUT}s)"
status_json="$WORK/site-b/log/status.json"
deadline=$((SECONDS + SYNC_TIMEOUT))
verdict=""
while :; do
  kill -0 "$B_PID" 2>/dev/null || fail "site B exited during its first pass"
  # Exit 1 means a halted upstream or a failed model: read the JSON anyway.
  registry mirror status --config "$B_ETC/mirror.json" --json >"$status_json" 2>"$status_json.err" || true
  verdict=$("$PY" - "$status_json" "$REPO:$TAG" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except ValueError:
    print("wait")  # written while we read, or not yet
    sys.exit()
(up,) = s["upstreams"]
m = up.get("models", {}).get(sys.argv[2], {})
if m.get("status") == "ok":
    print("ok")
elif up.get("state") == "halted":
    print("halted: %s %s" % (up.get("code"), up.get("message")))
elif m.get("status") in ("failed", "skipped", "shadowed", "held"):
    print("%s: %s %s" % (m["status"], m.get("code", ""), m.get("message", "")))
else:
    print("wait")
PY
  )
  [ "$verdict" = wait ] || break
  [ $SECONDS -lt $deadline ] || { cat "$status_json" >&2; fail "site B did not take in $REPO:$TAG within ${SYNC_TIMEOUT}s"; }
  sleep 0.2
done
[ "$verdict" = ok ] || { cat "$status_json" >&2; fail "site B's pass: $REPO:$TAG is $verdict"; }
registry mirror status --config "$B_ETC/mirror.json" >"$WORK/site-b/log/status.txt" ||
  { cat "$WORK/site-b/log/status.txt" >&2; fail "mirror status exits non-zero after a good pass"; }
read -r DIGEST FETCHED < <("$PY" -c '
import json, sys
up = json.load(open(sys.argv[1]))["upstreams"][0]
print(up["models"][sys.argv[2]]["digest"], up.get("bytes_fetched", 0))' "$status_json" "$REPO:$TAG")

# ---------------------------------------------------------------- 3. client
step "client: arca pull $B_HOST/$REPO:$TAG (policy: publisher key + site B's log key)"
render "$HERE/config/client-policy.json" "$CLIENT/policy.json" '
c["keys"]["acme-release"] = json.loads(env["PUBKEY"])
c["keys"]["national-mirror"] = json.loads(env["MIRROR_KEY"])
c["logs"]["keys"] = [env["B_LOG_KEY"]]' || fail "deploy/config/client-policy.json"
PULLED="$CLIENT/tiny-demo"
client pull "$B_HOST/$REPO:$TAG" "$PULLED" --policy "$CLIENT/policy.json" >"$CLIENT/pull.log" 2>&1 ||
  { cat "$CLIENT/pull.log" >&2; fail "pull from site B"; }
(cd "$MODEL" && find . -type f | sort) >"$CLIENT/files.expected"
(cd "$PULLED" && find . -path ./.arca -prune -o -type f -print | sort) >"$CLIENT/files.pulled"
diff "$CLIENT/files.expected" "$CLIENT/files.pulled" >&2 || fail "the pulled directory holds other files than the model"
while read -r f; do
  cmp "$MODEL/$f" "$PULLED/$f" || fail "pulled $f differs from the published one"
done <"$CLIENT/files.expected"

step "client: arca verify $PULLED (offline)"
client verify "$PULLED" --policy "$CLIENT/policy.json" >"$CLIENT/verify.log" 2>&1 ||
  { cat "$CLIENT/verify.log" >&2; fail "arca verify of the pulled directory"; }
grep -q 'verdict *OK' "$CLIENT/verify.log" || { cat "$CLIENT/verify.log" >&2; fail "arca verify did not say OK"; }
grep -q 'counted.*acme-release' "$CLIENT/verify.log" ||
  { cat "$CLIENT/verify.log" >&2; fail "arca verify did not count the publisher's signature"; }
grep -q 'attestation *urn:arca:predicate:mirror:v1 signed by key national-mirror' "$CLIENT/verify.log" ||
  { cat "$CLIENT/verify.log" >&2; fail "arca verify did not show site B's countersignature"; }
! grep -qi 'warning' "$CLIENT/verify.log" || { cat "$CLIENT/verify.log" >&2; fail "arca verify warned"; }

step "client: site B's countersignature rides along; site A's log key does not vouch for site B"
client attestations "$B_HOST/$REPO:$TAG" --json --policy "$CLIENT/policy.json" >"$CLIENT/attestations.json" 2>&1 ||
  { cat "$CLIENT/attestations.json" >&2; fail "arca attestations from site B"; }
grep -q 'urn:arca:predicate:mirror:v1' "$CLIENT/attestations.json" ||
  { cat "$CLIENT/attestations.json" >&2; fail "no mirror countersignature on the bundle served by site B"; }
render "$CLIENT/policy.json" "$CLIENT/wrong-log-policy.json" 'c["logs"]["keys"] = [env["A_LOG_KEY"]]'
if CLIENT_STORE="$CLIENT/cache-wrong" client pull "$B_HOST/$REPO:$TAG" "$CLIENT/wrong" \
  --policy "$CLIENT/wrong-log-policy.json" >"$CLIENT/wrong-pull.log" 2>&1; then
  fail "a pull from site B under site A's log key was accepted"
fi

# ---------------------------------------------------------------- 4. done
total=$(elapsed)
cat <<EOF

two-site: OK in ${total}s
  site A  http://$A_HOST   data $A_DATA
          log $A_LOG_KEY
  site B  http://$B_HOST   config $B_ETC/mirror.json
          log $B_LOG_KEY
  model   $REPO:$TAG  $DIGEST  (${MODEL_MIB} MiB + config.json + LICENSE)
          pushed signed to A, taken in by B's first pass ($FETCHED bytes fetched),
          pulled from B and verified (publisher signature, B's log, every byte)
EOF
