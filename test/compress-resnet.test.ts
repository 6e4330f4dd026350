/**
 * `irs compress` on the ops of the IRS paper's ResNets, on a tiny graph built here: Conv ->
 * BatchNormalization -> Relu -> Conv -> BatchNormalization, a 1x1 Conv shortcut, a residual
 * Add, GlobalAveragePool, Flatten and a Gemm head (the MNIST CNNs have none of BN, Add or global
 * pooling). bench/paper-models.py builds the real ResNet-20/110/50 for bench/paper-cli.ts.
 */
import { describe, expect, it } from 'vitest';
import { compressModel, type Method } from '../src/onnx/compress/index.ts';
import { AttributeType, DataType, decodeModel, encodeModel, makeNode, makeTensor, onnx, opTypes } from '../src/onnx/model.ts';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { checkBatchInvariance, makeProbes } from '../src/inference/batch-invariance.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const C = 3, H = 8, F = 8, CLASSES = 5;
const SIZE = C * H * H;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

function tinyResNet(): Uint8Array {
  const r = rng(16);
  const rand = (n: number, scale: number, offset = 0) => Float32Array.from({ length: n }, () => offset + scale * (r() * 2 - 1));
  const init = [
    makeTensor('w1', DataType.FLOAT, [F, C, 3, 3], rand(F * C * 9, 0.4)),
    makeTensor('w2', DataType.FLOAT, [F, F, 3, 3], rand(F * F * 9, 0.2)),
    makeTensor('ws', DataType.FLOAT, [F, C, 1, 1], rand(F * C, 0.5)),
    makeTensor('wfc', DataType.FLOAT, [CLASSES, F], rand(CLASSES * F, 0.8)),
    makeTensor('bfc', DataType.FLOAT, [CLASSES], rand(CLASSES, 0.1)),
  ];
  for (const bn of ['bn1', 'bn2']) {
    init.push(makeTensor(`${bn}_scale`, DataType.FLOAT, [F], rand(F, 0.5, 1)));
    init.push(makeTensor(`${bn}_bias`, DataType.FLOAT, [F], rand(F, 0.1)));
    init.push(makeTensor(`${bn}_mean`, DataType.FLOAT, [F], rand(F, 0.1)));
    init.push(makeTensor(`${bn}_var`, DataType.FLOAT, [F], rand(F, 0.4, 1)));
  }
  const conv = (x: string, w: string, y: string, pad: number) => {
    const n = makeNode('Conv', [x, w], [y], `conv_${y}`);
    n.attribute = [onnx.AttributeProto.create({ name: 'pads', type: AttributeType.INTS, ints: [pad, pad, pad, pad] })];
    return n;
  };
  const bn = (x: string, p: string, y: string) => makeNode('BatchNormalization', [x, `${p}_scale`, `${p}_bias`, `${p}_mean`, `${p}_var`], [y], p);
  const nodes = [
    conv('input', 'w1', 'c1', 1), bn('c1', 'bn1', 'b1'), makeNode('Relu', ['b1'], ['r1'], 'relu1'),
    conv('r1', 'w2', 'c2', 1), bn('c2', 'bn2', 'b2'),
    conv('input', 'ws', 'cs', 0),
    makeNode('Add', ['b2', 'cs'], ['sum'], 'residual'), makeNode('Relu', ['sum'], ['r2'], 'relu2'),
    makeNode('GlobalAveragePool', ['r2'], ['gap'], 'gap'), makeNode('Flatten', ['gap'], ['flat'], 'flatten', { axis: 1 }),
    makeNode('Gemm', ['flat', 'wfc', 'bfc'], ['logits'], 'fc', { transB: 1 }),
  ];
  const io = (name: string, dims: (number | string)[]) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'irs-edge test',
    graph: { name: 'tiny-resnet', node: nodes, initializer: init, input: [io('input', ['batch', C, H, H])], output: [io('logits', ['batch', CLASSES])] },
  });
  return encodeModel(model);
}

async function predict(bytes: Uint8Array, x: Float32Array, n: number, backend: BackendName): Promise<Int32Array> {
  const c = await loadClassifier(bytes, backend);
  const out = new Int32Array(n);
  await c.classify(x, n, out);
  await c.dispose();
  return out;
}

describe('compress on a ResNet-shaped graph (BatchNorm, residual Add, global pooling, Flatten/Gemm)', () => {
  const source = tinyResNet();
  const r = rng(7);
  const N = 64;
  // Per-sample channel offsets, so that the pooled features (and the class) vary between samples.
  const offsets = Float32Array.from({ length: N * C }, () => 2 * r() - 1);
  const x = Float32Array.from({ length: N * SIZE }, (_, i) => offsets[Math.floor(i / (H * H))] + 0.3 * (r() - 0.5));
  const calibration = { source: 'random', inputs: Array.from({ length: 32 }, (_, i) => x.subarray(i * SIZE, (i + 1) * SIZE).slice()), sigma: 0.25 };

  it.each([...new Set<BackendName>([TEST_BACKEND, 'wasm'])])('on %s, every method compresses it, the result runs, is batch-invariant and mostly agrees with the float model', async (backend) => {
    const reference = await predict(source, x, N, backend);
    expect(new Set(reference).size).toBeGreaterThan(1); // the graph is not a constant
    for (const [method, amount] of [['int8'], ['fp16'], ['fp16-native'], ['prune', 0.1]] as [Method, number?][]) {
      const { bytes, report } = await compressModel(source, { method, amount, calibration, backend });
      const ops = opTypes(decodeModel(bytes).graph!);
      if (method === 'int8') {
        expect(report.quantizedNodes).toBe(4); // three Convs and the Gemm
        expect(ops.has('QuantizeLinear')).toBe(true);
      }
      for (const op of ['BatchNormalization', 'Add', 'GlobalAveragePool', 'Flatten']) expect(ops.has(op)).toBe(true);
      const got = await predict(bytes, x, N, backend);
      const agree = got.filter((p, i) => p === reference[i]).length;
      expect(agree, `${method}: ${agree}/${N} agree with float`).toBeGreaterThanOrEqual(method === 'int8' ? N * 0.8 : N * 0.9);
      const c = await loadClassifier(bytes, backend);
      try {
        const check = await checkBatchInvariance(c, makeProbes(calibration.inputs.slice(0, 4), 0.25));
        expect(check.ok, `${method}: ${check.detail}`).toBe(true);
      } finally {
        await c.dispose();
      }
    }
  });
});
