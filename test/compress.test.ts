import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compressModel, type Method } from '../src/onnx/compress/index.ts';
import { DataType, decodeModel, encodeModel, floatValues, getMetadata, makeNode, weightedNodes } from '../src/onnx/model.ts';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { checkBatchInvariance, makeProbes } from '../src/inference/batch-invariance.ts';
import { cleanAccuracy } from '../src/jobs/common.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { sha256Hex } from '../src/util/digest.ts';
import { runCli } from './helpers/cli.ts';
import { dynamicallyQuantizedInput } from './helpers/dynamic-quant.ts';
import { HAS_ORT_NODE, NO_ORT_NODE, TEST_BACKEND } from './helpers/backend.ts';

// A non-literal specifier: the typecheck must not need onnxruntime-node's types (an optional dependency).
const ORT_NODE = 'onnxruntime-node';
const MODEL = 'models/mnist-small-s0.50.onnx';
const source = readFileSync(MODEL);
const test = loadMnist('test');
const train = loadMnist('train');
const all = { source: 'mnist:test', indices: [], inputs: Array.from({ length: 10_000 }, (_, i) => test.input(i)), labels: Array.from({ length: 10_000 }, (_, i) => test.label(i)) };
const calibration = { source: 'mnist:train', inputs: Array.from({ length: 512 }, (_, i) => train.input(i)), sigma: 0.5 };
const dir = mkdtempSync(join(tmpdir(), 'irs-compress-'));

async function accuracy(bytes: Uint8Array, backend: BackendName = TEST_BACKEND, n = 10_000): Promise<number> {
  const c = await loadClassifier(bytes, backend);
  try {
    return await cleanAccuracy(c, { ...all, inputs: all.inputs.slice(0, n), labels: all.labels.slice(0, n) });
  } finally {
    await c.dispose();
  }
}

async function predictions(bytes: Uint8Array, backend: BackendName, n: number): Promise<Int32Array> {
  const c = await loadClassifier(bytes, backend);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) x.set(all.inputs[i], i * 784);
  const out = new Int32Array(n);
  await c.classify(x, n, out);
  await c.dispose();
  return out;
}

describe('compression methods on the bundled sigma = 0.5 model', () => {
  const variants = new Map<string, { bytes: Uint8Array; report: Awaited<ReturnType<typeof compressModel>>['report'] }>();
  let floatAccuracy = 0;
  beforeAll(async () => {
    floatAccuracy = await accuracy(source);
    const sha = await sha256Hex(source);
    for (const [method, amount] of [['int8'], ['fp16'], ['fp16-native'], ['prune', 0.05], ['prune', 0.1], ['prune', 0.2]] as [Method, number?][]) {
      variants.set(`${method}${amount ?? ''}`, await compressModel(source, { method, amount, calibration, backend: TEST_BACKEND }));
    }
    expect(await sha256Hex(source)).toBe(sha); // the input is never modified
  }, 300_000);

  it('keeps clean accuracy within 1 point for int8, fp16, fp16-native and prune 5/10%', async () => {
    expect(floatAccuracy).toBeGreaterThan(0.97);
    for (const name of ['int8', 'fp16', 'fp16-native', 'prune0.05', 'prune0.1']) {
      const acc = await accuracy(variants.get(name)!.bytes);
      expect(Math.abs(acc - floatAccuracy), name).toBeLessThanOrEqual(0.01);
    }
  });

  it('int8 is real integer inference: int8 weights in QDQ form that onnxruntime fuses into QLinearConv/QGemm, 3x smaller', async (ctx) => {
    ctx.skip(!HAS_ORT_NODE, NO_ORT_NODE);
    const { bytes, report } = variants.get('int8')!;
    expect(report.bytesBefore / report.bytesAfter).toBeGreaterThanOrEqual(3);
    const model = decodeModel(bytes);
    const ops = model.graph!.node!.map((n) => n.opType);
    expect(ops).toContain('QuantizeLinear');
    expect(ops).toContain('DequantizeLinear');
    // four int8 weight tensors (plus their int8 zero points)
    expect(model.graph!.initializer!.filter((t) => t.dataType === DataType.INT8 && (t.dims ?? []).length >= 2).length).toBe(4);
    expect(weightedNodes(model.graph!)).toHaveLength(0); // no float weights left on Conv/Gemm
    const optimized = join(dir, 'int8-optimized.onnx');
    const ortNode = await import(/* @vite-ignore */ ORT_NODE) as typeof import('onnxruntime-common');
    const s = await ortNode.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
    await s.release();
    const fused = decodeModel(readFileSync(optimized)).graph!.node!.map((n) => n.opType);
    expect(fused).toContain('QLinearConv');
    expect(fused).toContain('QGemm');
    expect(fused).not.toContain('Conv');
  });

  it('int8 uses static scales: batch-invariant, unlike a dynamically quantized model', async () => {
    const probes = makeProbes(all.inputs.slice(0, 4), 0.5);
    for (const [name, bytes] of [['int8', variants.get('int8')!.bytes], ['dynamic', dynamicallyQuantizedInput(source)]] as const) {
      const c = await loadClassifier(bytes, TEST_BACKEND);
      const r = await checkBatchInvariance(c, probes);
      await c.dispose();
      expect(r.ok, name).toBe(name === 'int8');
    }
  });

  it('fp16-native is a float16 graph with float32 inputs and outputs; fp16 rounds weights to float16 values', () => {
    const native = decodeModel(variants.get('fp16-native')!.bytes);
    expect(native.graph!.initializer!.every((t) => t.dataType === DataType.FLOAT16)).toBe(true);
    expect(native.graph!.node![0].opType).toBe('Cast');
    const rounded = decodeModel(variants.get('fp16')!.bytes);
    for (const t of rounded.graph!.initializer!) {
      for (const v of floatValues(t)) expect(Math.fround(v)).toBe(v);
    }
    expect(variants.get('fp16-native')!.report.bytesAfter).toBeLessThan(0.55 * source.length);
  });

  it('prune zeroes the requested fraction of Conv/Gemm weights, the smallest in magnitude', () => {
    for (const amount of [0.05, 0.1, 0.2]) {
      const { bytes, report } = variants.get(`prune${amount}`)!;
      expect(Math.abs(report.sparsity! - amount)).toBeLessThan(1e-4);
      const before = weightedNodes(decodeModel(source).graph!).flatMap(({ weight }) => [...floatValues(weight)]);
      const after = weightedNodes(decodeModel(bytes).graph!).flatMap(({ weight }) => [...floatValues(weight)]);
      let largestPruned = 0;
      let smallestKept = Infinity;
      after.forEach((v, i) => {
        if (v === 0) largestPruned = Math.max(largestPruned, Math.abs(before[i]));
        else { smallestKept = Math.min(smallestKept, Math.abs(v)); expect(v).toBe(before[i]); }
      });
      expect(largestPruned).toBeLessThanOrEqual(smallestKept);
    }
  });

  it('every variant runs on onnxruntime-web and -node with the same predictions, and names its source', async (ctx) => {
    ctx.skip(!HAS_ORT_NODE, NO_ORT_NODE);
    const sha = await sha256Hex(source);
    for (const [name, { bytes }] of variants) {
      const [web, node] = [await predictions(bytes, 'wasm', 300), await predictions(bytes, 'node', 300)];
      expect(web, name).toEqual(node);
      const meta = getMetadata(decodeModel(bytes));
      expect(meta['irs-edge.source-sha256']).toBe(sha);
      expect(meta['irs-edge.method']).toBe(name.startsWith('prune') ? 'prune' : name);
    }
  });
});

describe('compression refuses what it cannot do, with a message, and never touches its input', () => {
  it('an already quantized model given to int8', async () => {
    const int8 = (await compressModel(source, { method: 'int8', calibration, backend: TEST_BACKEND })).bytes;
    await expect(compressModel(int8, { method: 'int8', calibration, backend: TEST_BACKEND })).rejects.toThrow(/already quantized/);
  });

  it('a truncated file, a model with operators from a custom domain, a model without weights', async () => {
    await expect(compressModel(source.subarray(0, 5000), { method: 'fp16', backend: TEST_BACKEND })).rejects.toThrow(/not an ONNX model/);
    const custom = decodeModel(source);
    custom.graph!.node!.push({ ...makeNode('Gelu', ['logits'], ['gelu'], 'custom_gelu'), domain: 'com.example' });
    await expect(compressModel(encodeModel(custom), { method: 'prune', amount: 0.1, backend: TEST_BACKEND })).rejects.toThrow(/outside the ONNX domain \(com.example.Gelu\)/);
    const noWeights = decodeModel(source);
    noWeights.graph!.node = [makeNode('Relu', ['input'], ['logits'], 'relu')];
    noWeights.graph!.initializer = [];
    await expect(compressModel(encodeModel(noWeights), { method: 'int8', calibration, backend: TEST_BACKEND })).rejects.toThrow(/no Conv, Gemm or MatMul/);
  });

  it('a decodable but damaged graph: short initializer data, a dangling node input', async () => {
    const short = decodeModel(source);
    const w = short.graph!.initializer!.find((t) => t.name === 'conv1.weight')!;
    w.rawData = w.rawData!.subarray(0, w.rawData!.length - 4);
    await expect(compressModel(encodeModel(short), { method: 'fp16', backend: TEST_BACKEND })).rejects.toThrow(/damaged: initializer conv1.weight holds 1596 bytes, its shape \[16, 1, 5, 5\] needs 1600/);
    const dangling = decodeModel(source);
    dangling.graph!.node!.splice(2, 1); // drop the first Conv: its consumers read nothing
    await expect(compressModel(encodeModel(dangling), { method: 'fp16', backend: TEST_BACKEND })).rejects.toThrow(/damaged or not topologically sorted/);
  });

  it('the CLI: --out equal to --model, prune without --amount, an unknown method', async () => {
    const copy = join(dir, 'copy.onnx');
    writeFileSync(copy, source);
    const before = await sha256Hex(readFileSync(copy));
    let r = await runCli(['compress', '--model', copy, '--method', 'fp16', '--out', copy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/never overwrites its input/);
    r = await runCli(['compress', '--model', copy, '--method', 'prune', '--out', join(dir, 'p.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --amount/);
    r = await runCli(['compress', '--model', copy, '--method', 'int4', '--out', join(dir, 'p.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/int4.*invalid/);
    expect(await sha256Hex(readFileSync(copy))).toBe(before);
  });

  it('the CLI compresses and the batch-invariance check exits 3 on a dynamically quantized model', async () => {
    const r = await runCli(['compress', '--model', MODEL, '--method', 'prune', '--amount', '0.1', '--backend', TEST_BACKEND, '--out', join(dir, 'p10.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sparsity 10\.00%/);
    writeFileSync(join(dir, 'dynamic.onnx'), dynamicallyQuantizedInput(source));
    const check = await runCli(['check-batch-invariance', '--model', join(dir, 'dynamic.onnx'), '--backend', TEST_BACKEND]);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/NOT batch-invariant/);
    const ok = await runCli(['check-batch-invariance', '--model', join(dir, 'p10.onnx'), '--backend', TEST_BACKEND]);
    expect(ok.code).toBe(0);
  });

  it('recertification refuses a dynamically quantized model', async () => {
    const c = await runCli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n0', '10', '--n', '100', '--count', '2', '--backend', TEST_BACKEND, '--quiet', '--out', join(dir, 'c.json')]);
    expect(c.code).toBe(0);
    const r = await runCli(['recertify', '--original', join(dir, 'c.json'), '--model', join(dir, 'dynamic.onnx'), '--np', '50', '--backend', TEST_BACKEND, '--quiet', '--out', join(dir, 'r.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/depend on the other samples in a batch/);
  });
});
