import { describe, expect, it } from 'vitest';
import { LinearClassifier } from '../src/inference/linear.ts';
import { certify, predict, ABSTAIN } from '../src/smoothing/certify.ts';
import { branchLevels, recertify, type CachedInput } from '../src/smoothing/irs.ts';
import { runShard } from '../src/smoothing/sampler.ts';
import { localSampler } from '../src/smoothing/stream.ts';
import { ShardMerger } from '../src/smoothing/merge.ts';
import { averageCertifiedRadius, certifiedAccuracy } from '../src/smoothing/metrics.ts';
import { clopperPearsonLower, clopperPearsonUpper, normalQuantile } from '../src/stats/index.ts';
import erfc from '@stdlib/math-base-special-erfc';

const Phi = (z: number) => 0.5 * erfc(-z / Math.SQRT2);

/**
 * A two-class linear model in d dimensions: class 1 iff w.x + b > 0, with |w| = 1 so that
 * w.x + b is the signed distance to the hyperplane, which is the exact robust radius of the
 * smoothed classifier; P(f(x + eps) = 1) = Phi((w.x + b) / sigma).
 */
function linear(d: number, b = 0): { f: LinearClassifier; w: Float64Array } {
  const w = new Float64Array(d);
  for (let e = 0; e < d; e++) w[e] = Math.cos(e + 1);
  const norm = Math.hypot(...w);
  for (let e = 0; e < d; e++) w[e] /= norm;
  // scores: class 0 -> 0, class 1 -> w.x + b
  return { f: new LinearClassifier([new Float64Array(d), w], [0, b]), w };
}

/** An input at signed distance `dist` from the hyperplane w.x = 0. */
function atDistance(w: Float64Array, dist: number): Float32Array {
  return Float32Array.from(w, (v) => v * dist);
}

const d = 12;
const sigma = 0.5;

describe('CERTIFY on a linear classifier (true radius known)', () => {
  const { f, w } = linear(d);
  const dists = [-1.2, -0.6, -0.3, -0.05, 0.02, 0.1, 0.25, 0.4, 0.8, 1.5];
  const inputs = dists.map((t) => atDistance(w, t));

  it('never certifies beyond the distance to the hyperplane, and comes close for large n', async () => {
    const res = await certify(localSampler(f, inputs), inputs.length, { sigma, seed: 3, batchSize: 1000, n0: 100, n: 100_000, alpha: 0.001 });
    res.forEach((r, i) => {
      const trueClass = dists[i] > 0 ? 1 : 0;
      const trueRadius = Math.abs(dists[i]);
      if (r.predict !== ABSTAIN) {
        expect(r.predict).toBe(trueClass);
        expect(r.radius).toBeLessThanOrEqual(trueRadius);
      }
      // With n = 1e5 the CP bound is within ~0.5% of p; the radius within a few percent of sigma.
      const p = Phi(trueRadius / sigma);
      if (p < 0.9999) {
        const ideal = sigma * normalQuantile(Math.max(0.5, p - 4 * Math.sqrt(p * (1 - p) / 1e5)));
        expect(r.radius, `input at ${dists[i]}`).toBeGreaterThanOrEqual(ideal - 0.02);
      }
    });
  });

  it('abstains near the hyperplane and certifies far from it', async () => {
    const pair = [atDistance(w, 0.001), atDistance(w, 1)];
    const res = await certify(localSampler(f, pair), pair.length, { sigma, seed: 1, batchSize: 256, n0: 100, n: 1000, alpha: 0.001 });
    expect(res[0].predict).toBe(ABSTAIN);
    expect(res[0].radius).toBe(0);
    expect(res[1].predict).toBe(1);
    expect(res[1].radius).toBeGreaterThan(0.5);
  });

  it('gives identical results for any batch size and any shard split', async () => {
    const base = { sigma, seed: 11, n0: 50, n: 2000, alpha: 0.001 };
    const strip = (rs: Awaited<ReturnType<typeof certify>>) => rs.map(({ seconds, ...rest }) => rest);
    const ref = strip(await certify(localSampler(f, inputs), inputs.length, { ...base, batchSize: 2000 }));
    for (const [batchSize, shardSize] of [[1, undefined], [7, undefined], [256, 300], [64, 999]] as const) {
      expect(strip(await certify(localSampler(f, inputs), inputs.length, { ...base, batchSize, shardSize })), `batch ${batchSize} shard ${shardSize}`).toEqual(ref);
    }
  });
});

describe('shard merging', () => {
  const { f, w } = linear(d);
  const inputs = [atDistance(w, 0.1), atDistance(w, -0.2)];
  const spec = { sigma, seed: 5, stream: 1, batchSize: 16 };

  it('merges out-of-order shards, ignores duplicates, refuses overlaps, and equals one pass', async () => {
    const whole = await runShard(f, inputs, { ...spec, start: 0, count: 100 }, { record: true });
    const merger = new ShardMerger({ start: 0, count: 100 }, inputs.length);
    const parts = [[60, 40], [0, 25], [25, 35]];
    for (const [start, count] of parts) {
      expect(merger.complete).toBe(false);
      expect(merger.add(await runShard(f, inputs, { ...spec, start, count }, { record: true }))).toBe(true);
    }
    expect(merger.add(await runShard(f, inputs, { ...spec, start: 25, count: 35 }, { record: true }))).toBe(false);
    await expect(async () => merger.add(await runShard(f, inputs, { ...spec, start: 20, count: 10 }, { record: true }))).rejects.toThrow(/overlaps/);
    const merged = merger.result();
    expect(merged.counts).toEqual(whole.counts);
    expect(merged.predictions).toEqual(whole.predictions);
  });

  it('reports missing ranges and refuses a result before the range is covered', async () => {
    const merger = new ShardMerger({ start: 0, count: 50 }, 2);
    merger.add(await runShard(f, inputs, { ...spec, start: 10, count: 20 }));
    expect(merger.missing()).toEqual([{ start: 0, count: 10 }, { start: 30, count: 20 }]);
    expect(() => merger.result()).toThrow(/missing/);
    await expect(async () => merger.add(await runShard(f, inputs, { ...spec, start: 45, count: 10 }))).rejects.toThrow(/outside/);
  });
});

describe('IRS on linear models (true disagreement known)', () => {
  // f^p = f with its bias shifted by delta: the two disagree exactly when w.(x + eps) lies in
  // (-delta, 0], so P(f != f^p) = Phi((t + delta) / sigma) - Phi(t / sigma) at distance t,
  // and g^p's exact radius is |t + delta|.
  const delta = 0.03;
  const { f, w } = linear(d);
  const { f: fp } = linear(d, delta);
  const dists = [-0.9, -0.4, 0.05, 0.15, 0.3, 0.6, 1.0, 2.0];
  const inputs = dists.map((t) => atDistance(w, t));
  const params = { sigma, seed: 21, batchSize: 500, n0: 100, n: 20_000, alpha: 0.001 };

  it('bounds the disagreement from above and never certifies beyond g^p\'s true radius', async () => {
    const original = await certify(localSampler(f, inputs), inputs.length, params);
    const cache: CachedInput[] = original;
    const res = await recertify(localSampler(fp, inputs), cache, { ...params, np: 5000, alphaZeta: 0.001, gamma: 0.99 });
    res.forEach((r, i) => {
      const t = dists[i];
      const trueRadius = Math.abs(t + delta);
      if (r.predict !== ABSTAIN) {
        expect(r.predict).toBe(t + delta > 0 ? 1 : 0);
        expect(r.radius, `input at ${t}`).toBeLessThanOrEqual(trueRadius);
      }
      if (r.branch === 'zeta') {
        const trueZeta = Phi((t + delta) / sigma) - Phi(t / sigma);
        expect(r.zeta!, `zeta at ${t}`).toBeGreaterThanOrEqual(trueZeta);
        expect(r.zeta!).toBeLessThan(trueZeta + 0.01);
        expect(r.samples).toBe(5000);
      }
    });
    // Inputs with pA_lower >= gamma take the RS branch: the far ones here.
    expect(res[dists.indexOf(2.0)].branch).toBe('rs');
    expect(res[dists.indexOf(0.15)].branch).toBe('zeta');
    // The rs branch's bound is the CP lower bound at the original alpha, not alpha + alpha_zeta
    // (RELIABILITY.md, "IRS's two branches"); split alpha / M over M candidates.
    for (const r of res.filter((x) => x.branch === 'rs')) expect(r.pALower).toBe(clopperPearsonLower(r.nA!, 5000, params.alpha));
    const three = await recertify(localSampler(fp, inputs), cache, { ...params, np: 5000, alphaZeta: 0.001, gamma: 0.99, candidates: 3 });
    for (const r of three.filter((x) => x.branch === 'rs')) expect(r.pALower).toBe(clopperPearsonLower(r.nA!, 5000, branchLevels({ ...params, alphaZeta: 0.001, candidates: 3 }).rs));
    for (const r of three.filter((x) => x.branch === 'zeta')) expect(r.zeta).toBe(clopperPearsonUpper(r.disagreements!, 5000, (0.001 / 3) * (1 - 1e-12)));
  });

  it('sees zero disagreements when f^p = f, so zeta is the CP floor 1 - alpha_zeta^(1/n_p)', async () => {
    const original = await certify(localSampler(f, inputs), inputs.length, params);
    const res = await recertify(localSampler(f, inputs), original, { ...params, np: 1000, alphaZeta: 0.001, gamma: 1 });
    for (const r of res.filter((x) => x.branch === 'zeta')) {
      expect(r.disagreements).toBe(0);
      expect(r.zeta!).toBeCloseTo(0.006884, 6);
    }
  });

  it('abstains without sampling where the original abstained, and refuses a cache shorter than n_p', async () => {
    const cache: CachedInput[] = [{ cA: ABSTAIN, pALower: 0.4, predictions: new Int16Array(10) }];
    const res = await recertify(localSampler(fp, [inputs[0]]), cache, { ...params, np: 10, alphaZeta: 0.001, gamma: 0.99 });
    expect(res[0]).toMatchObject({ branch: 'abstain', predict: ABSTAIN, radius: 0, samples: 0 });
    const short: CachedInput[] = [{ cA: 1, pALower: 0.7, predictions: new Int16Array(10) }];
    await expect(recertify(localSampler(fp, [inputs[0]]), short, { ...params, np: 11, alphaZeta: 0.001, gamma: 0.99 })).rejects.toThrow(/n_p/);
  });
});

describe('PREDICT and metrics', () => {
  const { f, w } = linear(d);

  it('predicts far inputs and abstains on the hyperplane', async () => {
    const res = await predict(localSampler(f, [atDistance(w, 0.8), atDistance(w, -0.8), atDistance(w, 0)]), 3, { sigma, seed: 2, batchSize: 100, n: 1000, alpha: 0.001 });
    expect(res.map((r) => r.predict)).toEqual([1, 0, ABSTAIN]);
    expect(res[2].pValue).toBeGreaterThan(0.001);
  });

  it('computes certified accuracy and ACR with abstentions and wrong classes as zero', () => {
    const rs = [
      { radius: 0.6, correct: 1 as const }, { radius: 0.3, correct: 1 as const },
      { radius: 0.9, correct: 0 as const }, { radius: 0, correct: 0 as const },
    ];
    expect(certifiedAccuracy(rs, 0)).toBe(0.5);
    expect(certifiedAccuracy(rs, 0.5)).toBe(0.25);
    expect(averageCertifiedRadius(rs)).toBeCloseTo(0.225, 12);
  });
});
