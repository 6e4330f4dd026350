#!/usr/bin/env bash
# Every figure of BENCHMARKS.md "The IRS paper's networks", one benchmark at a time (run it on an
# otherwise idle machine: the benches count CPU-seconds, which contention still inflates).
#   bash bench/paper.sh [--webgpu]     (about 25 minutes on the project's 2-core machine; WebGPU adds ~10)
# Needs Debian's python3-torch, python3-torchvision and python3-onnx for the models.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "=== $* ($(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg))"; npm run --silent bench -- "$@"; }
P=irs-data/paper
/usr/bin/python3 bench/paper-models.py
run paper-cli --count 2 --n0 10 --n 100 --np 50
rm -f "$P/cost.json"
run paper-cost --models resnet20,resnet110 --batches 1,4,16 --seconds 1 --reps 3
run paper-cost --models resnet50 --batches 1,4,8 --noise 150528 --seconds 1 --reps 3
run paper-cost --models cli/resnet110-node-int8,cli/resnet50-node-int8 --backends node --batches 1,4,8 --seconds 1 --reps 3
run paper-cost --models cli/resnet110-wasm-int8,cli/resnet50-wasm-int8 --backends wasm --batches 1,4,8 --seconds 1 --reps 3
run paper-memory --models resnet20,resnet110,cli/resnet110-wasm-int8,resnet50,cli/resnet50-wasm-fp16-native,cli/resnet50-wasm-int8,cli/resnet50-wasm-prune --backends wasm,node --batches 1,8
# Inside workerd: throughput; ResNet-50 only with the memory budget lifted (Workers refuse it).
run paper-workerd --models $P/resnet20.onnx --count 256 --batch 16 --reps 2
run paper-workerd --models $P/resnet110.onnx,$P/cli/resnet110-wasm-int8.onnx --count 64 --batch 4 --reps 2
run paper-workerd --models $P/cli/resnet50-wasm-int8.onnx --count 8 --batch 1 --reps 2 --memory-budget-mib 100000 --max-model-bytes 200000000
# Inside workerd: memory at batch 1 (every model, budget lifted) and at the job default of 256 (default budget).
run paper-workerd --models $P/resnet20.onnx,$P/resnet110.onnx,$P/cli/resnet110-wasm-int8.onnx,$P/cli/resnet50-wasm-int8.onnx,$P/cli/resnet50-wasm-fp16-native.onnx,$P/resnet50.onnx --count 8 --batch 1 --reps 1 --memory-budget-mib 100000 --max-model-bytes 200000000
run paper-workerd --models $P/resnet20.onnx,$P/resnet110.onnx,$P/cli/resnet110-wasm-int8.onnx --count 512 --batch 256 --reps 1
run wasm-levers --batches 16,64,256 --seconds 0.5 --reps 5
run paper-decision --validate
run paper-scale
if [ "${1:-}" = "--webgpu" ]; then
  npm run --silent bench:webgpu -- --models $P/resnet20.onnx,$P/resnet110.onnx --no-throughput --samples 32 --out out/webgpu-cifar.json
  npm run --silent bench:webgpu -- --models $P/resnet50.onnx --no-throughput --samples 4 --out out/webgpu-resnet50.json
  npm run --silent bench:webgpu -- --models $P/cli/resnet20-wasm-int8.onnx,$P/cli/resnet110-wasm-int8.onnx,$P/cli/resnet50-wasm-int8.onnx --no-throughput --samples 8 --out out/webgpu-int8.json
fi
echo "=== all done $(date -u +%T)"
