#!/usr/bin/env bash
# `npm run bench [-- options]`: prepares the local stack where needed, builds, and runs the
# benchmark (scripts/bench.ts; `npm run bench -- --help` lists its options). It writes BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare-local.sh
exec node dist-tools/scripts/bench.js "$@"
