#!/usr/bin/env bash
# Runs seer's tests. The integration tests start a real Prometheus and a real Alertmanager on
# loopback ports, so this installs Debian's prometheus and prometheus-alertmanager packages first
# when they are missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (needed by the integration tests)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Unit, integration and benchmark targets (benchmarks run once each, as tests).
exec cargo test --all-targets "$@"
