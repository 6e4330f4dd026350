/**
 * What a certificate promises, stated in the certificate itself: the per-input probability
 * that a reported (class, radius) is wrong, after every split that applies (stages, branches,
 * candidates), how that number is derived, and what the number does not cover.
 *
 * The guarantee is derived from the parameters alone (it is rebuilt, not trusted, when a
 * certificate is read: guaranteeFor), so it does not enter the certificate id.
 */
import { NOISE_SCHEME } from '../noise/gaussian.ts';
import { branchLevels } from './irs.ts';
import type { CertifyParamsDoc, Guarantee, IrsParamsDoc, KindAndParams, SequentialDoc } from '../protocol/certificate.ts';

export type { Guarantee } from '../protocol/certificate.ts';

/** What remains outside every certificate's failure probability (RELIABILITY.md, "What the guarantee does not cover"). */
export const CAVEATS: readonly string[] = [
  `Noise (${NOISE_SCHEME}): Box–Muller on 53-bit uniforms, so the radius of each pair of coordinates is capped at ` +
    'sqrt(106 ln 2) = 8.57 sigma. A Gaussian pair lies beyond the cap with probability 2^-53, so the implemented noise ' +
    'differs from a discretized Gaussian on an event of probability at most ceil(d/2) 2^-53 per sample of d coordinates ' +
    '(8e-12 for 3x224x224 inputs); every bound above 1/2 keeps an absolute margin of at least 5e-11, which covers it up ' +
    'to d = 2^19 (larger inputs are refused). What remains is the discretization itself (53-bit radius and angle, fdlibm ' +
    'log and sin/cos): a model whose decision changes at that scale could in principle tell the difference.',
  'x + noise is rounded to float32 and the model runs in floating point: the certificate is about the smoothed ' +
    'classifier of the implemented arithmetic. Voráček & Hein (ICLR 2023, "Sound randomized smoothing in floating-point ' +
    'arithmetic") show that rounding can be exploited to obtain certificates that are false for the real-valued ' +
    'smoothed classifier; this tool does not defend against that attack.',
  'The probability is per input, over the noise drawn for it. Across many inputs, some certificates are wrong at about ' +
    'this rate; certified accuracy over a dataset is an estimate, not a bound that holds for all inputs at once.',
];

function stagesNote(s: SequentialDoc | undefined, level: number): string {
  if (!s) return `one bound at ${level}`;
  return `${s.stages.length} stages (${s.stages.join(', ')}) at ${level} / ${s.stages.length} each (union bound over stages, ${s.mode} mode)`;
}

/** certify and baseline certificates: one Clopper–Pearson lower bound on pA per input, at alpha. */
export function certifyGuarantee(p: Pick<CertifyParamsDoc, 'alpha' | 'n0' | 'n' | 'sequential'>, kind: 'certify' | 'baseline' = 'certify'): Guarantee {
  return {
    failureProbability: p.alpha,
    derivation:
      `${kind === 'baseline' ? 'From-scratch RS baseline (the paper’s, at alpha + alpha_zeta of the IRS run it is compared with): ' : ''}` +
      `the class is picked from n0 = ${p.n0} selection samples, independent of the n = ${p.n} estimation samples; ` +
      `the Clopper–Pearson lower bound on P(f(x + eps) = cA) is ${stagesNote(p.sequential, p.alpha)}, ` +
      `verified against the exact binomial tail; failure probability ${p.alpha}.`,
    caveats: [...CAVEATS],
  };
}

/** recertify certificates: IRS's two branches, possibly split over M candidates. */
export function recertifyGuarantee(p: Pick<IrsParamsDoc, 'alpha' | 'alphaZeta' | 'gamma' | 'np' | 'sequential' | 'candidates'>): Guarantee {
  const levels = branchLevels({ alpha: p.alpha, alphaZeta: p.alphaZeta, candidates: p.candidates?.count });
  const m = levels.candidates;
  const split = m > 1
    ? ` Selection: this certificate is one of ${m} candidates recertified together, any of which may be chosen after seeing ` +
      `the results, so each candidate's zeta runs at alpha_zeta / ${m} = ${levels.zeta} and its rs branch at alpha / ${m} = ${levels.rs} ` +
      '(union bound over the candidates; the original pA_lower is shared and not split).'
    : '';
  return {
    failureProbability: p.alpha + p.alphaZeta,
    derivation:
      `IRS: the original pA_lower holds at alpha = ${p.alpha}; zeta branch (pA_lower < gamma = ${p.gamma}): ` +
      `Clopper–Pearson upper bound on P(f != f^p) from n_p = ${p.np} replayed samples, ${stagesNote(p.sequential, levels.zeta)}; ` +
      `rs branch (pA_lower >= gamma): Clopper–Pearson lower bound on fresh samples, ${stagesNote(p.sequential, levels.rs)}. ` +
      'If the true pA < gamma the rs branch is taken only when pA_lower failed; if pA >= gamma the zeta branch is taken ' +
      `only when pA_lower held: either way the failure probability is at most alpha + alpha_zeta = ${p.alpha + p.alphaZeta}.${split}`,
    caveats: [...CAVEATS],
  };
}

/** The guarantee a certificate's parameters imply (what a reader should trust, not the stored copy). */
export function guaranteeFor(c: KindAndParams): Guarantee {
  if (c.kind === 'recertify') return recertifyGuarantee(c.params);
  return certifyGuarantee(c.params, c.kind);
}
