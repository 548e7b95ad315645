#!/usr/bin/env bash
# The shipped Prometheus rules are valid and each alert fires (and only fires) as its unit test says.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
promtool check rules deploy/prometheus/lineage.rules.yml
promtool test rules deploy/prometheus/lineage.rules.test.yml
