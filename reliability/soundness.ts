/**
 * npm run soundness -- [--trials 20000]
 *
 * The statistical soundness simulation (src/soundness/simulation.ts) at several settings, for
 * RELIABILITY.md: how often RS and IRS certificates claim more than the exact truth.
 */
import { parseArgs } from 'node:util';
import { simulateIrs, simulateRs, type SimulationResult } from '../src/soundness/simulation.ts';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '20000' }, only: { type: 'string' } } });
const trials = Number(values.trials);
const run = (section: 'fixed' | 'sequential') => values.only === undefined || values.only === section;

const row = (name: string, setting: string, r: SimulationResult) =>
  `| ${name} | ${setting} | ${r.trials} | ${r.certified} | ${r.violations} | ${(100 * r.rate).toFixed(3)}% | ${(100 * r.bound).toFixed(1)}% | ${(100 * r.allowance).toFixed(3)}% | ${r.rate <= r.allowance ? 'yes' : '**NO**'} | ${r.meanRadiusRatio.toFixed(3)} | ${Math.round(r.meanSamples)} |`;

console.log(`| method | setting | certifications | certified | violations | rate | promised | allowance | within | mean R / true R | mean samples |`);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
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
