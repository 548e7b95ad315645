#!/usr/bin/env bash
# zsh for the completion tests: test/commands/completion.test.ts drives a real zsh (compinit, zpty) to prove
# `lineage completion zsh` offers feature names and tunables. Idempotent: does nothing when zsh is on the PATH.
set -euo pipefail
if command -v zsh >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends zsh >/dev/null
command -v zsh >/dev/null
