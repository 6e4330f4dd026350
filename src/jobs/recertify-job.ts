/** A recertify job: IRS on a modified model from an original certificate and its cache. */
import type { Classifier } from '../inference/classifier.ts';
import type { AdapterInfo } from '../inference/webgpu.ts';
import { adapterOf } from './certify-job.ts';
import { localMultiSampler, singleModel, type MultiSampler, type Sampler } from '../smoothing/stream.ts';
import { NOISE_SCHEME } from '../noise/gaussian.ts';
import { recertifyMany, type CandidateControl, type Progress, type RecertifiedInput } from '../smoothing/irs.ts';
import { describeSequential, type SequentialOptions } from '../smoothing/sequential.ts';
import { decodeCache } from '../protocol/cache-codec.ts';
import { sha256Hex } from '../util/digest.ts';
import { TOOL } from '../version.ts';
import { Conflict, IntegrityError, UserError } from '../errors.ts';
import { branchLevels } from '../smoothing/irs.ts';
import { recertifyGuarantee } from '../smoothing/guarantee.ts';
import {
  CERTIFICATE_FORMAT, certificateId, type Certificate, type CertifyParamsDoc, type InputResult, type IrsParamsDoc, type ModelRef,
} from '../protocol/certificate.ts';
import { checkInputsFit, inputsDigest, requireBatchInvariance, resultRow, summarize, type JobInputs } from './common.ts';

export interface RecertifyJob {
  /** The model in this process (preflight, and sampling without `sampler`); or give `backend`. */
  classifier?: Classifier;
  /** The backend shards run on, when there is no `classifier` (preflighted at submission). */
  backend?: string;
  /** webgpu without a `classifier`: the adapter shards run on. */
  adapter?: AdapterInfo;
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

/**
 * Checks that an original certificate and its cache hold together. The certificate is not
 * trusted as given: its id is recomputed from what determines it, and the cache header's id,
 * model, inputs, sigma, seed, alpha, n and noise must equal the certificate's, so that a
 * hand-edited parameter (say params.alpha) cannot change the confidence IRS builds on. A
 * mismatch is an IntegrityError (CLI exit 3, HTTP 409); a cache that is not the certificate's (sha256) a
 * Conflict (exit 2, 409). Also run by POST /v1/jobs, before a
 * job starts.
 */
export async function checkOriginal(original: Certificate, cacheBytes: Uint8Array) {
  if (original.format !== CERTIFICATE_FORMAT) throw new UserError(`original: the certificate has format ${original.format}, expected ${CERTIFICATE_FORMAT}`);
  if (original.kind !== 'certify') throw new UserError(`original: the certificate is a ${original.kind} certificate; IRS needs a certify certificate with its cache`);
  if (!original.cache) throw new UserError('original: the certificate has no IRS cache');
  const recomputed = await certificateId(original);
  if (recomputed !== original.id) {
    throw new IntegrityError(`original: certificate ${original.id} does not hold together: its kind, model, inputs and params give id ${recomputed} (was it edited?)`);
  }
  const sha = await sha256Hex(cacheBytes);
  if (sha !== original.cache.sha256) {
    throw new Conflict(`original: the IRS cache of certificate ${original.id} does not match it (sha256 ${sha}, the certificate names ${original.cache.sha256})`);
  }
  const { header, entries } = decodeCache(cacheBytes);
  const p = original.params;
  const differ = ([
    ['certificate id', header.certificateId, original.id], ['model sha256', header.modelSha256, original.model.sha256],
    ['inputs sha256', header.inputsSha256, original.data.inputsSha256], ['sigma', header.sigma, p.sigma], ['seed', header.seed, p.seed],
    ['alpha', header.alpha, p.alpha], ['n', header.n, p.n], ['noise', header.noise, p.noise],
  ] as const).filter(([, a, b]) => a !== b);
  if (differ.length) {
    throw new IntegrityError(`original: the cache header does not match certificate ${original.id}: ${differ.map(([f, a, b]) => `${f} ${a} in the cache, ${b} in the certificate`).join('; ')}`);
  }
  if (header.noise !== NOISE_SCHEME) throw new UserError(`original: its cache was made with noise scheme ${header.noise}; this tool replays ${NOISE_SCHEME}`);
  if (entries.length !== original.results.length) throw new IntegrityError('original: its cache and certificate disagree on the number of inputs');
  entries.forEach((e, i) => {
    const r = original.results[i];
    if (e.cA !== r.cA || e.pALower !== r.pALower) throw new IntegrityError(`original: its cache entry ${i} disagrees with the certificate's result`);
  });
  return { params: p, header, entries };
}

/** checkOriginal, and that the original fits this job (inputs, n_p); returns the cache. */
export async function openOriginal(original: Certificate, cacheBytes: Uint8Array, data: JobInputs, np: number) {
  const { params: p, header, entries } = await checkOriginal(original, cacheBytes);
  const digest = await inputsDigest(data.inputs);
  if (digest !== original.data.inputsSha256) {
    throw new UserError(`data: inputs differ from those of certificate ${original.id} (${original.data.source}, ${original.data.indices.length} inputs)`);
  }
  if (np > header.samples) {
    throw new UserError(`np: ${np} exceeds the original certificate's ${header.samples} cached samples`);
  }
  return { params: p, entries };
}

export async function runRecertifyJob(job: RecertifyJob): Promise<Certificate> {
  const [certificate] = await runRecertifyCandidates({ ...job, candidates: [{ classifier: job.classifier, backend: job.backend, adapter: job.adapter, model: job.model }] });
  return certificate;
}

export interface Candidate {
  classifier?: Classifier;
  backend?: string;
  adapter?: AdapterInfo;
  model: ModelRef;
}

/**
 * IRS for several candidate models in one pass over the same noise (generated once per
 * sample): one certificate per candidate, each identical to what a run on its own with the
 * same candidate count gives. Candidates recertified together are treated as a selection:
 * each one's branches run at alpha_zeta / M and alpha / M (smoothing/irs.ts), so whichever
 * certificate the caller keeps after looking at all of them holds at alpha + alpha_zeta.
 */
export async function runRecertifyCandidates(
  job: Omit<RecertifyJob, 'classifier' | 'model'> & {
    candidates: Candidate[]; control?: CandidateControl;
    /** Where every candidate's samples are drawn (default: in this process, noise drawn once for all). */
    multiSampler?: MultiSampler;
  },
): Promise<Certificate[]> {
  const { data, original, candidates } = job;
  if (candidates.length === 0) throw new UserError('no candidate models to recertify');
  if (job.sampler && candidates.length > 1) throw new Error('a custom sampler serves one model; recertify candidates one by one');
  for (const c of candidates) if (c.classifier) checkInputsFit(c.classifier, data);
  const { params: op, entries } = await openOriginal(original, job.cacheBytes, data, job.np);
  for (const c of candidates) if (c.classifier) await requireBatchInvariance(c.classifier, data, op.sigma);
  if (job.multiSampler && job.multiSampler.models !== candidates.length) throw new Error('the multi-sampler serves a different number of models');
  const local = candidates.map((c) => c.classifier).filter((c): c is Classifier => c !== undefined);
  if (!job.sampler && !job.multiSampler && local.length !== candidates.length) throw new Error('recertifying in this process needs every candidate\'s classifier');
  if (candidates.some((c) => !c.classifier && !c.backend)) throw new Error('a candidate without a classifier must name its backend');
  const sampler = job.multiSampler ?? (job.sampler ? singleModel(job.sampler) : localMultiSampler(local, data.inputs));
  const all = await recertifyMany(sampler, entries, {
    sigma: op.sigma, seed: op.seed, batchSize: job.batchSize, shardSize: job.shardSize,
    np: job.np, alpha: op.alpha, alphaZeta: job.alphaZeta, gamma: job.gamma, sequential: job.sequential, candidates: candidates.length,
  }, job.onProgress, job.control);
  return Promise.all(candidates.map((c, m) => recertifyCertificate(job, op, c, all[m], candidates.length)));
}

async function recertifyCertificate(
  job: Omit<RecertifyJob, 'classifier' | 'model'>, op: CertifyParamsDoc, c: Candidate, results: RecertifiedInput[], candidateCount: number,
): Promise<Certificate> {
  const { data, original } = job;
  const count = candidateCount;
  const levels = branchLevels({ alpha: op.alpha, alphaZeta: job.alphaZeta, candidates: count });
  const params: IrsParamsDoc = {
    sigma: op.sigma, seed: op.seed, noise: NOISE_SCHEME, np: job.np, alpha: op.alpha, n: op.n, alphaZeta: job.alphaZeta,
    gamma: job.gamma, ...(job.sequential ? { sequential: describeSequential(job.sequential, job.np) } : {}),
    // Only with a selection, so that single-model ids stay what they were.
    ...(count > 1 ? { candidates: { count, alphaZetaEach: levels.zeta, alphaRsEach: levels.rs } } : {}),
    batchSize: job.batchSize, backend: c.classifier?.backend ?? c.backend!, ...adapterOf(c.classifier?.adapter ?? c.adapter),
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
  const inBranch = (b: string) => rows.filter((r) => r.branch === b).length;
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
      branches: { zeta: inBranch('zeta'), rs: inBranch('rs'), abstain: inBranch('abstain') },
      meanZeta: zetas.length ? zetas.reduce((a, b) => a + b, 0) / zetas.length : undefined,
    }),
    guarantee: recertifyGuarantee(params),
  };
}
