/** What every job shares: the inputs it certifies, their digest, and the summary of results. */
import { sha256Hex } from '../util/digest.ts';
import type { InputResult, Summary } from '../protocol/certificate.ts';
import { averageCertifiedRadius, certifiedAccuracy, STANDARD_RADII } from '../smoothing/metrics.ts';
import type { Classifier } from '../inference/classifier.ts';
import { UserError } from '../errors.ts';
import { checkBatchInvariance, makeProbes } from '../inference/batch-invariance.ts';

export interface JobInputs {
  source: string;
  indices: number[];
  inputs: Float32Array[];
  labels: number[];
}

/** SHA-256 of the inputs' float32 little-endian bytes, concatenated in order. */
export async function inputsDigest(inputs: readonly Float32Array[]): Promise<string> {
  const total = inputs.reduce((s, x) => s + x.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const x of inputs) { all.set(x, at); at += x.length; }
  const bytes = new Uint8Array(all.buffer);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return sha256Hex(bytes);
}

export function checkInputsFit(classifier: Classifier, job: JobInputs): void {
  const want = classifier.inputSize;
  const got = job.inputs[0]?.length;
  if (got !== want) {
    throw new UserError(
      `model expects inputs of shape [${classifier.inputShape.join(', ')}] (${want} values) but ${job.source} has ${got} values per input`,
    );
  }
}

export function summarize(results: readonly InputResult[], extra: Partial<Summary> = {}): Summary {
  return {
    inputs: results.length,
    abstained: results.filter((r) => r.predict === -1).length,
    acr: averageCertifiedRadius(results),
    certifiedAccuracy: STANDARD_RADII.map((radius) => ({ radius, accuracy: certifiedAccuracy(results, radius) })),
    samples: results.reduce((s, r) => s + r.samples, 0),
    seconds: results.reduce((s, r) => s + r.time, 0),
    ...extra,
  };
}

/**
 * Refuses a model whose predictions depend on the batch (see inference/batch-invariance.ts):
 * certificates and IRS replay assume a fixed function of one input.
 */
export async function requireBatchInvariance(classifier: Classifier, job: JobInputs, sigma: number): Promise<void> {
  const report = await checkBatchInvariance(classifier, makeProbes(job.inputs.slice(0, 4), sigma));
  if (!report.ok) {
    throw new UserError(
      `the model's predictions depend on the other samples in a batch (${report.mismatches} of ${report.checked} probe predictions changed; ` +
      `${report.detail}). Randomized smoothing and IRS need a fixed function of one input: dynamic activation quantization ` +
      `breaks this; quantize with static scales instead (irs compress --method int8).`,
    );
  }
}

/**
 * What must hold before any sample is drawn for a model on a job's inputs: the inputs fit the
 * model, and its predictions do not depend on the batch. Runs a few inferences, so the
 * functions run it once when a job is submitted; a job object that only plans and merges
 * (the Workers aggregator) never needs a classifier.
 */
export async function preflight(classifier: Classifier, job: JobInputs, sigma: number): Promise<void> {
  checkInputsFit(classifier, job);
  await requireBatchInvariance(classifier, job, sigma);
}

/** Noise-free accuracy: the fraction of inputs whose top class is their label. */
export async function cleanAccuracy(classifier: Classifier, job: JobInputs, batchSize = 500): Promise<number> {
  const dim = classifier.inputSize;
  let correct = 0;
  for (let first = 0; first < job.inputs.length; first += batchSize) {
    const b = Math.min(batchSize, job.inputs.length - first);
    const x = new Float32Array(b * dim);
    for (let s = 0; s < b; s++) x.set(job.inputs[first + s], s * dim);
    const out = new Int32Array(b);
    await classifier.classify(x, b, out);
    for (let s = 0; s < b; s++) if (out[s] === job.labels[first + s]) correct++;
  }
  return correct / job.inputs.length;
}

/** The columns every result row has (Cohen's plus pA_lower and samples), for input i of a job. */
export function resultRow(data: JobInputs, i: number, r: { predict: number; radius: number; seconds: number; pALower: number; samples: number }): InputResult {
  return {
    idx: data.indices[i],
    label: data.labels[i],
    predict: r.predict,
    radius: r.radius,
    correct: r.predict !== -1 && r.predict === data.labels[i] ? 1 : 0,
    time: r.seconds,
    pALower: r.pALower,
    samples: r.samples,
  };
}
