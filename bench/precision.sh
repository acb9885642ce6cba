#!/usr/bin/env bash
# bf16 against f32 (train.precision; issue 14, section 4), one after the other on one machine:
#   throughput  `aepipe bench` of each config at --batch, per thread count, median of --repeats,
#               f32 then bf16, and their ratio (target: bf16 >= 1.6x f32 at batch 256)
#   quality     `aepipe run` of each quality config for --epochs at its own batch, f32 then bf16:
#               the last epoch's test MSE per pixel and bf16's difference in % (target: within 3%)
# A benchmark, not a test: run it on an otherwise idle machine with the avx512_bf16 (or AMX)
# CPU feature, and name the CPU with the result (printed first).
#
#   bench/precision.sh [--configs "configs/fashion_mnist_ae.yaml configs/fashion_conv_ae.yaml"]
#                      [--batch 256] [--threads "1 2"] [--steps 300] [--repeats 3]
#                      [--quality-configs "configs/fashion_mnist_ae.yaml"] [--epochs 20]
#                      [--quality-threads 2] [--no-quality]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh  # median, latest_run
configs="configs/fashion_mnist_ae.yaml configs/fashion_conv_ae.yaml" batch=256 threads="1 2" steps=300 repeats=3
quality_configs="configs/fashion_mnist_ae.yaml" epochs=20 quality_threads=2 quality=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --configs) configs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --quality-configs) quality_configs=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --quality-threads) quality_threads=$2; shift 2 ;;
    --no-quality) quality=0; shift ;;
    *) echo "usage: $0 [--configs \"A B\"] [--batch N] [--threads \"1 2\"] [--steps N] [--repeats N]" \
            "[--quality-configs \"A\"] [--epochs N] [--quality-threads N] [--no-quality]" >&2
       exit 2 ;;
  esac
done
[[ -x build/aepipe ]] || { echo "missing build/aepipe (bash scripts/setup.sh)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
     "flags: $(grep -m1 -ow -E 'avx512f|avx512_bf16|amx_bf16|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
# validate refuses bf16 (exit 2, naming the missing feature) where the CPU lacks it.
build/aepipe validate configs/fashion_mnist_ae.yaml train.precision=bf16 >/dev/null

list=$(echo "$threads" | tr ' ' ',')
printf "%-34s %6s %7s %12s %12s %8s\n" config batch threads f32 bf16 bf16/f32
for cfg in $configs; do
  for p in f32 bf16; do
    build/aepipe bench "$cfg" "train.batch=$batch" "train.precision=$p" --threads "$list" --steps "$steps" \
      --warmup 30 --repeats "$repeats" --out "$out" --name "tp_$p" >/dev/null
    cp "$(latest_run "$out" "tp_$p-bench-")/bench.csv" "$out/$p.csv"
    rm -rf "$out"/tp_"$p"-bench-*
  done
  for t in $threads; do
    f=$(awk -F, -v t="$t" 'NR > 1 && $1 == t {print $3}' "$out/f32.csv" | median)
    b=$(awk -F, -v t="$t" 'NR > 1 && $1 == t {print $3}' "$out/bf16.csv" | median)
    printf "%-34s %6s %7s %12.0f %12.0f %7.2fx\n" "$cfg" "$batch" "$t" "$f" "$b" "$(awk -v b="$b" -v f="$f" 'BEGIN {print b / f}')"
  done
done

(( quality )) || exit 0
printf "\n%-34s %7s %16s %16s %8s\n" config epochs "f32 test MSE" "bf16 test MSE" "bf16 diff"
for cfg in $quality_configs; do
  declare -A mse=()
  for p in f32 bf16; do
    build/aepipe run "$cfg" "train.epochs=$epochs" "train.precision=$p" --threads "$quality_threads" --out "$out" \
      --name "q_$p" --quiet
    mse[$p]=$(tail -1 "$(latest_run "$out" "q_$p-")/metrics.csv" | cut -d, -f5)
    rm -rf "$out"/q_"$p"-*
  done
  printf "%-34s %7s %16s %16s %7.2f%%\n" "$cfg" "$epochs" "${mse[f32]}" "${mse[bf16]}" \
    "$(awk -v b="${mse[bf16]}" -v f="${mse[f32]}" 'BEGIN {print 100 * (b - f) / f}')"
done
