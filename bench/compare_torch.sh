#!/usr/bin/env bash
# aepipe vs PyTorch (../shared/bench/torch_ae.py) on the same data, model, init, optimizer and
# batch, run one after the other, REPEATS times each; prints both medians and their ratio,
# plus aepipe's fraction of the oneDNN matmul bound and of the graph-free training loop.
#
#   bench/compare_torch.sh [--batch 256] [--threads 2] [--repeats 5] [--steps 200]
#
# The model is the seed's (configs/seed_replica.yaml: 784-256-128-64-128-256-784, sigmoid,
# N(0, 0.01) init, RMSProp 0.01), on Fashion-MNIST from Debian's dataset-fashion-mnist,
# which is also torch_ae.py's default. torch_ae.py runs with its fastest settings here:
# libopenblas0-pthread, OMP_WAIT_POLICY=passive and OPENBLAS_CORETYPE=SkylakeX where the CPU has
# AVX-512 (else Zen or Haswell: SkylakeX kernels crash an AVX2-only CPU with SIGILL).
# Both skip 20 warm-up batches; aepipe then times --steps steps, torch the rest of its epoch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

batch=256 threads=2 repeats=5 steps=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    *) echo "usage: $0 [--batch N] [--threads N] [--repeats N] [--steps N]" >&2; exit 2 ;;
  esac
done

TORCH_AE=${TORCH_AE:-../shared/bench/torch_ae.py}
# OpenBLAS 0.3.21 misdetects these CPUs; SkylakeX kernels need AVX-512 (an AVX2-only CPU
# dies with SIGILL), so pick the best kernel set the CPU really has.
if grep -qw avx512f /proc/cpuinfo; then CORETYPE=SkylakeX
elif grep -q AuthenticAMD /proc/cpuinfo; then CORETYPE=Zen
else CORETYPE=Haswell; fi
FASHION=/usr/share/datasets/fashion-mnist
for f in build/aepipe build/bench/aepipe_loop "$TORCH_AE" "$FASHION/train-images-idx3-ubyte.gz"; do
  [[ -e "$f" ]] || { echo "missing $f (build with scripts/test.sh; torch: apt-get install python3-torch libopenblas0-pthread)" >&2; exit 1; }
done

CONFIG=configs/seed_replica.yaml
DATA=(graph.nodes[0].images=$FASHION/train-images-idx3-ubyte.gz graph.nodes[5].images=$FASHION/t10k-images-idx3-ubyte.gz
      train.batch=$batch)
max_batches=$((steps + 20))

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

ae=() pt=() loop=() mm=()
for ((r = 1; r <= repeats; r++)); do
  a=$(build/aepipe bench "$CONFIG" "${DATA[@]}" --threads "$threads" --steps "$steps" --warmup 20 --repeats 1 \
        --out /tmp/aepipe-compare | awk -v t="$threads" '$1 == t {print $2}')
  p=$(OPENBLAS_CORETYPE=$CORETYPE OMP_WAIT_POLICY=passive /usr/bin/python3 "$TORCH_AE" --batch "$batch" \
        --threads "$threads" --epochs 1 --max-batches "$max_batches" --infer-reps 1 --data "$FASHION" |
      sed -n 's/.*SUMMARY.*samples_per_s=\([0-9.]*\).*/\1/p')
  l=$(build/bench/aepipe_loop "$CONFIG" "${DATA[@]}" --threads "$threads" --steps "$steps" |
      sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p')
  m=$(build/bench/aepipe_loop "$CONFIG" "${DATA[@]}" --threads "$threads" --steps "$steps" --matmul-only |
      sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p')
  printf 'run %d: aepipe %8.0f  torch %8.0f  loop %8.0f  matmul-bound %8.0f samples/s\n' "$r" "$a" "$p" "$l" "$m"
  ae+=("$a") pt+=("$p") loop+=("$l") mm+=("$m")
done
A=$(printf '%s\n' "${ae[@]}" | median); P=$(printf '%s\n' "${pt[@]}" | median)
L=$(printf '%s\n' "${loop[@]}" | median); M=$(printf '%s\n' "${mm[@]}" | median)
echo "batch=$batch threads=$threads repeats=$repeats torch OPENBLAS_CORETYPE=$CORETYPE (medians, samples/s)"
awk -v a="$A" -v p="$P" -v l="$L" -v m="$M" 'BEGIN {
  printf "aepipe %.0f  torch_ae.py %.0f  ratio aepipe/torch %.2fx\n", a, p, a / p;
  printf "matmul bound %.0f: aepipe at %.0f%% of it\n", m, 100 * a / m;
  printf "graph-free loop %.0f: pipeline at %.0f%% of it (data side hidden when >= 95%%)\n", l, 100 * a / l }'
