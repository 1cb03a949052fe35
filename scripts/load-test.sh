#!/usr/bin/env bash
# Load test of `seer serve` on loopback: starts a release seer with a rule watching every load
# series, drives it with many concurrent remote_write clients (examples/remote_write_load.rs),
# prints throughput, request latency and memory per active series, then stops seer.
#
#   scripts/load-test.sh [SERIES] [CLIENTS] [DURATION_SECS]      (defaults: 100000 16 60)
#
# Bounded: the generator stops after DURATION_SECS and seer is stopped afterwards. Only
# 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-100000}
clients=${2:-16}
duration=${3:-60}
port=${SEER_LOAD_PORT:-19977}

cargo build --release --bin seer --example remote_write_load
target_dir=$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')

work=$(mktemp -d)
trap 'kill "$seer_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/rules.yaml" <<RULES
anomaly_detection:
  - name: load_test_anomaly
    match: '{__name__="load_test_value"}'
    model: seasonal
    interval_width: 0.999
    warmup: 10m
    refit_every: 30m
    history: 2h
RULES
cat >"$work/seer.yml" <<CONFIG
listen_address: 127.0.0.1:$port
rules: [$work/rules.yaml]
state_dir: $work/state
checkpoint_interval_secs: 600
log_format: json
CONFIG

"$target_dir/release/seer" serve --config "$work/seer.yml" >"$work/seer.log" 2>&1 &
seer_pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.05
done

"$target_dir/release/examples/remote_write_load" --url "http://127.0.0.1:$port/api/v1/write" \
  --series "$series" --clients "$clients" --duration-secs "$duration" --seer-pid "$seer_pid"

start=$(date +%s%N)
kill -TERM "$seer_pid"
wait "$seer_pid" || true
echo "shutdown with final checkpoint: $(( ($(date +%s%N) - start) / 1000000 )) ms," \
  "checkpoint $(du -h "$work/state/checkpoint.cbor.sz" | cut -f1)"
