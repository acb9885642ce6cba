#!/usr/bin/python3
"""PyTorch reference for an MLP autoencoder on MNIST-like IDX data (CPU only).

A copy of ../shared/bench/torch_ae.py with a --vae mode (aepipe's bench/torch_vae.py):
--vae --dims 784,400,20 is the VAE of PyTorch's examples/vae/main.py and of aepipe's
configs/mnist_vae.yaml: 784 -400(ReLU)- Linear(400, 2*20) = [mu | logvar], z = mu +
exp(logvar/2) * eps, 20 -400(ReLU)- 784 logits; loss = BCE summed over pixels + beta * KL,
averaged over the batch's images (aepipe's reduction); test loss in nats per image, sampled
like the example's (it samples in eval mode too). Layers are named layers.0/1/3/4 like
aepipe's checkpoint (layers.2 is the parameter-free sample layer).

Default model (the seed's): 784 -> 256 -> 128 -> 64 -> 128 -> 256 -> 784, sigmoid after
every layer (--hidden / --last change that), weights ~ N(0, 0.01^2), biases 0 (--init torch
keeps PyTorch's own init, --init xavier uses Xavier-uniform), MSE loss (mean over pixels and
batch), inputs = pixels / 255 as float32. --dims changes the layer sizes.

Needs Debian's python3-torch; run it with Debian's interpreter:
    /usr/bin/python3 torch_ae.py --batch 256 --threads 2 --epochs 1
For a fair comparison install libopenblas0-pthread and run with
    OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=passive
(OpenBLAS 0.3.21 does not recognise this CPU and otherwise falls back to slow SSE3 kernels; without
passive waiting, torch's spinning OpenMP threads starve OpenBLAS's on 2 cores.)
--data is a folder with train-images-idx3-ubyte[.gz] and t10k-images-idx3-ubyte[.gz].

Thread env vars (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ...) are set from
--threads *before* torch is imported, because Debian's torch is built with
BLAS_INFO=generic and therefore never calls openblas_set_num_threads itself.
"""
import argparse
import gzip
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blas-threads", type=int, default=0,
                   help="OPENBLAS_NUM_THREADS etc. (default: same as --threads)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--optimizer", choices=["rmsprop", "adam", "sgd"], default="rmsprop")
    p.add_argument("--lr", type=float, default=None,
                   help="default: 0.01 for rmsprop, 1e-3 for adam, 0.1 for sgd")
    p.add_argument("--last", choices=["sigmoid", "relu", "identity"], default="sigmoid",
                   help="activation of the output layer")
    p.add_argument("--hidden", choices=["sigmoid", "relu", "tanh"], default="sigmoid",
                   help="activation of the hidden layers")
    p.add_argument("--init", choices=["seed", "torch", "xavier"], default="seed")
    p.add_argument("--dims", default="784,256,128,64,128,256,784")
    p.add_argument("--warmup", type=int, default=20, help="batches excluded from throughput")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-batch", type=int, default=1000)
    p.add_argument("--infer-reps", type=int, default=3,
                   help="timed pure-inference passes over the 10k test set")
    p.add_argument("--max-batches", type=int, default=0, help="debug: stop epoch early")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--vae", action="store_true", help="the VAE (--dims IN,HIDDEN,LATENT)")
    p.add_argument("--beta", type=float, default=1.0, help="--vae: weight of the KL term")
    return p.parse_args()


args = parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[var] = str(args.blas_threads or args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

DIMS = [int(d) for d in args.dims.split(",")]
ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "identity": lambda t: t}


def blas_in_use():
    """Which libblas.so.3 the process actually mapped (after the alternatives symlink)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line and "/" in line}
        desc = ", ".join(sorted(os.path.realpath(p) for p in paths)) or "?"
    except OSError:
        return "?"
    if "openblas" in desc:
        import ctypes
        try:
            lib = ctypes.CDLL("libblas.so.3")
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            desc += (f" [{lib.openblas_get_config().decode()}; core={lib.openblas_get_corename().decode()}"
                     f"; openblas_threads={lib.openblas_get_num_threads()}]")
        except (OSError, AttributeError) as e:
            desc += f" [openblas query failed: {e}]"
    return desc


def read_idx_images(path):
    if not os.path.exists(path) and path.endswith(".gz"):
        path = path[:-3]
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    magic, n, rows, cols = np.frombuffer(data, dtype=">i4", count=4)
    assert magic == 2051, magic
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows * cols)


class AE(nn.Module):
    def __init__(self, last="sigmoid", hidden="sigmoid", init="seed"):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(DIMS[:-1], DIMS[1:]))
        for l in self.layers:
            if init == "seed":
                nn.init.normal_(l.weight, mean=0.0, std=0.01)
                nn.init.zeros_(l.bias)
            elif init == "xavier":
                nn.init.xavier_uniform_(l.weight)
                nn.init.zeros_(l.bias)
        self.last, self.hidden = ACT[last], ACT[hidden]

    def forward(self, x):
        n = len(self.layers)
        for i, l in enumerate(self.layers):
            x = (self.last if i == n - 1 else self.hidden)(l(x))
        return x


class VAE(nn.Module):
    def __init__(self, init="seed"):
        super().__init__()
        d, h, k = DIMS
        self.k = k
        self.layers = nn.ModuleList([nn.Linear(d, h), nn.Linear(h, 2 * k), nn.Identity(),
                                     nn.Linear(k, h), nn.Linear(h, d)])
        for l in self.layers:
            if isinstance(l, nn.Linear) and init == "xavier":
                nn.init.xavier_uniform_(l.weight)
                nn.init.zeros_(l.bias)
            elif isinstance(l, nn.Linear) and init == "seed":
                nn.init.normal_(l.weight, mean=0.0, std=0.01)
                nn.init.zeros_(l.bias)

    def forward(self, x):
        """Logits of the reconstruction, mu, logvar."""
        ml = self.layers[1](torch.relu(self.layers[0](x)))
        mu, logvar = ml[:, :self.k], ml[:, self.k:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.layers[4](torch.relu(self.layers[3](z))), mu, logvar


def vae_loss_sums(model, x):
    """Summed reconstruction BCE and KL over the rows of x (nats)."""
    logits, mu, logvar = model(x)
    recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return recon, kl


def flops_per_sample():
    if args.vae:
        d, h, k = DIMS
        fwd = 2 * (d * h + h * 2 * k + k * h + h * d)
        return fwd, 3 * fwd - 2 * d * h
    fwd = 2 * sum(a * b for a, b in zip(DIMS[:-1], DIMS[1:]))
    bwd_w = fwd
    bwd_d = fwd - 2 * DIMS[0] * DIMS[1]  # no input gradient for the first layer
    return fwd, fwd + bwd_w + bwd_d


@torch.no_grad()
def evaluate(model, x, bs):
    """Test MSE per pixel (sum of squared errors / (N * 784)) and the wall time.
    --vae: also the test loss, reconstruction and KL in nats per image (model.nats)."""
    model.eval()
    t0 = time.perf_counter()
    sse = 0.0
    recon = kl = 0.0
    for i in range(0, x.shape[0], bs):
        xb = x[i:i + bs]
        if args.vae:
            logits, mu, logvar = model(xb)
            sse += torch.sum((torch.sigmoid(logits) - xb) ** 2).item()
            recon += nn.functional.binary_cross_entropy_with_logits(logits, xb, reduction="sum").item()
            kl += (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
        else:
            sse += torch.sum((model(xb) - xb) ** 2).item()
    model.nats = ((recon + args.beta * kl) / x.shape[0], recon / x.shape[0], kl / x.shape[0])
    dt = time.perf_counter() - t0
    model.train()
    return sse / x.numel(), dt


def main():
    lr = args.lr
    if lr is None:
        lr = {"rmsprop": 0.01, "adam": 1e-3, "sgd": 0.1}[args.optimizer]
    t_load = time.perf_counter()
    xtr = torch.from_numpy(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
                           .astype(np.float32) / np.float32(255.0))
    xte = torch.from_numpy(read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"))
                           .astype(np.float32) / np.float32(255.0))
    t_load = time.perf_counter() - t_load

    model = VAE(args.init) if args.vae else AE(args.last, args.hidden, args.init)
    if args.optimizer == "rmsprop":
        # torch defaults: alpha=0.99, eps=1e-8, momentum=0, centered=False
        opt = torch.optim.RMSprop(model.parameters(), lr=lr)
    elif args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()  # mean over batch and pixels

    fwd, train_flops = flops_per_sample()
    print(f"# torch {torch.__version__}  blas={blas_in_use()}  torch_threads={torch.get_num_threads()} "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')} OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')} "
          f"batch={args.batch} epochs={args.epochs} opt={args.optimizer} lr={lr} dims={args.dims} "
          f"hidden={args.hidden} last={args.last} init={args.init} "
          f"seed={args.seed}")
    print(f"# data: train {tuple(xtr.shape)} test {tuple(xte.shape)} load {t_load:.2f}s; "
          f"flops/sample fwd={fwd} train={train_flops}")
    mse0, _ = evaluate(model, xte, args.eval_batch)
    print(f"epoch 0  test_mse_per_px={mse0:.6f}")

    n = xtr.shape[0]
    g = torch.Generator().manual_seed(args.seed)
    all_tput = []
    for ep in range(1, args.epochs + 1):
        perm = torch.randperm(n, generator=g)
        nb = (n + args.batch - 1) // args.batch
        if args.max_batches:
            nb = min(nb, args.max_batches)
        t_ep = time.perf_counter()
        t_warm = None
        warm_samples = 0
        run_loss = 0.0
        for b in range(nb):
            if b == args.warmup:
                t_warm = time.perf_counter()
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb = xtr[idx]
            opt.zero_grad(set_to_none=True)
            if args.vae:
                recon, kl = vae_loss_sums(model, xb)
                loss = (recon + args.beta * kl) / xb.shape[0]
            else:
                loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            if b >= args.warmup:
                warm_samples += xb.shape[0]
            if b >= nb - 50:
                run_loss += loss.item()
        t_end = time.perf_counter()
        ep_time = t_end - t_ep
        tput = warm_samples / (t_end - t_warm) if t_warm else float("nan")
        all_tput.append(tput)
        mse, t_eval = evaluate(model, xte, args.eval_batch)
        print(f"epoch {ep}  wall={ep_time:.3f}s  train_samples_per_s(after {args.warmup} warm-up batches)="
              f"{tput:.1f}  eff_GFLOP/s={tput * train_flops / 1e9:.2f}  "
              f"last50_train_loss={run_loss / min(50, nb):.6f}  test_mse_per_px={mse:.6f}  "
              f"(eval {t_eval:.3f}s)" + (f"  test_nats_per_img={model.nats[0]:.3f} (recon {model.nats[1]:.3f}"
                                         f" + KL {model.nats[2]:.3f})" if args.vae else ""))

    # Pure inference over the 10k test set: training batch size and 1000.
    for bs in sorted({args.batch, 1000}):
        times = []
        with torch.no_grad():
            model.eval()
            for _ in range(args.infer_reps + 1):  # first pass = warm-up
                t0 = time.perf_counter()
                for i in range(0, xte.shape[0], bs):
                    model(xte[i:i + bs])  # noqa
                times.append(time.perf_counter() - t0)
        best = min(times[1:])
        print(f"inference batch={bs}: 10k test samples best {best * 1e3:.1f} ms "
              f"({xte.shape[0] / best:.0f} samples/s, {xte.shape[0] * fwd / best / 1e9:.2f} GFLOP/s) "
              f"all={[round(t * 1e3, 1) for t in times]} ms")
    print(f"SUMMARY batch={args.batch} threads={args.threads} opt={args.optimizer} "
          f"samples_per_s={','.join(f'{t:.1f}' for t in all_tput)} final_test_mse={mse:.6f}"
          + (f" final_test_nats_per_img={model.nats[0]:.3f}" if args.vae else ""))


if __name__ == "__main__":
    main()
