/**
 * Request and response schemas of the HTTP functions (version 1), validated with zod. The
 * same schemas document the API (zod's JSON Schema export) and type the client.
 */
import { z } from 'zod';
import { MIN_ALPHA } from '../stats/index.ts';
import { DEFAULTS } from './defaults.ts';

/** Service limits: what one request may ask for. */
export const LIMITS = {
  /** Samples per shard request, summed over its inputs. */
  shardSamples: 2_000_000,
  shardInputs: 256,
  /** Values of one inline input. */
  inputValues: 1_000_000,
  batchSize: 4096,
  /** Samples per job and input (n0 + n, or n_p). */
  jobSamplesPerInput: 10_000_000,
  jobInputs: 10_000,
} as const;

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');
export const CertificateId = z.string().regex(/^[0-9a-f]{32}$/, 'expected a certificate id (32 hex digits)');
const Sigma = z.number().positive().max(1e6);
const Seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
// Failure probabilities: from MIN_ALPHA (where the bounds are verified sound, with room for the stage and
// candidate splits) to below 1.
const Alpha = z.number().min(MIN_ALPHA, `must be at least ${MIN_ALPHA} (smaller failure probabilities are not verified sound)`).lt(1);
const Count = z.number().int().min(1);
const BatchSize = z.number().int().min(1).max(LIMITS.batchSize);

export const InlineInput = z.object({ values: z.array(z.number()).min(1).max(LIMITS.inputValues) }).strict();
/** Input `index` of a stored inputs file (.npy uploaded with POST /v1/inputs, or written by a job). */
export const StoredInput = z.object({ inputs: Sha256, index: z.number().int().min(0) }).strict();
export const InputRef = z.union([InlineInput, StoredInput]);

export const ShardRequest = z.object({
  model: Sha256,
  inputs: z.array(InputRef).min(1).max(LIMITS.shardInputs),
  sigma: Sigma,
  seed: Seed,
  stream: z.number().int().min(0).max(2 ** 32 - 1),
  start: z.number().int().min(0).max(2 ** 32 - 1),
  count: Count.max(2 ** 32),
  batchSize: BatchSize,
  /** Return every sample's prediction (building the IRS cache). */
  record: z.boolean().optional(),
  /** Per input: f's cached predictions for this sample range (base64 int16 LE): count disagreements. */
  reference: z.array(z.string()).optional(),
  /**
   * The same by reference, so a request stays small (a Queue message is at most 128 KB): per
   * input, entry `entries[k]` of the stored IRS cache of `certificate`, whose bytes hash to `sha256`.
   */
  referenceCache: z.object({ certificate: CertificateId, sha256: Sha256, entries: z.array(z.number().int().min(0)) }).strict().optional(),
}).strict()
  .refine((r) => r.start + r.count <= 2 ** 32, { message: 'start + count must be at most 2^32', path: ['count'] })
  .refine((r) => r.count * r.inputs.length <= LIMITS.shardSamples, { message: `count x inputs must be at most ${LIMITS.shardSamples}`, path: ['count'] })
  .refine((r) => !r.reference || r.reference.length === r.inputs.length, { message: 'reference needs one entry per input', path: ['reference'] })
  .refine((r) => !r.referenceCache || r.referenceCache.entries.length === r.inputs.length, { message: 'referenceCache.entries needs one entry per input', path: ['referenceCache', 'entries'] })
  .refine((r) => !(r.reference && r.referenceCache), { message: 'give reference or referenceCache, not both', path: ['referenceCache'] });
export type ShardRequest = z.infer<typeof ShardRequest>;

/**
 * Who computed a shard, as the worker states it (an audited fan-out checks `backend` and
 * records the rest in the certificate's provenance). Untrusted: the aggregator also records
 * the URL it sent the shard to, and quarantines by that.
 */
export const WorkerIdentity = z.object({
  /** The worker's name for itself: its configured id, or the origin it was reached at. */
  id: z.string().max(300),
  /** Inference backend the shard ran on: an exact audit needs the same one on both sides. */
  backend: z.string().max(40),
  version: z.string().max(40),
  /** Fingerprint of the key the worker verifies aggregator signatures with (none: unsigned). */
  key: z.string().max(64).optional(),
});
export type WorkerIdentity = z.infer<typeof WorkerIdentity>;

export const ShardResponse = z.object({
  /** Optional (older workers state none). */
  worker: WorkerIdentity.optional(),
  model: Sha256,
  start: z.number(),
  count: z.number(),
  counts: z.array(z.array(z.number().int().min(0))),
  predictions: z.array(z.string()).optional(),
  disagreements: z.array(z.number().int().min(0)).optional(),
  seconds: z.array(z.number().min(0)),
});
export type ShardResponse = z.infer<typeof ShardResponse>;

/**
 * Spot-check audits of a fanned-out job (coordinator/audit.ts): a keyed random fraction of
 * shards is recomputed by another party and compared exactly.
 */
export const AuditRequest = z.object({
  /** Fraction of shards recomputed, chosen with a per-job secret key (0: provenance only). */
  fraction: z.number().min(0).max(1),
  /** Who recomputes an audited shard: another worker (default; the aggregator when none is left) or the aggregator itself. */
  auditor: z.enum(['worker', 'aggregator']).default('worker'),
}).strict();
export type AuditRequest = z.infer<typeof AuditRequest>;

/**
 * int8 calibration inputs: the first `count` of a bundled dataset (default DEFAULTS.calibration),
 * or of a stored inputs file (POST /v1/inputs; the CLI: a .npy file).
 */
export const CalibrationSpec = z.object({
  source: z.union([z.enum(['mnist:train', 'mnist:test']), z.string().regex(/^inputs:[0-9a-f]{64}$/, 'expected mnist:train, mnist:test or inputs:<sha256 of stored inputs>')]),
  count: Count.max(10_000).default(DEFAULTS.calibration.count),
}).strict();
export type CalibrationSpec = z.infer<typeof CalibrationSpec>;

/** A job's limits: the service's (LIMITS), or none where a machine runs its own job (the CLI). */
export type JobLimits = { readonly [K in 'jobSamplesPerInput' | 'jobInputs' | 'batchSize' | 'shardSamples']: number };
export const NO_LIMITS: JobLimits = { jobSamplesPerInput: Number.MAX_SAFE_INTEGER, jobInputs: Number.MAX_SAFE_INTEGER, batchSize: Number.MAX_SAFE_INTEGER, shardSamples: Number.MAX_SAFE_INTEGER };

/**
 * The one description of a job (fields, defaults, checks), under given limits: the API parses
 * requests with the service's LIMITS; the CLI builds the same request from its flags and
 * parses it with NO_LIMITS, so both apply the same defaults and checks.
 */
export function jobSchemas(limits: JobLimits) {
  const batchSizeOf = z.number().int().min(1).max(limits.batchSize);
  /** Which inputs a job certifies: a bundled dataset, or an uploaded inputs file. */
  const DataSpec = z.union([
    z.object({
      source: z.enum(['mnist:test', 'mnist:train']),
      count: Count.max(limits.jobInputs),
      skip: Count.default(1),
      offset: z.number().int().min(0).default(0),
    }).strict(),
    z.object({
      inputs: Sha256,
      /** Labels per input (-1 unknown); default all -1. */
      labels: z.array(z.number().int().min(-1)).optional(),
      count: Count.max(limits.jobInputs).optional(),
      skip: Count.default(1),
      offset: z.number().int().min(0).default(0),
    }).strict(),
  ]);

  const Execution = {
    batchSize: batchSizeOf.default(DEFAULTS.batchSize),
    /** Samples per shard; default: the service's choice. Never changes a result. */
    shardSize: Count.max(limits.shardSamples).optional(),
    /** Spot-check audits of shard results (fan-out only; in-process jobs have nobody to distrust). */
    audit: AuditRequest.optional(),
  };

  const CertifyJobRequest = z.object({
    kind: z.literal('certify'),
    model: Sha256,
    data: DataSpec,
    sigma: Sigma,
    n0: Count.max(limits.jobSamplesPerInput).default(DEFAULTS.n0),
    n: Count.max(limits.jobSamplesPerInput),
    alpha: Alpha.default(DEFAULTS.alpha),
    seed: Seed.default(DEFAULTS.seed),
    ...Execution,
  }).strict();

  /** Adaptive replay or decision mode (smoothing/sequential.ts); np is then the cap. */
  const SequentialRequest = z.object({
    mode: z.enum(['adaptive', 'decision']),
    /** decision: the radius each input is decided at. */
    radius: z.number().min(0).max(1e6).optional(),
    /** adaptive: stop when more samples could raise the radius by at most this (default DEFAULTS.radiusTolerance). */
    tolerance: z.number().min(0).max(1e6).optional(),
    firstStage: Count.max(limits.jobSamplesPerInput).default(DEFAULTS.firstStage),
  }).strict()
    .refine((s) => s.mode !== 'decision' || s.radius !== undefined, { message: 'decision mode needs radius', path: ['radius'] })
    .refine((s) => s.mode !== 'decision' || s.tolerance === undefined, { message: 'tolerance is for adaptive mode', path: ['tolerance'] })
    .refine((s) => s.mode !== 'adaptive' || s.radius === undefined, { message: 'radius is for decision mode', path: ['radius'] });

  const Compression = z.object({
    method: z.enum(['int8', 'fp16', 'fp16-native', 'prune']),
    amount: z.number().gt(0).lt(1).optional(),
  }).strict().refine((r) => (r.method === 'prune') === (r.amount !== undefined), { message: 'prune needs amount, and only prune takes one', path: ['amount'] });

  const RecertifyJobRequest = z.object({
    kind: z.literal('recertify'),
    model: Sha256,
    original: CertificateId,
    np: Count.max(limits.jobSamplesPerInput),
    alphaZeta: Alpha.default(DEFAULTS.alphaZeta),
    gamma: z.number().min(0).max(1).default(DEFAULTS.gamma),
    sequential: SequentialRequest.optional(),
    ...Execution,
  }).strict();

  const BaselineJobRequest = z.object({
    kind: z.literal('baseline'),
    model: Sha256,
    original: CertificateId,
    np: Count.max(limits.jobSamplesPerInput),
    alphaZeta: Alpha.default(DEFAULTS.alphaZeta),
    n0: Count.max(limits.jobSamplesPerInput).optional(),
    sequential: SequentialRequest.optional(),
    ...Execution,
  }).strict();

  /** Tuning (jobs/tune-job.ts): the smallest compression of `model` that meets `target`. */
  const TuneJobRequest = z.object({
    kind: z.literal('tune'),
    /** The original float model: the one `original` certifies. */
    model: Sha256,
    original: CertificateId,
    candidates: z.array(Compression).min(1).max(16),
    target: z.object({ radius: z.number().min(0).max(1e6), accuracy: z.number().min(0).max(1) }).strict(),
    np: Count.max(limits.jobSamplesPerInput).default(DEFAULTS.np),
    alphaZeta: Alpha.default(DEFAULTS.alphaZeta),
    gamma: z.number().min(0).max(1).default(DEFAULTS.gamma),
    firstStage: Count.max(limits.jobSamplesPerInput).default(DEFAULTS.firstStage),
    calibration: CalibrationSpec.optional(),
    batchSize: batchSizeOf.default(DEFAULTS.batchSize),
  }).strict();

  const JobRequest = z.discriminatedUnion('kind', [CertifyJobRequest, RecertifyJobRequest, BaselineJobRequest, TuneJobRequest]);
  return { DataSpec, CertifyJobRequest, SequentialRequest, RecertifyJobRequest, BaselineJobRequest, TuneJobRequest, JobRequest };
}

export const { DataSpec, CertifyJobRequest, SequentialRequest, RecertifyJobRequest, BaselineJobRequest, TuneJobRequest, JobRequest } = jobSchemas(LIMITS);
export type DataSpec = z.infer<typeof DataSpec>;
export type SequentialRequest = z.infer<typeof SequentialRequest>;
export type JobRequest = z.infer<typeof JobRequest>;

export const CompressRequest = z.object({
  method: z.enum(['int8', 'fp16', 'fp16-native', 'prune']),
  amount: z.number().gt(0).lt(1).optional(),
  calibration: CalibrationSpec.extend({ sigma: z.number().min(0).optional() }).strict().optional(),
}).strict().refine((r) => r.method !== 'prune' || r.amount !== undefined, { message: 'prune needs amount', path: ['amount'] });

/**
 * One tune candidate to compress, as a driver that does not compress itself (the Workers job
 * object) hands it to a consumer: the original model and the job's inputs by key, so the
 * consumer can check the compressed model on them (inputs fit, batch invariance) at `sigma`.
 */
export interface CompressTask {
  model: string;
  method: 'int8' | 'fp16' | 'fp16-native' | 'prune';
  amount?: number;
  /** int8 only: the calibration inputs (a bundled dataset, or stored inputs) and their noise. */
  calibration?: CalibrationSpec & { sigma: number };
  /** The stored .npy of the job's inputs, and the noise level the candidate is certified at. */
  inputs: string;
  sigma: number;
}

/** What a compressed candidate's task stores: the model itself is stored as a model. */
export interface CompressResult {
  name: string;
  sha256: string;
  size: number;
  gzip: number;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobDoc {
  id: string;
  tenant: string;
  request: JobRequest;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  progress: { samplesDone: number; samplesTotal: number; etaSeconds?: number };
  /** How the driver cuts the job into shards, fixed at submission (never changes a result). */
  plan?: { shardSamples: number; inputsPerShard: number };
  certificateId?: string;
  /** tune: every candidate's outcome and the choice (null when none meets the target). */
  tune?: unknown;
  /** Audited fan-out (coordinator/audit.ts AuditStatus): shards audited, mismatches, quarantined workers. */
  audit?: unknown;
  error?: string;
}

/** One line per problem: `field.path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}
