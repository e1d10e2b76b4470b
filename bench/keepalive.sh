#!/usr/bin/env bash
# Load benchmark of the keepalive engine (issue 4): N destinations on
# loopback addresses probed every INTERVAL by one kamsidecar process, answered
# by a responder process on 0.0.0.0:PORT (not counted). Prints probes/s, CPU
# of one core, PSS, the spread of send times per 10 ms and the time from a
# responder's death (UDP port closed) to its down event.
#
#   bench/keepalive.sh [N] [INTERVAL] [MEASURE]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
INTERVAL=${2:-1s}
MEASURE=${3:-20s}
PORT=${PORT:-5090}
bin=$(mktemp -d)
trap 'kill "$rpid" 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/keepalive" ./bench/keepalive
"$bin/keepalive" responder -listen "0.0.0.0:$PORT" -workers 2 > "$bin/responder.log" 2>&1 &
rpid=$!
for _ in $(seq 50); do grep -q ready "$bin/responder.log" && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3)"
"$bin/keepalive" run -n "$N" -interval "$INTERVAL" -port "$PORT" -measure "$MEASURE"
