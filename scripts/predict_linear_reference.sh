#!/usr/bin/env bash
# Computes the reference values of `tests/predict_linear.rs` with Prometheus itself.
#
# Runs `promtool test rules` (Debian's `prometheus` package, 2.42.0) on PromQL expressions whose
# expected values are deliberately wrong; promtool then prints the value it got, in Go's
# shortest round-trip form, which is the exact float64. The series and evaluation times here
# must match the ones in the test.
#
# Usage: scripts/predict_linear_reference.sh   (needs promtool on PATH:
#        apt-get install -y --no-install-recommends prometheus)
set -euo pipefail

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo 'groups: []' > "$dir/rules.yml"

# The 61-point series (15 s apart from t = 0): a trend with a deterministic wobble.
wobble='120.0 123.81 125.2 123.51 128.53 131.13 130.65 136.88 140.69 132.95 140.39 136.28 138.88 147.53 144.63 148.44 149.83 148.14 153.16 155.76 155.28 161.51 156.19 157.58 165.02 160.91 163.51 172.16 169.26 173.07 174.46 172.77 177.79 171.26 179.91 186.14 180.82 182.21 189.65 185.54 188.14 196.79 193.89 197.7 189.96 197.4 202.42 195.89 204.54 210.77 205.45 206.84 214.28 210.17 212.77 212.29 218.52 222.33 214.59 222.03 227.05'
# Byte counts near 1.2e11 (41 points, 15 s apart): large values, small relative changes.
bytes='123456789012 123457793111 123458805402 123459825885 123460854560 123461791424 123462836483 123463789731 123464851174 123465820806 123466798630 123467884649 123468878857 123469881257 123470791846 123471810630 123472837606 123473872774 123474816131 123475867683 123476827424 123477795357 123478871485 123479855802 123480848311 123481849012 123482857905 123483874990 123484800264 123485833733 123486875394 123487825244 123488883289 123489849523 123490823949 123491806567 123492797377 123493796379 123494803573 123495818959 123496842537'

# expression|evaluation time
cases=(
  'predict_linear(tiny_example[1m], 60)|1m'
  'predict_linear(tiny_example[59s], 60)|1m'
  'deriv(tiny_example[1m])|1m'
  'predict_linear(tiny_example[30s], 60)|45s'
  'predict_linear(tiny_example[2m], 60)|1m30s'
  'predict_linear(tiny_example[2m], 0)|1m30s'
  'predict_linear(constant_tenth[2m], 3600)|2m'
  'predict_linear(wobble[15m], 3600)|15m'
  'predict_linear(wobble[15m], 3600)|14m37s'
  'predict_linear(wobble[5m], 600)|11m'
  'deriv(wobble[15m])|15m'
  'predict_linear(disk_bytes[10m], 86400)|10m'
  'predict_linear(disk_bytes[10m], 86400)|10m7s'
)

{
  echo 'rule_files: [rules.yml]'
  echo 'evaluation_interval: 15s'
  echo 'tests:'
  echo '  - interval: 15s'
  echo '    input_series:'
  echo "      - {series: tiny_example, values: '10 12 15 15 20'}"
  echo "      - {series: constant_tenth, values: '0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1'}"
  echo "      - {series: wobble, values: '$wobble'}"
  echo "      - {series: disk_bytes, values: '$bytes'}"
  echo '    promql_expr_test:'
  for case in "${cases[@]}"; do
    echo "      - {expr: '${case%|*}', eval_time: ${case#*|}, exp_samples: [{labels: '{}', value: -1}]}"
  done
} > "$dir/test.yml"

# promtool exits non-zero because every expectation is wrong on purpose.
(cd "$dir" && promtool test rules test.yml 2>&1 || true) | awk '
  /expr:/ { sub(/^ *expr: /, ""); expr = $0 }
  /got:/  { print expr " -> " $3 }'
