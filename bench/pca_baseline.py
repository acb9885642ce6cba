#!/usr/bin/env python3
"""Linear baseline for the autoencoders: PCA with k components fitted on the training images,
test reconstruction MSE per pixel (pixels scaled to [0, 1], as the configs' normalize node).

    /usr/bin/python3 bench/pca_baseline.py [--data /usr/share/datasets/fashion-mnist] [--k 64]
    /usr/bin/python3 bench/pca_baseline.py --oneclass 0 [1 ...] [--k 64] [--blur R]

One-class mode (bench/oneclass.sh): for each class c, PCA fitted on class c's training images
only; every test image is scored by its reconstruction error (MSE per pixel), class c normal and
the other classes anomalies; prints the ROC AUC (ties count half, as scikit-learn's). --blur R
scores the residual box-blurred over (2R+1)^2 pixels, as `aepipe score --blur R`.

Reads the IDX files (raw or .gz) itself; needs only numpy (python3-numpy).
"""
import argparse
import gzip
import os
import struct

import numpy as np


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim < 3:
        raise SystemExit(f"{path}: not an IDX u8 image file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    n, size = dims[0], int(np.prod(dims[1:]))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != n * size:
        raise SystemExit(f"{path}: {body.size} pixel bytes, the header says {n * size}")
    return body.reshape(n, size).astype(np.float64) / 255.0


def read_idx_labels(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x00\x00\x08\x01":
        raise SystemExit(f"{path}: not an IDX u8 label file (magic {data[:4].hex()})")
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def roc_auc(scores, anomaly):
    """Mann-Whitney: mean midrank of the anomalies, so tied scores count half."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    pos = anomaly.sum()
    neg = len(scores) - pos
    return (ranks[anomaly].sum() - pos * (pos + 1) / 2) / (pos * neg)


def blurred_mse(residual, side, radius):
    """aepipe's blurred_mse on [N, side*side] residuals: each pixel the mean of its
    (2 radius + 1)^2 window clipped to the image, then the mean square."""
    r = residual.reshape(-1, side, side)
    sat = np.zeros((r.shape[0], side + 1, side + 1))
    sat[:, 1:, 1:] = r.cumsum(axis=1).cumsum(axis=2)
    lo = np.maximum(np.arange(side) - radius, 0)
    hi = np.minimum(np.arange(side) + radius + 1, side)
    sums = sat[:, hi][:, :, hi] - sat[:, lo][:, :, hi] - sat[:, hi][:, :, lo] + sat[:, lo][:, :, lo]
    cells = np.outer(hi - lo, hi - lo)
    return np.mean((sums / cells) ** 2, axis=(1, 2))


def pca_errors(train, test, k, blur=0):
    mean = train.mean(axis=0)
    cov = (train - mean).T @ (train - mean) / train.shape[0]
    vals, vecs = np.linalg.eigh(cov)
    basis = vecs[:, np.argsort(vals)[::-1][:k]]
    recon = ((test - mean) @ basis) @ basis.T + mean
    if blur:
        return blurred_mse(recon - test, int(round(np.sqrt(test.shape[1]))), blur)
    return np.mean((recon - test) ** 2, axis=1)


def one_class(a):
    train = read_idx_images(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    train_labels = read_idx_labels(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    test = read_idx_images(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    test_labels = read_idx_labels(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz"))
    for c in a.oneclass:
        errors = pca_errors(train[train_labels == c], test, a.k[0], a.blur)
        auc = roc_auc(errors, test_labels != c)
        print(f"PCA-{a.k[0]} class {c}: train {int((train_labels == c).sum())}, test {len(test)}: AUROC {auc:.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--k", type=int, nargs="+", default=[64])
    ap.add_argument("--blur", type=int, default=0, help="one-class mode: score the residual box-blurred over "
                    "(2 R + 1)^2 pixels (aepipe score --blur R)")
    ap.add_argument("--oneclass", type=int, nargs="+", metavar="C",
                    help="one-class AUROC for each class C (PCA fitted on class C's training images)")
    a = ap.parse_args()
    if a.oneclass:
        return one_class(a)
    train = read_idx_images(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    test = read_idx_images(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    mean = train.mean(axis=0)
    cov = (train - mean).T @ (train - mean) / train.shape[0]
    vals, vecs = np.linalg.eigh(cov)
    vecs = vecs[:, np.argsort(vals)[::-1]]
    for k in a.k:
        basis = vecs[:, :k]
        code = (test - mean) @ basis
        recon = code @ basis.T + mean
        mse = np.mean((recon - test) ** 2)
        clipped = np.mean((np.clip(recon, 0, 1) - test) ** 2)
        print(f"PCA-{k}: train {train.shape[0]}, test {test.shape[0]}: test MSE/px {mse:.5f} "
              f"(reconstruction clipped to [0, 1]: {clipped:.5f})")


if __name__ == "__main__":
    main()
