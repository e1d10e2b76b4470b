#!/usr/bin/env bash
# bench/kamcfg.sh [RUNS]: read the same configs with real Kamailio 5.6.3
# (kamailio -c: its preprocessor and parser, module loading and fixups) and
# with kamsidecar (config: preprocessor, grammar, settings, JSON), RUNS times
# each, and print the mean wall time per run and the ratio.
#
# Configs: a generated 10,000-line config with route blocks (the one
# BenchmarkGenerated10k reads) and the largest corpus config when
# ../shared/corpus is there. Kamailio's exit status is not checked (the
# generated routes call a route that is not defined); both programs read the
# whole file either way.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v kamailio >/dev/null || { echo "kamailio is not installed (apt-get install kamailio)"; exit 1; }
go build -o "$tmp/kamsidecar" ./cmd/kamsidecar
KAMCFG_DUMP_GENERATED="$tmp/gen10k.cfg" go test ./kamcfg -run '^TestGeneratedConfig$' -count=1 >/dev/null

moddir=/usr/lib/x86_64-linux-gnu/kamailio/modules
# mean_ms DIR CMD...: mean wall time of RUNS runs of CMD in DIR, in ms.
mean_ms() {
  local dir=$1; shift
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do (cd "$dir" && "$@" >/dev/null 2>&1 || true); done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000000 ))
}

printf '%-34s %12s %14s %8s\n' config "kamailio -c" "kamsidecar" ratio
bench_one() {
  local label=$1 dir=$2 file=$3
  local k s
  k=$(mean_ms "$dir" kamailio -c -L "$moddir" -f "$file")
  s=$(mean_ms "$dir" "$tmp/kamsidecar" config -f "$file")
  printf '%-34s %9s ms %11s ms %7sx\n' "$label" "$k" "$s" "$(awk -v k="$k" -v s="$s" 'BEGIN { if (s == 0) s = 1; printf "%.1f", k / s }')"
}
bench_one "generated, 10,000 lines" "$tmp" gen10k.cfg
corpus=../shared/corpus/cfg
if [ -d "$corpus/dsiprouter__kamailio.d" ]; then
  bench_one "dsiprouter (4,326 lines + includes)" "$corpus/dsiprouter__kamailio.d" ../dsiprouter__kamailio.cfg
fi
bench_one "testdata/demo" . testdata/demo/kamailio.cfg
