/**
 * The certification core on a real trained model: the bundled sigma = 0.5 MNIST CNN, 100 test
 * images, n = 10,000, on both onnxruntime backends; then IRS on a perturbed copy (fp16 weights).
 * About three minutes: most of it is a million wasm inferences.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadClassifier } from '../src/inference/index.ts';
import { runCertifyJob, type CertifyJobResult } from '../src/jobs/certify-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { selectIndices } from '../src/data/dataset.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import { sha256Hex } from '../src/util/digest.ts';
import { HAS_ORT_NODE, NO_ORT_NODE, TEST_BACKEND } from './helpers/backend.ts';

const modelBytes = readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url));
const mnist = loadMnist('test');
const indices = selectIndices(mnist.size, 100, 100);
const data = { source: 'mnist:test', indices, inputs: indices.map((i) => mnist.input(i)), labels: indices.map((i) => mnist.label(i)) };
const params = { sigma: 0.5, seed: 2024, n0: 100, n: 10_000, alpha: 0.001, batchSize: 500 };

async function certifyOn(backend: 'wasm' | 'node'): Promise<CertifyJobResult> {
  const classifier = await loadClassifier(modelBytes, backend);
  try {
    const model = { sha256: await sha256Hex(modelBytes), bytes: modelBytes.length };
    return await runCertifyJob({ classifier, model, data, params });
  } finally {
    await classifier.dispose();
  }
}

const withoutTimes = (c: Certificate) => c.results.map(({ time, ...rest }) => rest);

describe('bundled sigma = 0.5 model, 100 MNIST test images, n = 10,000', () => {
  // Without onnxruntime-node, `node` is the wasm run: the soundness checks below still run.
  let node: CertifyJobResult;
  let wasm: CertifyJobResult;
  beforeAll(async () => {
    wasm = await certifyOn('wasm');
    node = HAS_ORT_NODE ? await certifyOn('node') : wasm;
  }, 1_200_000);

  it('certifies with identical results and cache on onnxruntime-node and onnxruntime-web', (ctx) => {
    ctx.skip(!HAS_ORT_NODE, NO_ORT_NODE);
    expect(withoutTimes(wasm.certificate)).toEqual(withoutTimes(node.certificate));
    expect(wasm.certificate.id).toBe(node.certificate.id);
    expect(wasm.certificate.cache!.sha256).toBe(node.certificate.cache!.sha256);
    expect(wasm.certificate.params.backend).toBe('wasm');
  });

  it('certifies most inputs of a model trained at sigma = 0.5, like Cohen et al.’s MNIST numbers', () => {
    const s = node.certificate.summary;
    const at = (r: number) => s.certifiedAccuracy.find((x) => x.radius === r)!.accuracy;
    expect(at(0)).toBeGreaterThan(0.9);
    expect(at(0.5)).toBeGreaterThan(0.75);
    expect(s.acr).toBeGreaterThan(0.8);
    // Every certified radius respects the ceiling sigma * Phi^-1(alpha^(1/n)) = 0.5 * 3.1986.
    for (const r of node.certificate.results) expect(r.radius).toBeLessThanOrEqual(0.5 * 3.1987);
  });

  it('recertifies the fp16-rounded model with IRS at n_p = 1,000, with zeta for every zeta-branch input', async () => {
    const fpBytes = (await compressModel(modelBytes, { method: 'fp16', backend: TEST_BACKEND })).bytes;
    const classifier = await loadClassifier(fpBytes, TEST_BACKEND);
    const cert = await runRecertifyJob({
      classifier, model: { sha256: await sha256Hex(fpBytes), bytes: fpBytes.length }, data,
      original: node.certificate, cacheBytes: node.cache!, np: 1000, alphaZeta: 0.001, gamma: 0.99, batchSize: 500,
    });
    await classifier.dispose();
    const { zeta, rs, abstain } = cert.summary.branches!;
    expect(zeta + rs + abstain).toBe(100);
    expect(zeta).toBeGreaterThan(10);
    cert.results.forEach((r, i) => {
      const o = node.certificate.results[i];
      if (r.branch === 'zeta') {
        expect(r.zeta).toBeGreaterThan(0);
        expect(r.zeta!).toBeLessThan(0.05); // fp16 weights barely change predictions
        expect(r.samples).toBe(1000);
        // The IRS bound is pA_lower - zeta: never above the original's.
        expect(r.radius).toBeLessThanOrEqual(o.radius);
        if (r.predict !== -1) expect(r.predict).toBe(o.cA);
      }
      if (r.branch === 'rs') expect(r.nA).toBeGreaterThan(0);
      if (r.branch === 'abstain') expect(o.predict).toBe(-1);
    });
    const acc = (c: Certificate, r: number) => c.summary.certifiedAccuracy.find((x) => x.radius === r)!.accuracy;
    expect(acc(cert, 0.25)).toBeGreaterThan(acc(node.certificate, 0.25) - 0.05);
  });
});
