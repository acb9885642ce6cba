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
# shellcheck source=bench/lib.sh
source bench/lib.sh
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

out=$(mktemp -d)
build/aepipe run "$config" train.epochs="$epochs" --threads "$threads" --out "$out" -q
run=$(latest_run "$out")
a_mse=$(tail -1 "$run/metrics.csv" | cut -d, -f5)
a_sps=$(aepipe_median_sps "$run")
t_out=$(torch_python "$TORCH_AE" --data "$data" \
  --epochs "$epochs" --batch 50 --threads "$threads" --optimizer adam --hidden relu --last sigmoid --init xavier \
  --infer-reps 1)
t_mse=$(echo "$t_out" | sed -n 's/.*final_test_mse=\([0-9.]*\).*/\1/p')
t_sps=$(torch_median_sps "$t_out")
printf '%s, %s epochs, batch 50, %s threads\n' "$which" "$epochs" "$threads"
printf '  aepipe      test_mse_per_px %s  median epoch samples/s %.0f  (%s)\n' "$a_mse" "$a_sps" "$run"
printf '  torch_ae.py test_mse_per_px %s  median epoch samples/s %.0f\n' "$t_mse" "$t_sps"
print_ratio "$a_sps" "$t_sps"
