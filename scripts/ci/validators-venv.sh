# Sourced by the validate-*.sh scripts: a Python venv in .venv-ci/ (git-ignored) holding the pinned PyPI
# validators. Idempotent: pip only installs what is missing or at another version.
ci_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$ci_root/.venv-ci"
ensure_venv() {
  if [[ ! -x "$venv/bin/python" ]]; then python3 -m venv "$venv"; fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
}
