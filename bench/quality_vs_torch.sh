#!/usr/bin/env bash
# Test MSE per pixel and training samples/s of an aepipe config next to torch_ae.py with the
# same model, init, optimizer, batch and epochs on the same data, run one after the other.
#
#   bench/quality_vs_torch.sh mnist|fashion [--epochs N] [--threads N]
#
# Model: configs/mnist_ae.yaml (784-256-128-64-128-256-784, ReLU hidden, sigmoid output,
# Xavier-uniform init, zero biases, MSE, Adam 1e-3, batch 50) = torch_ae.py --hidden relu
# --last sigmoid --init xavier --optimizer adam --batch 50.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
which=${1:-mnist}; shift || true
epochs=20 threads=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: $0 mnist|fashion [--epochs N] [--threads N]" >&2; exit 2 ;;
  esac
done
case "$which" in
  mnist) config=configs/mnist_ae.yaml data=data/mnist ;;
  fashion) config=configs/fashion_mnist_ae.yaml data=/usr/share/datasets/fashion-mnist ;;
  *) echo "unknown data set '$which' (mnist or fashion)" >&2; exit 2 ;;
esac
TORCH_AE=${TORCH_AE:-../shared/bench/torch_ae.py}
# OpenBLAS 0.3.21 misdetects these CPUs; SkylakeX kernels need AVX-512 (an AVX2-only CPU
# dies with SIGILL), so pick the best kernel set the CPU really has.
if grep -qw avx512f /proc/cpuinfo; then CORETYPE=SkylakeX
elif grep -q AuthenticAMD /proc/cpuinfo; then CORETYPE=Zen
else CORETYPE=Haswell; fi

out=$(mktemp -d)
build/aepipe run "$config" train.epochs="$epochs" --threads "$threads" --out "$out" -q
run=$(ls -d "$out"/*/)
a_mse=$(tail -1 "$run/metrics.csv" | cut -d, -f5)
a_sps=$(tail -n +2 "$run/metrics.csv" | cut -d, -f6 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
t_out=$(OPENBLAS_CORETYPE=$CORETYPE OMP_WAIT_POLICY=passive /usr/bin/python3 "$TORCH_AE" --data "$data" \
  --epochs "$epochs" --batch 50 --threads "$threads" --optimizer adam --hidden relu --last sigmoid --init xavier \
  --infer-reps 1)
t_mse=$(echo "$t_out" | sed -n 's/.*final_test_mse=\([0-9.]*\).*/\1/p')
t_sps=$(echo "$t_out" | sed -n 's/.*samples_per_s=\([0-9.,]*\) .*/\1/p' | tr ',' '\n' | sort -g |
        awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf '%s, %s epochs, batch 50, %s threads\n' "$which" "$epochs" "$threads"
printf '  aepipe      test_mse_per_px %s  median epoch samples/s %.0f  (%s)\n' "$a_mse" "$a_sps" "$run"
printf '  torch_ae.py test_mse_per_px %s  median epoch samples/s %.0f\n' "$t_mse" "$t_sps"
awk -v a="$a_sps" -v t="$t_sps" 'BEGIN {printf "  throughput ratio aepipe/torch %.2fx\n", a / t}'
