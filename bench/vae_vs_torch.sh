#!/usr/bin/env bash
# Test loss in nats per image and training samples/s of configs/mnist_vae.yaml next to the
# same VAE in PyTorch (bench/torch_vae.py --vae: 784-400-20, Xavier-uniform init, zero biases,
# BCE summed per image + KL, Adam 1e-3, batch 128) on the same data, run one after the other.
#
#   bench/vae_vs_torch.sh [--epochs N] [--threads N] [--data DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
epochs=10 threads=2 data=data/mnist
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: $0 [--epochs N] [--threads N] [--data DIR]" >&2; exit 2 ;;
  esac
done
abs=$(cd "$data" && pwd)
data_overrides "$abs"
out=${OUT:-$(mktemp -d)}
build/aepipe run configs/mnist_vae.yaml train.epochs="$epochs" --threads "$threads" --out "$out" -q "${DATA_ARGS[@]}"
run=$(latest_run "$out" mnist_vae-)
last=$(tail -1 "$run/metrics.csv")
a_nats=$(echo "$last" | cut -d, -f12) a_recon=$(echo "$last" | cut -d, -f13) a_kl=$(echo "$last" | cut -d, -f14)
a_sps=$(aepipe_median_sps "$run")
t_out=$(torch_python bench/torch_vae.py --vae --data "$data" \
  --dims 784,400,20 --epochs "$epochs" --batch 128 --threads "$threads" --optimizer adam --init xavier --infer-reps 1)
echo "$t_out" | grep '^epoch' >&2
t_nats=$(echo "$t_out" | sed -n 's/.*final_test_nats_per_img=\([0-9.]*\).*/\1/p')
t_sps=$(torch_median_sps "$t_out")
printf 'VAE 784-400-20, %s, %s epochs, batch 128, %s threads\n' "$data" "$epochs" "$threads"
printf '  aepipe        test nats/image %s (recon %s + KL %s)  median epoch samples/s %.0f  (%s)\n' \
  "$a_nats" "$a_recon" "$a_kl" "$a_sps" "$run"
printf '  torch_vae.py  test nats/image %s  median epoch samples/s %.0f\n' "$t_nats" "$t_sps"
print_ratio "$a_sps" "$t_sps"
