#!/usr/bin/env bash
# Graphviz's `dot` renders the subgraphs `lineage trace --format dot` prints; the trace tests run it to prove
# the output is valid DOT. Idempotent: does nothing when `dot` is already on the PATH.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends graphviz >/dev/null
command -v dot >/dev/null
