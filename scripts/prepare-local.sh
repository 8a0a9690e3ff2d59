#!/usr/bin/env bash
# Installs what the local stack needs where it is missing, and builds: used by `npm run demo` and
# `npm run bench`. Safe to run again. Needs Node 20 and PostgreSQL on 127.0.0.1:5432 (trust auth),
# as on every node-svc machine.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

# librdkafka's mock cluster is the local Kafka (see tools/kafka-mock/).
if ! dpkg-query -W -f='${Status}' librdkafka-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "== installing librdkafka-dev (the Kafka mock cluster's library)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends librdkafka-dev pkg-config >/dev/null
fi

# Start the local PostgreSQL cluster if it is installed but down.
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "== starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

if [ ! -d node_modules ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

bash tools/kafka-mock/build.sh >/dev/null

echo "== building"
npm run --silent build
npm run --silent build:tools
