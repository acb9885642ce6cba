#!/usr/bin/env bash
# Training samples/s across MPI ranks against one multithreaded process, on the same machine,
# with ranks x threads = cores: 1 process x C threads (no mpirun), 1 rank x C threads
# (mpirun -np 1: MPI's own cost), then R ranks x C/R threads for R = 2, 4, ... while R <= C.
# Each figure is the median of REPEATS runs of one shortened epoch (train.max_steps=STEPS) of
# configs/fashion_mnist_ae.yaml (Fashion-MNIST from Debian's dataset-fashion-mnist) at the
# global batch BATCH; samples/s is the training node's (the epoch's training time, without
# the evaluation that follows). For R > 1 rank 0 also reports the bytes reduced per step and
# the share of step time spent in the gradient allreduce (measured in the update node; that
# includes waiting for the slowest rank), with the allreduce overlapping the backward pass
# (the default with one shard per rank) and after it (train.allreduce_overlap=false).
#
#   bench/mpi_scaling.sh [--batch 128] [--steps 300] [--repeats 3] [--cores N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

batch=128 steps=300 repeats=3 cores=$(nproc)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --cores) cores=$2; shift 2 ;;
    *) echo "usage: $0 [--batch N] [--steps N] [--repeats N] [--cores N]" >&2; exit 2 ;;
  esac
done
for f in build/aepipe "$FASHION/train-images-idx3-ubyte.gz"; do
  [[ -e "$f" ]] || { echo "missing $f (build with scripts/test.sh; apt-get install dataset-fashion-mnist)" >&2; exit 1; }
done
command -v mpirun >/dev/null || { echo "no mpirun (apt-get install openmpi-bin libopenmpi-dev, rebuild)" >&2; exit 1; }

OUT=$(mktemp -d /tmp/aepipe-mpi-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
ARGS=(configs/fashion_mnist_ae.yaml train.epochs=1 "train.max_steps=$steps" "train.batch=$batch")

# run LABEL THREADS [mpirun -np R]: prints the samples/s of one run; keeps its console output.
run_once() {
  local threads=$1; shift
  local out="$OUT/run$RANDOM$RANDOM"
  "$@" build/aepipe run "${ARGS[@]}" ${EXTRA:+"$EXTRA"} --threads "$threads" --out "$out" >"$out.log" 2>&1 \
    || { cat "$out.log" >&2; exit 1; }
  # metrics.csv: epoch,steps,train_loss,test_loss,test_mse_per_px,train_samples_per_s,...
  tail -n 1 "$out"/*/metrics.csv | cut -d, -f6
  cp "$out.log" "$OUT/last.log"
}

measure() {  # LABEL THREADS [launcher...]
  local label=$1 threads=$2; shift 2
  local figures=()
  for ((k = 0; k < repeats; ++k)); do figures+=("$(run_once "$threads" "$@")"); done
  local med
  med=$(printf '%s\n' "${figures[@]}" | median)
  local comm
  comm=$(sed -n 's/^allreduce: //p' "$OUT/last.log" | head -n 1)
  printf '%-30s %10.0f samples/s  (runs: %s)%s\n' "$label" "$med" "${figures[*]}" "${comm:+  [last run: $comm]}"
  echo "$med"> "$OUT/median"
}

echo "Fashion-MNIST, configs/fashion_mnist_ae.yaml (484,944 parameters), global batch $batch, $steps steps, median of $repeats; $cores cores"
measure "1 process x $cores threads" "$cores"
base=$(cat "$OUT/median")
measure "1 rank x $cores threads" "$cores" "${MPIRUN[@]}" -np 1
for ((r = 2; r <= cores; r *= 2)); do
  (( batch % r == 0 )) || { echo "skip $r ranks: batch $batch does not divide"; continue; }
  measure "$r ranks x $((cores / r)) thread(s)" "$((cores / r))" "${MPIRUN[@]}" -np "$r"
  awk -v a="$(cat "$OUT/median")" -v b="$base" 'BEGIN {printf "%-30s %10.2fx of 1 process\n", "", a / b}'
  EXTRA=train.allreduce_overlap=false measure "  same, allreduce after bwd" "$((cores / r))" "${MPIRUN[@]}" -np "$r"
  awk -v a="$(cat "$OUT/median")" -v b="$base" 'BEGIN {printf "%-30s %10.2fx of 1 process\n", "", a / b}'
done
