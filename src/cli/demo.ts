/**
 * `irs demo` (npm start): the main job on the embedded default, no account anywhere.
 * Certifies a bundled MNIST model, perturbs it (weights rounded to fp16), recertifies the
 * variant with IRS and with RS from scratch, and prints one comparison table.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFastBackend, loadClassifier, type BackendName } from '../inference/index.ts';
import { runCertifyJob } from '../jobs/certify-job.ts';
import { runRecertifyJob } from '../jobs/recertify-job.ts';
import { compressModel } from '../onnx/compress/index.ts';
import type { Certificate } from '../protocol/certificate.ts';
import { sha256Hex } from '../util/digest.ts';
import { cachePathFor, loadModel, openDataset, selectInputs, writeAtomic } from './io.ts';
import { progressBar } from './progress.ts';

export interface DemoOptions {
  model: string;
  sigma: number;
  count: number;
  n: number;
  np: number;
  out: string;
  backend?: BackendName;
  quiet: boolean;
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const backend = o.backend ?? (await defaultFastBackend());
  mkdirSync(o.out, { recursive: true });
  const log = (s: string) => process.stdout.write(s + '\n');
  const original = await loadModel(o.model);
  const data = selectInputs(openDataset('mnist:test'), o.count, Math.floor(10000 / o.count), 0);
  log(`irs-edge demo: ${original.ref.name}, sigma ${o.sigma}, ${data.inputs.length} MNIST test images, n = ${o.n}, n_p = ${o.np}, backend ${backend}`);

  const f = await loadClassifier(original.bytes, backend);
  let bar = progressBar('certify f', data.inputs.length * (100 + o.n), o.quiet);
  const { certificate: cert, cache } = await runCertifyJob({
    classifier: f, model: original.ref, data, onProgress: (k) => bar.tick(k),
    params: { sigma: o.sigma, seed: 0, n0: 100, n: o.n, alpha: 0.001, batchSize: 256 },
  });
  bar.stop();
  await f.dispose();
  const certPath = join(o.out, 'original.json');
  writeAtomic(certPath, JSON.stringify(cert, null, 1));
  writeAtomic(cachePathFor(certPath), cache!);

  const fp16Bytes = (await compressModel(original.bytes, { method: 'fp16', backend })).bytes;
  const fp16Ref = { sha256: await sha256Hex(fp16Bytes), bytes: fp16Bytes.length, name: 'fp16 (weights rounded)' };
  writeAtomic(join(o.out, 'model-fp16.onnx'), fp16Bytes);
  const fp = await loadClassifier(fp16Bytes, backend);
  bar = progressBar('IRS f^p', data.inputs.length * o.np, o.quiet);
  const irs = await runRecertifyJob({
    classifier: fp, model: fp16Ref, data, original: cert, cacheBytes: cache!, np: o.np, alphaZeta: 0.001, gamma: 0.99,
    batchSize: 256, onProgress: (k) => bar.tick(k),
  });
  bar.stop();
  bar = progressBar('baseline f^p', data.inputs.length * (100 + o.np), o.quiet);
  const { certificate: base } = await runCertifyJob({
    classifier: fp, model: fp16Ref, data, onProgress: (k) => bar.tick(k),
    params: { sigma: o.sigma, seed: 0, n0: 100, n: o.np, alpha: 0.002, batchSize: 256 },
    baselineOf: { id: cert.id, modelSha256: cert.model.sha256 },
  });
  bar.stop();
  await fp.dispose();
  writeAtomic(join(o.out, 'fp16-irs.json'), JSON.stringify(irs, null, 1));
  writeAtomic(join(o.out, 'fp16-baseline.json'), JSON.stringify(base, null, 1));

  log('');
  log(comparisonTable([
    ['f (original)', 'RS', cert],
    ['fp16', 'IRS', irs],
    ['fp16', 'RS from scratch', base],
  ], base.summary.seconds));
  log(`\nIRS speedup over the from-scratch baseline (fp16): ${(base.summary.seconds / irs.summary.seconds).toFixed(2)}x in wall time, ` +
    `${(base.summary.samples / irs.summary.samples).toFixed(2)}x in samples; mean zeta ${irs.summary.meanZeta?.toFixed(4)}`);
  log(`certificates written to ${o.out}/`);
}

export function comparisonTable(rows: [string, string, Certificate][], baselineSeconds?: number): string {
  const radii = [0, 0.25, 0.5, 0.75, 1.0];
  const head = ['model', 'method', ...radii.map((r) => `r=${r}`), 'ACR', 'abstain', 'samples', 'time (s)', 'speedup'];
  const body = rows.map(([model, method, c]) => [
    model, method,
    ...radii.map((r) => `${(100 * (c.summary.certifiedAccuracy.find((x) => x.radius === r)?.accuracy ?? 0)).toFixed(1)}%`),
    c.summary.acr.toFixed(3), String(c.summary.abstained), String(c.summary.samples), c.summary.seconds.toFixed(1),
    c.kind === 'certify' || !baselineSeconds ? '' : `${(baselineSeconds / c.summary.seconds).toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
