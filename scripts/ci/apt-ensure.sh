#!/usr/bin/env bash
# apt-ensure.sh COMMAND PACKAGE: install Debian's PACKAGE unless COMMAND is already on the PATH, for a test that
# runs a real client (Graphviz's `dot` renders what `lineage trace --format dot` prints; a real zsh proves
# `lineage completion zsh`). Idempotent; fails if COMMAND is still missing afterwards.
set -euo pipefail
if [[ $# -ne 2 ]]; then echo "usage: $0 COMMAND PACKAGE" >&2; exit 64; fi
command=$1 package=$2
if command -v "$command" >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$package" >/dev/null
command -v "$command" >/dev/null
