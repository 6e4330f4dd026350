/**
 * A certify job: CERTIFY every input, write the certificate and its IRS cache. Also the
 * from-scratch baseline that IRS is compared with (CERTIFY of f^p at alpha + alpha_zeta).
 */
import type { Classifier } from '../inference/classifier.ts';
import type { AdapterInfo } from '../inference/webgpu.ts';
import { localSampler, type Sampler } from '../smoothing/stream.ts';
import { NOISE_SCHEME } from '../noise/gaussian.ts';
import { certify, type CertifyParams, type Progress } from '../smoothing/certify.ts';
import { describeSequential } from '../smoothing/sequential.ts';
import { encodeCache } from '../protocol/cache-codec.ts';
import { certifyGuarantee } from '../smoothing/guarantee.ts';
import { sha256Hex } from '../util/digest.ts';
import { TOOL } from '../version.ts';
import {
  CERTIFICATE_FORMAT, certificateId, type Certificate, type CertifyParamsDoc, type InputResult, type ModelRef, type OriginalRef,
} from '../protocol/certificate.ts';
import { inputsDigest, preflight, resultRow, summarize, type JobInputs } from './common.ts';

export interface CertifyJob {
  /** The model in this process: preflight checks run on it and, without `sampler`, samples are drawn on it. */
  classifier?: Classifier;
  /** The backend shards run on, when there is no `classifier` (the job was preflighted at submission). */
  backend?: string;
  /** webgpu without a `classifier`: the adapter shards run on. */
  adapter?: AdapterInfo;
  model: ModelRef;
  data: JobInputs;
  params: CertifyParams;
  /** Predictions per input kept in the IRS cache (default: all n). */
  cacheSamples?: number;
  /** baseline: the certificate this run is the from-scratch comparison for. */
  baselineOf?: OriginalRef;
  onProgress?: Progress;
  /** Where samples are drawn (default: in this process with `classifier`). */
  sampler?: Sampler;
}

export interface CertifyJobResult {
  certificate: Certificate;
  /** The IRS cache (certify jobs only). */
  cache?: Uint8Array;
}

export async function runCertifyJob(job: CertifyJob): Promise<CertifyJobResult> {
  const { classifier, data, params } = job;
  if (classifier) await preflight(classifier, data, params.sigma);
  const sampler = job.sampler ?? (classifier ? localSampler(classifier, data.inputs) : undefined);
  const backend = classifier?.backend ?? job.backend;
  if (!sampler || !backend) throw new Error('a certify job needs a classifier, or a sampler and its backend');
  const results = await certify(sampler, data.inputs.length, params, job.onProgress);
  const kind = job.baselineOf ? 'baseline' : 'certify';
  if (params.sequential && !job.baselineOf) throw new Error('staged estimation is for baselines only: a certify job must keep all n predictions for the IRS cache');
  const paramsDoc: CertifyParamsDoc = {
    sigma: params.sigma, seed: params.seed, noise: NOISE_SCHEME, n0: params.n0, n: params.n, alpha: params.alpha,
    ...(params.sequential ? { sequential: describeSequential(params.sequential, params.n) } : {}),
    batchSize: params.batchSize, backend, ...adapterOf(classifier?.adapter ?? job.adapter),
  };
  const dataRef = { source: data.source, indices: data.indices, inputsSha256: await inputsDigest(data.inputs) };
  const id = await certificateId({ kind, model: job.model, data: dataRef, params: paramsDoc, original: job.baselineOf });
  const rows: InputResult[] = results.map((r, i) => ({ ...resultRow(data, i, r), cA: r.cA, nA: r.nA, ...(r.stage !== undefined ? { stage: r.stage } : {}) }));
  const certificate: Certificate = {
    format: CERTIFICATE_FORMAT,
    id,
    kind,
    createdAt: new Date().toISOString(),
    tool: { ...TOOL },
    model: job.model,
    data: dataRef,
    params: paramsDoc,
    ...(job.baselineOf ? { original: job.baselineOf } : {}),
    results: rows,
    summary: summarize(rows),
    guarantee: certifyGuarantee(paramsDoc, kind),
  };
  if (job.baselineOf) return { certificate };

  const samples = Math.min(job.cacheSamples ?? params.n, params.n);
  const cache = encodeCache(
    {
      certificateId: id, modelSha256: job.model.sha256, inputsSha256: dataRef.inputsSha256, sigma: params.sigma,
      seed: params.seed, noise: NOISE_SCHEME, n: params.n, alpha: params.alpha, samples, inputs: results.length,
    },
    results.map((r) => ({ cA: r.cA, pALower: r.pALower, predictions: r.predictions })),
  );
  certificate.cache = { sha256: await sha256Hex(cache), bytes: cache.length, samples };
  return { certificate, cache };
}

/** The adapter a certificate records (webgpu only), copied so the certificate owns it. */
export function adapterOf(adapter: AdapterInfo | undefined): { adapter?: AdapterInfo } {
  return adapter ? { adapter: { ...adapter } } : {};
}
