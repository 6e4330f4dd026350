/** A predict job: Cohen et al.'s PREDICT over a set of inputs. */
import type { Classifier } from '../inference/classifier.ts';
import { localSampler, type Sampler } from '../smoothing/stream.ts';
import { NOISE_SCHEME } from '../noise/gaussian.ts';
import { predict, type PredictParams, type Progress } from '../smoothing/certify.ts';
import type { DataRef, ModelRef } from '../protocol/certificate.ts';
import { TOOL } from '../version.ts';
import { checkInputsFit, inputsDigest, type JobInputs } from './common.ts';

export const PREDICTIONS_FORMAT = 'irs-edge/predictions@1';

export interface PredictionsDoc {
  format: typeof PREDICTIONS_FORMAT;
  tool: { name: string; version: string };
  model: ModelRef;
  data: DataRef;
  params: { sigma: number; seed: number; noise: string; n: number; alpha: number; batchSize: number; backend: string };
  results: { idx: number; label: number; predict: number; correct: 0 | 1; time: number; n1: number; n2: number; pValue: number }[];
}

export async function runPredictJob(job: {
  classifier: Classifier; model: ModelRef; data: JobInputs; params: PredictParams; onProgress?: Progress;
  /** Where samples are drawn (default: in this process with `classifier`). */
  sampler?: Sampler;
}): Promise<PredictionsDoc> {
  const { classifier, data, params } = job;
  checkInputsFit(classifier, data);
  const res = await predict(job.sampler ?? localSampler(classifier, data.inputs), data.inputs.length, params, job.onProgress);
  return {
    format: PREDICTIONS_FORMAT,
    tool: { ...TOOL },
    model: job.model,
    data: { source: data.source, indices: data.indices, inputsSha256: await inputsDigest(data.inputs) },
    params: { sigma: params.sigma, seed: params.seed, noise: NOISE_SCHEME, n: params.n, alpha: params.alpha, batchSize: params.batchSize, backend: classifier.backend },
    results: res.map((r, i) => ({
      idx: data.indices[i], label: data.labels[i], predict: r.predict,
      correct: r.predict !== -1 && r.predict === data.labels[i] ? 1 : 0, time: r.seconds, n1: r.n1, n2: r.n2, pValue: r.pValue,
    })),
  };
}
