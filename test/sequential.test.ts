/**
 * Adaptive replay, decision mode and candidates in one pass (smoothing/sequential.ts,
 * smoothing/irs.ts recertifyMany) on linear models whose smoothed behaviour is known exactly.
 */
import { describe, expect, it } from 'vitest';
import { LinearClassifier } from '../src/inference/linear.ts';
import type { Classifier } from '../src/inference/classifier.ts';
import { certify } from '../src/smoothing/certify.ts';
import { recertify, recertifyMany } from '../src/smoothing/irs.ts';
import { localMultiSampler, localSampler } from '../src/smoothing/stream.ts';
import { doublingStages, optimisticBound, shouldStop, stageBound } from '../src/smoothing/sequential.ts';
import { certifiedRadius, clopperPearsonUpper } from '../src/stats/index.ts';

const DIM = 6;
const w = Float64Array.from({ length: DIM }, (_, e) => Math.cos(e + 1));
const norm = Math.hypot(...w);
w.forEach((v, e) => (w[e] = v / norm));
const zero = new Float64Array(DIM);
/** f(x) = [w.x + bias > 0]: P(f(x + eps) = 1) = Phi((w.x + bias) / sigma). */
const linear = (bias: number) => new LinearClassifier([zero, w], [0, bias]);
/** Inputs at signed distances t from f's hyperplane. */
const at = (ts: number[]) => ts.map((t) => Float32Array.from(w, (v) => v * t));

const SIGMA = 0.5;
const base = { sigma: SIGMA, seed: 11, batchSize: 128 };
const DISTANCES = [0.05, 0.2, 0.4, 0.6, 0.9, 1.3, -0.3, -0.8];

async function originalCache(inputs: Float32Array[], n = 4000) {
  return certify(localSampler(linear(0), inputs), inputs.length, { ...base, n0: 50, n, alpha: 0.001 });
}

describe('stage plans', () => {
  it('double up to the cap and split the budget so that it sums to at most alpha', () => {
    const p = doublingStages(1000, 64, 0.001);
    expect(p.ends).toEqual([64, 128, 256, 512, 1000]);
    expect(p.alphas.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(0.001);
    expect(p.alphas.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.001 * (1 - 1e-6));
    expect(doublingStages(50, 64, 0.01)).toEqual({ ends: [50], alphas: [0.01 * (1 - 1e-9)] });
    expect(() => doublingStages(0, 64, 0.01)).toThrow(/cap/);
    expect(() => doublingStages(100, 64, 1)).toThrow(/alpha/);
  });

  it('the optimistic bound is what no more disagreements (zeta) or all votes for cA (lower) would give at the cap', () => {
    const p = doublingStages(800, 100, 0.01);
    const zeta = { kind: 'zeta' as const, pALower: 0.95 };
    expect(optimisticBound(zeta, p, 1, 3, 100)).toBeCloseTo(stageBound(zeta, 3, 800, p.alphas[3]), 12);
    expect(optimisticBound({ kind: 'lower' }, p, 1, 90, 100)).toBeCloseTo(stageBound({ kind: 'lower' }, 790, 800, p.alphas[3]), 12);
    // Decision at R: a bound of radius >= R decides yes; an optimistic one below R decides no.
    const pR = 0.5 + 0.3;
    const R = certifiedRadius(SIGMA, pR);
    expect(shouldStop({ kind: 'decision', radius: R }, SIGMA, pR + 1e-6, 0.99)).toBe(true);
    expect(shouldStop({ kind: 'decision', radius: R }, SIGMA, 0.6, pR - 1e-3)).toBe(true);
    expect(shouldStop({ kind: 'decision', radius: R }, SIGMA, 0.6, 0.99)).toBe(false);
    expect(shouldStop({ kind: 'tolerance', tolerance: 0.01 }, SIGMA, 0.9, 0.9001)).toBe(true);
    expect(shouldStop({ kind: 'tolerance', tolerance: 0.01 }, SIGMA, 0.9, 0.95)).toBe(false);
  });
});

describe('IRS in stages', () => {
  const inputs = at(DISTANCES);
  const fp = linear(0.01);
  const irs = { ...base, np: 2000, alpha: 0.001, alphaZeta: 0.001, gamma: 1 };

  it('decision mode: each input stops at the first stage that decides it, and its verdict agrees with the truth', async () => {
    const cache = await originalCache(inputs);
    const R = 0.25;
    const out = await recertify(localSampler(fp, inputs), cache, { ...irs, sequential: { firstStage: 64, stop: { kind: 'decision', radius: R } } });
    out.forEach((r, i) => {
      const truth = Math.abs(DISTANCES[i] + 0.01);
      if (r.radius >= R && r.predict !== -1) expect(truth).toBeGreaterThanOrEqual(R); // sound yes
      expect(r.samples).toBeLessThanOrEqual(2000);
    });
    // Inputs whose cached bound cannot reach R stop before any sample.
    const hopeless = cache.map((c, i) => (c.pALower <= 0.5 || certifiedRadius(SIGMA, c.pALower) < R ? i : -1)).filter((i) => i >= 0);
    expect(hopeless.length).toBeGreaterThan(0);
    for (const i of hopeless) expect(out[i]).toMatchObject({ samples: 0, stage: 0, radius: 0 });
    // Far-away inputs (t = 0.9, 1.3, -0.8) are decided yes in the first stage.
    for (const i of [4, 5, 7]) expect(out[i]).toMatchObject({ stage: 1, samples: 64 });
    expect(out[4].radius).toBeGreaterThanOrEqual(R);
    const fixed = await recertify(localSampler(fp, inputs), cache, irs);
    expect(out.reduce((s, r) => s + r.samples, 0)).toBeLessThan(fixed.reduce((s, r) => s + r.samples, 0) / 10);
  });

  it('adaptive mode reports the best bound over its stages, each at its share of alpha_zeta', async () => {
    const cache = await originalCache(inputs);
    const stop = { kind: 'tolerance' as const, tolerance: 0.05 };
    const out = await recertify(localSampler(fp, inputs), cache, { ...irs, sequential: { firstStage: 125, stop } });
    const plan = doublingStages(2000, 125, 0.001);
    out.forEach((r, i) => {
      if (r.branch !== 'zeta' || r.samples === 0) return;
      expect(plan.ends).toContain(r.samples);
      // zeta at some stage's own alpha: never the unsplit alpha_zeta.
      const candidates = plan.ends.map((m) => clopperPearsonUpper(r.disagreements!, m, plan.alphas[0]));
      expect(r.zeta).toBeGreaterThanOrEqual(Math.min(...candidates) - 1e-12);
      expect(r.zeta).toBeGreaterThan(clopperPearsonUpper(r.disagreements!, r.samples, 0.001));
      expect(cache[i].pALower - r.zeta! - r.pALower).toBeGreaterThanOrEqual(0);
    });
    // A tolerance above any reachable radius: nothing can be gained, so no input samples at all.
    const huge = await recertify(localSampler(fp, inputs), cache, { ...irs, sequential: { firstStage: 125, stop: { kind: 'tolerance', tolerance: 100 } } });
    expect(huge.every((r) => r.samples === 0 && r.radius === 0)).toBe(true);
    // Tolerance 0: every input that can still gain runs to the cap.
    const none = await recertify(localSampler(fp, inputs), cache, { ...irs, sequential: { firstStage: 125, stop: { kind: 'tolerance', tolerance: 0 } } });
    for (const r of none) if (r.branch === 'zeta') expect(r.samples).toBe(2000);
    expect(out.reduce((s, r) => s + r.samples, 0)).toBeLessThan(none.reduce((s, r) => s + r.samples, 0));
  });

  it('the RS branch stages too, on its own stream, with alpha split', async () => {
    const cache = await originalCache(inputs);
    const out = await recertify(localSampler(fp, inputs), cache, { ...irs, gamma: 0.5, sequential: { firstStage: 64, stop: { kind: 'decision', radius: 0.25 } } });
    expect(out.every((r) => r.branch !== 'zeta')).toBe(true);
    const rs = out.filter((r) => r.branch === 'rs');
    expect(rs.length).toBeGreaterThan(3);
    for (const r of rs) expect(r.nA).toBeLessThanOrEqual(r.samples);
    expect(Math.min(...rs.map((r) => r.samples))).toBe(64);
  });
});

describe('several candidates in one pass', () => {
  const inputs = at(DISTANCES);
  const irs = { ...base, np: 1000, alpha: 0.001, alphaZeta: 0.001, gamma: 0.99 };

  it('gives every candidate exactly what a run on its own gives at the same candidate split, in fixed and decision modes', async () => {
    const cache = await originalCache(inputs);
    const candidates = [linear(0.01), linear(-0.03), linear(0.1)];
    for (const sequential of [undefined, { firstStage: 64, stop: { kind: 'decision' as const, radius: 0.3 } }]) {
      const together = await recertifyMany(localMultiSampler(candidates, inputs), cache, { ...irs, sequential });
      for (let m = 0; m < candidates.length; m++) {
        // Recertified together they are candidates to select among: each at alpha_zeta / 3 and alpha / 3.
        const alone = await recertify(localSampler(candidates[m], inputs), cache, { ...irs, sequential, candidates: candidates.length });
        expect(together[m].map(({ seconds: _s, ...r }) => r)).toEqual(alone.map(({ seconds: _s, ...r }) => r));
      }
    }
  });

  it('feeds every candidate the same noisy batch (noise drawn once per sample)', async () => {
    const cache = await originalCache(inputs.slice(0, 2), 500);
    const seen: Float32Array[][] = [[], []];
    const spy = (c: Classifier, m: number): Classifier => Object.assign(Object.create(Object.getPrototypeOf(c)), c, {
      classify: (batch: Float32Array, b: number, out: Int32Array) => { seen[m].push(batch.slice(0, b * DIM)); return c.classify(batch, b, out); },
    });
    await recertifyMany(localMultiSampler([spy(linear(0.01), 0), spy(linear(0.2), 1)], inputs.slice(0, 2)), cache, { ...irs, np: 300, gamma: 1 });
    expect(seen[0].length).toBeGreaterThan(0);
    expect(seen[1]).toEqual(seen[0]);
  });

  it('drops a candidate when the control says so, and samples it no further', async () => {
    const cache = await originalCache(inputs);
    const sequential = { firstStage: 64, stop: { kind: 'decision' as const, radius: 0.3 } };
    const control = { drop: (m: number) => m === 1 } as { drop: (m: number) => boolean; dropped?: boolean[] };
    const out = await recertifyMany(localMultiSampler([linear(0.01), linear(0.02)], inputs), cache, { ...irs, sequential }, undefined, control);
    expect(control.dropped).toEqual([false, true]);
    expect(out[1].every((r) => r.samples === 0)).toBe(true);
    expect(out[0].some((r) => r.samples > 0)).toBe(true);
  });
});
