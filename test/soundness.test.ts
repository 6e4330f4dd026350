/**
 * The soundness simulation at CI size (the full one: npm run soundness, figures in
 * RELIABILITY.md): on linear models with known truth, the rate of certificates that claim more
 * than the truth stays within the promised failure probability, allowing for sampling error;
 * and deliberately broken certifiers fail the same check.
 */
import { describe, expect, it } from 'vitest';
import { simulateIrs, simulateRs } from '../src/soundness/simulation.ts';
import {
  irsBranches, irsPAOracle, irsSelection, irsZetaOracle, rsDecision, rsSharedNoise, rsWorstCase, type CheckResult,
} from '../src/soundness/stratified.ts';

/** Every real certifier passes the check and every negative control fails the same check. */
function expectVerdicts(results: CheckResult[]) {
  for (const r of results) {
    const what = `${r.certifier} (${r.setting}): ${r.violations} of ${r.trials} violated, rate ${r.rate.toFixed(4)}, allowance ${r.allowance.toFixed(4)}`;
    if (r.control) expect(r.within, `negative control passed: ${what}`).toBe(false);
    else expect(r.within, `real certifier failed: ${what}`).toBe(true);
  }
}

// The same sizes and seeds as `npm run soundness -- --trials-scale 1` (reliability/soundness.ts) uses for RELIABILITY.md's CI rows.
describe('soundness with teeth: worst-case placements, isolated parts, negative controls (src/soundness/stratified.ts)', () => {
  it('RS at a CP knot (two and three classes) and several inputs sharing noise stay within alpha', async () => {
    expectVerdicts([
      ...await rsWorstCase({ trials: 3000, seed: 2 }),
      ...await rsWorstCase({ trials: 3000, seed: 3, classes: 3 }),
      ...await rsSharedNoise({ trials: 2000, seed: 4 }),
    ]);
  }, 120_000);

  it('decision mode: the staged split passes, the full alpha at every stage is caught', async () => {
    const r = await rsDecision({ trials: 2000, seed: 5 });
    expect(r.map((x) => x.control)).toEqual([false, true]);
    expectVerdicts(r);
  }, 120_000);

  it('IRS zeta alone (oracle pA): real zeta passes; zeta = 0 and zeta at 0.5 claimed as 0.05 are caught', async () => {
    const r = await irsZetaOracle({ trials: 2000, seed: 6 });
    expect(r.filter((x) => x.control)).toHaveLength(2);
    expectVerdicts(r);
  }, 120_000);

  it('IRS pA alone (oracle zeta) stays within alpha', async () => {
    expectVerdicts(await irsPAOracle({ trials: 2000, seed: 7 }));
  }, 120_000);

  it('selection among 6 candidates: the union bound passes, keeping the best of 6 full-level certificates is caught', async () => {
    const r = await irsSelection({ trials: 2000, seed: 8 });
    expect(r.map((x) => x.control)).toEqual([false, true]);
    expectVerdicts(r);
  }, 120_000);

  it('IRS both branches at finding 2’s worst case: the rs branch at alpha passes, at alpha + alpha_zeta it is caught', async () => {
    const r = await irsBranches({ trials: 4000, seed: 9 });
    expect(r.map((x) => x.control)).toEqual([false, true]);
    expectVerdicts(r);
  }, 120_000);
});

describe('soundness by simulation (linear models, exact truth)', () => {
  it('RS: at most alpha of 3,000 certificates claim too much', async () => {
    const r = await simulateRs({ trials: 3000, alpha: 0.05, seed: 101 });
    expect(r.certified).toBeGreaterThan(2500);
    expect(r.rate).toBeLessThanOrEqual(r.allowance);
    expect(r.meanRadiusRatio).toBeGreaterThan(0.7); // and the certificates are not vacuous
  });

  it('IRS: at most alpha + alpha_zeta of 3,000 certificates claim too much, in both branches', async () => {
    const mixed = await simulateIrs({ trials: 3000, alpha: 0.05, alphaZeta: 0.05, seed: 102 });
    expect(mixed.rate).toBeLessThanOrEqual(mixed.allowance);
    const zetaOnly = await simulateIrs({ trials: 1500, n: 2000, np: 200, gamma: 1, alpha: 0.05, alphaZeta: 0.05, delta: 0.05, seed: 103 });
    expect(zetaOnly.rate).toBeLessThanOrEqual(zetaOnly.allowance);
  });

  it('adaptive IRS: staged replay with the budget split across stages stays within alpha + alpha_zeta', async () => {
    const sequential = { firstStage: 32, stop: { kind: 'tolerance' as const, tolerance: 0.02 } };
    const mixed = await simulateIrs({ trials: 2000, alpha: 0.05, alphaZeta: 0.05, seed: 105, sequential });
    expect(mixed.rate).toBeLessThanOrEqual(mixed.allowance);
    const zetaOnly = await simulateIrs({ trials: 1500, n: 2000, np: 400, gamma: 1, alpha: 0.05, alphaZeta: 0.05, delta: 0.05, seed: 106, sequential });
    expect(zetaOnly.rate).toBeLessThanOrEqual(zetaOnly.allowance);
    expect(zetaOnly.meanRadiusRatio).toBeGreaterThan(0.5);
  });

  it('decision mode: IRS and the staged baseline stay within their budgets, and most inputs stop early', async () => {
    // Radius 0.25 (sigma 0.5) sits inside the spread of true radii, so many inputs are close calls.
    const sequential = { firstStage: 32, stop: { kind: 'decision' as const, radius: 0.25 } };
    const irs = await simulateIrs({ trials: 2000, alpha: 0.05, alphaZeta: 0.05, gamma: 1, n: 2000, np: 500, delta: 0.02, seed: 107, sequential });
    expect(irs.rate).toBeLessThanOrEqual(irs.allowance);
    const rs = await simulateRs({ trials: 2000, alpha: 0.05, n: 500, seed: 108, sequential });
    expect(rs.rate).toBeLessThanOrEqual(rs.allowance);
    expect(irs.meanSamples).toBeLessThan(250);
    expect(rs.meanSamples).toBeLessThan(250);
  });

  it('has teeth: certificates at a looser level than claimed exceed the allowance', async () => {
    // Certify at alpha = 0.35 but hold the result to the promise of alpha = 0.05.
    const loose = await simulateRs({ trials: 3000, alpha: 0.35, seed: 104 });
    const claimed = 0.05 + 3.1 * Math.sqrt((0.05 * 0.95) / 3000);
    expect(loose.rate).toBeGreaterThan(claimed);
  });
});
