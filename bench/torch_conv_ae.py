#!/usr/bin/python3
"""PyTorch peer of configs/fashion_conv_ae.yaml (and mnist_conv_ae.yaml): the same conv
autoencoder, init, loss, optimizer and batch, CPU only, for bench/conv_vs_torch.sh.

  28x28x1 -conv 3x3/2 p1, 8, ReLU- 14x14x8 -conv 3x3/2 p1, 16, ReLU- 7x7x16 -flatten- 784
  -dense 64 (linear: the code)- -dense 784, ReLU- 7x7x16 -deconv 4x4/2 p1, 8, ReLU- 14x14x8
  -deconv 4x4/2 p1, 8, ReLU- 28x28x8 -conv 3x3 p1, 1, sigmoid- 28x28x1        105,609 parameters

Init as aepipe's: layers with `init: he` ~ N(0, 2 / fan_in) with fan_in = in_channels * k * k
(dense: inputs), the rest Xavier-uniform with fan_out = out_channels * k * k, biases 0. Loss: MSE
averaged over pixels and batch; Adam 1e-3; inputs = pixels / 255. torch lays tensors out NCHW
and aepipe NHWC, so the flatten/reshape order differs: a permutation of the dense layers'
weights, the same model family.

Prints one line per epoch with train samples/s (after --warmup batches) and the test MSE per
pixel. Run with Debian's interpreter: /usr/bin/python3 bench/torch_conv_ae.py --threads 2
"""
import argparse
import gzip
import math
import os
import time

p = argparse.ArgumentParser()
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--batch", type=int, default=50)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--seed", type=int, default=42)
p.add_argument("--warmup", type=int, default=20, help="batches excluded from throughput")
p.add_argument("--max-batches", type=int, default=0, help="stop each epoch after N batches (timing only)")
args = p.parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def read_idx_images(path):
    if not os.path.exists(path) and os.path.exists(path[:-3]):
        path = path[:-3]
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, h, w)


def he_(t, fan_in):
    with torch.no_grad():
        t.normal_(0.0, math.sqrt(2.0 / fan_in))


def xavier_(t, fan_in, fan_out):
    a = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        t.uniform_(-a, a)


class ConvAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.code = nn.Linear(784, 64)
        self.up = nn.Linear(64, 784)
        self.d1 = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        self.d2 = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1)
        self.out = nn.Conv2d(8, 1, 3, padding=1)
        he_(self.c1.weight, 1 * 9)
        he_(self.c2.weight, 8 * 9)
        xavier_(self.code.weight, 784, 64)
        xavier_(self.up.weight, 64, 784)
        he_(self.d1.weight, 16 * 16)
        he_(self.d2.weight, 8 * 16)
        xavier_(self.out.weight, 8 * 9, 1 * 9)
        for m in self.modules():
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def forward(self, x):
        h = torch.relu(self.c2(torch.relu(self.c1(x))))
        z = self.code(h.flatten(1))
        h = torch.relu(self.up(z)).view(-1, 16, 7, 7)
        h = torch.relu(self.d2(torch.relu(self.d1(h))))
        return torch.sigmoid(self.out(h))


def test_mse(model, x):
    model.eval()
    with torch.no_grad():
        se = sum(((model(x[i:i + 1000]) - x[i:i + 1000]) ** 2).sum().item() for i in range(0, len(x), 1000))
    model.train()
    return se / x.numel()


def main():
    xtr = torch.from_numpy(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
                           .astype(np.float32) / np.float32(255.0))
    xte = torch.from_numpy(read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
                           .astype(np.float32) / np.float32(255.0))
    model = ConvAE()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()
    params = sum(p.numel() for p in model.parameters())
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} mkldnn={torch.backends.mkldnn.is_available()} "
          f"batch={args.batch} epochs={args.epochs} params={params} data={args.data} train={tuple(xtr.shape)}")
    g = torch.Generator().manual_seed(args.seed)
    n = xtr.shape[0]
    tputs = []
    for ep in range(1, args.epochs + 1):
        perm = torch.randperm(n, generator=g)
        nb = (n + args.batch - 1) // args.batch
        if args.max_batches:
            nb = min(nb, args.max_batches)
        t_warm, seen = None, 0
        for b in range(nb):
            if b == args.warmup:
                t_warm = time.perf_counter()
            xb = xtr[perm[b * args.batch:(b + 1) * args.batch]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            if b >= args.warmup:
                seen += xb.shape[0]
        tput = seen / (time.perf_counter() - t_warm) if t_warm else float("nan")
        tputs.append(tput)
        print(f"epoch {ep}  train_samples_per_s={tput:.1f}  test_mse_per_px={test_mse(model, xte):.6f}", flush=True)
    print(f"final samples_per_s={','.join(f'{t:.1f}' for t in tputs)} ")


main()
