/**
 * Incremental Randomized Smoothing (Ugare et al., ICLR 2024): certify a modified model f^p
 * from the cache of the original model f's certification.
 *
 * Per input, with cached cA, pA_lower and f's predictions on the estimation stream:
 * - f abstained (cA = -1 or pA_lower <= 1/2): abstain without sampling; pA_lower - zeta
 *   can only be smaller, so this is what the zeta branch would return.
 * - pA_lower < gamma ("zeta" branch): replay the first n_p estimation samples, bit for bit,
 *   on f^p; nD = disagreements with f's cached predictions; zeta = CP upper(nD, n_p,
 *   alpha_zeta); certify cA with radius sigma * Phi^-1(pA_lower - zeta) when that is > 1/2.
 * - pA_lower >= gamma ("rs" branch): plain RS on f^p with n_p fresh samples at confidence
 *   1 - alpha (the original's alpha, not alpha + alpha_zeta as in the paper), for the cached class cA.
 *
 * The two branches together fail with probability <= alpha + alpha_zeta (RELIABILITY.md, "IRS's
 * two branches"). Let E be the event that the original pA_lower exceeds the true pA, Z that
 * zeta is below P(f != f^p), R that the rs branch's fresh bound exceeds P(f^p = cA); P(E) <=
 * alpha, P(Z) <= alpha_zeta, P(R) <= alpha. A zeta-branch result is wrong only on E or Z, an
 * rs-branch result only on R. If the true pA < gamma, the rs branch is taken only on E
 * (pA_lower >= gamma > pA), so failure lies in E u Z. If pA >= gamma, the zeta branch is taken
 * only when pA_lower < gamma <= pA, i.e. not on E, so failure lies in Z u R. Either way <=
 * alpha + alpha_zeta. With the paper's rs branch at alpha + alpha_zeta the second case gives
 * up to alpha + 2 alpha_zeta, since Z may concentrate on the draws that take the zeta branch.
 *
 * Selection among M candidates (`candidates`): the caller keeps whichever candidate it likes
 * after seeing all results, so each candidate's zeta and rs bounds run at alpha_zeta / M and
 * alpha / M. The chosen candidate's result is wrong only on E or on some candidate's Z_m or
 * R_m, and the same case split gives <= alpha + alpha_zeta for whichever is chosen (E is shared
 * by all candidates and need not be split).
 */
import { Stream } from '../noise/gaussian.ts';
import { clopperPearsonUpper } from '../stats/index.ts';
import { ABSTAIN, type Progress, type SamplingParams } from './certify.ts';
import { certifiesAt, doublingStages, radiusOf, runStaged, singleStage, type BoundKind, type SequentialOptions, type StagePlan } from './sequential.ts';
import { singleModel, type MultiSampler, type Sampler } from './stream.ts';

export type { Progress };

/** What IRS needs of the original certification, per input. */
export interface CachedInput {
  cA: number;
  pALower: number;
  /** f's predictions on estimation samples 0..(at least n_p - 1). */
  predictions: ArrayLike<number>;
}

export interface IrsParams extends SamplingParams {
  /** Samples of f^p per input (with `sequential`: the cap). */
  np: number;
  /** The original certification's alpha (confidence of pA_lower). */
  alpha: number;
  alphaZeta: number;
  gamma: number;
  /** Adaptive or decision mode: stages up to n_p, each input stopping on its own (smoothing/sequential.ts). */
  sequential?: SequentialOptions;
  /**
   * Candidates the caller may select among after seeing the results (default 1). Each
   * candidate's branches then run at alpha_zeta / M and alpha / M (branchLevels).
   */
  candidates?: number;
}

/**
 * Failure probability of each branch's bounds, per candidate: zeta at alpha_zeta / M, the rs
 * branch at alpha / M (the original's alpha: see the header). The split is scaled down by 1e-12
 * so that rounding in the division cannot push M shares above the budget.
 */
export function branchLevels(p: Pick<IrsParams, 'alpha' | 'alphaZeta' | 'candidates'>): { zeta: number; rs: number; candidates: number } {
  const m = p.candidates ?? 1;
  if (!(Number.isInteger(m) && m >= 1)) throw new RangeError(`candidates must be an integer >= 1, got ${m}`);
  const share = (a: number) => (m === 1 ? a : (a / m) * (1 - 1e-12));
  return { zeta: share(p.alphaZeta), rs: share(p.alpha), candidates: m };
}

export type IrsBranch = 'zeta' | 'rs' | 'abstain';

export interface RecertifiedInput {
  branch: IrsBranch;
  predict: number;
  radius: number;
  /** The probability bound behind the radius: pA_lower - zeta (zeta branch) or p'_A lower (rs branch). */
  pALower: number;
  /** zeta branch: the upper bound on P(f != f^p) behind the radius, and the disagreements seen. */
  zeta?: number;
  disagreements?: number;
  /** rs branch: samples of f^p that voted cA. */
  nA?: number;
  samples: number;
  /** Stages completed when the input stopped (sequential modes; 0 = decided without sampling). */
  stage?: number;
  seconds: number;
}

export function chooseBranch(c: CachedInput, gamma: number): IrsBranch {
  if (c.cA < 0 || !(c.pALower > 0.5)) return 'abstain';
  return c.pALower < gamma ? 'zeta' : 'rs';
}

/** The stages of a branch whose bounds share the failure probability `alpha`. */
export function planFor(p: Pick<IrsParams, 'np' | 'sequential'>, alpha: number): StagePlan {
  return p.sequential ? doublingStages(p.np, p.sequential.firstStage, alpha) : singleStage(p.np, alpha);
}

/** Whether an input is certified at the decision radius: yes, no, or still open. */
export type Decision = 'yes' | 'no' | 'open';

/**
 * Lets a caller stop sampling a model early (tuning drops a candidate as soon as it is known
 * to miss its target). Decision mode only: after every stage, `drop` sees each job input's
 * decision so far for the model; inputs of a branch not run yet are 'open'.
 */
export interface CandidateControl {
  drop(model: number, decisions: readonly Decision[]): boolean;
  /** Filled in by recertifyMany: the models dropped (their results are incomplete). */
  dropped?: boolean[];
}

/** IRS for one modified model. */
export async function recertify(
  sampler: Sampler, cache: readonly CachedInput[], p: IrsParams, onProgress?: Progress,
): Promise<RecertifiedInput[]> {
  return (await recertifyMany(singleModel(sampler), cache, p, onProgress))[0];
}

/**
 * IRS for several modified models at once, on the same replayed and fresh noise: the result
 * for each model is exactly what recertify() gives it alone with the same `candidates`
 * (default: the number of models, so that selecting any one of them keeps the guarantee).
 */
export async function recertifyMany(
  sampler: MultiSampler, cache: readonly CachedInput[], p: IrsParams, onProgress?: Progress, control?: CandidateControl,
): Promise<RecertifiedInput[][]> {
  const rule = p.sequential?.stop;
  // Models recertified together are candidates to select among: the split counts them all.
  const levels = branchLevels({ ...p, candidates: p.candidates ?? sampler.models });
  if (levels.candidates < sampler.models) throw new RangeError(`${sampler.models} models are recertified together but the split counts ${levels.candidates} candidates`);
  if (control && rule?.kind !== 'decision') throw new Error('dropping candidates needs decision mode');
  const branches = cache.map((c) => chooseBranch(c, p.gamma));
  const pick = (b: IrsBranch) => branches.flatMap((x, i) => (x === b ? [i] : []));
  const zetaIdx = pick('zeta');
  const rsIdx = pick('rs');
  for (const i of zetaIdx) {
    if (cache[i].predictions.length < p.np) {
      throw new RangeError(`input ${i}: the cache holds ${cache[i].predictions.length} predictions, n_p is ${p.np}`);
    }
  }
  const spec = { sigma: p.sigma, seed: p.seed, batchSize: p.batchSize, shardSize: p.shardSize };
  const models = sampler.models;
  const dropped = Array.from({ length: models }, () => false);
  if (control) control.dropped = dropped;
  // Per model and job input: the decision at radius R so far (abstain branch: no).
  const decisions: Decision[][] = Array.from({ length: models }, () => branches.map((b) => (b === 'abstain' ? 'no' : 'open')));
  const out: RecertifiedInput[][] = Array.from({ length: models }, () => branches.map(() => ({
    branch: 'abstain' as IrsBranch, predict: ABSTAIN, radius: 0, pALower: 0, samples: 0, seconds: 0,
  })));

  /** Runs one branch's inputs through its stages for every model; returns the trackers and seconds. */
  const runBranch = (idx: number[], kind: 'zeta' | 'rs') => runStaged(sampler, {
    inputs: idx,
    plan: planFor(p, kind === 'zeta' ? levels.zeta : levels.rs),
    bounds: idx.map((i): BoundKind => (kind === 'zeta' ? { kind: 'zeta', pALower: cache[i].pALower } : { kind: 'lower' })),
    rule,
    sigma: p.sigma,
    spec: { ...spec, stream: kind === 'zeta' ? Stream.estimation : Stream.irsFallback },
    reference: kind === 'zeta' ? cache.map((c, i) => (branches[i] === 'zeta' ? c.predictions : undefined)) : undefined,
    hits: (drawn, q, g) => (kind === 'zeta' ? drawn.disagreements![q] : drawn.counts[q][cache[idx[g]].cA] ?? 0),
    onProgress,
    stopped: dropped,
    // Tuning: after every stage, update each model's decisions and ask whether to drop it.
    review: control && rule?.kind === 'decision' ? (trackers) => trackers.forEach((t, m) => {
      if (dropped[m]) return;
      const open = new Set(t.active());
      idx.forEach((i, g) => {
        decisions[m][i] = open.has(g) ? 'open' : certifiesAt(p.sigma, t.outcomes[g].bound, rule.radius) ? 'yes' : 'no';
      });
      dropped[m] = control.drop(m, decisions[m]);
    }) : undefined,
  });

  for (const [idx, kind] of [[zetaIdx, 'zeta'], [rsIdx, 'rs']] as const) {
    if (idx.length === 0) continue;
    const { trackers, seconds } = await runBranch(idx, kind);
    trackers.forEach((t, m) => idx.forEach((i, g) => {
      const o = t.outcomes[g];
      const sampled = o.boundSamples !== undefined;
      const bound = sampled ? o.bound : 0;
      out[m][i] = {
        branch: kind,
        predict: bound > 0.5 ? cache[i].cA : ABSTAIN,
        radius: radiusOf(p.sigma, bound),
        pALower: Math.max(0, bound),
        // zeta: the bound behind the radius, at the samples and alpha share of the stage that gave it.
        ...(kind === 'rs' ? { nA: o.hits }
          : sampled ? { zeta: clopperPearsonUpper(o.boundHits!, o.boundSamples!, o.boundAlpha!), disagreements: o.hits } : {}),
        samples: o.samples,
        ...(p.sequential ? { stage: o.stage } : {}),
        seconds: seconds[m][g],
      };
    }));
  }
  return out;
}
