/**
 * IRS speedup, the paper's way (IRS paper §3.2, §4): certify f once, then for n_p in 1%..10%
 * of n run IRS and the from-scratch baseline on each approximation f^p, and compare the
 * curves of time against ACR: speedup = area under the baseline's curve / area under IRS's,
 * over the ACR range both reach.
 *
 *   npm run bench -- speedup [--sigmas 0.25,0.5,1.0] [--approx int8,fp16,prune:0.05,prune:0.1,prune:0.2]
 *                            [--count 500] [--n 10000] [--arch small] [--backend node] [--json out.jsonl]
 *
 * Prints two tables: the area-ratio speedup (beside the paper's Table 3/5 figure for the same
 * sigma), and the per-sample cost view (f^p samples and wall time of each method at the
 * highest ACR both reach). --json appends every measured point, for later tables.
 */
import { appendFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BackendName } from '../src/inference/index.ts';
import { runCertifyJob } from '../src/jobs/certify-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { approximation, certifyOriginal, mnistSubset } from './study.ts';

const { values } = parseArgs({
  options: {
    sigmas: { type: 'string', default: '0.25,0.5,1.0' },
    approx: { type: 'string', default: 'int8,fp16,prune:0.05,prune:0.1,prune:0.2' },
    count: { type: 'string', default: '500' },
    n: { type: 'string', default: '10000' },
    arch: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'node' },
    fractions: { type: 'string', default: '0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.10' },
    json: { type: 'string' },
  },
});
const backend = values.backend as BackendName;
const n = Number(values.n);
const fractions = values.fractions!.split(',').map(Number);
const data = mnistSubset(Number(values.count));

type Point = { acr: number; seconds: number; samples: number };

/** A cost (time or samples) as a function of ACR, piecewise linear through the points sorted by ACR. */
function costAt(points: Point[], acr: number, cost: 'seconds' | 'samples' = 'seconds'): number {
  const p = [...points].sort((a, b) => a.acr - b.acr);
  if (acr <= p[0].acr) return p[0][cost];
  for (let i = 1; i < p.length; i++) {
    if (acr <= p[i].acr) {
      const t = (acr - p[i - 1].acr) / (p[i].acr - p[i - 1].acr || 1);
      return p[i - 1][cost] + t * (p[i][cost] - p[i - 1][cost]);
    }
  }
  return p[p.length - 1][cost];
}
const timeAt = (points: Point[], acr: number) => costAt(points, acr, 'seconds');

/** Paper Tables 3 and 5, CIFAR-10 ResNet-20 (the smallest network the paper reports), by sigma. */
const PAPER: Record<string, Record<number, number>> = {
  fp16: { 0.25: 1.37, 0.5: 1.79, 1: 2.85 },
  int8: { 0.25: 1.3, 0.5: 1.77, 1: 2.65 },
  'prune:0.05': { 0.25: 1.3, 0.5: 1.63, 1: 2.5 },
  'prune:0.1': { 0.25: 1.25, 0.5: 1.39, 1: 2.09 },
  'prune:0.2': { 0.25: 0.99, 0.5: 1.13, 1: 1.39 },
};

/** Ratio of areas under the time-vs-ACR curves over the common ACR range (trapezoids on 200 points). */
export function areaSpeedup(irs: Point[], base: Point[]): { speedup: number; from: number; to: number } {
  const from = Math.max(Math.min(...irs.map((p) => p.acr)), Math.min(...base.map((p) => p.acr)));
  const to = Math.min(Math.max(...irs.map((p) => p.acr)), Math.max(...base.map((p) => p.acr)));
  if (!(to > from)) return { speedup: NaN, from, to };
  let a = 0, b = 0;
  const steps = 200;
  for (let k = 0; k <= steps; k++) {
    const w = k === 0 || k === steps ? 0.5 : 1;
    const x = from + ((to - from) * k) / steps;
    a += w * timeAt(irs, x);
    b += w * timeAt(base, x);
  }
  return { speedup: b / a, from, to };
}

console.log(`${data.inputs.length} MNIST test images, n = ${n}, n_p in ${fractions.map((f) => `${Math.round(f * 1000) / 10}%`).join(', ')} of n, alpha = alpha_zeta = 0.001, baseline at 0.002 with n0 = min(100, n_p / 10), gamma 0.99, backend ${backend}\n`);
console.log('| sigma | approximation | speedup (area ratio) | paper, CIFAR-10 ResNet-20 | common ACR range | mean zeta | inputs with pA_lower >= gamma | IRS time at the largest n_p | baseline time there |');
console.log('|---|---|---|---|---|---|---|---|---|');
const costRows: string[] = [];
for (const sigma of values.sigmas!.split(',').map(Number)) {
  const { bytes, certificate, cache } = await certifyOriginal(values.arch!, sigma, n, data, backend);
  for (const spec of values.approx!.split(',')) {
    const { model, classifier: fp } = await approximation(bytes, spec, sigma, backend);
    const irsPts: Point[] = [];
    const basePts: Point[] = [];
    let zeta = 0;
    let above = 0;
    for (const fr of fractions) {
      const np = Math.round(fr * n);
      let t = performance.now();
      const irs = await runRecertifyJob({ classifier: fp, model, data, original: certificate, cacheBytes: cache, np, alphaZeta: 0.001, gamma: 0.99, batchSize: 500 });
      irsPts.push({ acr: irs.summary.acr, seconds: (performance.now() - t) / 1000, samples: irs.summary.samples });
      zeta = irs.summary.meanZeta ?? 0;
      above = irs.summary.branches!.rs / data.inputs.length;
      t = performance.now();
      const { certificate: base } = await runCertifyJob({
        classifier: fp, model, data, baselineOf: { id: certificate.id, modelSha256: certificate.model.sha256 },
        params: { sigma, seed: 0, n0: Math.max(1, Math.min(100, Math.round(np / 10))), n: np, alpha: 0.002, batchSize: 500 },
      });
      basePts.push({ acr: base.summary.acr, seconds: (performance.now() - t) / 1000, samples: base.summary.samples });
      if (values.json) {
        appendFileSync(values.json, JSON.stringify({ sigma, approx: spec, n, count: data.inputs.length, np, irs: irsPts.at(-1), baseline: basePts.at(-1), meanZeta: irs.summary.meanZeta, rsBranch: irs.summary.branches!.rs }) + '\n');
      }
    }
    await fp.dispose();
    const s = areaSpeedup(irsPts, basePts);
    const paper = PAPER[spec]?.[sigma];
    // Per-sample cost at the highest ACR both methods reach: what each spends to get there.
    const top = s.to;
    const [bs, is] = [costAt(basePts, top, 'samples'), costAt(irsPts, top, 'samples')];
    const [bt, it] = [timeAt(basePts, top), timeAt(irsPts, top)];
    costRows.push(`| ${sigma} | ${spec} | ${top.toFixed(3)} | ${Math.round(bs / data.inputs.length)} | ${Math.round(is / data.inputs.length)} | ${(bs / is).toFixed(2)}x | ${bt.toFixed(1)} s | ${it.toFixed(1)} s | ${(bt / it).toFixed(2)}x |`);
    console.log(`| ${sigma} | ${spec} | ${s.speedup.toFixed(2)}x | ${paper ? `${paper.toFixed(2)}x` : '-'} | ${s.from.toFixed(3)}-${s.to.toFixed(3)} | ${zeta.toFixed(4)} | ${(100 * above).toFixed(0)}% | ${irsPts.at(-1)!.seconds.toFixed(1)} s | ${basePts.at(-1)!.seconds.toFixed(1)} s |`);
  }
}
console.log('\nPer-sample cost at equal ACR (the highest ACR both curves reach; f^p samples per input and wall time, interpolated):\n');
console.log('| sigma | approximation | ACR | baseline samples/input | IRS samples/input | sample ratio | baseline time | IRS time | time ratio |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of costRows) console.log(row);
