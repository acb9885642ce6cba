#!/usr/bin/env bash
# Issue 14's sixteen-core sweep, in one call on the device host (16 cores, Ubuntu 24.04, no
# package access), from the bundle bench/make_device_bundle.sh makes (device/: the Release
# binary, its libraries, configs/fashion_mnist_ae.yaml and the Fashion-MNIST files); the
# libraries are unpacked to a temporary folder that LD_LIBRARY_PATH names for aepipe alone.
# configs/fashion_mnist_ae.yaml at batch 64, 256 and 1024, each over the thread counts 1 2 4 8
# 16: `aepipe bench`'s samples/s (median of --repeats; the measure of bench/scaling.sh), GFLOP/s,
# % of the f32 FMA peak at that count, speedup over 1 thread and the FMA probe's own speedup.
# Goals, PASS/FAIL: >= 8x from 1 to 16 threads at batch 256; >= 100,000 samples/s at batch 64
# on 16 threads. About 3 minutes on the 16-core host (bench/README.md has the device call).
#
#   bash bench/device_sweep.sh [--bundle device] [--threads "1 2 4 8 16"] [--batches "64 256 1024"]
#                              [--repeats 3] [--samples 48000] [--quick] [--out DIR]
# --quick: 1,000 samples per timed run, 1 repeat (a smoke run). DIR (default
# runs/device-sweep-DATE-TIME; on the device host $OUT) gets sweep.csv, summary.txt, bench.log
# (every bench's console: each repeat's figure and probe) and bench_speedup-bBATCH.svg: six
# files, inside the device tool's eight.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

bundle=device threads="1 2 4 8 16" batches="64 256 1024" repeats=3 samples=48000 out=""
usage() {
  echo "usage: $0 [--bundle DIR] [--threads \"1 2 4 8 16\"] [--batches \"64 256 1024\"] [--repeats N] [--samples N] [--quick] [--out DIR]" >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) bundle=${2:-}; shift 2 ;;
    --batches) batches=${2:-}; shift 2 ;;
    *) sweep_opt "$@"; ((USED)) || usage; shift "$USED" ;;
  esac
done
[[ $batches =~ ^[\ 0-9]+$ ]] || usage
sweep_opts_ok || usage
for f in aepipe lib.tar.gz configs/fashion_mnist_ae.yaml fashion-mnist/train-images-idx3-ubyte.gz; do
  [[ -e $bundle/$f ]] || { echo "missing $bundle/$f: make the bundle first (bash bench/make_device_bundle.sh)" >&2; exit 1; }
done
out=${out:-runs/device-sweep-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/lib"
tar -xzf "$bundle/lib.tar.gz" -C "$work/lib"
AEPIPE=(env "LD_LIBRARY_PATH=$work/lib" "$bundle/aepipe")
data_overrides "$bundle/fashion-mnist"
tcsv=$(thread_csv "$threads")
top=${tcsv##*,}

declare -A SPS SPEED
{
  echo "$(cpu_line); aepipe: $(head -n 1 "$bundle/MANIFEST" 2>/dev/null || echo "no MANIFEST")"
  echo "configs/fashion_mnist_ae.yaml, median of $repeats, ~$samples samples per timed run"
  printf '%6s %8s %12s %9s %7s %9s %9s\n' batch threads samples/s GFLOP/s %peak speedup "probe sp."
} | tee "$out/summary.txt"
echo "batch,threads,samples_per_s,speedup,gflops,pct_peak,peak_gflops,probe_speedup" >"$out/sweep.csv"
for b in $batches; do
  rows=$(measure_rows bench "$work/b$b" "$bundle/configs/fashion_mnist_ae.yaml" "$tcsv" "$(steps_for "$samples" "$b")" \
           "$(steps_for $((samples / 6)) "$b" 1)" "$repeats" "train.batch=$b" "${DATA_ARGS[@]}")
  cat "$work/b$b/bench.log" >>"$out/bench.log"
  cp "$work/b$b"/*-bench-*/bench_speedup.svg "$out/bench_speedup-b$b.svg"
  while read -r t sps speed gf pct peak pspd; do
    SPS[$b,$t]=$sps SPEED[$b,$t]=$speed
    echo "$b,$t,$sps,$speed,$gf,$pct,$peak,$pspd" >>"$out/sweep.csv"
    printf '%6s %8s %12.0f %9.1f %6.0f%% %8.2fx %8.2fx\n' "$b" "$t" "$sps" "$gf" "$pct" "$speed" "$pspd" | tee -a "$out/summary.txt"
  done <<<"$rows"
done

# goal LABEL VALUE TARGET: one goal line; n/a when its batch or thread count was not swept.
goal() { printf '%-46s %12s  >= %-8s %s\n' "$1" "${2:-n/a}" "$3" "$(at_least "${2:-n/a}" "$3")"; }
{
  echo
  echo "FMA probe kernel: $(probe_isa "$out/bench.log")"
  [[ $top == 16 ]] || echo "(16 threads not swept: the goals below read n/a)"
  goal "batch 256: speedup from 1 to 16 threads" "${SPEED[256,16]:-}" 8
  goal "batch 64: samples/s on 16 threads" "${SPS[64,16]:-}" 100000
} | tee -a "$out/summary.txt"
