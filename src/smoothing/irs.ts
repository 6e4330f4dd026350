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
 *   1 - (alpha + alpha_zeta), for the cached class cA.
 * Either way the result holds with probability >= 1 - (alpha + alpha_zeta) (Theorem 4).
 */
import { Stream } from '../noise/gaussian.ts';
import { certifiedRadius, clopperPearsonLower, clopperPearsonUpper, subtractDown } from '../stats/index.ts';
import { ABSTAIN, type Progress, type SamplingParams } from './certify.ts';

export type { Progress };
import type { Sampler } from './stream.ts';

/** What IRS needs of the original certification, per input. */
export interface CachedInput {
  cA: number;
  pALower: number;
  /** f's predictions on estimation samples 0..(at least n_p - 1). */
  predictions: ArrayLike<number>;
}

export interface IrsParams extends SamplingParams {
  np: number;
  /** The original certification's alpha (confidence of pA_lower). */
  alpha: number;
  alphaZeta: number;
  gamma: number;
}

export type IrsBranch = 'zeta' | 'rs' | 'abstain';

export interface RecertifiedInput {
  branch: IrsBranch;
  predict: number;
  radius: number;
  /** The probability bound behind the radius: pA_lower - zeta (zeta branch) or p'_A lower (rs branch). */
  pALower: number;
  /** zeta branch: the (1 - alpha_zeta) upper bound on P(f != f^p), and the disagreements seen. */
  zeta?: number;
  disagreements?: number;
  /** rs branch: samples of f^p that voted cA. */
  nA?: number;
  samples: number;
  seconds: number;
}

export function chooseBranch(c: CachedInput, gamma: number): IrsBranch {
  if (c.cA < 0 || !(c.pALower > 0.5)) return 'abstain';
  return c.pALower < gamma ? 'zeta' : 'rs';
}

export async function recertify(
  sampler: Sampler, cache: readonly CachedInput[], p: IrsParams, onProgress?: Progress,
): Promise<RecertifiedInput[]> {
  const branches = cache.map((c) => chooseBranch(c, p.gamma));
  const pick = (b: IrsBranch) => branches.flatMap((x, i) => (x === b ? [i] : []));
  const zetaIdx = pick('zeta');
  const rsIdx = pick('rs');
  const spec = { sigma: p.sigma, seed: p.seed, batchSize: p.batchSize, shardSize: p.shardSize };
  const out: RecertifiedInput[] = branches.map(() => ({
    branch: 'abstain', predict: ABSTAIN, radius: 0, pALower: 0, samples: 0, seconds: 0,
  }));

  if (zetaIdx.length > 0) {
    for (const i of zetaIdx) {
      if (cache[i].predictions.length < p.np) {
        throw new RangeError(`input ${i}: the cache holds ${cache[i].predictions.length} predictions, n_p is ${p.np}`);
      }
    }
    const replay = await sampler.sample(
      zetaIdx, { ...spec, stream: Stream.estimation }, 0, p.np,
      { reference: zetaIdx.map((i) => cache[i].predictions), onProgress },
    );
    zetaIdx.forEach((i, g) => {
      const nD = replay.disagreements![g];
      const zeta = clopperPearsonUpper(nD, p.np, p.alphaZeta);
      const bound = subtractDown(cache[i].pALower, zeta);
      out[i] = {
        branch: 'zeta',
        predict: bound > 0.5 ? cache[i].cA : ABSTAIN,
        radius: certifiedRadius(p.sigma, bound),
        pALower: Math.max(0, bound),
        zeta,
        disagreements: nD,
        samples: p.np,
        seconds: replay.seconds[g],
      };
    });
  }

  if (rsIdx.length > 0) {
    const fresh = await sampler.sample(rsIdx, { ...spec, stream: Stream.irsFallback }, 0, p.np, { onProgress });
    const level = p.alpha + p.alphaZeta;
    rsIdx.forEach((i, g) => {
      const cA = cache[i].cA;
      const nA = fresh.counts[g][cA] ?? 0;
      const pALower = clopperPearsonLower(nA, p.np, level);
      out[i] = {
        branch: 'rs',
        predict: pALower > 0.5 ? cA : ABSTAIN,
        radius: certifiedRadius(p.sigma, pALower),
        pALower,
        nA,
        samples: p.np,
        seconds: fresh.seconds[g],
      };
    });
  }
  return out;
}
