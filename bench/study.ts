/**
 * What the paper-style studies (speedup, decision) share: a fixed MNIST test subset, the
 * original certification of a bundled model, and its compressed approximations.
 */
import { readFileSync } from 'node:fs';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import type { Classifier } from '../src/inference/classifier.ts';
import { runCertifyJob } from '../src/jobs/certify-job.ts';
import type { JobInputs } from '../src/jobs/common.ts';
import { compressModel, type Method } from '../src/onnx/compress/index.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { selectIndices } from '../src/data/dataset.ts';
import { sha256Hex } from '../src/util/digest.ts';
import type { Certificate, ModelRef } from '../src/protocol/certificate.ts';

/** `count` MNIST test images, evenly spaced (every 10,000 / count-th). */
export function mnistSubset(count: number): JobInputs {
  const test = loadMnist('test');
  const idx = selectIndices(test.size, count, Math.floor(test.size / count));
  return { source: 'mnist:test', indices: idx, inputs: idx.map((i) => test.input(i)), labels: idx.map((i) => test.label(i)) };
}

/** f = models/mnist-<arch>-s<sigma>.onnx certified with n samples (n0 100, alpha 0.001, seed 0), and its IRS cache. */
export async function certifyOriginal(arch: string, sigma: number, n: number, data: JobInputs, backend: BackendName) {
  const bytes = new Uint8Array(readFileSync(new URL(`../models/mnist-${arch}-s${sigma.toFixed(2)}.onnx`, import.meta.url)));
  const f = await loadClassifier(bytes, backend);
  try {
    const { certificate, cache } = await runCertifyJob({
      classifier: f, model: { sha256: await sha256Hex(bytes), bytes: bytes.length }, data,
      params: { sigma, seed: 0, n0: 100, n, alpha: 0.001, batchSize: 500 },
    });
    return { bytes, certificate: certificate as Certificate, cache: cache! };
  } finally {
    await f.dispose();
  }
}

/** The approximation `spec` (int8, fp16, prune:0.1, ...) of f, loaded; int8 calibrates on 512 noisy mnist:train images. */
export async function approximation(bytes: Uint8Array, spec: string, sigma: number, backend: BackendName): Promise<{ model: ModelRef; classifier: Classifier }> {
  const train = loadMnist('train');
  const [method, amount] = spec.split(':') as [Method, string?];
  const { bytes: vb } = await compressModel(bytes, {
    method, amount: amount ? Number(amount) : undefined, backend,
    calibration: { source: 'mnist:train', inputs: Array.from({ length: 512 }, (_, i) => train.input(i)), sigma },
  });
  return { model: { sha256: await sha256Hex(vb), bytes: vb.length }, classifier: await loadClassifier(vb, backend) };
}
