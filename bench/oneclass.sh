#!/usr/bin/env bash
# The classic one-class benchmark on Fashion-MNIST: for each class c, train on the training
# images of class c only, score the whole test set by reconstruction error (class c normal, the
# other nine anomalies) and report ROC AUC per class and the mean, for three methods:
#   dense   configs/fashion_oneclass_ae.yaml (784-256-128-64-128-256-784)
#   conv    configs/fashion_conv_ae.yaml with the same class filter (64-number code)
#   PCA-64  bench/pca_baseline.py --oneclass (64 components fitted on class c)
# Epochs: 10 per class for both autoencoders (6,000 images, 120 steps of 50 an epoch; 20 runs of
# 1,200 steps), so that the whole command takes about 15 minutes on 2 cores: it took 15 on 2
# cores shared with four other builds (a quality run, not a timing).
#
#   bench/oneclass.sh [--classes "0 1 ... 9"] [--dense-epochs 10] [--conv-epochs 10] [--threads 2] [--data DIR]
# --data: a folder with Fashion-MNIST's four .gz files (default: Debian's dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
classes="0 1 2 3 4 5 6 7 8 9" dense_epochs=10 conv_epochs=10 threads=2 data=/usr/share/datasets/fashion-mnist
while [[ $# -gt 0 ]]; do
  case "$1" in
    --classes) classes=$2; shift 2 ;;
    --dense-epochs) dense_epochs=$2; shift 2 ;;
    --conv-epochs) conv_epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "usage: $0 [--classes \"0 1 ...\"] [--dense-epochs N] [--conv-epochs N] [--threads N] [--data DIR]" >&2
       exit 2 ;;
  esac
done
data=$(cd "$data" && pwd)
out=${OUT:-$(mktemp -d)}
# Every reader of the config reads $data; the training reader keeps class $c only.
paths=("graph.nodes[0].images=$data/train-images-idx3-ubyte.gz" "graph.nodes[0].labels=$data/train-labels-idx1-ubyte.gz"
       "graph.nodes[5].images=$data/t10k-images-idx3-ubyte.gz" "graph.nodes[5].labels=$data/t10k-labels-idx1-ubyte.gz")

# aepipe: train on class $2 with config $1 for $3 epochs, then the test set's AUROC.
aepipe_auroc() {
  local dir
  dir="$out/$(basename "$1" .yaml)-class$2"
  build/aepipe run "$1" "${paths[@]}" "graph.nodes[0].classes=[$2]" train.epochs="$3" --threads "$threads" \
    --out "$dir" -q >/dev/null
  build/aepipe score --checkpoint "$dir"/*/model.safetensors "$data/t10k-images-idx3-ubyte.gz" \
    --normal-classes "$2" --out "$dir/score" | sed -n 's/^auroc: //p'
}

declare -A dense conv pca
for c in $classes; do
  dense[$c]=$(aepipe_auroc configs/fashion_oneclass_ae.yaml "$c" "$dense_epochs")
  conv[$c]=$(aepipe_auroc configs/fashion_conv_ae.yaml "$c" "$conv_epochs")
  echo "class $c: dense ${dense[$c]}, conv ${conv[$c]}" >&2
done
# shellcheck disable=SC2086 # $classes splits into one argument per class
pca_out=$(OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 bench/pca_baseline.py --data "$data" --oneclass $classes --k 64)
while read -r line; do
  c=$(echo "$line" | sed -n 's/^PCA-64 class \([0-9]*\):.*/\1/p')
  pca[$c]=$(echo "$line" | sed -n 's/.*AUROC //p')
done <<< "$pca_out"

echo "One-class ROC AUC on Fashion-MNIST (train: class c only; test: all 10,000, class c normal)"
echo "dense: $dense_epochs epochs, conv: $conv_epochs epochs, PCA: 64 components; runs in $out"
echo "| class | dense AE | conv AE | PCA-64 |"
echo "|---|---|---|---|"
for c in $classes; do echo "| $c | ${dense[$c]} | ${conv[$c]} | ${pca[$c]} |"; done
mean() { tr ' ' '\n' | awk 'NF {s += $1; n++} END {printf "%.4f", s / n}'; }
echo "| mean | $(echo "${dense[@]}" | mean) | $(echo "${conv[@]}" | mean) | $(echo "${pca[@]}" | mean) |"
