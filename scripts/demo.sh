#!/usr/bin/env bash
# `npm run demo [-- options]`: prepares the local stack where needed, builds, and runs the demo
# (scripts/demo.ts; `npm run demo -- --help` lists its options).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare-local.sh
# exec: Ctrl-C and SIGTERM go straight to the demo, which stops everything it started.
exec node dist-tools/scripts/demo.js "$@"
