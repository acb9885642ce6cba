#!/usr/bin/env python3
"""Linear baseline for the autoencoders: PCA with k components fitted on the training images,
test reconstruction MSE per pixel (pixels scaled to [0, 1], as the configs' normalize node).

    /usr/bin/python3 bench/pca_baseline.py [--data /usr/share/datasets/fashion-mnist] [--k 64]

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--k", type=int, nargs="+", default=[64])
    a = ap.parse_args()
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
