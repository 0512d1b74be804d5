#!/usr/bin/env bash
# `arca audit` over HTTP against a real arca-registry serving a log of
# ENTRIES entries (default 1,000,000; built by arca-bench-log --keep): the
# whole command, from the checkpoint to the last entry rehashed, RUNS times
# (default 3) with 1 and 4 connections. Prints a Markdown table of medians.
# Usage: bench/log/audit.sh BUILD_DIR
set -euo pipefail
bin="$1/bin"
entries=${ENTRIES:-1000000}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/arca-bench-audit-XXXXXX)
registry=""
cleanup() {
  [ -n "$registry" ] && kill "$registry" 2>/dev/null && wait "$registry" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "building a log of $entries entries ..." >&2
"$bin/arca-bench-log" --entries "$entries" --runs 1 --samples 10 --keep --work "$work/bench" >/dev/null
data="$work/bench/big"
key=$(cat "$data/keys/log.verifier")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/arca-registry" serve --data "$data" --listen "127.0.0.1:$port" --anonymous-pull >/dev/null 2>"$work/registry.log" &
registry=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v1/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| connections | runs | median s | entries/s |"
echo "| ---: | ---: | ---: | ---: |"
for jobs in 1 4; do
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    ARCA_STATE_DIR="$work/state" "$bin/arca" audit "127.0.0.1:$port" --log-key "$key" --jobs "$jobs" >/dev/null
    end=$(date +%s.%N)
    times+=("$(python3 -c "print($end - $start)")")
  done
  m=$(printf '%s\n' "${times[@]}" | median)
  printf '| %d | %d | %.2f | %.0f |\n' "$jobs" "$runs" "$m" "$(python3 -c "print($entries / $m)")"
done
