#!/usr/bin/env bash
# The test suite against real PostgreSQL and Redis (started or installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
bash scripts/install-deps.sh
bash scripts/ensure-chromium.sh
npx vitest run "$@"
