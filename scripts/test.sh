#!/usr/bin/env bash
# Runs seer's tests. The integration tests start a real Alertmanager on loopback ports, so this
# installs Debian's prometheus-alertmanager first when it is missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  echo "installing prometheus-alertmanager (needed by the integration tests)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends prometheus-alertmanager
fi

# Unit, integration and benchmark targets (benchmarks run once each, as tests).
exec cargo test --all-targets "$@"
