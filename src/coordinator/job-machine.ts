/**
 * A job's state machine, written once for every runtime.
 *
 *   submitJob   plan the request from the store (jobs/plan.ts planJob: every check, and the
 *               model, inputs, original, cache and calibration resolved; the CLI plans the same
 *               request from files), run the preflight checks on the model (a few inferences),
 *               store the job document;
 *   runPlanned  run the job's algorithm (jobs/plan.ts runPlanned: CERTIFY, IRS, the baseline,
 *               tune) against a Sampler;
 *   finalize    write the cache, then the certificate, then the job document: a visible
 *               certificate is always whole.
 *
 * The algorithm is a pure function of the stored shard results (noise is counter-based, merging
 * is exact), so a driver may run it again at any time and it continues where it stopped. Two
 * drivers use this:
 *   - Node and Deno (coordinator/job-runner.ts): the sampler awaits every shard, computed in
 *     this process or on shard workers over HTTP;
 *   - the Workers job object (functions/workers/job-object.ts): the sampler's dispatcher defers
 *     every missing shard (ShardPending), the run ends in JobSuspended listing the current
 *     wave's shards, which go to a Queue; when they are all stored the object runs it again.
 * Only the transport differs: an awaited call, or a queue message.
 */
import { StoreError, type ObjectStore } from '../store/types.ts';
import type { ServiceConfig } from '../service/runtime.ts';
import { keys } from '../service/keys.ts';
import { readModel, type ClassifierCache } from '../service/models.ts';
import { NotFound } from '../service/errors.ts';
import { loadClassifier } from '../inference/index.ts';
import { tuneSummary, type CandidateCompressor, type CandidateSpec, type CompressedCandidate } from '../jobs/tune-job.ts';
import { DEFAULTS } from '../protocol/defaults.ts';
import { calibrationSet, planJob, runPlanned as runJobPlan, type JobOutcome, type JobPlan, type JobSources } from '../jobs/plan.ts';
import { preflight, type JobInputs } from '../jobs/common.ts';
import { selectIndices } from '../data/dataset.ts';
import { encodeNpy, parseNpy } from '../protocol/npy-codec.ts';
import type { Certificate } from '../protocol/certificate.ts';
import type { CompressResult, CompressTask, DataSpec, JobDoc, JobRequest, ShardResponse } from '../protocol/schemas.ts';
import type { Sampler } from '../smoothing/stream.ts';
import { KnownError, UserError } from '../errors.ts';
import { canonicalJson, sha256Hex } from '../util/digest.ts';
import { JobSuspended, perModelSampler, shardedSampler, type ShardDispatcher, type ShardStore, type WantedShard } from './sharded-sampler.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const parse = <T>(b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T;

/** Samples per shard and input, and inputs per shard, unless a job's plan says otherwise. */
export const DEFAULT_SHARD_SAMPLES = 2000;
export const DEFAULT_INPUTS_PER_SHARD = 8;

export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const b = await store.get(key);
  return b ? parse<T>(b) : undefined;
}

export async function readCertificate(store: ObjectStore, tenant: string, id: string): Promise<Certificate> {
  const cert = await readJson<Certificate>(store, keys.certificate(tenant, id));
  if (!cert) throw new NotFound(`certificate ${id} not found`);
  return cert;
}

/** Resolves a job's inputs: a bundled dataset (where the runtime has it) or a stored .npy. */
export async function resolveInputs(cfg: ServiceConfig, tenant: string, spec: DataSpec): Promise<JobInputs> {
  if ('source' in spec) {
    if (!cfg.dataset) throw new UserError(`data.source: ${spec.source} is not available on this runtime; upload the inputs as .npy (POST /v1/inputs)`);
    const ds = cfg.dataset(spec.source);
    if (spec.offset >= ds.size) throw new UserError(`data.offset: ${spec.offset} is beyond ${spec.source} (${ds.size} inputs)`);
    const indices = selectIndices(ds.size, spec.count, spec.skip, spec.offset);
    return { source: spec.source, indices, inputs: indices.map((i) => ds.input(i)), labels: indices.map((i) => ds.label(i)) };
  }
  const bytes = await cfg.store.get(keys.inputs(tenant, spec.inputs));
  if (!bytes) throw new NotFound(`data.inputs: inputs ${spec.inputs} not found`);
  const file = parseNpy(bytes, `inputs ${spec.inputs}`);
  const [size, ...shape] = file.shape;
  const per = shape.reduce((a, b) => a * b, 1);
  if (spec.offset >= size) throw new UserError(`data.offset: ${spec.offset} is beyond the ${size} stored inputs`);
  if (spec.labels && spec.labels.length !== size) throw new UserError(`data.labels: expected ${size} labels, got ${spec.labels.length}`);
  const indices = selectIndices(size, spec.count ?? size, spec.skip, spec.offset);
  return {
    source: `inputs:${spec.inputs}`,
    indices,
    inputs: indices.map((i) => Float32Array.from(file.values.subarray(i * per, (i + 1) * per))),
    labels: indices.map((i) => spec.labels?.[i] ?? -1),
  };
}

/** A certificate's inputs, in its order (recertify and baseline reuse them). */
async function originalInputs(cfg: ServiceConfig, tenant: string, cert: Certificate): Promise<JobInputs> {
  const { source, indices } = cert.data;
  const labels = cert.results.map((r) => r.label);
  if (source === 'mnist:test' || source === 'mnist:train') {
    if (!cfg.dataset) throw new UserError(`original: its inputs (${source}) are not available on this runtime`);
    const ds = cfg.dataset(source);
    return { source, indices, inputs: indices.map((i) => ds.input(i)), labels };
  }
  if (!source.startsWith('inputs:')) throw new UserError(`original: its inputs (${source}) are not available to the service`);
  const all = await resolveInputs(cfg, tenant, { inputs: source.slice('inputs:'.length), skip: 1, offset: 0 });
  return { source, indices, inputs: indices.map((i) => all.inputs[i]), labels };
}

/**
 * The object store as a job's sources (jobs/plan.ts): the tenant's models, inputs,
 * certificates and caches, and the runtime's bundled datasets.
 */
export function storeSources(cfg: ServiceConfig, tenant: string): JobSources {
  return {
    async model(sha256) {
      const head = await cfg.store.head(keys.model(tenant, sha256));
      if (!head) throw new NotFound(`model: ${sha256} not found (upload it with POST /v1/models)`);
      return { ref: { sha256, bytes: head.size }, bytes: () => readModel(cfg.store, tenant, sha256) };
    },
    inputs: (spec) => resolveInputs(cfg, tenant, spec),
    async certificate(id) {
      const cert = await readJson<Certificate>(cfg.store, keys.certificate(tenant, id));
      if (!cert) throw new NotFound(`original: certificate ${id} not found`);
      return cert;
    },
    originalInputs: (cert) => originalInputs(cfg, tenant, cert),
    cache: async (cert) => (await cfg.store.get(keys.cache(tenant, cert.id))) ?? undefined,
    async calibration({ source, count }) {
      if (source.startsWith('inputs:')) {
        const all = await resolveInputs(cfg, tenant, { inputs: source.slice('inputs:'.length), skip: 1, offset: 0 });
        return { source, inputs: all.inputs.slice(0, count) };
      }
      if (!cfg.dataset) throw new UserError(`calibration.source: ${source} is not available on this runtime; upload the inputs as .npy (POST /v1/inputs) and name them inputs:<sha256>`);
      return calibrationSet(cfg.dataset(source), count, source);
    },
  };
}

/** A planned job (jobs/plan.ts) with its document and the stored .npy of its inputs. */
export interface LoadedJob extends JobPlan {
  job: JobDoc;
  /** The stored .npy holding the job's inputs in job order, which shards refer to. */
  inputsSha256: string;
}

/**
 * Plans a job from the store (planJob: every precondition, errors naming the request field)
 * and stores the job's inputs file, which shards refer to. No inference.
 */
export async function loadJob(cfg: ServiceConfig, job: JobDoc): Promise<LoadedJob> {
  const plan = await planJob(job.request, storeSources(cfg, job.tenant));
  const { data } = plan;
  const shape = [data.inputs.length, data.inputs[0].length];
  const flat = new Float32Array(shape[0] * shape[1]);
  data.inputs.forEach((x, i) => flat.set(x, i * shape[1]));
  const npy = encodeNpy(flat, shape, '<f4');
  const inputsSha256 = await sha256Hex(npy);
  await cfg.store.putIfAbsent(keys.inputs(job.tenant, inputsSha256), npy);
  return { ...plan, job, inputsSha256 };
}

/** What one sample costs on this runtime's backend, measured at submission (for sizing shards). */
export interface SampleCost {
  msPerSample: number;
}

/**
 * The checks that need the model itself (inputs fit it; batch invariance), run once at
 * submission; with `measure`, also times one batch to size shards by.
 */
export async function preflightJob(cfg: ServiceConfig, loaded: LoadedJob, classifiers?: ClassifierCache, measure = false): Promise<SampleCost | undefined> {
  const { job, data, original } = loaded;
  // Tune checks each candidate it compresses; to size its shards, the original's cost stands in for theirs.
  if (job.request.kind === 'tune' && !measure) return undefined;
  const classifier = classifiers
    ? await classifiers.get(cfg.store, job.tenant, job.request.model)
    : await loadClassifier(await readModel(cfg.store, job.tenant, job.request.model), cfg.backend);
  try {
    const sigma = job.request.kind === 'certify' ? job.request.sigma : original!.params.sigma;
    await preflight(classifier, data, sigma);
    if (!measure) return undefined;
    const batch = Math.min(job.request.batchSize, 64);
    const x = new Float32Array(batch * classifier.inputSize);
    for (let s = 0; s < batch; s++) x.set(data.inputs[0], s * classifier.inputSize);
    const out = new Int32Array(batch);
    await classifier.classify(x, batch, out); // warm
    const t0 = performance.now();
    await classifier.classify(x, batch, out);
    return { msPerSample: (performance.now() - t0) / batch };
  } finally {
    if (!classifiers) await classifier.dispose();
  }
}

/** The content-addressed id of a tenant's job request. */
export async function jobId(tenant: string, request: JobRequest): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(canonicalJson({ tenant, req: request })))).slice(0, 32);
}

export interface Submission {
  job: JobDoc;
  /** false: the same request was submitted before and has not failed (resume it if not done). */
  created: boolean;
}

/**
 * POST /v1/jobs on every runtime: the same request is the same job (content-addressed id), so
 * a repeated submission returns the existing job; a failed one may be submitted again.
 */
export async function submitJob(
  cfg: ServiceConfig, tenant: string, request: JobRequest,
  options: { classifiers?: ClassifierCache; plan?: (request: JobRequest, cost: SampleCost) => JobDoc['plan'] } = {},
): Promise<Submission> {
  const id = await jobId(tenant, request);
  const existing = await readJson<JobDoc>(cfg.store, keys.job(tenant, id));
  if (existing && existing.status !== 'failed') return { job: existing, created: false };
  const now = new Date().toISOString();
  const job: JobDoc = {
    id, tenant, request, status: 'queued', createdAt: now, updatedAt: now, progress: { samplesDone: 0, samplesTotal: 0 },
    // A failed job submitted again keeps its audit record: a worker quarantined then stays so (its stored shards stay discarded).
    ...(existing?.audit ? { audit: existing.audit } : {}),
  };
  const loaded = await loadJob(cfg, job);
  const cost = await preflightJob(cfg, loaded, options.classifiers, options.plan !== undefined);
  if (options.plan && cost) job.plan = options.plan(request, cost);
  job.progress.samplesTotal = loaded.samplesTotal;
  await saveJob(cfg.store, job);
  return { job, created: true };
}

export async function saveJob(store: ObjectStore, job: JobDoc, patch: Partial<JobDoc> = {}): Promise<JobDoc> {
  Object.assign(job, patch, { updatedAt: new Date().toISOString() });
  await store.put(keys.job(job.tenant, job.id), json(job), { contentType: 'application/json' });
  return job;
}

/** Where a job's finished shard results live: under the job, by shard key. */
export function shardResults(store: ObjectStore, job: JobDoc) {
  return {
    get: (key: string) => readJson<ShardResponse>(store, keys.shardResult(job.tenant, job.id, key)),
    put: (key: string, r: ShardResponse) => store.put(keys.shardResult(job.tenant, job.id, key), json(r)).then(() => {}),
  };
}

/**
 * The job's sampler for `model` (the job's own; tune: each candidate's): shards over the job's
 * stored inputs, results persisted under the job.
 */
export function jobSampler(
  store: ObjectStore, loaded: LoadedJob, dispatcher: ShardDispatcher, concurrency: number,
  results: ShardStore = shardResults(store, loaded.job), model: string = loaded.job.request.model,
): Sampler {
  const { job, original } = loaded;
  const replays = job.request.kind === 'recertify' || job.request.kind === 'tune';
  return shardedSampler({
    model, inputs: loaded.inputsSha256, dispatcher, results,
    shardSamples: job.plan?.shardSamples ?? DEFAULT_SHARD_SAMPLES,
    inputsPerShard: job.plan?.inputsPerShard ?? DEFAULT_INPUTS_PER_SHARD,
    concurrency,
    ...(replays && original?.cache ? { referenceCache: { certificate: original.id, sha256: original.cache.sha256 } } : {}),
  });
}

/** A tune candidate's compression as a task for a consumer, and its content address. */
export async function compressTask(loaded: LoadedJob, spec: CandidateSpec): Promise<{ key: string; task: CompressTask }> {
  const req = loaded.job.request;
  if (req.kind !== 'tune') throw new Error('compress tasks belong to tune jobs');
  const sigma = loaded.original!.params.sigma;
  const task: CompressTask = {
    model: req.model, method: spec.method, ...(spec.amount !== undefined ? { amount: spec.amount } : {}),
    ...(spec.method === 'int8' ? { calibration: { ...(req.calibration ?? DEFAULTS.calibration), sigma } } : {}),
    inputs: loaded.inputsSha256, sigma,
  };
  return { key: `compress-${(await sha256Hex(new TextEncoder().encode(canonicalJson(task)))).slice(0, 40)}`, task };
}

/**
 * Tune's compressor for a driver that does not compress itself: each candidate's result is read
 * from the job's shard results; missing ones suspend the job, naming their compress tasks.
 */
export function storedCompressor(store: ObjectStore, loaded: LoadedJob): CandidateCompressor {
  return async (specs) => {
    const wanted: WantedShard[] = [];
    const out: CompressedCandidate[] = [];
    for (const spec of specs) {
      const { key, task } = await compressTask(loaded, spec);
      const r = await readJson<CompressResult>(store, keys.shardResult(loaded.job.tenant, loaded.job.id, key));
      if (r) out.push({ spec, name: r.name, sha256: r.sha256, size: r.size, gzip: r.gzip });
      else wanted.push({ key, compress: task });
    }
    if (wanted.length) throw new JobSuspended(wanted);
    return out;
  };
}

export type { JobOutcome };

/**
 * Runs the job's algorithm (jobs/plan.ts runPlanned) on this runtime's backend, samples from
 * `sampler` (shards). A driver that runs no inference (the Workers job object) also says where
 * tune's candidates are compressed and where each one's samples are drawn.
 */
export function runPlanned(
  cfg: ServiceConfig, loaded: LoadedJob,
  o: {
    sampler: Sampler;
    onProgress?: (samples: number) => void;
    /** tune: draw each candidate's samples from its own sampler (default: in this process, noise shared). */
    samplerFor?: (model: string) => Sampler;
    /** tune: where candidates are compressed (default: in this process). */
    compressor?: CandidateCompressor;
  },
): Promise<JobOutcome> {
  const samplerFor = o.samplerFor;
  return runJobPlan(loaded, {
    backend: cfg.backend, adapter: cfg.adapter, sampler: o.sampler, onProgress: o.onProgress, compressor: o.compressor,
    ...(samplerFor ? { tuneSampler: async (models) => perModelSampler(models.map((m) => samplerFor(m.sha256))) } : {}),
  });
}

/** Writes what a finished job produced, the certificate after its cache, then marks it done. */
export async function finalize(store: ObjectStore, job: JobDoc, outcome: JobOutcome): Promise<JobDoc> {
  const tenant = job.tenant;
  const total = job.progress.samplesTotal;
  const progress = { samplesDone: total, samplesTotal: total, etaSeconds: 0 };
  if (outcome.kind === 'tune') {
    const { result } = outcome;
    // Every finished candidate's certificate is stored; the chosen model too; the job links the choice's.
    for (const [name, cert] of result.certificates) {
      const c = result.candidates.find((x) => x.candidate === name)!;
      // (Compressed by a consumer, every candidate's model is stored already.)
      if (result.choice?.candidate === name && result.choice.bytes) await store.putIfAbsent(keys.model(tenant, c.sha256), result.choice.bytes, { contentType: 'application/octet-stream' });
      await store.put(keys.certificate(tenant, cert.id), json(cert), { contentType: 'application/json' });
    }
    return saveJob(store, job, { status: 'done', tune: tuneSummary(result), ...(result.choice ? { certificateId: result.choice.certificate.id } : {}), progress });
  }
  const { certificate, cache } = outcome;
  if (cache) await store.put(keys.cache(tenant, certificate.id), cache, { contentType: 'application/octet-stream' });
  await store.put(keys.certificate(tenant, certificate.id), json(certificate), { contentType: 'application/json' });
  return saveJob(store, job, { status: 'done', certificateId: certificate.id, progress });
}

/**
 * What a job document says when a job stops on an error (one translation for every driver):
 * an error of a known class says what it means (src/errors.ts); anything else is a bug.
 */
export function jobFailureMessage(e: unknown): string {
  if (e instanceof JobSuspended) return `internal error: the job's driver cannot wait for shards (${e.message})`;
  if (e instanceof StoreError) return `object store unavailable, job stopped (submit it again to resume): ${e.message}`;
  if (e instanceof KnownError) return e.message;
  return `internal error: ${(e as Error).message}`;
}

/** Jobs left queued or running by an aggregator that stopped: run them again (they resume). */
export async function pendingJobs(store: ObjectStore): Promise<JobDoc[]> {
  const out: JobDoc[] = [];
  for (const o of await store.list(keys.tenants())) {
    if (!/^tenants\/[^/]+\/jobs\/[^/]+\.json$/.test(o.key)) continue;
    const job = await readJson<JobDoc>(store, o.key);
    if (job && (job.status === 'queued' || job.status === 'running')) out.push(job);
  }
  return out;
}
