#!/usr/bin/env bash
# systemd-analyze verify on every unit in deploy/systemd, plus the drop-in that `--restart` writes. A
# throw-away root holds the units, stand-in executables at the paths the units name, and the system's own
# units (verify needs sysinit.target), so nothing is installed on the machine itself. systemd-analyze exits 0
# on warnings (unknown keys, bad values), so any output fails the check. Installs Debian's systemd if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp -r deploy/systemd/. "$root/etc/systemd/system/"
# Every absolute executable the units run must exist (and be executable) inside the root.
for exe in $(grep -hoE '^Exec[A-Za-z]*=[-@!+:]*/[^ ]+' deploy/systemd/*.service | sed -E 's/^[^=]+=[-@!+:]*//' | sort -u); do
  mkdir -p "$root$(dirname "$exe")"
  printf '#!/bin/sh\n' >"$root$exe"
  chmod +x "$root$exe"
done
units=()
for unit in deploy/systemd/*.service deploy/systemd/*.timer; do units+=("$root/etc/systemd/system/$(basename "$unit")"); done
out=$(systemd-analyze verify --man=no --root="$root" "${units[@]}" 2>&1) || { echo "$out"; exit 1; }
if [[ -n "$out" ]]; then echo "$out"; exit 1; fi
echo "systemd: ${#units[@]} units verified ($(systemd-analyze --version | head -1))"
