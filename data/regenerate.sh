#!/usr/bin/env bash
# Regenerates the bundled Parquet files from NAB's realKnownCause CSVs.
# Usage: data/regenerate.sh [NAB_DIR]   (default: ../shared/benchdata/nab)
set -euo pipefail
nab="${1:-../shared/benchdata/nab}/data/realKnownCause"
cd "$(dirname "$0")/.."
seer() { cargo run --quiet -- "$@"; }
seer convert "$nab/ec2_request_latency_system_failure.csv" --metric ec2_request_latency \
  --label source=nab --label file=ec2_request_latency_system_failure \
  --out data/ec2_request_latency_system_failure.parquet
seer convert "$nab/cpu_utilization_asg_misconfiguration.csv" --metric cpu_utilization \
  --label source=nab --label file=cpu_utilization_asg_misconfiguration \
  --out data/cpu_utilization_asg_misconfiguration.parquet
seer convert "$nab/machine_temperature_system_failure.csv" --metric machine_temperature \
  --label source=nab --label file=machine_temperature_system_failure \
  --out data/machine_temperature_system_failure.parquet
seer convert "$nab/nyc_taxi.csv" --metric nyc_taxi_passengers \
  --label source=nab --label file=nyc_taxi \
  --out data/nyc_taxi.parquet
