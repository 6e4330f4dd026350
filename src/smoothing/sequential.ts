/**
 * Staged (sequential) sampling: draw an input's samples in stages and stop it as soon as more
 * samples cannot change what the user asked for.
 *
 * Soundness. Stage k ends after m_k samples (m_1 < ... < m_K) and has its own confidence
 * bound at failure probability a_k, with a_1 + ... + a_K <= alpha. By the union bound, all K
 * bounds hold together with probability >= 1 - alpha. So whatever rule picks the stage where
 * an input stops, even one that looks at the data, the bound reported there holds. The best
 * bound over the stages seen so far holds as well, and that is the one reported.
 *
 * Two kinds of bound:
 * - `zeta`: IRS's zeta branch. The bound on P(f^p = cA) is pA_lower - zeta_k, where
 *   zeta_k = CP upper(nD_k, m_k, a_k) and pA_lower comes from the original certification.
 * - `lower`: the RS branch and the from-scratch baseline. The bound is CP lower(nA_k, m_k, a_k).
 *
 * Two stop rules:
 * - `tolerance`: stop when even the best possible future samples (no more disagreements, or
 *   every sample voting cA) could raise the radius by at most `tolerance`.
 * - `decision` at radius R: stop as soon as the input is certified at R (best bound gives
 *   radius >= R), or can no longer be (even the best possible future gives radius < R). An
 *   input that cannot reach R from the start stops before drawing any sample.
 */
import { certifiedRadius, clopperPearsonLower, clopperPearsonUpper, subtractDown } from '../stats/index.ts';
import type { MergedSamples } from './merge.ts';
import type { MultiSampler, StreamSpec } from './stream.ts';

export interface StagePlan {
  /** Cumulative samples at the end of each stage, strictly increasing; the last is the cap. */
  ends: number[];
  /** Failure probability of each stage's bound; their sum is at most the budget. */
  alphas: number[];
}

export type StopRule =
  | { kind: 'tolerance'; tolerance: number }
  | { kind: 'decision'; radius: number };

export interface SequentialOptions {
  /** Samples in the first stage; later stages double the total up to the cap. */
  firstStage: number;
  stop: StopRule;
}

/** How a certificate records a sequential run (protocol/certificate.ts SequentialDoc). */
export function describeSequential(o: SequentialOptions, cap: number): {
  mode: 'adaptive' | 'decision'; stages: number[]; split: 'even'; radius?: number; tolerance?: number;
} {
  const stages = stageEnds(cap, o.firstStage);
  return o.stop.kind === 'decision'
    ? { mode: 'decision', stages, split: 'even', radius: o.stop.radius }
    : { mode: 'adaptive', stages, split: 'even', tolerance: o.stop.tolerance };
}

/** Default first stage: small enough that most inputs decide early, large enough to decide at all. */
export const DEFAULT_FIRST_STAGE = 64;

/** Default adaptive tolerance on the radius (L2), small against the radii of interest. */
export const DEFAULT_RADIUS_TOLERANCE = 0.01;

/**
 * Stages first, 2 first, 4 first, ... up to the cap, with the budget split evenly (Bonferroni).
 * The split is scaled down by 1e-9 so that rounding in the division cannot push the sum above
 * the budget.
 */
export function doublingStages(cap: number, first: number, alpha: number): StagePlan {
  if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`stage cap must be an integer >= 1, got ${cap}`);
  if (!(Number.isInteger(first) && first >= 1)) throw new RangeError(`first stage must be an integer >= 1, got ${first}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const ends = stageEnds(cap, first);
  const each = (alpha / ends.length) * (1 - 1e-9);
  return { ends, alphas: ends.map(() => each) };
}

/** Where the doubling stages end: first, 2 first, ... below the cap, then the cap. */
export function stageEnds(cap: number, first: number): number[] {
  const ends: number[] = [];
  for (let m = Math.min(first, cap); m < cap; m *= 2) ends.push(m);
  ends.push(cap);
  return ends;
}

/** One fixed stage at the whole budget: exactly the paper's non-adaptive procedure. */
export function singleStage(cap: number, alpha: number): StagePlan {
  return { ends: [cap], alphas: [alpha] };
}

export type BoundKind = { kind: 'zeta'; pALower: number } | { kind: 'lower' };

/**
 * The probability lower bound after `m` samples with `hits` events at failure probability `a`:
 * hits are disagreements for `zeta`, votes for cA for `lower`.
 */
export function stageBound(b: BoundKind, hits: number, m: number, a: number): number {
  if (b.kind === 'zeta') return subtractDown(b.pALower, clopperPearsonUpper(hits, m, a));
  return clopperPearsonLower(hits, m, a);
}

/**
 * The largest bound any later stage could give, given `hits` after `m` samples (stage index
 * `done`, 0 before any): future samples add no disagreement (`zeta`) or all vote cA (`lower`).
 */
export function optimisticBound(b: BoundKind, plan: StagePlan, done: number, hits: number, m: number): number {
  let best = -Infinity;
  for (let j = done; j < plan.ends.length; j++) {
    const mj = plan.ends[j];
    const h = b.kind === 'zeta' ? hits : hits + (mj - m);
    best = Math.max(best, stageBound(b, h, mj, plan.alphas[j]));
  }
  return best;
}

/** Radius of a probability bound: 0 when it does not exceed 1/2 (abstain). */
export function radiusOf(sigma: number, p: number): number {
  return p > 0.5 ? certifiedRadius(sigma, p) : 0;
}

/** Does this bound certify the top class at radius >= R? */
export function certifiesAt(sigma: number, p: number, radius: number): boolean {
  return p > 0.5 && certifiedRadius(sigma, p) >= radius;
}

/**
 * Should an input stop now? `best` is the best bound so far (-Infinity before any stage),
 * `optimistic` the best any later stage could give.
 */
export function shouldStop(rule: StopRule, sigma: number, best: number, optimistic: number): boolean {
  if (rule.kind === 'decision') {
    if (certifiesAt(sigma, best, rule.radius)) return true;
    return !certifiesAt(sigma, optimistic, rule.radius);
  }
  return radiusOf(sigma, optimistic) - radiusOf(sigma, best) <= rule.tolerance;
}

/** Per input: where it stopped and the best bound it reached. */
export interface SequentialOutcome {
  /** Stages completed when the input stopped (0: stopped before sampling). */
  stage: number;
  /** Samples drawn. */
  samples: number;
  /** Disagreements (zeta) or votes for cA (lower) over those samples. */
  hits: number;
  /** Best bound over the completed stages; -Infinity if none. */
  bound: number;
  /** Failure probability of the stage that gave `bound`. */
  boundAlpha?: number;
  /** Samples of the stage that gave `bound`, and the events among them. */
  boundSamples?: number;
  boundHits?: number;
}

/**
 * Tracks a group of inputs through the stages. The caller draws the samples of each stage
 * for `active()` and reports the hits; the tracker applies the stop rule.
 */
export class SequentialTracker {
  readonly outcomes: SequentialOutcome[];
  private stopped: boolean[];

  constructor(
    readonly plan: StagePlan,
    readonly bounds: readonly BoundKind[],
    readonly rule: StopRule | undefined,
    readonly sigma: number,
  ) {
    this.outcomes = bounds.map(() => ({ stage: 0, samples: 0, hits: 0, bound: -Infinity }));
    // Before any sample: inputs that cannot reach what is asked stop here.
    this.stopped = bounds.map((b) => rule !== undefined && shouldStop(rule, sigma, -Infinity, optimisticBound(b, plan, 0, 0, 0)));
  }

  /** Positions (in `bounds`) of the inputs still sampling. */
  active(): number[] {
    return this.stopped.flatMap((s, i) => (s ? [] : [i]));
  }

  /** Records stage `k` (0-based) for the active inputs: `hits[g]` new events for active()[g]. */
  complete(k: number, active: readonly number[], hits: readonly number[]): void {
    const m = this.plan.ends[k];
    const a = this.plan.alphas[k];
    active.forEach((i, g) => {
      const o = this.outcomes[i];
      o.hits += hits[g];
      o.samples = m;
      o.stage = k + 1;
      const bound = stageBound(this.bounds[i], o.hits, m, a);
      if (bound > o.bound) {
        o.bound = bound;
        o.boundAlpha = a;
        o.boundSamples = m;
        o.boundHits = o.hits;
      }
      const last = k + 1 === this.plan.ends.length;
      const optimistic = last ? -Infinity : optimisticBound(this.bounds[i], this.plan, k + 1, o.hits, m);
      if (last || (this.rule && shouldStop(this.rule, this.sigma, o.bound, optimistic))) this.stopped[i] = true;
    });
  }
}

export interface StagedRun {
  /** Job input positions, one per tracked bound. */
  inputs: readonly number[];
  plan: StagePlan;
  bounds: readonly BoundKind[];
  rule: StopRule | undefined;
  sigma: number;
  /** The noise stream and execution parameters; sample ranges come from the plan. */
  spec: StreamSpec;
  /** IRS replay: f's cached predictions, by job input position. */
  reference?: (ArrayLike<number> | undefined)[];
  /** Events in what was drawn for tracked input `g` (result position `q`): disagreements or votes for cA. */
  hits: (drawn: MergedSamples, q: number, g: number) => number;
  onProgress?: (samples: number) => void;
  /** Called before the first stage and after every stage; models it marks in `stopped` sample no further. */
  review?: (trackers: readonly SequentialTracker[]) => void;
  stopped?: readonly boolean[];
}

/**
 * Runs tracked inputs through the plan's stages for every model of the sampler: each stage
 * draws the next sample range for the inputs still active, and the trackers apply the stop rule.
 * Returns one tracker per model and the seconds spent per model and tracked input.
 */
export async function runStaged(sampler: MultiSampler, r: StagedRun): Promise<{ trackers: SequentialTracker[]; seconds: number[][] }> {
  const trackers = Array.from({ length: sampler.models }, () => new SequentialTracker(r.plan, r.bounds, r.rule, r.sigma));
  const seconds = trackers.map(() => r.inputs.map(() => 0));
  r.review?.(trackers);
  for (let k = 0; k < r.plan.ends.length; k++) {
    const active = trackers.map((t, m) => (r.stopped?.[m] ? [] : t.active()));
    if (active.every((a) => a.length === 0)) break;
    const from = k === 0 ? 0 : r.plan.ends[k - 1];
    const drawn = await sampler.sampleMany(active.map((a) => a.map((g) => r.inputs[g])), r.spec, from, r.plan.ends[k] - from, {
      reference: r.reference, onProgress: r.onProgress,
    });
    active.forEach((a, m) => {
      a.forEach((g, q) => (seconds[m][g] += drawn[m].seconds[q]));
      trackers[m].complete(k, a, a.map((g, q) => r.hits(drawn[m], q, g)));
    });
    r.review?.(trackers);
  }
  return { trackers, seconds };
}
