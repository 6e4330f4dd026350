/**
 * The soundness simulation with teeth: each setting puts the truth exactly where a certifier
 * that claims a little too much gets caught, isolates one part of a certificate at a time, and
 * runs the real certifier and deliberately broken ones (negative controls) through the same
 * check. `npm run soundness` prints the table in RELIABILITY.md; test/soundness.test.ts runs
 * every setting at CI size and requires every real certifier to pass and every control to fail.
 *
 * The check. A certificate (class c, radius R) is violated when c is not the true class or R
 * exceeds sigma Phi^-1(p_c) for the exact p_c = P(f(x + eps) = c): the radius its theorem gives
 * with the exact probability (for two-class linear models, the exact robust radius of g). Over
 * `trials` independent runs, the violation count is compared with the budget the certifier
 * claims for the part under test: within when rate <= budget + 3.1 standard errors of a rate
 * equal to the budget (a sound certifier fails this one-sided 99.9% check about once in a
 * thousand settings; the seeds are fixed, so CI results are reproducible).
 *
 * Worst-case placement (stratification). A Clopper–Pearson lower bound takes discrete values
 * L_k (k votes out of n). With the true p just below L_k, the bound exceeds p exactly when the
 * votes reach k, which happens with probability P(Bin(n, p) >= k) ~ alpha: the largest
 * violation rate any p allows. The settings put p (or P(f != f^p), for zeta) there, so the
 * rate to expect from a sound certifier is close to its budget rather than far below it, as it
 * was when distances were averaged over 0.02..3.12 sigma.
 */
import { LinearClassifier } from '../inference/linear.ts';
import { certify, ABSTAIN } from '../smoothing/certify.ts';
import { recertify, recertifyMany, type CachedInput, type IrsParams } from '../smoothing/irs.ts';
import { localSampler, type MultiSampler } from '../smoothing/stream.ts';
import type { MergedSamples } from '../smoothing/merge.ts';
import { philox4x32 } from '../noise/philox.ts';
import { Stream } from '../noise/gaussian.ts';
import { clopperPearsonLower, clopperPearsonUpper, normalQuantile, subtractDown, certifiedRadius } from '../stats/index.ts';
import { radiusOf } from '../smoothing/sequential.ts';

export interface CheckResult {
  setting: string;
  certifier: string;
  /** A deliberately broken certifier: the check must fail it. */
  control: boolean;
  trials: number;
  certified: number;
  violations: number;
  rate: number;
  /** The failure probability the certifier claims for the part under test. */
  budget: number;
  /** budget + 3.1 standard errors: the largest rate the check accepts. */
  allowance: number;
  within: boolean;
}

export function allowance(budget: number, trials: number): number {
  return budget + 3.1 * Math.sqrt((budget * (1 - budget)) / trials);
}

function result(setting: string, certifier: string, control: boolean, trials: number, certified: number, violations: number, budget: number): CheckResult {
  const rate = violations / trials;
  const allow = allowance(budget, trials);
  return { setting, certifier, control, trials, certified, violations, rate, budget, allowance: allow, within: rate <= allow };
}

/** erfc to 1.2e-7 relative (Numerical Recipes' erfcc): only the start of normalCdf below. */
function erfcRough(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** P(N(0,1) <= z), to ~1e-15: Newton steps on the exact quantile (stats normalQuantile) refine the rough start. */
function normalCdf(z: number): number {
  let p = 0.5 * erfcRough(-z / Math.SQRT2);
  for (let i = 0; i < 3; i++) {
    const zi = normalQuantile(p);
    const dens = Math.exp(-0.5 * zi * zi) / Math.sqrt(2 * Math.PI);
    p += (z - zi) * dens;
  }
  return p;
}

/** Deterministic uniforms in (0, 1) for trial k of experiment `seed`, stream `tag`. */
function uniform(seed: number, k: number, tag: number): number {
  const out = new Uint32Array(4);
  philox4x32(k, seed, tag, 0, 0x5eed, 0, out);
  return (out[0] + 0.5) / 2 ** 32;
}

/** The CP lower knot nearest `near` for n samples at level a: p just below it is the worst case. */
export function worstLower(n: number, a: number, near: number): { k: number; p: number } {
  let k = Math.round(near * n);
  while (k > 1 && clopperPearsonLower(k, n, a) > near) k--;
  while (k < n && clopperPearsonLower(k, n, a) < near) k++;
  return { k, p: clopperPearsonLower(k, n, a) - 1e-6 };
}

/** The CP upper knot nearest `near`: a disagreement rate just above it is zeta's worst case. */
export function worstUpper(n: number, a: number, near: number): { k: number; q: number } {
  let k = Math.round(near * n);
  while (k > 0 && clopperPearsonUpper(k, n, a) > near) k--;
  while (k < n - 1 && clopperPearsonUpper(k + 1, n, a) < near) k++;
  return { k, q: clopperPearsonUpper(k, n, a) + 1e-6 };
}

/** Unit direction in d dimensions (not axis-aligned), as float64. */
function direction(dim: number): Float64Array {
  const w = new Float64Array(dim);
  for (let e = 0; e < dim; e++) w[e] = Math.cos(e + 1);
  const norm = Math.hypot(...w);
  for (let e = 0; e < dim; e++) w[e] /= norm;
  return w;
}

/** The input at signed distance t along w (float32), and its exact distance w.x after rounding. */
function inputAt(w: Float64Array, t: number): { x: Float32Array; s: number } {
  const x = Float32Array.from(w, (v) => v * t);
  let s = 0;
  for (let e = 0; e < w.length; e++) s += w[e] * x[e];
  return { x, s };
}

/** Two classes: class 1 iff w.x + b > 0. */
function halfSpace(w: Float64Array, b: number): LinearClassifier {
  return new LinearClassifier([new Float64Array(w.length), w], [0, b]);
}

/** Three classes in slabs along w: 0 for w.x < -h, 1 in between, 2 for w.x > h. */
function slabs(w: Float64Array, h: number): LinearClassifier {
  return new LinearClassifier([Float64Array.from(w, (v) => -v), new Float64Array(w.length), w], [-h, 0, -h]);
}

interface Common { trials: number; seed: number }

// ---------------------------------------------------------------------------------------------
// RS, fixed n, at the worst case: the exact pA just below a CP knot near 0.9.

export async function rsWorstCase(o: Common & { n?: number; alpha?: number; sigma?: number; classes?: 2 | 3 }): Promise<CheckResult[]> {
  const { n = 500, alpha = 0.05, sigma = 0.5, classes = 2 } = o;
  const w = direction(2);
  const { p } = worstLower(n, alpha, 0.9);
  // Two classes: x at distance t from the hyperplane with Phi(t / sigma) = p. Three: the middle
  // slab of half-width h around x with 2 Phi(h / sigma) - 1 = p; the other two share the rest.
  const f = classes === 2 ? halfSpace(w, 0) : slabs(w, sigma * normalQuantile((1 + p) / 2));
  const { x, s } = inputAt(w, classes === 2 ? sigma * normalQuantile(p) : 0);
  const truth = 1; // the class on x's side, or the middle slab
  const pTrue = classes === 2 ? normalCdf(s / sigma) : normalCdf((sigma * normalQuantile((1 + p) / 2) - s) / sigma) - normalCdf((-sigma * normalQuantile((1 + p) / 2) - s) / sigma);
  const rTrue = sigma * normalQuantile(pTrue);
  let certified = 0, violations = 0;
  for (let k = 0; k < o.trials; k++) {
    const [r] = await certify(localSampler(f, [x]), 1, { sigma, seed: o.seed * 2 ** 20 + k, batchSize: n, n0: 32, n, alpha });
    if (r.predict === ABSTAIN) continue;
    certified++;
    if (r.predict !== truth || r.radius > rTrue) violations++;
  }
  const setting = `RS, ${classes} classes, n ${n}, pA just below a CP knot (${pTrue.toFixed(4)})`;
  return [result(setting, 'CERTIFY', false, o.trials, certified, violations, alpha)];
}

// ---------------------------------------------------------------------------------------------
// Several inputs in one job share noise (noise is keyed by sample, not input): per-input rates.

export async function rsSharedNoise(o: Common & { inputs?: number; n?: number; alpha?: number; sigma?: number }): Promise<CheckResult[]> {
  const { inputs = 6, n = 500, alpha = 0.05, sigma = 0.5 } = o;
  const w = direction(2);
  const f = halfSpace(w, 0);
  const pts = Array.from({ length: inputs }, (_, i) => {
    const { p } = worstLower(n, alpha, 0.7 + (0.28 * i) / Math.max(1, inputs - 1));
    const { x, s } = inputAt(w, sigma * normalQuantile(p));
    return { x, rTrue: s };
  });
  const viol = pts.map(() => 0);
  let certified = 0;
  for (let k = 0; k < o.trials; k++) {
    const res = await certify(localSampler(f, pts.map((q) => q.x)), inputs, { sigma, seed: o.seed * 2 ** 20 + k, batchSize: n, n0: 32, n, alpha });
    res.forEach((r, i) => {
      if (r.predict === ABSTAIN) return;
      certified++;
      if (r.predict !== 1 || r.radius > pts[i].rTrue) viol[i]++;
    });
  }
  // Each input position is its own series of independent trials; report the worst position.
  const worst = viol.indexOf(Math.max(...viol));
  return [result(`RS, ${inputs} inputs per job sharing noise, each at a CP knot (worst input of ${inputs})`, 'CERTIFY', false, o.trials, Math.round(certified / inputs), viol[worst], alpha)];
}

// ---------------------------------------------------------------------------------------------
// Decision mode at radius R, the true radius just below R: any certification at R is a violation.

export async function rsDecision(o: Common & { alpha?: number; sigma?: number; radius?: number; cap?: number; first?: number }): Promise<CheckResult[]> {
  const { alpha = 0.05, sigma = 0.5, radius = 0.25, cap = 512, first = 32 } = o;
  const w = direction(2);
  const f = halfSpace(w, 0);
  const { x, s } = inputAt(w, radius * (1 - 1e-6));
  const stages = Math.ceil(Math.log2(cap / first)) + 1;
  const run = async (level: number, name: string, control: boolean) => {
    let certified = 0, violations = 0;
    for (let k = 0; k < o.trials; k++) {
      const [r] = await certify(localSampler(f, [x]), 1, {
        sigma, seed: o.seed * 2 ** 20 + k, batchSize: cap, n0: 32, n: cap, alpha: level,
        sequential: { firstStage: first, stop: { kind: 'decision', radius } },
      });
      if (r.predict === ABSTAIN) continue;
      certified++;
      if (r.predict !== 1 || r.radius > s) violations++;
    }
    return result(`RS decision mode, R ${radius}, stages ${first}..${cap} (${stages}), true radius just below R`, name, control, o.trials, certified, violations, alpha);
  };
  return [
    await run(alpha, `staged CERTIFY, alpha / ${stages} per stage`, false),
    // Control: the full alpha at every stage (the split undone), claimed as alpha.
    await run(Math.min(0.99, (alpha * stages) / (1 - 1e-9)), 'control: full alpha at every stage', true),
  ];
}

// ---------------------------------------------------------------------------------------------
// IRS, zeta alone: the cache holds the exact pA (oracle), so only zeta can fail; P(f != f^p)
// sits just above a CP upper knot, zeta's worst case.

export async function irsZetaOracle(o: Common & { np?: number; alphaZeta?: number; sigma?: number }): Promise<CheckResult[]> {
  const { np = 400, alphaZeta = 0.05, sigma = 0.5 } = o;
  const w = direction(2);
  const f = halfSpace(w, 0);
  const pA0 = 0.97;
  const { q } = worstUpper(np, alphaZeta, 0.04);
  const { x, s } = inputAt(w, sigma * normalQuantile(pA0));
  const pA = normalCdf(s / sigma);
  // f^p: class 1 iff w.x > d, so f and f^p disagree exactly on 0 < w.(x + eps) <= d, inside f's cA region.
  const d = s - sigma * normalQuantile(pA - q);
  const fp = halfSpace(w, -d);
  const rTrue = s - d; // g^p's exact radius
  const runs: { name: string; control: boolean; alphaZeta: number; zeroZeta?: boolean }[] = [
    { name: 'IRS (zeta branch)', control: false, alphaZeta },
    { name: 'control: zeta = 0 (f’s certificate unchanged)', control: true, alphaZeta, zeroZeta: true },
    { name: 'control: zeta at alpha_zeta 0.5, claimed as ' + alphaZeta, control: true, alphaZeta: 0.5 },
  ];
  const out: CheckResult[] = [];
  for (const r of runs) {
    let certified = 0, violations = 0;
    for (let k = 0; k < o.trials; k++) {
      const seed = o.seed * 2 ** 20 + k;
      // f's predictions on the estimation stream (what the cache holds), and the oracle pA (less 1e-7).
      const [orig] = await certify(localSampler(f, [x]), 1, { sigma, seed, batchSize: np, n0: 1, n: np, alpha: 0.5 });
      const cache: CachedInput[] = [{ cA: 1, pALower: pA - 1e-7, predictions: orig.predictions }];
      let radius: number, predict: number;
      if (r.zeroZeta) {
        radius = certifiedRadius(sigma, cache[0].pALower);
        predict = 1;
      } else {
        const [rc] = await recertify(localSampler(fp, [x]), cache, { sigma, seed, batchSize: np, np, alpha: 0.05, alphaZeta: r.alphaZeta, gamma: 1 });
        radius = rc.radius;
        predict = rc.predict;
      }
      if (predict === ABSTAIN) continue;
      certified++;
      if (predict !== 1 || radius > rTrue) violations++;
    }
    out.push(result(`IRS, zeta alone (oracle pA ${pA.toFixed(3)}), n_p ${np}, P(f != f^p) just above a CP knot (${q.toFixed(4)})`, r.name, r.control, o.trials, certified, violations, alphaZeta));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IRS, pA alone (the reverse): f's real certification at its worst case, then the zeta
// branch's arithmetic (pA_lower - zeta, the radius) with the exact P(f != f^p) as zeta.

export async function irsPAOracle(o: Common & { n?: number; alpha?: number; sigma?: number }): Promise<CheckResult[]> {
  const { n = 2000, alpha = 0.05, sigma = 0.5 } = o;
  const w = direction(2);
  const f = halfSpace(w, 0);
  const { p } = worstLower(n, alpha, 0.95);
  const { x, s } = inputAt(w, sigma * normalQuantile(p));
  const pA = normalCdf(s / sigma);
  const q = 0.03; // exact disagreement of an f^p with bias shifted into f's cA region
  const d = s - sigma * normalQuantile(pA - q);
  const rTrue = s - d;
  let certified = 0, violations = 0;
  for (let k = 0; k < o.trials; k++) {
    const [orig] = await certify(localSampler(f, [x]), 1, { sigma, seed: o.seed * 2 ** 20 + k, batchSize: n, n0: 32, n, alpha });
    if (orig.predict === ABSTAIN) continue;
    const bound = subtractDown(orig.pALower, q + 1e-12);
    const radius = radiusOf(sigma, bound);
    if (!(bound > 0.5)) continue;
    certified++;
    if (orig.cA !== 1 || radius > rTrue) violations++;
  }
  return [result(`IRS, pA alone (oracle zeta ${q}), n ${n}, pA just below a CP knot (${pA.toFixed(4)})`, 'IRS (pA_lower - exact zeta)', false, o.trials, certified, violations, alpha)];
}

// ---------------------------------------------------------------------------------------------
// Synthetic samplers: counts drawn from exact binomials by inverse CDF from given uniforms, so
// that the joint law of the counts can be chosen (the worst cases below). The real IRS code
// (recertifyMany: branches, levels, stages, bounds) runs on them unchanged.

/** Inverse CDF of Bin(n, p) on a table around the mean (beyond 14 sd the mass is < 1e-40). */
export class BinomialQuantile {
  private readonly lo: number;
  private readonly cdf: Float64Array;
  constructor(readonly n: number, readonly p: number) {
    const sd = Math.sqrt(n * p * (1 - p));
    this.lo = Math.max(0, Math.floor(n * p - 14 * sd - 20));
    const hi = Math.min(n, Math.ceil(n * p + 14 * sd + 20));
    const logPmf = (k: number) => lgammaInt(n) - lgammaInt(k) - lgammaInt(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
    const pm = Float64Array.from({ length: hi - this.lo + 1 }, (_, i) => Math.exp(logPmf(this.lo + i)));
    const total = pm.reduce((a, b) => a + b, 0);
    this.cdf = new Float64Array(pm.length);
    let acc = 0;
    pm.forEach((v, i) => { acc += v / total; this.cdf[i] = acc; });
  }
  /** Smallest k with P(X <= k) >= u. */
  quantile(u: number): number {
    let a = 0, b = this.cdf.length - 1;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.cdf[m] >= u) b = m; else a = m + 1;
    }
    return this.lo + a;
  }
  /** P(X <= k). */
  cdfAt(k: number): number {
    if (k < this.lo) return 0;
    return this.cdf[Math.min(this.cdf.length - 1, k - this.lo)];
  }
}

const lgCache = new Map<number, number>();
/** log(k!) exactly enough for the simulation (Stirling with 5 terms beyond 20). */
function lgammaInt(k: number): number {
  if (k < 2) return 0;
  const hit = lgCache.get(k);
  if (hit !== undefined) return hit;
  let v: number;
  if (k <= 20) { v = 0; for (let i = 2; i <= k; i++) v += Math.log(i); } else {
    const x = k + 1;
    v = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
  }
  if (lgCache.size < 1e6) lgCache.set(k, v);
  return v;
}

/**
 * A MultiSampler for one job input and M models that returns given counts: `disagreements[m]`
 * on the estimation stream (the replay) and `votes[m]` for class `cA` on the fallback stream.
 * Fixed mode only (one stage per branch): every call asks for the whole range.
 */
function scripted(disagreements: number[], votes: number[], cA: number): MultiSampler {
  return {
    models: disagreements.length,
    async sampleMany(active, spec, start, count): Promise<MergedSamples[]> {
      return active.map((a, m) => ({
        start, count,
        counts: a.map(() => { const c = new Uint32Array(cA + 1); c[cA] = spec.stream === Stream.irsFallback ? votes[m] : 0; return c; }),
        disagreements: a.map(() => (spec.stream === Stream.estimation ? disagreements[m] : 0)),
        seconds: a.map(() => 0),
      }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Selection among M candidates: every candidate truly sits at zeta's worst case; the caller keeps
// the one with the largest certified radius. Oracle pA, so the budget is alpha_zeta.

export async function irsSelection(o: Common & { candidates?: number; np?: number; alphaZeta?: number; sigma?: number }): Promise<CheckResult[]> {
  const { candidates: M = 6, np = 400, alphaZeta = 0.05, sigma = 0.5 } = o;
  const pA = 0.97;
  const { q } = worstUpper(np, alphaZeta, 0.04);
  const dist = new BinomialQuantile(np, q);
  const pTrue = pA - q; // each candidate's exact P(f^p = cA)
  const rTrue = sigma * normalQuantile(pTrue);
  const base: IrsParams = { sigma, seed: 0, batchSize: np, np, alpha: 0.05, alphaZeta, gamma: 1 };
  const cache: CachedInput[] = [{ cA: 1, pALower: pA - 1e-7, predictions: new Int16Array(np) }];
  const run = async (split: boolean) => {
    let certified = 0, violations = 0;
    for (let k = 0; k < o.trials; k++) {
      // Independent disagreement counts per candidate (disjoint regions of a shared noise would be close to this).
      const nD = Array.from({ length: M }, (_, m) => dist.quantile(uniform(o.seed, k, 100 + m)));
      const results = split
        ? (await recertifyMany(scripted(nD, nD.map(() => 0), 1), cache, { ...base, candidates: M })).map((r) => r[0])
        : await Promise.all(nD.map(async (d) => (await recertifyMany(scripted([d], [0], 1), cache, { ...base, candidates: 1 }))[0][0]));
      const chosen = results.reduce((best, r) => (r.radius > best.radius ? r : best));
      if (chosen.predict === ABSTAIN) continue;
      certified++;
      if (chosen.predict !== 1 || chosen.radius > rTrue) violations++;
    }
    return result(`IRS, keep the best of ${M} candidates, each at zeta's worst case (oracle pA)`,
      split ? `IRS with the union bound (alpha_zeta / ${M} each)` : 'control: each candidate at the full alpha_zeta', !split, o.trials, certified, violations, alphaZeta);
  };
  return [await run(true), await run(false)];
}

// ---------------------------------------------------------------------------------------------
// IRS's two branches together, finding 2's worst case: the true pA >= gamma, the branch is
// picked from pA_lower, and the zeta failures are coupled to fall exactly on the draws that take
// the zeta branch, the highest pA_lower with the smallest disagreement count. (This coupling of
// the original count and the replayed disagreements is more adversarial than i.i.d. samples of
// one model pair can produce; the theorem uses only each bound's own failure probability, so
// it must hold for any coupling, and this one reaches the alpha + 2 alpha_zeta of the paper's
// fallback.) The rs branch sees fresh samples with P(f^p = cA) just below a CP knot at the
// paper's level alpha + alpha_zeta.

export async function irsBranches(o: Common & { n?: number; np?: number; alpha?: number; alphaZeta?: number; sigma?: number }): Promise<CheckResult[]> {
  const { n = 1_000_000, np = 400, alpha = 0.01, alphaZeta = 0.1, sigma = 0.5 } = o;
  const { q } = worstUpper(np, alphaZeta, 0.1);
  const { p: pPrime } = worstLower(np, alpha + alphaZeta, 0.85);
  const pA = pPrime + q; // f^p's disagreements all fall in f's cA region: P(f^p = cA) = pA - q
  const countA = new BinomialQuantile(n, pA);
  const countD = new BinomialQuantile(np, q);
  const votesRs = new BinomialQuantile(np, pPrime);
  // gamma halfway between two CP knots so that P(zeta branch) = P(nA <= kStar) ~ alpha_zeta.
  const kStar = countA.quantile(alphaZeta);
  const gamma = (clopperPearsonLower(kStar, n, alpha) + clopperPearsonLower(kStar + 1, n, alpha)) / 2;
  const pi = countA.cdfAt(kStar);
  const rTrue = sigma * normalQuantile(pPrime);
  const run = async (rsAlpha: number, name: string, control: boolean) => {
    let certified = 0, violations = 0, zetaBranch = 0;
    for (let k = 0; k < o.trials; k++) {
      const uA = uniform(o.seed, k, 1);
      const nA = countA.quantile(uA);
      // Within the zeta branch (uA <= pi), the disagreement uniform runs the other way: the top
      // of the branch (pA_lower just below gamma) gets the fewest disagreements; outside, the rest.
      const uD = uA <= pi ? ((pi - uA) / pi) * pi : uA;
      const nD = countD.quantile(Math.min(1 - 1e-16, Math.max(1e-16, uD)));
      const nRs = votesRs.quantile(uniform(o.seed, k, 2));
      const cache: CachedInput[] = [{ cA: 1, pALower: clopperPearsonLower(nA, n, alpha), predictions: new Int16Array(np) }];
      // `alpha` of IrsParams is the rs branch's level (the original's alpha in the real certifier).
      const [[r]] = await recertifyMany(scripted([nD], [nRs], 1), cache, { sigma, seed: 0, batchSize: np, np, alpha: rsAlpha, alphaZeta, gamma });
      if (r.branch === 'zeta') zetaBranch++;
      if (r.predict === ABSTAIN) continue;
      certified++;
      if (r.predict !== 1 || r.radius > rTrue) violations++;
    }
    return result(`IRS both branches, finding 2's worst case (pA ${pA.toFixed(4)} >= gamma ${gamma.toFixed(4)}, zeta failures on the zeta-branch draws), alpha ${alpha}, alpha_zeta ${alphaZeta}`,
      name, control, o.trials, certified, violations, alpha + alphaZeta);
  };
  return [
    await run(alpha, 'IRS, rs branch at alpha', false),
    await run(alpha + alphaZeta, 'control: rs branch at alpha + alpha_zeta (the paper’s fallback)', true),
  ];
}

/** Every setting at the given size (CI: test/soundness.test.ts; RELIABILITY.md: reliability/soundness.ts). */
export async function allSettings(trials: (base: number) => number, seed = 1): Promise<CheckResult[]> {
  return [
    ...await rsWorstCase({ trials: trials(3000), seed: seed + 1 }),
    ...await rsWorstCase({ trials: trials(3000), seed: seed + 2, classes: 3 }),
    ...await rsSharedNoise({ trials: trials(2000), seed: seed + 3 }),
    ...await rsDecision({ trials: trials(2000), seed: seed + 4 }),
    ...await irsZetaOracle({ trials: trials(2000), seed: seed + 5 }),
    ...await irsPAOracle({ trials: trials(2000), seed: seed + 6 }),
    ...await irsSelection({ trials: trials(2000), seed: seed + 7 }),
    ...await irsBranches({ trials: trials(4000), seed: seed + 8 }),
  ];
}
