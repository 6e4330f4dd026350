/**
 * Soundness by simulation: many certifications of linear classifiers whose smoothed behaviour
 * is known in closed form, counting certificates that claim more than the truth.
 *
 * Setup: two classes in d dimensions, f(x) = [w.x + b > 0] with |w| = 1, so w.x + b is the
 * signed distance to f's hyperplane and P(f(x + eps) = 1) = Phi((w.x + b) / sigma). The
 * smoothed classifier g is then itself linear with the same hyperplane: its exact robust
 * radius at x is |w.x + b|, for the class on x's side. f^p has its bias shifted by delta, so
 * P(f != f^p) = |Phi((t + delta) / sigma) - Phi(t / sigma)| at distance t, and g^p's radius is
 * |t + delta|.
 *
 * A certificate (class c, radius R > 0) is violated when c is not the true class or R exceeds
 * the true radius. RS promises a violation rate <= alpha, IRS <= alpha + alpha_zeta.
 */
import { LinearClassifier } from '../inference/linear.ts';
import { certify, ABSTAIN } from '../smoothing/certify.ts';
import { recertify } from '../smoothing/irs.ts';
import { localSampler } from '../smoothing/stream.ts';
import { philox4x32 } from '../noise/philox.ts';
import type { SequentialOptions } from '../smoothing/sequential.ts';

export interface SimulationOptions {
  trials: number;
  dim?: number;
  sigma?: number;
  n0?: number;
  n?: number;
  np?: number;
  alpha?: number;
  alphaZeta?: number;
  gamma?: number;
  delta?: number;
  /** Seed of the experiment; trial k uses noise seed (seed * 2^20 + k). */
  seed?: number;
  /** Adaptive or decision mode: for RS the staged from-scratch baseline, for IRS staged replay. */
  sequential?: SequentialOptions;
}

export interface SimulationResult {
  trials: number;
  certified: number;
  violations: number;
  rate: number;
  /** The promised bound (alpha, or alpha + alpha_zeta). */
  bound: number;
  /** One-sided 99.9% upper limit of the rate a sound method could show: bound + 3.1 standard errors. */
  allowance: number;
  meanRadiusRatio: number;
  /** Samples of the certified model per certification (RS: n0 + estimation; IRS: f^p samples). */
  meanSamples: number;
}

function linearPair(dim: number, delta: number): { f: LinearClassifier; fp: LinearClassifier; w: Float64Array } {
  const w = new Float64Array(dim);
  for (let e = 0; e < dim; e++) w[e] = Math.cos(e + 1);
  const norm = Math.hypot(...w);
  for (let e = 0; e < dim; e++) w[e] /= norm;
  const zero = new Float64Array(dim);
  return { f: new LinearClassifier([zero, w], [0, 0]), fp: new LinearClassifier([zero, w], [0, delta]), w };
}

/** Distances t spread over where certificates are interesting: p_A from ~0.5 to ~0.999. */
function distanceFor(k: number, seed: number, sigma: number): number {
  const out = new Uint32Array(4);
  philox4x32(k, seed, 0x5151, 0, 0x51a7, 0, out);
  const u = out[0] / 2 ** 32;
  const sign = out[1] & 1 ? 1 : -1;
  return sign * sigma * (0.02 + 3.1 * u);
}

function summarize(trials: number, certified: number, violations: number, bound: number, ratioSum: number, samples: number): SimulationResult {
  const rate = violations / trials;
  return {
    trials, certified, violations, rate, bound,
    allowance: bound + 3.1 * Math.sqrt((bound * (1 - bound)) / trials),
    meanRadiusRatio: certified ? ratioSum / certified : 0,
    meanSamples: samples / trials,
  };
}

export async function simulateRs(o: SimulationOptions): Promise<SimulationResult> {
  const { dim = 8, sigma = 0.5, n0 = 50, n = 500, alpha = 0.05, seed = 1 } = o;
  const { f, w } = linearPair(dim, 0);
  let certified = 0, violations = 0, ratioSum = 0, samples = 0;
  for (let k = 0; k < o.trials; k++) {
    const t = distanceFor(k, seed, sigma);
    const x = Float32Array.from(w, (v) => v * t);
    const [r] = await certify(localSampler(f, [x]), 1, { sigma, seed: seed * 2 ** 20 + k, batchSize: n, n0, n, alpha, sequential: o.sequential });
    samples += r.samples;
    if (r.predict === ABSTAIN) continue;
    certified++;
    const truth = t > 0 ? 1 : 0;
    if (r.predict !== truth || r.radius > Math.abs(t)) violations++;
    ratioSum += r.radius / Math.abs(t);
  }
  return summarize(o.trials, certified, violations, alpha, ratioSum, samples);
}

export async function simulateIrs(o: SimulationOptions): Promise<SimulationResult> {
  const { dim = 8, sigma = 0.5, n0 = 50, n = 500, np = 500, alpha = 0.05, alphaZeta = 0.05, gamma = 0.99, delta = 0.02 * (o.sigma ?? 0.5), seed = 2 } = o;
  const { f, fp, w } = linearPair(dim, delta);
  let certified = 0, violations = 0, ratioSum = 0, samples = 0;
  for (let k = 0; k < o.trials; k++) {
    const t = distanceFor(k, seed, sigma);
    const x = Float32Array.from(w, (v) => v * t);
    const noiseSeed = seed * 2 ** 20 + k;
    const original = await certify(localSampler(f, [x]), 1, { sigma, seed: noiseSeed, batchSize: n, n0, n, alpha });
    const [r] = await recertify(localSampler(fp, [x]), original, { sigma, seed: noiseSeed, batchSize: n, np, alpha, alphaZeta, gamma, sequential: o.sequential });
    samples += r.samples;
    if (r.predict === ABSTAIN) continue;
    certified++;
    const tp = t + delta;
    const truth = tp > 0 ? 1 : 0;
    if (r.predict !== truth || r.radius > Math.abs(tp)) violations++;
    ratioSum += r.radius / Math.abs(tp);
  }
  return summarize(o.trials, certified, violations, alpha + alphaZeta, ratioSum, samples);
}
