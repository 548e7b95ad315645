#!/usr/bin/env bash
# deploy/compose.yaml parsed and validated against the Compose specification by the compose-spec PyPI
# package (Rust bindings of the compose_spec crate), which rejects unknown keys and ill-typed values.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/validators-venv.sh"
ensure_venv compose-spec==0.2.1
"$venv/bin/python" - "$ci_root/deploy/compose.yaml" <<'PY'
import sys
import compose_spec

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    compose = compose_spec.PyCompose.from_yaml(f.read())
compose.validate()
print(f"{path}: valid Compose file, services {sorted(compose.service_names())}")
PY
