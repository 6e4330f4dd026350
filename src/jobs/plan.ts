/**
 * One entry for every job, whichever face submitted it (issue #18):
 *
 *   planJob(request, sources)  runs every precondition and resolves the model, the inputs, the
 *                              original certificate and its cache, and the calibration set;
 *   runPlanned(plan, x)        runs the job's algorithm (CERTIFY, IRS, the baseline, tune) and
 *                              returns one shape for every kind.
 *
 * The request is a zod JobRequest (protocol/schemas.ts: fields, defaults, checks). `sources` is
 * the port to where things live: the object store (tenant-scoped; coordinator/job-machine.ts
 * storeSources) or files (the CLI; cli/file-sources.ts). Errors name the request field
 * (`np: ...`); the CLI maps fields to its flags when it prints them.
 */
import type { BackendName, Classifier } from '../inference/classifier.ts';
import type { AdapterInfo } from '../inference/webgpu.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Certificate, CertificateOf, ModelRef } from '../protocol/certificate.ts';
import type { CalibrationSpec, DataSpec, JobRequest, SequentialRequest } from '../protocol/schemas.ts';
import { DEFAULTS } from '../protocol/defaults.ts';
import type { SequentialOptions } from '../smoothing/sequential.ts';
import type { MultiSampler, Sampler } from '../smoothing/stream.ts';
import type { Progress } from '../smoothing/irs.ts';
import { Conflict, UserError } from '../errors.ts';
import { sha256Hex } from '../util/digest.ts';
import { inputsDigest, type JobInputs } from './common.ts';
import { runCertifyJob } from './certify-job.ts';
import { checkOriginal, runRecertifyJob } from './recertify-job.ts';
import { runTuneJob, type CandidateCompressor, type CompressedCandidate, type TuneResult } from './tune-job.ts';

/** Where a job's model, inputs, original certificate, cache and calibration data come from. */
export interface JobSources {
  /** The model a request names by sha256 (a port that cannot find it throws NotFound naming `model`). */
  model(sha256: string): Promise<{ ref: ModelRef; bytes: () => Promise<Uint8Array> }>;
  /** The inputs of a certify job. */
  inputs(spec: DataSpec): Promise<JobInputs>;
  /** The certificate a request names as `original` (throws NotFound where there is none). */
  certificate(id: string): Promise<Certificate>;
  /** The inputs an original certificate was made on, in its order. */
  originalInputs(original: Certificate): Promise<JobInputs>;
  /** The IRS cache kept with a certificate; undefined where there is none. */
  cache(original: Certificate): Promise<Uint8Array | undefined>;
  /** int8 calibration inputs (built with calibrationSet; labelled as this face names their source). */
  calibration(spec: CalibrationSpec): Promise<CalibrationSet>;
}

/** int8 calibration inputs: the first `count` of a dataset (every face builds them here). */
export interface CalibrationSet {
  source: string;
  inputs: Float32Array[];
}

/** The first `count` inputs of `ds`, labelled `source` (recorded in the compressed model's metadata). */
export function calibrationSet(ds: Dataset, count: number, source = ds.source): CalibrationSet {
  return { source, inputs: Array.from({ length: Math.min(count, ds.size) }, (_, i) => ds.input(i)) };
}

/** Everything a job's algorithm reads, resolved and checked. */
export interface JobPlan {
  request: JobRequest;
  model: ModelRef;
  /** The model's bytes, read when needed (tune compresses them; the CLI runs them in this process). */
  modelBytes: () => Promise<Uint8Array>;
  data: JobInputs;
  original?: CertificateOf<'certify'>;
  cacheBytes?: Uint8Array;
  /** tune with an int8 candidate. */
  calibration?: CalibrationSet;
  /** Samples the job draws at most (progress). */
  samplesTotal: number;
}

/** Every precondition of a job, then what it runs on. No inference. */
export async function planJob(request: JobRequest, sources: JobSources): Promise<JobPlan> {
  const req = request;
  const { ref: model, bytes: modelBytes } = await sources.model(req.model);
  if (req.kind === 'certify') {
    const data = await sources.inputs(req.data);
    return { request, model, modelBytes, data, samplesTotal: data.inputs.length * (req.n0 + req.n) };
  }
  const original = await sources.certificate(req.original);
  if (original.kind !== 'certify') throw new UserError(`original: certificate ${original.id} is a ${original.kind} certificate; IRS needs a certify certificate`);
  const op = original.params;
  // IRS replays the cached predictions; the baseline draws fresh samples, at most n (it compares with the original's n).
  const cached = req.kind === 'baseline' ? op.n : original.cache?.samples ?? op.n;
  if (req.np > cached) {
    throw new UserError(`np: ${req.np} exceeds the original certificate's ${req.kind === 'baseline' ? `n = ${op.n}` : `${cached} cached samples`}`);
  }
  if (op.alpha + req.alphaZeta >= 1) throw new UserError(`alphaZeta: alpha + alphaZeta = ${op.alpha + req.alphaZeta} must be < 1`);
  if (req.kind === 'tune' && req.model !== original.model.sha256) {
    throw new UserError(`model: tune compresses the model certificate ${original.id} certifies (${original.model.sha256}), not ${req.model}`);
  }
  const firstStage = req.kind === 'tune' ? req.firstStage : req.sequential?.firstStage;
  if (firstStage !== undefined && firstStage > req.np) {
    throw new UserError(`${req.kind === 'tune' ? 'firstStage' : 'sequential.firstStage'}: ${firstStage} exceeds np ${req.np}`);
  }
  let cacheBytes: Uint8Array | undefined;
  if (req.kind === 'recertify' || req.kind === 'tune') {
    cacheBytes = await sources.cache(original);
    if (!cacheBytes) throw new Conflict(`original: the IRS cache of certificate ${original.id} is missing`);
    const sha = await sha256Hex(cacheBytes);
    if (sha !== original.cache?.sha256) {
      throw new Conflict(`original: the IRS cache of certificate ${original.id} does not match it (sha256 ${sha}, the certificate names ${original.cache?.sha256 ?? 'none'})`);
    }
    // The id recomputed, the cache header against the params (alpha, n, ...).
    await checkOriginal(original, cacheBytes);
  }
  const data = await sources.originalInputs(original);
  if (req.kind !== 'baseline' && await inputsDigest(data.inputs) !== original.data.inputsSha256) {
    throw new UserError(`data: inputs differ from those of certificate ${original.id} (${original.data.source}, ${original.data.indices.length} inputs)`);
  }
  let calibration: CalibrationSet | undefined;
  if (req.kind === 'tune' && req.candidates.some((c) => c.method === 'int8')) {
    const spec = req.calibration ?? DEFAULTS.calibration;
    calibration = await sources.calibration(spec);
  }
  const perInput = req.kind === 'baseline' ? (req.n0 ?? op.n0) + req.np : req.kind === 'tune' ? req.np * req.candidates.length : req.np;
  return { request, model, modelBytes, data, original, cacheBytes, calibration, samplesTotal: data.inputs.length * perInput };
}

export type JobOutcome =
  | { kind: 'certificate'; certificate: Certificate; cache?: Uint8Array }
  | { kind: 'tune'; result: TuneResult };

/** How a planned job runs: where its samples are drawn, on which backend, what it reports. */
export interface Execution {
  /** Where samples are drawn (shards); default: in this process with `classifier`. */
  sampler?: Sampler;
  /** The model in this process: preflight checks run on it and, without `sampler`, samples are drawn on it. */
  classifier?: Classifier;
  /** The backend shards run on (without `classifier`; tune: its candidates run on it). */
  backend: BackendName;
  adapter?: AdapterInfo;
  onProgress?: Progress;
  /** certify: predictions per input kept in the IRS cache (default: all n). */
  cacheSamples?: number;
  /** tune: where the candidates' samples are drawn (default: in this process). */
  tuneSampler?: (models: readonly CompressedCandidate[]) => Promise<MultiSampler>;
  /** tune: where the candidates are compressed (default: in this process, from the model's bytes). */
  compressor?: CandidateCompressor;
  /** tune: a candidate was compressed, dropped or finished. */
  onEvent?: (message: string) => void;
}

/**
 * Runs the job's algorithm. Tune jobs compress and recertify their candidates in this process
 * (they share each batch of noise, which the single-model shard protocol cannot express).
 */
export async function runPlanned(plan: JobPlan, x: Execution): Promise<JobOutcome> {
  const req = plan.request;
  const { model, data, original } = plan;
  const where = { classifier: x.classifier, backend: x.backend, adapter: x.adapter, sampler: x.sampler, onProgress: x.onProgress };
  if (req.kind === 'certify') {
    const { certificate, cache } = await runCertifyJob({
      ...where, model, data, cacheSamples: x.cacheSamples,
      params: { sigma: req.sigma, seed: req.seed, n0: req.n0, n: req.n, alpha: req.alpha, batchSize: req.batchSize, shardSize: req.shardSize },
    });
    return { kind: 'certificate', certificate, cache };
  }
  if (req.kind === 'recertify') {
    const certificate = await runRecertifyJob({
      ...where, model, data, original: original!, cacheBytes: plan.cacheBytes!, np: req.np, alphaZeta: req.alphaZeta, gamma: req.gamma,
      sequential: sequentialOptions(req.sequential), batchSize: req.batchSize, shardSize: req.shardSize,
    });
    return { kind: 'certificate', certificate };
  }
  if (req.kind === 'baseline') {
    const op = original!.params;
    const { certificate } = await runCertifyJob({
      ...where, model, data, baselineOf: { id: original!.id, modelSha256: original!.model.sha256 },
      params: {
        sigma: op.sigma, seed: op.seed, n0: req.n0 ?? op.n0, n: req.np, alpha: op.alpha + req.alphaZeta, batchSize: req.batchSize, shardSize: req.shardSize,
        sequential: sequentialOptions(req.sequential),
      },
    });
    return { kind: 'certificate', certificate };
  }
  const result = await runTuneJob({
    ...(x.compressor ? { compressor: x.compressor } : { modelBytes: await plan.modelBytes() }), original: original!, cacheBytes: plan.cacheBytes!, data,
    candidates: req.candidates, target: req.target, np: req.np, alphaZeta: req.alphaZeta, gamma: req.gamma, firstStage: req.firstStage,
    batchSize: req.batchSize, backend: x.backend, calibration: plan.calibration, sampler: x.tuneSampler, onProgress: x.onProgress, onEvent: x.onEvent,
  });
  return { kind: 'tune', result };
}

/** A request's adaptive or decision mode as the algorithm takes it. */
export function sequentialOptions(s: SequentialRequest | undefined): SequentialOptions | undefined {
  if (!s) return undefined;
  return {
    firstStage: s.firstStage,
    stop: s.mode === 'decision' ? { kind: 'decision', radius: s.radius! } : { kind: 'tolerance', tolerance: s.tolerance ?? DEFAULTS.radiusTolerance },
  };
}
