#!/usr/bin/env bash
# Install Debian's prometheus package (prometheus and promtool) for the tests: the metrics unit test runs
# `promtool check metrics`, the rules check runs `promtool check/test rules`, and the Prometheus integration
# test starts its own prometheus on loopback (scripts/prometheus-test-server.sh). Idempotent: does nothing
# when both are on PATH. The package's own service is stopped: the tests start theirs on a free port.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  echo "prometheus already installed: $(prometheus --version 2>&1 | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# Without systemd (containers) nothing starts; with it, the packaged service would hold port 9090.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus
fi
echo "installed: $(prometheus --version 2>&1 | head -1)"
