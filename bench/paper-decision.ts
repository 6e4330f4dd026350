/**
 * Decision mode's sample fraction for the paper's networks, by simulation: how many f^p samples
 * (as a fraction of the n_p cap) decision-mode IRS draws per input to answer "radius >= R?",
 * when f's radii follow the published certified-accuracy curves of Cohen et al.'s CIFAR-10
 * ResNet-110 and ImageNet ResNet-50 (n = 10^5, alpha 0.001; ../shared/design/irs-paper.md).
 * CIFAR-10 and ImageNet are not reachable from this machine, so the curves stand in for the data.
 *
 *   npm run bench -- paper-decision [--reps 20] [--images 500] [--cap 10000] [--zeta 0.001,0.01]
 *                                   [--out irs-data/paper/decision.json] (read by paper-scale)
 *                                   [--validate]   (also: the same simulation against a real
 *                                                   decision-mode run on the bundled MNIST CNN)
 *
 * The simulation runs the project's own IRS (smoothing/irs.ts recertifyMany: branches, stages,
 * stop rule, bounds) on a sampler that draws counts instead of running a model:
 * - f's cached pA_lower for an input is Phi(r / sigma), r drawn from the curve: P(radius >= r)
 *   interpolated linearly between the published points, falling linearly to 0 at the largest
 *   radius n = 10^5 can give (sigma Phi^-1(alpha^(1/n)) = 3.81 sigma);
 * - inputs f gets wrong (1 - certified accuracy at r = 0) either abstain ("low": no samples) or
 *   have the correct inputs' radius distribution ("high"); the truth lies between;
 * - f^p disagrees with f on a sample with probability zeta (zeta branch); in the rs branch
 *   (pA_lower >= gamma) a sample votes f's class with probability pA_lower (1 - zeta). One zeta
 *   for all inputs understates the cost: a real f^p disagrees more on the inputs near the
 *   decision radius, and those are the ones that go to the cap (the validation measures by how much).
 * With --validate, the same sampler is fed the real cache of the bundled mnist-small-s1.00
 * (100 test images, n = 10^4) and its int8 variant's measured disagreement rate, and its sample
 * count is set beside the real decision-mode run's (cap 2,000, R = 0.5), as the README's demo.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { recertifyMany, type CachedInput } from '../src/smoothing/irs.ts';
import type { MultiSampler } from '../src/smoothing/stream.ts';
import type { MergedSamples } from '../src/smoothing/merge.ts';
import { DEFAULT_FIRST_STAGE } from '../src/smoothing/sequential.ts';
import { normalQuantile } from '../src/stats/index.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '20' },
    images: { type: 'string', default: '500' },
    cap: { type: 'string', default: '10000' },
    zeta: { type: 'string', default: '0.001,0.01' },
    validate: { type: 'boolean', default: false },
    out: { type: 'string', default: 'irs-data/paper/decision.json' },
  },
});
const reps = Number(values.reps);
const images = Number(values.images);
const cap = Number(values.cap);
const ALPHA = 0.001;
const N = 100_000;

/** Cohen et al.'s certified accuracy at radius r (Table 1; the r = 0 column is theirs, not in the IRS repo's tables). */
const CURVES = [
  { name: 'CIFAR-10 ResNet-110', sigma: 0.5, gamma: 0.99, points: [[0, 0.65], [0.25, 0.55], [0.5, 0.41], [0.75, 0.32], [1.0, 0.23], [1.25, 0.15], [1.5, 0.09]], radii: [0.25, 0.5, 1.0] },
  { name: 'CIFAR-10 ResNet-110', sigma: 1.0, gamma: 0.99, points: [[0, 0.47], [0.25, 0.39], [0.5, 0.34], [0.75, 0.28], [1.0, 0.22], [1.25, 0.17], [1.5, 0.14]], radii: [0.25, 0.5, 1.0] },
  { name: 'ImageNet ResNet-50', sigma: 0.5, gamma: 0.995, points: [[0, 0.57], [0.5, 0.46], [1.0, 0.37], [1.5, 0.29]], radii: [0.5, 1.0] },
  { name: 'ImageNet ResNet-50', sigma: 1.0, gamma: 0.995, points: [[0, 0.44], [0.5, 0.38], [1.0, 0.33], [1.5, 0.26], [2.0, 0.19], [2.5, 0.15], [3.0, 0.12]], radii: [0.5, 1.0, 2.0] },
] as const;

/** A small seeded generator (mulberry32): the simulation is reproducible, and needs no crypto quality. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function binomial(u: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (u() < p) k++;
  return k;
}

/** Phi(z), as the inverse of the project's own normal quantile (bisection: no second implementation of the tail). */
function PHI(z: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalQuantile(mid) < z) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** One simulated input of f: its cached pA_lower (0: f abstains) and whether f's class is the label. */
interface SimInput { pALower: number; correct: boolean }

/** Draws f's inputs from a certified-accuracy curve; `wrong`: what f's misclassified inputs do. */
function drawInputs(curve: (typeof CURVES)[number], count: number, u: () => number, wrong: 'low' | 'high'): SimInput[] {
  const rMax = curve.sigma * normalQuantile(ALPHA ** (1 / N));
  const pts = [...curve.points.map(([r, a]) => [r, a] as [number, number]), [rMax, 0] as [number, number]];
  const acc0 = pts[0][1];
  // Inverse of P(radius >= r | correct) = acc(r) / acc0, piecewise linear.
  const radiusAt = (q: number) => {
    const target = q * acc0;
    for (let k = 1; k < pts.length; k++) {
      const [r0, a0] = pts[k - 1];
      const [r1, a1] = pts[k];
      if (target >= a1) return r0 + ((a0 - target) / (a0 - a1)) * (r1 - r0);
    }
    return rMax;
  };
  return Array.from({ length: count }, () => {
    const correct = u() < acc0;
    if (!correct && wrong === 'low') return { pALower: 0, correct };
    const r = radiusAt(u());
    return { pALower: r > 0 ? PHI(r / curve.sigma) : 0.5, correct };
  });
}

/** A sampler that draws what a model would: disagreements at rate zeta, votes for f's class at pA_lower (1 - zeta). */
function simulatedSampler(inputs: readonly SimInput[], zeta: number | readonly number[], u: () => number): MultiSampler {
  const zetaOf = (j: number) => (typeof zeta === 'number' ? zeta : zeta[j]);
  return {
    models: 1,
    async sampleMany(active, _spec, start, count, options = {}) {
      const list = active[0];
      const zetaBranch = options.reference !== undefined;
      const out: MergedSamples = { start, count, counts: [], disagreements: [], seconds: [] };
      for (const j of list) {
        const votes = zetaBranch ? 0 : binomial(u, count, inputs[j].pALower * (1 - zetaOf(j)));
        out.counts.push(Uint32Array.of(votes, count - votes));
        out.disagreements!.push(zetaBranch ? binomial(u, count, zetaOf(j)) : 0);
        out.seconds.push(0);
      }
      return [out];
    },
  };
}

/** Decision-mode IRS at radius R on simulated inputs: mean samples per input and certified accuracy at R. */
async function decide(inputs: readonly SimInput[], sigma: number, gamma: number, radius: number, np: number, zeta: number | readonly number[], u: () => number) {
  const cache: CachedInput[] = inputs.map((x) => ({ cA: x.pALower > 0.5 ? 0 : -1, pALower: x.pALower, predictions: { length: np } as ArrayLike<number> }));
  const [results] = await recertifyMany(simulatedSampler(inputs, zeta, u), cache, {
    sigma, seed: 0, batchSize: 1, np, alpha: ALPHA, alphaZeta: ALPHA, gamma,
    sequential: { firstStage: DEFAULT_FIRST_STAGE, stop: { kind: 'decision', radius } },
  });
  const samples = results.reduce((s, r) => s + r.samples, 0);
  const certified = results.filter((r, i) => inputs[i].correct && r.radius >= radius).length;
  return { fraction: samples / (inputs.length * np), accuracy: certified / inputs.length };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

if (values.validate) await validate();

console.log(`\ndecision-mode IRS, simulated: ${images} images, cap n_p = ${cap.toLocaleString('en-US')}, f certified with n = 10^5 at alpha ${ALPHA}, alpha_zeta ${ALPHA}; ` +
  `median (min-max) of ${reps} draws; "low" / "high": f's misclassified inputs abstain / look like its correct ones\n`);
console.log('| network | sigma | R | zeta | samples / cap, low | samples / cap, high | certified accuracy at R: curve / decision mode (low) |');
console.log('|---|---|---|---|---|---|---|');
const summary: Record<string, number[]> = {};
for (const curve of CURVES) {
  for (const radius of curve.radii) {
    for (const zeta of values.zeta!.split(',').map(Number)) {
      const cells: string[] = [];
      let acc: number[] = [];
      for (const wrong of ['low', 'high'] as const) {
        const fr: number[] = [];
        const ac: number[] = [];
        for (let rep = 0; rep < reps; rep++) {
          const u = rng(1_000 * rep + 17);
          const r = await decide(drawInputs(curve, images, u, wrong), curve.sigma, curve.gamma, radius, cap, zeta, u);
          fr.push(r.fraction);
          ac.push(r.accuracy);
        }
        if (wrong === 'low') acc = ac;
        cells.push(`${pct(median(fr))} (${pct(Math.min(...fr))}-${pct(Math.max(...fr))})`);
        (summary[`${curve.name}@${zeta}`] ??= []).push(...fr);
      }
      const curveAt = interpolate(curve.points.map(([r, a]) => [r, a] as [number, number]), radius);
      console.log(`| ${curve.name} | ${curve.sigma} | ${radius} | ${zeta} | ${cells[0]} | ${cells[1]} | ${pct(curveAt)} / ${pct(median(acc))} |`);
    }
  }
}
console.log('');
const ranges: Record<string, [number, number]> = {};
for (const [key, fr] of Object.entries(summary)) {
  const [name, zeta] = key.split('@');
  ranges[key] = [Math.min(...fr), Math.max(...fr)];
  console.log(`${name}, zeta ${zeta}: decision mode drew ${pct(ranges[key][0])}-${pct(ranges[key][1])} of the cap over every sigma, R and draw above`);
}
// bench/paper-scale.ts reads these for its decision-mode rows.
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify({ cap, images, reps, ranges }, null, 1));
console.log(`wrote ${values.out}`);

function interpolate(pts: [number, number][], r: number): number {
  for (let k = 1; k < pts.length; k++) if (r <= pts[k][0]) return pts[k - 1][1] + ((r - pts[k - 1][0]) / (pts[k][0] - pts[k - 1][0])) * (pts[k][1] - pts[k - 1][1]);
  return pts[pts.length - 1][1];
}

/**
 * The simulator against a real run: the bundled mnist-small-s1.00 certified on 100 MNIST test
 * images (n = 10^4), its int8 variant recertified in decision mode at R = 0.5, cap 2,000 (the
 * README demo's question); the simulation gets the real cache and the disagreement rate a full
 * n_p = 2,000 IRS run measured.
 */
async function validate() {
  const { certifyOriginal, approximation, mnistSubset } = await import('./study.ts');
  const { runRecertifyJob } = await import('../src/jobs/recertify-job.ts');
  const sigma = 1.0;
  const R = 0.5;
  const np = 2_000;
  const data = mnistSubset(100);
  const { bytes, certificate: original, cache } = await certifyOriginal('small', sigma, 10_000, data, 'node');
  const { model, classifier } = await approximation(bytes, 'int8', sigma, 'node');
  try {
    const job = { classifier, model, data, original, cacheBytes: cache, np, alphaZeta: ALPHA, gamma: 0.99, batchSize: 500 };
    const full = await runRecertifyJob(job);
    const real = await runRecertifyJob({ ...job, sequential: { firstStage: DEFAULT_FIRST_STAGE, stop: { kind: 'decision', radius: R } } });
    const zetaRows = full.results.filter((r) => r.disagreements !== undefined);
    const disagreements = zetaRows.reduce((s, r) => s + (r.disagreements ?? 0), 0);
    const zeta = disagreements / Math.max(1, zetaRows.reduce((s, r) => s + r.samples, 0));
    const inputs: SimInput[] = original.results.map((r) => ({ pALower: r.predict >= 0 ? r.pALower : 0, correct: r.correct === 1 }));
    const fr: number[] = [];
    for (let rep = 0; rep < reps; rep++) fr.push((await decide(inputs, sigma, 0.99, R, np, zeta, rng(rep + 1))).fraction);
    // The same with each input's own disagreement rate (from the full run; rs-branch inputs: the mean).
    const perInput = full.results.map((r) => (r.disagreements !== undefined ? r.disagreements / r.samples : zeta));
    const frEach: number[] = [];
    for (let rep = 0; rep < reps; rep++) frEach.push((await decide(inputs, sigma, 0.99, R, np, perInput, rng(rep + 1))).fraction);
    const realFraction = real.summary.samples / (data.inputs.length * np);
    console.log(`validation on mnist-small-s1.00 (100 MNIST test images, f at n = 10^4), int8, R = ${R}, cap ${np}: ` +
      `measured zeta ${zeta.toFixed(4)} (${disagreements} disagreements at n_p = ${np}); ` +
      `real decision-mode run ${real.summary.samples.toLocaleString('en-US')} f^p samples = ${pct(realFraction)} of the cap; ` +
      `simulated with one zeta for all inputs ${pct(median(fr))} (${pct(Math.min(...fr))}-${pct(Math.max(...fr))} over ${reps} draws), ` +
      `with each input's own ${pct(median(frEach))} (${pct(Math.min(...frEach))}-${pct(Math.max(...frEach))}); ` +
      `real / simulated with one zeta: ${(realFraction / median(fr)).toFixed(2)}`);
  } finally {
    await classifier.dispose();
  }
}
