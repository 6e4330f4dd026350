/** A recertify job: IRS on a modified model from an original certificate and its cache. */
import type { Classifier } from '../inference/classifier.ts';
import { localMultiSampler, singleModel, type Sampler } from '../smoothing/stream.ts';
import { NOISE_SCHEME } from '../noise/gaussian.ts';
import { recertifyMany, type CandidateControl, type Progress, type RecertifiedInput } from '../smoothing/irs.ts';
import { describeSequential, type SequentialOptions } from '../smoothing/sequential.ts';
import { decodeCache } from '../store/cache-codec.ts';
import { sha256Hex } from '../util/digest.ts';
import { TOOL } from '../version.ts';
import { UserError } from '../errors.ts';
import {
  CERTIFICATE_FORMAT, certificateId, type Certificate, type CertifyParamsDoc, type InputResult, type IrsParamsDoc, type ModelRef,
} from '../protocol/certificate.ts';
import { checkInputsFit, inputsDigest, requireBatchInvariance, resultRow, summarize, type JobInputs } from './common.ts';

export interface RecertifyJob {
  classifier: Classifier;
  model: ModelRef;
  data: JobInputs;
  original: Certificate;
  cacheBytes: Uint8Array;
  /** Samples of f^p per input (with `sequential`: the cap). */
  np: number;
  alphaZeta: number;
  gamma: number;
  /** Adaptive or decision mode (smoothing/sequential.ts). */
  sequential?: SequentialOptions;
  batchSize: number;
  shardSize?: number;
  onProgress?: Progress;
  /** Where samples are drawn (default: in this process with `classifier`). */
  sampler?: Sampler;
}

/** Checks that an original certificate and cache belong together and fit this job; returns the cache. */
export async function openOriginal(original: Certificate, cacheBytes: Uint8Array, data: JobInputs, np: number) {
  if (original.format !== CERTIFICATE_FORMAT) throw new UserError(`original certificate has format ${original.format}, expected ${CERTIFICATE_FORMAT}`);
  if (original.kind !== 'certify') throw new UserError(`original certificate is a ${original.kind} certificate; IRS needs a certify certificate with its cache`);
  if (!original.cache) throw new UserError('original certificate has no IRS cache');
  const sha = await sha256Hex(cacheBytes);
  if (sha !== original.cache.sha256) {
    throw new UserError(`cache file does not belong to certificate ${original.id}: its sha256 is ${sha}, the certificate names ${original.cache.sha256}`);
  }
  const { header, entries } = decodeCache(cacheBytes);
  const p = original.params as CertifyParamsDoc;
  if (header.certificateId !== original.id || header.modelSha256 !== original.model.sha256 || header.sigma !== p.sigma || header.seed !== p.seed) {
    throw new UserError('cache header does not match its certificate (id, model sha256, sigma or seed differ)');
  }
  if (header.noise !== NOISE_SCHEME) throw new UserError(`cache was made with noise scheme ${header.noise}; this tool replays ${NOISE_SCHEME}`);
  if (entries.length !== original.results.length) throw new UserError('cache and certificate disagree on the number of inputs');
  const digest = await inputsDigest(data.inputs);
  if (digest !== original.data.inputsSha256) {
    throw new UserError(`inputs differ from those of certificate ${original.id} (${original.data.source}, ${original.data.indices.length} inputs)`);
  }
  if (np > header.samples) {
    throw new UserError(`--np ${np} exceeds the ${header.samples} cached samples per input of certificate ${original.id} (n = ${p.n})`);
  }
  entries.forEach((e, i) => {
    const r = original.results[i];
    if (e.cA !== r.cA || e.pALower !== r.pALower) throw new UserError(`cache entry ${i} disagrees with the certificate's result`);
  });
  return { params: p, entries };
}

export async function runRecertifyJob(job: RecertifyJob): Promise<Certificate> {
  const [certificate] = await runRecertifyCandidates({ ...job, candidates: [{ classifier: job.classifier, model: job.model }] });
  return certificate;
}

export interface Candidate {
  classifier: Classifier;
  model: ModelRef;
}

/**
 * IRS for several candidate models in one pass over the same noise (generated once per
 * sample): one certificate per candidate, each identical to what a run on its own gives.
 */
export async function runRecertifyCandidates(
  job: Omit<RecertifyJob, 'classifier' | 'model'> & { candidates: Candidate[]; control?: CandidateControl },
): Promise<Certificate[]> {
  const { data, original, candidates } = job;
  if (candidates.length === 0) throw new UserError('no candidate models to recertify');
  if (job.sampler && candidates.length > 1) throw new Error('a custom sampler serves one model; recertify candidates one by one');
  for (const c of candidates) checkInputsFit(c.classifier, data);
  const { params: op, entries } = await openOriginal(original, job.cacheBytes, data, job.np);
  for (const c of candidates) await requireBatchInvariance(c.classifier, data, op.sigma);
  const sampler = job.sampler ? singleModel(job.sampler) : localMultiSampler(candidates.map((c) => c.classifier), data.inputs);
  const all = await recertifyMany(sampler, entries, {
    sigma: op.sigma, seed: op.seed, batchSize: job.batchSize, shardSize: job.shardSize,
    np: job.np, alpha: op.alpha, alphaZeta: job.alphaZeta, gamma: job.gamma, sequential: job.sequential,
  }, job.onProgress, job.control);
  return Promise.all(candidates.map((c, m) => recertifyCertificate(job, op, c, all[m])));
}

async function recertifyCertificate(
  job: Omit<RecertifyJob, 'classifier' | 'model'>, op: CertifyParamsDoc, c: Candidate, results: RecertifiedInput[],
): Promise<Certificate> {
  const { data, original } = job;
  const params: IrsParamsDoc = {
    sigma: op.sigma, seed: op.seed, noise: NOISE_SCHEME, np: job.np, alpha: op.alpha, n: op.n, alphaZeta: job.alphaZeta,
    gamma: job.gamma, ...(job.sequential ? { sequential: describeSequential(job.sequential, job.np) } : {}),
    batchSize: job.batchSize, backend: c.classifier.backend, ...(c.classifier.adapter ? { adapter: { ...c.classifier.adapter } } : {}),
    cacheBackend: op.backend, ...(op.adapter ? { cacheAdapter: op.adapter } : {}),
  };
  const originalRef = { id: original.id, modelSha256: original.model.sha256 };
  const dataRef = { ...original.data };
  const rows: InputResult[] = results.map((r, i) => ({
    ...resultRow(data, i, r),
    branch: r.branch,
    ...(r.zeta !== undefined ? { zeta: r.zeta, disagreements: r.disagreements } : {}),
    ...(r.nA !== undefined ? { nA: r.nA } : {}),
    ...(r.stage !== undefined ? { stage: r.stage } : {}),
  }));
  const zetas = rows.filter((r) => r.zeta !== undefined).map((r) => r.zeta!);
  const count = (b: string) => rows.filter((r) => r.branch === b).length;
  return {
    format: CERTIFICATE_FORMAT,
    id: await certificateId({ kind: 'recertify', model: c.model, data: dataRef, params, original: originalRef }),
    kind: 'recertify',
    createdAt: new Date().toISOString(),
    tool: { ...TOOL },
    model: c.model,
    data: dataRef,
    params,
    original: originalRef,
    results: rows,
    summary: summarize(rows, {
      branches: { zeta: count('zeta'), rs: count('rs'), abstain: count('abstain') },
      meanZeta: zetas.length ? zetas.reduce((a, b) => a + b, 0) / zetas.length : undefined,
    }),
  };
}
