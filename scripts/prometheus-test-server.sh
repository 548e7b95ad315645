#!/usr/bin/env bash
# A real Prometheus (Debian's `prometheus` package) on loopback for the metrics integration test, scraping
# one target every second, with its own temporary storage, on a free port.
#
#   scripts/prometheus-test-server.sh run TARGET [RULE_FILE...]
#       TARGET is host:port of a /metrics endpoint (job="lineage"). Starts Prometheus, waits until it is
#       ready, prints PROMETHEUS_URL=http://127.0.0.1:PORT on stdout, and keeps running until it gets
#       SIGTERM or SIGINT; then stops Prometheus and deletes its storage. Exits 127 when prometheus is not
#       installed (scripts/ci/install-prometheus.sh installs it), 1 when it does not become ready.
#
# Environment (optional): PROMETHEUS_TEST_START_TIMEOUT seconds to wait for readiness (default 30).
set -euo pipefail

usage() {
  echo "usage: $0 run HOST:PORT [RULE_FILE...]" >&2
  exit 64
}
[[ "${1:-}" == run && -n "${2:-}" ]] || usage
target=$2
shift 2
command -v prometheus >/dev/null || {
  echo "prometheus is not installed: run scripts/ci/install-prometheus.sh (Debian package prometheus)" >&2
  exit 127
}

work=$(mktemp -d "${TMPDIR:-/tmp}/prometheus-test.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

# A free port from the kernel (released at once; Prometheus binds it right after).
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

{
  echo "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}"
  echo "rule_files:"
  for rules in "$@"; do echo "  - '$(realpath "$rules")'"; done
  [[ $# -gt 0 ]] || echo "  []"
  echo "scrape_configs:"
  echo "  - job_name: lineage"
  echo "    static_configs: [{targets: ['$target']}]"
} >"$work/prometheus.yml"

prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pid=$!

url="http://127.0.0.1:$port"
deadline=$((SECONDS + ${PROMETHEUS_TEST_START_TIMEOUT:-30}))
until node -e 'fetch(process.argv[1]).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url/-/ready"; do
  if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
    echo "prometheus did not become ready at $url; its log:" >&2
    cat "$work/prometheus.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "PROMETHEUS_URL=$url"
wait "$pid"
