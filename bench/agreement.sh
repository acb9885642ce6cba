#!/usr/bin/env bash
# Do the three throughput figures agree? For each config and thread count, on one machine, in
# --repeats rounds of the three, one after the other (a busy spell of a shared host then falls
# on all three alike), each figure the median over the rounds:
#   run      median of metrics.csv's train_samples_per_s over epochs 2..E of `aepipe run`
#   profile  the `training:` line of `aepipe profile` (same steps, the first left out)
#   bench    the row of `aepipe bench --repeats 1` at that count (by default its second epoch,
#            timed whole; --steps N: N steps after its warm-up)
# All three measure steady-state training steps only; the evaluation of the epoch before runs
# between the epochs (training on every core) or beside the steps on a free core (README:
# samples/s). Prints each figure,
# its ratio to run's, and "agree" when both lie within 5% of it; exits 1 if any pair does not.
# On more than one thread each round is bracketed by build/bench/aepipe_pingpong, and the
# readings are printed: a round trip of APART_NS or more means the host had put the two vCPUs
# in different core complexes, where 2-thread training runs at about half speed
# (bench/README.md). The verdict still takes every round: the host can move the vCPUs in the
# middle of a round, so the brackets tell why a round was slow, not which rounds were clean.
# The issue asks for the check on two configs: --configs takes two or more (default: the dense
# model on Fashion-MNIST and on MNIST). Medians: bench/lib.sh's, as aepipe bench's own.
# A benchmark, not a test: run it on an otherwise idle machine and name the CPU with the result.
#
#   bench/agreement.sh [--configs "configs/fashion_mnist_ae.yaml configs/mnist_ae.yaml"]
#                      [--threads "1 2"] [--epochs 4] [--steps N] [--repeats 3] [key=value ...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
configs="configs/fashion_mnist_ae.yaml configs/mnist_ae.yaml" threads="1 2" epochs=4 steps="" repeats=3
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
read -r -a cfgs <<<"$configs"
((${#cfgs[@]} >= 2)) || { echo "--configs: the agreement is checked on at least two configs, got '$configs'" >&2; exit 2; }
[[ -x ${AEPIPE[0]} ]] || { echo "missing ${AEPIPE[0]} (bash scripts/setup.sh)" >&2; exit 1; }
(( epochs >= 2 )) || { echo "--epochs must be at least 2 (epoch 1 holds start-up)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cpu_line
printf "%-34s %7s %10s %10s %10s %8s %8s  %s\n" config threads run profile bench prof/run bench/run verdict
bad=0
for cfg in "${cfgs[@]}"; do
  d="$out/$(basename "$cfg" .yaml)"
  mkdir -p "$d"
  for t in $threads; do
    runs=() profs=() benches=() trips=() n_apart=0
    for ((r = 1; r <= repeats; r++)); do
      before=""
      ((t > 1)) && before=$(round_trip_ns)
      "${AEPIPE[@]}" run "$cfg" "${overrides[@]}" train.epochs="$epochs" --threads "$t" --out "$d/run-$t-$r" -q >/dev/null
      runs+=("$(aepipe_median_sps "$(latest_run "$d/run-$t-$r")" 2)")
      "${AEPIPE[@]}" profile "$cfg" "${overrides[@]}" train.epochs="$epochs" --threads "$t" --out "$d/prof-$t-$r" -q >/dev/null
      profs+=("$(sed -n 's/^training: .*: \([0-9.]*\) samples\/s.*/\1/p' "$(latest_run "$d/prof-$t-$r")/profile.txt")")
      window=()
      [[ -n $steps ]] && window=(--steps "$steps")
      rows=$(bench_rows "$d/bench-$t-$r.log" "$cfg" "${overrides[@]}" --threads "$t" "${window[@]}" --repeats 1 \
               --out "$d")
      benches+=("$(echo "$rows" | awk -v t="$t" '$1 == t {print $2}')")
      after=""
      ((t > 1)) && after=$(round_trip_ns)
      trips+=("${before:--}/${after:--}ns")
      n_apart=$((n_apart + $(awk -v a="${before:-0}" -v b="${after:-0}" -v n="$APART_NS" 'BEGIN {print (a >= n || b >= n) ? 1 : 0}')))
    done
    run=$(printf '%s\n' "${runs[@]}" | median)
    prof=$(printf '%s\n' "${profs[@]}" | median)
    bench=$(printf '%s\n' "${benches[@]}" | median)
    read -r pr br verdict < <(awk -v r="$run" -v p="$prof" -v b="$bench" 'BEGIN {
      ok = (p / r > 0.95 && p / r < 1.05 && b / r > 0.95 && b / r < 1.05);
      printf "%.3f %.3f %s\n", p / r, b / r, ok ? "agree" : "DISAGREE" }')
    [[ $verdict == DISAGREE ]] && bad=1
    printf "%-34s %7s %10.0f %10.0f %10.0f %8s %8s  %s\n" "$cfg" "$t" "$run" "$prof" "$bench" "$pr" "$br" "$verdict"
    echo "  rounds: run ${runs[*]}; profile ${profs[*]}; bench ${benches[*]}"
    if ((t > 1)); then
      echo "  vCPU round trip before/after each round: ${trips[*]}; $n_apart of $repeats touched $APART_NS ns or more"
    fi
  done
done
exit $bad
