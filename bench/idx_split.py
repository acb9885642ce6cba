#!/usr/bin/env python3
"""Split a training set into fit and validation parts for bench/oneclass.sh --select, so that
model selection never looks at the test set.

    /usr/bin/python3 bench/idx_split.py --data DIR --val 10000 --out SPLIT

Writes two folders laid out like DIR (train-*/t10k-* images and labels, .gz):
  SPLIT/val:  train = DIR's first N - VAL training images, t10k = its last VAL (the validation set)
  SPLIT/test: train = the same first N - VAL, t10k = DIR's own test files (symlinks)
so that one reader path, or bench/pca_baseline.py --data, serves either. Needs only numpy.
"""
import argparse
import gzip
import os
import struct

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if data[:3] != b"\x00\x00\x08" or body.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: not an IDX u8 file, or its size disagrees with its header")
    return body.reshape(dims)


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + np.ascontiguousarray(array).tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="a folder with Fashion-MNIST's (or MNIST's) four .gz files")
    ap.add_argument("--val", type=int, default=10000, help="the last VAL training images form the validation set")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    if not 0 < a.val < len(images) or len(labels) != len(images):
        raise SystemExit(f"--val {a.val}: expected 1..{len(images) - 1} of {len(images)} images with as many labels")
    fit = len(images) - a.val
    val, test = os.path.join(a.out, "val"), os.path.join(a.out, "test")
    os.makedirs(val, exist_ok=True)
    os.makedirs(test, exist_ok=True)
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        write_idx(os.path.join(val, f"train-{kind}-ubyte.gz"), array[:fit])
        write_idx(os.path.join(val, f"t10k-{kind}-ubyte.gz"), array[fit:])
        for name, target in ((f"train-{kind}-ubyte.gz", os.path.join(val, f"train-{kind}-ubyte.gz")),
                             (f"t10k-{kind}-ubyte.gz", os.path.join(os.path.abspath(a.data), f"t10k-{kind}-ubyte.gz"))):
            link = os.path.join(test, name)
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(target), link)
    print(f"split: fit {fit}, validation {a.val} (the last of the training file), test: {a.data}'s own")


if __name__ == "__main__":
    main()
