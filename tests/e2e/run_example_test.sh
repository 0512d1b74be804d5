#!/usr/bin/env bash
# `make run`'s demonstration (scripts/run-example.sh) as a test: in a scratch
# directory, on a free loopback port, with ARCA_RUN_ONCE=1 so that it stops
# after pushing (signed), pulling under the policy, verifying offline and
# running the model. Fails if any step of it fails.
set -euo pipefail
src=$1
bin=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$work"
out=$(HOME="$work/home" ARCA_RUN_ONCE=1 ARCA_PORT="$port" bash "$src/scripts/run-example.sh" "$bin/arca" 2>&1) || {
  echo "$out"
  echo "run-example.sh failed" >&2
  exit 1
}
echo "$out"
# The demonstration's claims, checked.
grep -q "pulled model.gguf is identical to the original" <<<"$out"
grep -q "verdict      OK" <<<"$out" || { echo "offline verify did not say OK" >&2; exit 1; }
grep -q "example-publisher" <<<"$out" || { echo "no signer named in the output" >&2; exit 1; }
grep -q "audit      OK" <<<"$out" || { echo "the audit did not say OK" >&2; exit 1; }
grep -q "included in log" <<<"$out" || { echo "offline verify did not check the log proof" >&2; exit 1; }
cmp var/example-model/model.gguf var/pulled/model.gguf
