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
import { cellRows, COST_CAPTION, COST_HEADER, SPEEDUP_HEADER, type LoggedPoint } from './curves.ts';

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

console.log(`${data.inputs.length} MNIST test images, n = ${n}, n_p in ${fractions.map((f) => `${Math.round(f * 1000) / 10}%`).join(', ')} of n, alpha = alpha_zeta = 0.001, baseline at 0.002 with n0 = min(100, n_p / 10), gamma 0.99, backend ${backend}\n`);
console.log(SPEEDUP_HEADER);
const costRows: string[] = [];
for (const sigma of values.sigmas!.split(',').map(Number)) {
  const { bytes, certificate, cache } = await certifyOriginal(values.arch!, sigma, n, data, backend);
  for (const spec of values.approx!.split(',')) {
    const { model, classifier: fp } = await approximation(bytes, spec, sigma, backend);
    const cell: LoggedPoint[] = [];
    for (const fr of fractions) {
      const np = Math.round(fr * n);
      let t = performance.now();
      const irs = await runRecertifyJob({ classifier: fp, model, data, original: certificate, cacheBytes: cache, np, alphaZeta: 0.001, gamma: 0.99, batchSize: 500 });
      const irsPoint = { acr: irs.summary.acr, seconds: (performance.now() - t) / 1000, samples: irs.summary.samples };
      t = performance.now();
      const { certificate: base } = await runCertifyJob({
        classifier: fp, model, data, baselineOf: { id: certificate.id, modelSha256: certificate.model.sha256 },
        params: { sigma, seed: 0, n0: Math.max(1, Math.min(100, Math.round(np / 10))), n: np, alpha: 0.002, batchSize: 500 },
      });
      const basePoint = { acr: base.summary.acr, seconds: (performance.now() - t) / 1000, samples: base.summary.samples };
      cell.push({ sigma, approx: spec, n, count: data.inputs.length, np, irs: irsPoint, baseline: basePoint, meanZeta: irs.summary.meanZeta, rsBranch: irs.summary.branches!.rs });
      if (values.json) appendFileSync(values.json, JSON.stringify(cell.at(-1)) + '\n');
    }
    await fp.dispose();
    const rows = cellRows(cell);
    costRows.push(rows.cost);
    console.log(rows.speedup);
  }
}
console.log(`\n${COST_CAPTION}\n`);
console.log(COST_HEADER);
for (const row of costRows) console.log(row);
