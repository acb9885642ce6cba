#!/usr/bin/env bash
# Test MSE per pixel and training samples/s of a conv autoencoder config next to the same
# model in PyTorch (bench/torch_conv_ae.py: same layers, init, loss, Adam 1e-3, batch 50), on the
# same data, one after the other in this command. samples/s: median over epochs (aepipe: its
# metrics' train_samples_per_s; torch: after 20 warm-up batches of each epoch).
#
#   bench/conv_vs_torch.sh [--config configs/fashion_conv_ae.yaml] [--epochs 20] [--threads 2] [--data DIR]
# --data: a folder with {train,t10k}-images-idx3-ubyte.gz (default: the config's own files).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
config=configs/fashion_conv_ae.yaml epochs=20 threads=2 data=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: $0 [--config FILE] [--epochs N] [--threads N] [--data DIR]" >&2; exit 2 ;;
  esac
done
name=$(sed -n 's/^name: *//p' "$config")
images=$(sed -n 's/.*id: train_set, *type: idx_reader, *images: *\([^,]*\),.*/\1/p' "$config")
if [[ -z "$data" ]]; then
  case "$images" in /*) data=$(dirname "$images") ;; *) data=$(cd "$(dirname "$config")/$(dirname "$images")" && pwd) ;; esac
fi
abs=$(cd "$data" && pwd)
data_overrides "$abs"
out=${OUT:-$(mktemp -d)}
build/aepipe run "$config" train.epochs="$epochs" --threads "$threads" --out "$out" -q "${DATA_ARGS[@]}"
run=$(latest_run "$out" "$name-")
a_mse=$(tail -1 "$run/metrics.csv" | cut -d, -f5)
a_sps=$(aepipe_median_sps "$run")
t_out=$(torch_python bench/torch_conv_ae.py --data "$abs" --epochs "$epochs" --threads "$threads")
echo "$t_out" | grep '^epoch' >&2
t_mse=$(echo "$t_out" | grep '^epoch' | tail -1 | sed -n 's/.*test_mse_per_px=\([0-9.]*\).*/\1/p')
t_sps=$(torch_median_sps "$t_out")
printf '%s, %s, %s epochs, batch 50, %s threads\n' "$config" "$abs" "$epochs" "$threads"
printf '  aepipe            test MSE/px %s  median epoch samples/s %.0f  (%s)\n' "$a_mse" "$a_sps" "$run"
printf '  torch_conv_ae.py  test MSE/px %s  median epoch samples/s %.0f\n' "$t_mse" "$t_sps"
print_ratio "$a_sps" "$t_sps"
