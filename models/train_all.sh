#!/bin/bash
# Re-train all bundled models sequentially (2 CPU threads each) and rebuild
# models/manifest.json + models/README.md. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
mkdir -p models/train-logs
for arch in small large; do
  if [ "$arch" = small ]; then epochs=8; else epochs=3; fi
  for sigma in 0.25 0.50 1.00; do
    name="mnist-$arch-s$sigma"
    $PY models/train.py --arch "$arch" --sigma "$sigma" --epochs "$epochs" --seed 0 \
      --out "models/$name.onnx" 2>&1 | tee "models/train-logs/$name.txt"
  done
done
$PY models/make_manifest.py
