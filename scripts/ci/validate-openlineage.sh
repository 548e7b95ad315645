#!/usr/bin/env bash
# The OpenLineage consumer the tests validate `lineage export --format openlineage` against: the reference
# Python client (openlineage-python, pinned), in the CI venv .venv-ci/. test/openlineage/*.integration.ts run
# scripts/ci/openlineage-check.py with it; under CI=true they fail if this step has not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/validators-venv.sh"
ensure_venv openlineage-python==1.54.0
"$venv/bin/python" -c 'import importlib.metadata as m; print("openlineage-python", m.version("openlineage-python"), "in", __import__("sys").prefix)'
