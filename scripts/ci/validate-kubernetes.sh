#!/usr/bin/env bash
# Every manifest in deploy/kubernetes validated by kubernetes-validate (PyPI; ships the OpenAPI schemas) against
# Kubernetes 1.31, in strict mode (unknown fields are errors).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/validators-venv.sh"
K8S_VERSION=1.31.0
ensure_venv kubernetes-validate==1.37.0
manifests=("$ci_root"/deploy/kubernetes/*.yaml)
"$venv/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "${manifests[@]}"
echo "kubernetes: ${#manifests[@]} files valid against $K8S_VERSION"
