#!/usr/bin/env bash
# Do the three throughput figures agree? For each config and thread count, on one machine, one
# after the other:
#   run      median of metrics.csv's train_samples_per_s over epochs 2..E of `aepipe run`
#   profile  the `training:` line of `aepipe profile` (same steps, the first left out)
#   bench    the median row of `aepipe bench` (timed steps after its warm-up)
# All three measure steady-state training steps only (README: samples/s). Prints each figure,
# its ratio to run's, and "agree" when both lie within 5% of it; exits 1 if any pair does not.
# A benchmark, not a test: run it on an otherwise idle machine and name the CPU with the result.
#
#   bench/agreement.sh [--configs "configs/fashion_mnist_ae.yaml configs/mnist_ae.yaml"]
#                      [--threads "1 2"] [--epochs 4] [--steps 300] [--repeats 3] [key=value ...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
configs="configs/fashion_mnist_ae.yaml configs/mnist_ae.yaml" threads="1 2" epochs=4 steps=300 repeats=3
overrides=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --configs) configs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    *=*) overrides+=("$1"); shift ;;
    *) echo "usage: $0 [--configs \"A B\"] [--threads \"1 2\"] [--epochs N] [--steps N] [--repeats N] [key=value ...]" >&2
       exit 2 ;;
  esac
done
[[ -x build/aepipe ]] || { echo "missing build/aepipe (bash scripts/setup.sh)" >&2; exit 1; }
(( epochs >= 2 )) || { echo "--epochs must be at least 2 (epoch 1 holds start-up)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
     "ISA: $(grep -m1 -ow -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
printf "%-34s %7s %10s %10s %10s %8s %8s  %s\n" config threads run profile bench prof/run bench/run verdict
bad=0
for cfg in $configs; do
  for t in $threads; do
    d="$out/$(basename "$cfg" .yaml)-$t"
    build/aepipe run "$cfg" "${overrides[@]}" train.epochs="$epochs" --threads "$t" --out "$d/run" -q >/dev/null
    run=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "train_samples_per_s") c = i; next}
                   $1 >= 2 {print $c}' "$d"/run/*/metrics.csv | median)
    build/aepipe profile "$cfg" "${overrides[@]}" train.epochs="$epochs" --threads "$t" --out "$d/prof" -q >/dev/null
    prof=$(sed -n 's/^training: .*: \([0-9.]*\) samples\/s.*/\1/p' "$d"/prof/*/profile.txt)
    bench=$(build/aepipe bench "$cfg" "${overrides[@]}" --threads "$t" --steps "$steps" --repeats "$repeats" \
              --out "$d/bench" | awk -v t="$t" '$1 == t && NF >= 6 {print $2}')
    verdict=$(awk -v r="$run" -v p="$prof" -v b="$bench" 'BEGIN {
      ok = (p / r > 0.95 && p / r < 1.05 && b / r > 0.95 && b / r < 1.05);
      printf "%.3f %.3f %s", p / r, b / r, ok ? "agree" : "DISAGREE" }')
    [[ $verdict == *DISAGREE ]] && bad=1
    printf "%-34s %7s %10.0f %10.0f %10.0f %8s %8s  %s\n" "$cfg" "$t" "$run" "$prof" "$bench" $verdict
  done
done
exit $bad
