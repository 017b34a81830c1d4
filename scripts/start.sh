#!/usr/bin/env bash
# The whole system for a newcomer: installs what is missing (Redis, npm packages), starts
# PostgreSQL and Redis, applies migrations and runs the gateway plus every worker in one process
# on the embedded defaults. Stop with Ctrl-C (in-flight work finishes first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-services.sh
bash scripts/install-deps.sh
if [ -f web/package.json ] || [ -d web/src ]; then npm run --silent build:web; fi
exec node bin/trendgate.js start "$@"
