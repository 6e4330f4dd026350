/**
 * npm run soundness -- [--trials 20000] [--only fixed|sequential|teeth] [--scale 1]
 *
 * The statistical soundness simulation at several settings, for RELIABILITY.md: how often RS
 * and IRS certificates claim more than the exact truth.
 * - teeth (src/soundness/stratified.ts): worst-case placements, isolated parts and negative
 *   controls; --scale multiplies the CI sizes of test/soundness.test.ts (1 = exactly CI's runs).
 * - fixed, sequential (src/soundness/simulation.ts): distances spread over 0.02..3.12 sigma, an
 *   average over easy and hard inputs (kept for the radius ratio and sample counts).
 */
import { parseArgs } from 'node:util';
import { simulateIrs, simulateRs, type SimulationResult } from '../src/soundness/simulation.ts';
import {
  irsBranches, irsPAOracle, irsSelection, irsZetaOracle, rsDecision, rsSharedNoise, rsWorstCase, type CheckResult,
} from '../src/soundness/stratified.ts';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '20000' }, only: { type: 'string' }, scale: { type: 'string', default: '1' } } });
const trials = Number(values.trials);
const run = (section: 'fixed' | 'sequential' | 'teeth') => values.only === undefined || values.only === section;

if (run('teeth')) {
  const k = Number(values.scale);
  const t = (base: number) => Math.round(base * k);
  // The same seeds as test/soundness.test.ts: at --scale 1 these are exactly CI's runs.
  const groups: (() => Promise<CheckResult[]>)[] = [
    () => rsWorstCase({ trials: t(3000), seed: 2 }),
    () => rsWorstCase({ trials: t(3000), seed: 3, classes: 3 }),
    () => rsSharedNoise({ trials: t(2000), seed: 4 }),
    () => rsDecision({ trials: t(2000), seed: 5 }),
    () => irsZetaOracle({ trials: t(2000), seed: 6 }),
    () => irsPAOracle({ trials: t(2000), seed: 7 }),
    () => irsSelection({ trials: t(2000), seed: 8 }),
    () => irsBranches({ trials: t(4000), seed: 9 }),
  ];
  console.log('| setting | certifier | trials | certified | violations | rate | budget | allowance | verdict |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const g of groups) {
    for (const r of await g()) {
      const verdict = r.control ? (r.within ? '**control passed (BAD)**' : 'caught') : (r.within ? 'within' : '**NOT within**');
      console.log(`| ${r.setting} | ${r.certifier} | ${r.trials} | ${r.certified} | ${r.violations} | ${(100 * r.rate).toFixed(2)}% | ${(100 * r.budget).toFixed(1)}% | ${(100 * r.allowance).toFixed(2)}% | ${verdict} |`);
    }
  }
  console.log('');
}

const row = (name: string, setting: string, r: SimulationResult) =>
  `| ${name} | ${setting} | ${r.trials} | ${r.certified} | ${r.violations} | ${(100 * r.rate).toFixed(3)}% | ${(100 * r.bound).toFixed(1)}% | ${(100 * r.allowance).toFixed(3)}% | ${r.rate <= r.allowance ? 'yes' : '**NO**'} | ${r.meanRadiusRatio.toFixed(3)} | ${Math.round(r.meanSamples)} |`;

if (run('fixed') || run('sequential')) {
  console.log(`| method | setting | certifications | certified | violations | rate | promised | allowance | within | mean R / true R | mean samples |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
}
for (const sigma of run('fixed') ? [0.25, 1.0] : []) {
  for (const alpha of [0.05, 0.01]) {
    const t0 = performance.now();
    console.log(row('RS', `sigma ${sigma}, n 500, alpha ${alpha}`, await simulateRs({ trials, sigma, alpha, seed: 10 + sigma * 4 + alpha * 1000 })));
    console.log(row('IRS', `sigma ${sigma}, n 500, n_p 500, alpha = alpha_zeta = ${alpha}, delta ${0.02 * sigma}`, await simulateIrs({ trials, sigma, alpha, alphaZeta: alpha, seed: 20 + sigma * 4 + alpha * 1000 })));
    console.error(`sigma ${sigma} alpha ${alpha}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
if (run('fixed')) {
  console.log(row('IRS', `sigma 0.5, n 2000, n_p 200, gamma 1 (all zeta branch), alpha = alpha_zeta = 0.05, delta 0.05`,
    await simulateIrs({ trials, sigma: 0.5, n: 2000, np: 200, gamma: 1, alpha: 0.05, alphaZeta: 0.05, delta: 0.05, seed: 99 })));
}
// Adaptive and decision modes (smoothing/sequential.ts): stages 32, 64, ... up to the cap, budget split evenly.
if (run('sequential')) {
  const adaptive = { firstStage: 32, stop: { kind: 'tolerance' as const, tolerance: 0.02 } };
  const decision = { firstStage: 32, stop: { kind: 'decision' as const, radius: 0.25 } };
  for (const alpha of [0.05, 0.01]) {
    console.log(row('IRS adaptive', `sigma 0.5, n 2000, n_p cap 500, tolerance 0.02, alpha = alpha_zeta = ${alpha}, delta 0.01`,
      await simulateIrs({ trials, sigma: 0.5, n: 2000, np: 500, alpha, alphaZeta: alpha, delta: 0.01, seed: 200 + alpha * 1000, sequential: adaptive })));
    console.log(row('IRS decision', `sigma 0.5, R 0.25, n 2000, n_p cap 500, gamma 1, alpha = alpha_zeta = ${alpha}, delta 0.01`,
      await simulateIrs({ trials, sigma: 0.5, n: 2000, np: 500, gamma: 1, alpha, alphaZeta: alpha, delta: 0.01, seed: 300 + alpha * 1000, sequential: decision })));
    console.log(row('RS decision (staged baseline)', `sigma 0.5, R 0.25, n0 50, n cap 500, alpha ${alpha}`,
      await simulateRs({ trials, sigma: 0.5, n: 500, alpha, seed: 400 + alpha * 1000, sequential: decision })));
  }
}
