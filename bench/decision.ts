/**
 * Beyond the paper: f^p inferences and wall time to reach the same certified accuracy at
 * radius R, for fixed-n_p IRS, adaptive IRS, decision-mode IRS, and RS from scratch (fixed n,
 * and staged in decision mode so that the comparison stays fair).
 *
 *   npm run bench -- decision [--sigmas 0.25,0.5,1.0] [--approx int8,fp16,prune:0.05,prune:0.1,prune:0.2]
 *                             [--count 200] [--radius 0.5] [--caps 100,200,500,1000,2000,5000] [--backend node] [--drop 0.01]
 *
 * The target is the original f's certified accuracy at R (n = 10,000) less `drop` (default one
 * percentage point). Each method runs at increasing caps (n_p, or n for the baseline) until it reaches the
 * target; the table reports the first cap that does, with its f^p samples (selection samples
 * included for the baseline) and time. alpha = alpha_zeta = 0.001, baseline at 0.002, gamma 0.99.
 */
import { parseArgs } from 'node:util';
import type { BackendName } from '../src/inference/index.ts';
import { runCertifyJob } from '../src/jobs/certify-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { approximation, certifyOriginal, mnistSubset } from './study.ts';
import { certifiedAccuracy } from '../src/smoothing/metrics.ts';
import { DEFAULT_FIRST_STAGE, DEFAULT_RADIUS_TOLERANCE, type SequentialOptions } from '../src/smoothing/sequential.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const { values } = parseArgs({
  options: {
    sigmas: { type: 'string', default: '0.25,0.5,1.0' },
    approx: { type: 'string', default: 'int8,fp16,prune:0.05,prune:0.1,prune:0.2' },
    count: { type: 'string', default: '200' },
    radius: { type: 'string', default: '0.5' },
    caps: { type: 'string', default: '100,200,500,1000,2000,5000' },
    arch: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'node' },
    drop: { type: 'string', default: '0.01' },
  },
});
const backend = values.backend as BackendName;
const R = Number(values.radius);
const caps = values.caps!.split(',').map(Number);
const n = 10_000;
const data = mnistSubset(Number(values.count));
const decision: SequentialOptions = { firstStage: DEFAULT_FIRST_STAGE, stop: { kind: 'decision', radius: R } };
const adaptive: SequentialOptions = { firstStage: DEFAULT_FIRST_STAGE, stop: { kind: 'tolerance', tolerance: DEFAULT_RADIUS_TOLERANCE } };

type Run = (cap: number) => Promise<Certificate>;
interface Reached { cap: number; samples: number; seconds: number; accuracy: number }

/** The first cap at which the method reaches the target, or the best it did. */
async function firstReaching(run: Run, target: number): Promise<{ reached?: Reached; best: number }> {
  let best = 0;
  for (const cap of caps) {
    const t = performance.now();
    const cert = await run(cap);
    const seconds = (performance.now() - t) / 1000;
    const accuracy = certifiedAccuracy(cert.results, R);
    best = Math.max(best, accuracy);
    if (accuracy >= target - 1e-12) return { reached: { cap, samples: cert.summary.samples, seconds, accuracy }, best };
  }
  return { best };
}

const fmt = (r: { reached?: Reached; best: number }) =>
  r.reached ? `${r.reached.samples.toLocaleString('en-US')} (cap ${r.reached.cap}, ${r.reached.seconds.toFixed(1)} s)` : `not reached (best ${(100 * r.best).toFixed(1)}%)`;
const ratio = (base: { reached?: Reached }, x: { reached?: Reached }) =>
  base.reached && x.reached ? `${(base.reached.samples / Math.max(1, x.reached.samples)).toFixed(1)}x` : '-';

console.log(`${data.inputs.length} MNIST test images; f certified with n = ${n}; target: f's certified accuracy at r = ${R} less ${Number(values.drop) * 100} points; caps ${caps.join(', ')}; backend ${backend}\n`);
console.log('| sigma | approximation | target | fixed IRS | adaptive IRS | decision IRS | baseline (fixed n) | baseline (decision) | baseline fixed / decision IRS | baseline decision / decision IRS |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const sigma of values.sigmas!.split(',').map(Number)) {
  const { bytes, certificate: original, cache } = await certifyOriginal(values.arch!, sigma, n, data, backend);
  const target = certifiedAccuracy(original.results, R) - Number(values.drop);
  for (const spec of values.approx!.split(',')) {
    const { model, classifier: fp } = await approximation(bytes, spec, sigma, backend);
    const irs = (sequential?: SequentialOptions): Run => (np) => runRecertifyJob({
      classifier: fp, model, data, original, cacheBytes: cache, np, alphaZeta: 0.001, gamma: 0.99, batchSize: 500, sequential,
    });
    const baseline = (sequential?: SequentialOptions): Run => async (cap) => (await runCertifyJob({
      classifier: fp, model, data, baselineOf: { id: original.id, modelSha256: original.model.sha256 },
      params: { sigma, seed: 0, n0: Math.max(1, Math.min(100, Math.round(cap / 10))), n: cap, alpha: 0.002, batchSize: 500, sequential },
    })).certificate;
    const fixedIrs = await firstReaching(irs(), target);
    const adaptiveIrs = await firstReaching(irs(adaptive), target);
    const decisionIrs = await firstReaching(irs(decision), target);
    const baseFixed = await firstReaching(baseline(), target);
    const baseDecision = await firstReaching(baseline(decision), target);
    await fp.dispose();
    console.log(`| ${sigma} | ${spec} | ${(100 * target).toFixed(1)}% | ${fmt(fixedIrs)} | ${fmt(adaptiveIrs)} | ${fmt(decisionIrs)} | ${fmt(baseFixed)} | ${fmt(baseDecision)} | ${ratio(baseFixed, decisionIrs)} | ${ratio(baseDecision, decisionIrs)} |`);
  }
}
