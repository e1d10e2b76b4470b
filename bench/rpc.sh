#!/usr/bin/env bash
# bench/rpc.sh: RPC throughput, kamcmd round trip and memory of real
# Kamailio 5.6.3 and `kamsidecar serve` in one run, on 127.0.0.1, with the
# same cfg (bench/rpc/kamailio.cfg) and the same generated dispatcher.list
# (bench/rpc, 10 and 1,000 destinations). Issue 6, item 8.
#
#   bench/rpc.sh
#   DUR=5s WARM=1s ROUNDS=5 RUNS=200 BASE_PORT=25060 bench/rpc.sh
#   CHILDREN=2 TCP_CHILDREN=2 bench/rpc.sh   # Kamailio's children= settings
#   KS_ENV="GOMAXPROCS=1" bench/rpc.sh       # environment of kamsidecar only
#   SIZES=10 CLIENTS=1 bench/rpc.sh           # only some list sizes and client counts
#   PARTS=kamcmd RUNS=400 bench/rpc.sh       # only some parts: http, kamcmd, ctl, pss
#
# For each list size both servers run side by side (Kamailio: xhttp +
# jsonrpcs on the cfg's tcp listen, ctl binrpc on a unix socket, -Y/-w a
# temp dir, -DD -E, its own process group; kamsidecar: serve
# --listen-from-cfg with other -A ports and paths), then:
#   - dispatcher.list over HTTP (POST /RPC, one keep-alive connection per
#     client) with 1 and 8 clients: req/s over DUR per server after WARM,
#     p50/p99, and the server CPU per request (all its processes), by
#     bench/rpcload; DUR is cut into ROUNDS windows and the two servers
#     take turns (K S, S K, ...) so that a change in machine load hits both;
#   - at 10 destinations: RUNS alternating runs of real kamcmd
#     `core.version` and `dispatcher.list` against each unix ctl socket
#     (kamcmd cannot print a dispatcher.list above 128 KiB), with the
#     mean difference and its 95% confidence interval;
#   - at 10 destinations: CTL_RUNS alternating calls of core.version on
#     each ctl socket by bench/rpcload itself (connect, request, reply,
#     close: the servers' part of a kamcmd run, without its 4 ms start-up);
#   - at 1,000 destinations, after the load: PSS, the sum of Pss of
#     /proc/PID/smaps_rollup over every process of each server's group.
# Before measuring, both servers' dispatcher.list replies are parsed and
# compared (same number of destinations, else the run fails).
#
# Ratios are "how many times better kamsidecar is": req/s ks/kam, time and
# memory kam/ks. Targets (issue 6): HTTP >= 1.5x at 10 destinations, >= 3x
# at 1,000; kamcmd and PSS >= 1x.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-5s}
WARM=${WARM:-1s}
RUNS=${RUNS:-200}
ROUNDS=${ROUNDS:-5}
BASE_PORT=${BASE_PORT:-25060}
PING_INTERVAL=${PING_INTERVAL:-10}
LIMIT=${LIMIT:-900} # seconds for the whole run
KS_ENV=${KS_ENV:-}   # environment of kamsidecar only, e.g. KS_ENV="GOMAXPROCS=1"
SIZES=${SIZES:-10 1000} # list sizes (destinations) to run
CLIENTS=${CLIENTS:-1 8} # HTTP client counts to run
CTL_RUNS=${CTL_RUNS:-3000}
PARTS=${PARTS:-http kamcmd ctl pss} # which measures to run
part() { [[ " ${PARTS//,/ } " == *" $1 "* ]]; }
moddir=/usr/lib/x86_64-linux-gnu/kamailio/modules
cfg=$PWD/bench/rpc/kamailio.cfg

command -v kamailio >/dev/null || { echo "kamailio is not installed (apt-get install kamailio)"; exit 1; }
command -v kamcmd >/dev/null || { echo "kamcmd is not installed (apt-get install kamailio)"; exit 1; }

# Short path: unix socket paths are limited to 108 bytes.
tmp=$(mktemp -d /tmp/rpcbench.XXXXXX)
groups=()
watchdog=
stop_group() {
  local pg=$1
  kill -TERM -- "-$pg" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 -- "-$pg" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pg" 2>/dev/null || true
}
cleanup() {
  local pg
  for pg in "${groups[@]}"; do stop_group "$pg"; done
  if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$LIMIT" & sp=$!
  wait "$sp"
  echo "bench/rpc.sh: over ${LIMIT}s, giving up" >&2
  kill -TERM $$
) &
watchdog=$!

go build -o "$tmp/kamsidecar" ./cmd/kamsidecar
go build -o "$tmp/rpcload" ./bench/rpcload
go build -o "$tmp/genlist" ./bench/rpc
load=$tmp/rpcload

kam_defines=()
[ -n "${CHILDREN:-}" ] && kam_defines+=(-A "CHILDREN=$CHILDREN")
[ -n "${TCP_CHILDREN:-}" ] && kam_defines+=(-A "TCP_CHILDREN=$TCP_CHILDREN")

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3), $(kamailio -v | head -1 | cut -d' ' -f2-3)"
echo "kamsidecar: environment ${KS_ENV:-as is} (serve sets GOMAXPROCS=1 unless GOMAXPROCS is in it; GOGC=100)"
echo "kamailio: children=${CHILDREN:-8 (default)} tcp_children=${TCP_CHILDREN:-children (default)}; jsonrpcs pretty_format=1; ds_ping_interval=$PING_INTERVAL; HTTP $DUR per server in $ROUNDS alternating windows after $WARM warm-up; kamcmd $RUNS runs each"
echo

rows=$tmp/rows
: > "$rows"
# kv KEY LINE: the value of KEY=... in LINE.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | tr -d '"'; }
# row LABEL KAM KS RATIO TARGET
row() {
  local ok
  ok=$(awk -v r="$4" -v t="$5" 'BEGIN { print (r + 0 >= t + 0) ? "ok" : "MISS" }')
  printf '%-40s %22s %22s %7sx  >=%sx %s\n' "$1" "$2" "$3" "$4" "$5" "$ok" | tee -a "$rows"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1e-9; printf "%.2f", a / b }'; }

# start_servers N: both servers on $tmp/N with N destinations.
start_servers() {
  local n=$1 d=$tmp/$1
  mkdir -p "$d/kam" "$d/ks"
  "$tmp/genlist" -n "$n" -o "$d/dispatcher.list"
  kport_sip=$BASE_PORT kport_http=$((BASE_PORT + 1))
  sport_sip=$((BASE_PORT + 10)) sport_http=$((BASE_PORT + 11))
  kam_ctl=$d/kam/ctl ks_ctl=$d/ks/ctl
  setsid kamailio -f "$cfg" -L "$moddir" -Y "$d/kam" -w "$d/kam" -DD -E \
    -A "SIP_PORT=$kport_sip" -A "HTTP_PORT=$kport_http" \
    -A "CTL_SOCK=\"unix:$kam_ctl\"" -A "DS_LIST=\"$d/dispatcher.list\"" \
    -A "PING_INTERVAL=$PING_INTERVAL" "${kam_defines[@]}" >"$d/kam.log" 2>&1 &
  kam_pg=$!
  groups+=("$kam_pg")
  # shellcheck disable=SC2086 # KS_ENV is a list of NAME=VALUE words
  (cd "$d/ks" && exec env $KS_ENV setsid "$tmp/kamsidecar" serve -f "$cfg" --listen-from-cfg \
    -A "SIP_PORT=$sport_sip" -A "HTTP_PORT=$sport_http" \
    -A "CTL_SOCK=\"unix:$ks_ctl\"" -A "DS_LIST=\"$d/dispatcher.list\"" \
    -A "PING_INTERVAL=$PING_INTERVAL" --log-level warn >"$d/ks.log" 2>&1) &
  ks_pg=$!
  groups+=("$ks_pg")
  kam_url=http://127.0.0.1:$kport_http/RPC
  ks_url=http://127.0.0.1:$sport_http/RPC
  "$load" wait -url "$kam_url" -timeout 30s || { echo "kamailio did not come up:"; tail -30 "$d/kam.log"; exit 1; }
  "$load" wait -url "$ks_url" -timeout 30s || { echo "kamsidecar did not come up:"; tail -30 "$d/ks.log"; exit 1; }
  for s in "$kam_ctl" "$ks_ctl"; do
    for _ in $(seq 100); do [ -S "$s" ] && break; sleep 0.1; done
    [ -S "$s" ] || { echo "no ctl socket $s"; exit 1; }
  done
  # The process group is the one setsid made: its leader is our child.
  [ "$(ps -o pgid= -p "$kam_pg" | tr -d ' ')" = "$kam_pg" ] || { echo "kamailio is not its own process group"; exit 1; }
  [ "$(ps -o pgid= -p "$ks_pg" | tr -d ' ')" = "$ks_pg" ] || { echo "kamsidecar is not its own process group"; exit 1; }
}

stop_servers() {
  stop_group "$kam_pg"
  stop_group "$ks_pg"
  groups=()
}

header() {
  printf '%-40s %22s %22s %8s %8s\n' measure kamailio kamsidecar ratio target
}

bench_http() {
  local n=$1 c=$2 out k s
  out=$("$load" http -url "$kam_url" -pgid "$kam_pg" -url "$ks_url" -pgid "$ks_pg" \
    -c "$c" -d "$DUR" -w "$WARM" -rounds "$ROUNDS")
  k=$(sed -n 1p <<<"$out") s=$(sed -n 2p <<<"$out")
  for x in "$k" "$s"; do
    [ "$(kv errors "$x")" = 0 ] || echo "  (errors during the run: $x)"
  done
  local target=1.5
  [ "$n" -ge 1000 ] && target=3
  row "dispatcher.list HTTP $n dst, $c cl, req/s" "$(kv rps "$k")" "$(kv rps "$s")" "$(ratio "$(kv rps "$s")" "$(kv rps "$k")")" "$target"
  printf '  %-38s %22s %22s\n' "p50 / p99 us" "$(kv p50_us "$k") / $(kv p99_us "$k")" "$(kv p50_us "$s") / $(kv p99_us "$s")"
  printf '  %-38s %22s %22s\n' "server CPU us/req, reply bytes" "$(kv cpu_us_per_req "$k"), $(kv bytes "$k")" "$(kv cpu_us_per_req "$s"), $(kv bytes "$s")"
}

bench_kamcmd() {
  local label=$1; shift
  local out
  out=$("$load" kamcmd -runs "$RUNS" "unix:$kam_ctl" "unix:$ks_ctl" -- "$@")
  row "kamcmd $label mean ms" "$(kv mean_ms_a "$out")" "$(kv mean_ms_b "$out")" "$(ratio "$(kv mean_ms_a "$out")" "$(kv mean_ms_b "$out")")" 1
  row "kamcmd $label median ms" "$(kv median_ms_a "$out")" "$(kv median_ms_b "$out")" "$(ratio "$(kv median_ms_a "$out")" "$(kv median_ms_b "$out")")" 1
  printf '  %-38s %22s   (95%% CI, paired runs)\n' "kamsidecar - kamailio, us" "$(kv diff_us "$out") +- $(kv ci95_us "$out")"
  printf '  %-38s %22s %22s   output %s\n' "output lines" "$(kv lines_a "$out")" "$(kv lines_b "$out")" "$(kv output "$out")"
}

# bench_ctl: the servers' part of a kamcmd call, without kamcmd's own
# start-up and exit (4+ ms of the run, the same for both): connect, a
# core.version request, the reply, close; CTL_RUNS calls each, alternating.
bench_ctl() {
  local out
  out=$("$load" ctl -runs "$CTL_RUNS" "$kam_ctl" "$ks_ctl")
  us() { kv "$1" "$out" | awk '{ printf "%.1f", $1 * 1000 }'; }
  # No target of its own (the issue's is the kamcmd run above): it shows
  # how much of a kamcmd run is the servers' and where they differ.
  printf '%-40s %22s %22s %7sx  (no target)\n' "ctl socket core.version mean / p50 us" \
    "$(us mean_ms_a) / $(us median_ms_a)" "$(us mean_ms_b) / $(us median_ms_b)" "$(ratio "$(kv mean_ms_a "$out")" "$(kv mean_ms_b "$out")")"
  printf '  %-38s %22s %22s\n' "p90 / p99 us" "$(us p90_ms_a) / $(us p99_ms_a)" "$(us p90_ms_b) / $(us p99_ms_b)"
  printf '  %-38s %22s   (95%% CI, paired calls)\n' "kamsidecar - kamailio, us" "$(kv diff_us "$out") +- $(kv ci95_us "$out")"
}

header
sizes=($SIZES)
part http || part pss || sizes=(10)
for n in "${sizes[@]}"; do
  start_servers "$n"
  shape=$("$load" shape -n "$n" "$kam_url" "$ks_url") || { echo "dispatcher.list replies do not match"; exit 1; }
  echo "  [$n destinations: both replies list $(kv dests "$shape") destinations; JSON $(sed -n 's/.*json=//p' <<<"$shape")]"
  if part http; then
    for c in $CLIENTS; do
      bench_http "$n" "$c"
    done
  fi
  if [ "$n" = 10 ] && part kamcmd; then
    bench_kamcmd core.version core.version # the outputs differ: each prints its own name and version
    bench_kamcmd "dispatcher.list 10 dst" dispatcher.list
  fi
  if [ "$n" = 10 ] && part ctl; then
    bench_ctl
  fi
  if [ "$n" = 1000 ] && part pss; then
    km=$("$load" pss -pgid "$kam_pg")
    sm=$("$load" pss -pgid "$ks_pg")
    row "PSS at 1000 dst, MiB" \
      "$(awk -v p="$(kv pss_kib "$km")" 'BEGIN { printf "%.1f", p / 1024 }') ($(kv procs "$km") procs)" \
      "$(awk -v p="$(kv pss_kib "$sm")" 'BEGIN { printf "%.1f", p / 1024 }') ($(kv procs "$sm") procs)" \
      "$(ratio "$(kv pss_kib "$km")" "$(kv pss_kib "$sm")")" 1
  fi
  stop_servers
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
misses=$(grep -c ' MISS$' "$rows" || true)
echo "targets missed: $misses"
