#!/usr/bin/env bash
# Builds tools/kafka-mock/kafka-mock from launcher.c against the system
# librdkafka (Debian/Ubuntu: librdkafka-dev). Safe to run repeatedly: it
# rebuilds only when the binary is missing or older than its source or this
# script. Set FORCE=1 to rebuild anyway, CC to choose the compiler.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/launcher.c"
out="$here/kafka-mock"
cc="${CC:-cc}"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "kafka-mock build: C compiler '$cc' not found; install one (apt-get install build-essential)" >&2
  exit 1
fi

if [[ "${FORCE:-0}" != 1 && -x "$out" && "$out" -nt "$src" && "$out" -nt "${BASH_SOURCE[0]}" ]]; then
  echo "kafka-mock build: up to date ($out)"
  exit 0
fi

# Probe for the header and the library first, so a missing package reads as
# such rather than as a wall of compiler errors.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
cat >"$probe/probe.c" <<'EOF'
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
int main(void) { return rd_kafka_mock_cluster_new == 0; }
EOF
if ! "$cc" "$probe/probe.c" -o "$probe/probe" -lrdkafka >"$probe/log" 2>&1; then
  echo "kafka-mock build: librdkafka with its mock cluster (librdkafka/rdkafka_mock.h, -lrdkafka) was not found." >&2
  echo "  Install it with:  sudo apt-get install librdkafka-dev" >&2
  echo "  Compiler said:" >&2
  sed 's/^/    /' "$probe/log" >&2
  exit 1
fi

# Build to a temporary name and rename, so a concurrent run never executes a
# half-written binary.
"$cc" -O2 -Wall -Wextra -std=c11 -o "$out.tmp.$$" "$src" -lrdkafka -lpthread
mv -f "$out.tmp.$$" "$out"
echo "kafka-mock build: built $out"
