/**
 * npm run soundness -- [--trials 20000]
 *
 * The statistical soundness simulation (src/soundness/simulation.ts) at several settings, for
 * RELIABILITY.md: how often RS and IRS certificates claim more than the exact truth.
 */
import { parseArgs } from 'node:util';
import { simulateIrs, simulateRs, type SimulationResult } from '../src/soundness/simulation.ts';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '20000' } } });
const trials = Number(values.trials);

const row = (name: string, setting: string, r: SimulationResult) =>
  `| ${name} | ${setting} | ${r.trials} | ${r.certified} | ${r.violations} | ${(100 * r.rate).toFixed(3)}% | ${(100 * r.bound).toFixed(1)}% | ${(100 * r.allowance).toFixed(3)}% | ${r.rate <= r.allowance ? 'yes' : '**NO**'} | ${r.meanRadiusRatio.toFixed(3)} |`;

console.log(`| method | setting | certifications | certified | violations | rate | promised | allowance | within | mean R / true R |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const sigma of [0.25, 1.0]) {
  for (const alpha of [0.05, 0.01]) {
    const t0 = performance.now();
    console.log(row('RS', `sigma ${sigma}, n 500, alpha ${alpha}`, await simulateRs({ trials, sigma, alpha, seed: 10 + sigma * 4 + alpha * 1000 })));
    console.log(row('IRS', `sigma ${sigma}, n 500, n_p 500, alpha = alpha_zeta = ${alpha}, delta ${0.02 * sigma}`, await simulateIrs({ trials, sigma, alpha, alphaZeta: alpha, seed: 20 + sigma * 4 + alpha * 1000 })));
    console.error(`sigma ${sigma} alpha ${alpha}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
console.log(row('IRS', `sigma 0.5, n 2000, n_p 200, gamma 1 (all zeta branch), alpha = alpha_zeta = 0.05, delta 0.05`,
  await simulateIrs({ trials, sigma: 0.5, n: 2000, np: 200, gamma: 1, alpha: 0.05, alphaZeta: 0.05, delta: 0.05, seed: 99 })));
