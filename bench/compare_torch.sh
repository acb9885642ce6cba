#!/usr/bin/env bash
# aepipe vs PyTorch (../shared/bench/torch_ae.py) on the same data, model, init, optimizer and
# batch, run one after the other, REPEATS rounds; prints both medians and their ratio, plus
# aepipe's fraction of the oneDNN matmul bound and of the graph-free training loop.
#
#   bench/compare_torch.sh [--batch 256] [--threads 2] [--repeats 5] [--steps 200] [--measure bench|run]
#
# The model is the seed's (configs/seed_replica.yaml: 784-256-128-64-128-256-784, sigmoid,
# N(0, 0.01) init, RMSProp 0.01), on Fashion-MNIST from Debian's dataset-fashion-mnist,
# which is also torch_ae.py's default. torch_ae.py runs with its fastest settings (bench/lib.sh):
# libopenblas0-pthread, OMP_WAIT_POLICY=passive and the OpenBLAS kernels the CPU supports.
# aepipe's figure is bench/scaling.sh's (bench/lib.sh measure_rows): real training steps,
# `aepipe bench` after 20 warm-up steps (or, with --measure run, aepipe run's per-epoch
# train_samples_per_s of epoch 2), the measure README's "samples/s" defines. torch_ae.py
# skips 20 warm-up batches too and times the next --steps; the loop and the matmul bound time
# --steps steps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

batch=256 threads=2 repeats=5 steps=200 measure=bench
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --measure) measure=$2; shift 2 ;;
    *) echo "usage: $0 [--batch N] [--threads N] [--repeats N] [--steps N] [--measure bench|run]" >&2; exit 2 ;;
  esac
done
[[ $measure == bench || $measure == run ]] || { echo "--measure is bench or run, not '$measure'" >&2; exit 2; }
for f in "${AEPIPE[0]}" build/bench/aepipe_loop "$TORCH_AE" "$FASHION/train-images-idx3-ubyte.gz"; do
  [[ -e "$f" ]] || { echo "missing $f (build with scripts/test.sh; torch: apt-get install python3-torch libopenblas0-pthread)" >&2; exit 1; }
done

CONFIG=configs/seed_replica.yaml
data_overrides "$FASHION"
DATA=("${DATA_ARGS[@]}" "train.batch=$batch")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The samples/s that aepipe_loop prints (graph-free step; --matmul-only: the matmul bound).
loop_sps() {
  build/bench/aepipe_loop "$CONFIG" "${DATA[@]}" --threads "$threads" --steps "$steps" "$@" |
    sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p'
}

ae=() pt=() loop=() mm=()
for ((r = 1; r <= repeats; r++)); do
  a=$(measure_rows "$measure" "$work/r$r" "$CONFIG" "$threads" "$steps" 20 1 "${DATA[@]}" |
      awk -v t="$threads" '$1 == t {print $2}')
  p=$(torch_python "$TORCH_AE" --batch "$batch" --threads "$threads" --epochs 1 --max-batches $((steps + 20)) \
        --warmup 20 --infer-reps 0 --data "$FASHION")
  p=$(torch_median_sps "$p")
  l=$(loop_sps) m=$(loop_sps --matmul-only)
  printf 'run %d: aepipe %8.0f  torch %8.0f  loop %8.0f  matmul-bound %8.0f samples/s\n' "$r" "$a" "$p" "$l" "$m"
  ae+=("$a") pt+=("$p") loop+=("$l") mm+=("$m")
done
A=$(printf '%s\n' "${ae[@]}" | median) P=$(printf '%s\n' "${pt[@]}" | median)
L=$(printf '%s\n' "${loop[@]}" | median) M=$(printf '%s\n' "${mm[@]}" | median)
cpu_line
echo "batch=$batch threads=$threads repeats=$repeats aepipe measure=$measure torch OPENBLAS_CORETYPE=$CORETYPE (medians, samples/s)"
awk -v a="$A" -v p="$P" -v l="$L" -v m="$M" 'BEGIN {
  printf "aepipe %.0f  torch_ae.py %.0f  ratio aepipe/torch %.2fx\n", a, p, a / p;
  printf "matmul bound %.0f: aepipe at %.0f%% of it\n", m, 100 * a / m;
  printf "graph-free loop %.0f: pipeline at %.0f%% of it (data side hidden when >= 95%%)\n", l, 100 * a / l }'
