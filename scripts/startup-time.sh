#!/usr/bin/env bash
# Median cold start of `lineage --version` over N runs (default 7), as an installed CLI runs it: built, with
# the oclif manifest. Usage: bash scripts/startup-time.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-7}
npx tsc -p tsconfig.build.json
npx oclif manifest >/dev/null 2>&1
trap 'rm -f oclif.manifest.json' EXIT
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  node bin/run.js --version >/dev/null
  end=$(date +%s%N)
  times+=($(((end - start) / 1000000)))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
echo "lineage --version: ${times[*]} ms; median ${median} ms over ${runs} runs"
