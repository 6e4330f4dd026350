/**
 * CERTIFY and PREDICT of Cohen, Rosenfeld & Kolter (ICML 2019), over a group of inputs.
 */
import { Stream } from '../noise/gaussian.ts';
import { binomialTestTwoSided, certifiedRadius, clopperPearsonLower } from '../stats/index.ts';
import { allInputs, singleModel, topClass, topTwo, type Sampler } from './stream.ts';
import { doublingStages, radiusOf, runStaged, type BoundKind, type SequentialOptions } from './sequential.ts';

export const ABSTAIN = -1;

export interface SamplingParams {
  sigma: number;
  seed: number;
  batchSize: number;
  shardSize?: number;
}

export interface CertifyParams extends SamplingParams {
  n0: number;
  /** Estimation samples (with `sequential`: the cap). */
  n: number;
  alpha: number;
  /**
   * Staged estimation, each input stopping on its own (smoothing/sequential.ts). For the
   * from-scratch baseline of adaptive and decision-mode IRS; no IRS cache can come of it.
   */
  sequential?: SequentialOptions;
}

export interface CertifiedInput {
  /** Class picked by the n0 selection samples (-1 if none voted). */
  cA: number;
  /** Predicted class, or ABSTAIN. */
  predict: number;
  /** Certified L2 radius (0 on abstain). */
  radius: number;
  /** One-sided (1 - alpha) Clopper–Pearson lower bound on P(f(x + eps) = cA). */
  pALower: number;
  /** Estimation samples that voted cA. */
  nA: number;
  /** Samples drawn for this input (n0 + n). */
  samples: number;
  seconds: number;
  /** f's prediction on each estimation sample: the IRS cache (not kept in sequential mode). */
  predictions: Int16Array;
  /** Sequential mode: estimation stages completed when the input stopped. */
  stage?: number;
}

export interface Progress {
  (samples: number): void;
}

export async function certify(
  sampler: Sampler, inputCount: number, p: CertifyParams, onProgress?: Progress,
): Promise<CertifiedInput[]> {
  const spec = { sigma: p.sigma, seed: p.seed, batchSize: p.batchSize, shardSize: p.shardSize };
  const inputs = allInputs(inputCount);
  const selection = await sampler.sample(inputs, { ...spec, stream: Stream.selection }, 0, p.n0, { onProgress });
  if (p.sequential) return estimateStaged(sampler, selection.counts.map(topClass), selection.seconds, p, onProgress);
  const estimation = await sampler.sample(inputs, { ...spec, stream: Stream.estimation }, 0, p.n, {
    record: true, onProgress,
  });
  return inputs.map((i) => {
    const cA = topClass(selection.counts[i]);
    const nA = cA < 0 ? 0 : estimation.counts[i][cA];
    const pALower = clopperPearsonLower(nA, p.n, p.alpha);
    const radius = certifiedRadius(p.sigma, pALower);
    return {
      cA,
      predict: pALower > 0.5 ? cA : ABSTAIN,
      radius,
      pALower,
      nA,
      samples: p.n0 + p.n,
      seconds: selection.seconds[i] + estimation.seconds[i],
      predictions: estimation.predictions![i],
    };
  });
}

/** The estimation stage of CERTIFY in stages, for the selected classes cA (-1: no votes). */
async function estimateStaged(
  sampler: Sampler, classes: number[], selectionSeconds: number[], p: CertifyParams, onProgress?: Progress,
): Promise<CertifiedInput[]> {
  const voted = classes.flatMap((c, i) => (c >= 0 ? [i] : []));
  const { trackers: [tracker], seconds: [estimationSeconds] } = await runStaged(singleModel(sampler), {
    inputs: voted,
    plan: doublingStages(p.n, p.sequential!.firstStage, p.alpha),
    bounds: voted.map((): BoundKind => ({ kind: 'lower' })),
    rule: p.sequential!.stop,
    sigma: p.sigma,
    spec: { sigma: p.sigma, seed: p.seed, batchSize: p.batchSize, shardSize: p.shardSize, stream: Stream.estimation },
    hits: (drawn, q, g) => drawn.counts[q][classes[voted[g]]] ?? 0,
    onProgress,
  });
  const seconds = [...selectionSeconds];
  voted.forEach((i, g) => (seconds[i] += estimationSeconds[g]));
  const out: CertifiedInput[] = classes.map((cA, i) => ({
    cA, predict: ABSTAIN, radius: 0, pALower: 0, nA: 0, samples: p.n0, seconds: seconds[i], predictions: new Int16Array(0), stage: 0,
  }));
  voted.forEach((i, g) => {
    const o = tracker.outcomes[g];
    const bound = o.boundSamples !== undefined ? o.bound : 0;
    Object.assign(out[i], {
      predict: bound > 0.5 ? classes[i] : ABSTAIN, radius: radiusOf(p.sigma, bound), pALower: Math.max(0, bound),
      nA: o.hits, samples: p.n0 + o.samples, stage: o.stage,
    });
  });
  return out;
}

export interface PredictParams extends SamplingParams {
  n: number;
  alpha: number;
}

export interface PredictedInput {
  predict: number;
  n1: number;
  n2: number;
  pValue: number;
  seconds: number;
}

/**
 * PREDICT: the top class unless the two-sided binomial test of its count against the
 * runner-up's cannot reject equality at level alpha (Hung & Fithian's test, as Cohen).
 */
export async function predict(
  sampler: Sampler, inputCount: number, p: PredictParams, onProgress?: Progress,
): Promise<PredictedInput[]> {
  const spec = { sigma: p.sigma, seed: p.seed, batchSize: p.batchSize, shardSize: p.shardSize, stream: Stream.predict };
  const inputs = allInputs(inputCount);
  const samples = await sampler.sample(inputs, spec, 0, p.n, { onProgress });
  return inputs.map((i) => {
    const { top, n1, n2 } = topTwo(samples.counts[i]);
    const pValue = n1 + n2 === 0 ? 1 : binomialTestTwoSided(n1, n1 + n2, 0.5);
    return { predict: pValue > p.alpha ? ABSTAIN : top, n1, n2, pValue, seconds: samples.seconds[i] };
  });
}
