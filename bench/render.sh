#!/usr/bin/env bash
# Benchmark: `infoflash build` of the sample edition (every variant: parse, validate, render
# MJML, mrml → HTML, text, MIME) against ONE run of the reference `mjml` CLI (npm package
# `mjml`, installed here into bench/work) on the same email.mjml. Whole processes each time.
# Machines here are shared and noisy, so the result is a ratio measured in one run.
# Target: infoflash builds all variants at least 20× faster than one mjml run.
#
# Usage: bench/render.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
work=bench/work
mkdir -p "$work"

command -v npm >/dev/null || { echo "bench: npm is needed (apt-get install -y npm)" >&2; exit 2; }
if [ ! -x "$work/node_modules/.bin/mjml" ]; then
  echo "bench: installing the mjml CLI into $work" >&2
  npm install --silent --no-audit --no-fund --prefix "$work" mjml@4 >&2
fi
mjml="$work/node_modules/.bin/mjml"

cargo build --release --locked --quiet
bin=target/release/infoflash
edition=editions/2026-01-info-flash-22.toml
"$bin" build "$edition" --out "$work/out" >/dev/null 2>&1
mjml_input="$work/out/2026-01-info-flash-22/en/email.mjml"
variants=$(find "$work/out/2026-01-info-flash-22" -name email.html | wc -l)

# Median wall time, in microseconds, of RUNS runs of a command.
median_us() {
  local samples=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    samples+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ours=$(median_us "$bin" build "$edition" --out "$work/out")
theirs=$(median_us "$mjml" "$mjml_input" -o "$work/mjml-out.html")
ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.1f", a / b }')
echo "infoflash build, $variants variants (median of $runs): $((ours / 1000)) ms"
echo "mjml CLI, 1 variant (median of $runs):              $((theirs / 1000)) ms"
echo "ratio: infoflash is ${ratio}x faster (target: >= 20x)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 20) }' || { echo "bench: below target" >&2; exit 1; }
