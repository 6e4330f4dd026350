/**
 * The aggregator: runs a certify, recertify, baseline or tune job for a tenant. The job's inputs
 * are written to the store as one .npy, every stream is cut into shards executed in this
 * process or on shard workers, finished shard results are persisted under the job, and the
 * certificate (after its cache) is written last, so a visible certificate is always whole.
 * Rerunning a job after a crash recomputes only the shards without a stored result.
 */
import { StoreError, type ObjectStore } from '../store/types.ts';
import { withRetries, type RetryOptions } from '../store/retry.ts';
import type { ServiceConfig } from '../service/runtime.ts';
import { keys } from '../service/keys.ts';
import { ClassifierCache, readModel } from '../service/models.ts';
import { executeShard, InputsCache } from '../service/shard.ts';
import { NotFound } from '../service/errors.ts';
import { loadClassifier } from '../inference/index.ts';
import { runCertifyJob } from '../jobs/certify-job.ts';
import { runRecertifyJob } from '../jobs/recertify-job.ts';
import type { JobInputs } from '../jobs/common.ts';
import { selectIndices } from '../data/dataset.ts';
import { encodeNpy, parseNpy } from '../data/npy-codec.ts';
import type { Certificate, CertifyParamsDoc } from '../protocol/certificate.ts';
import type { DataSpec, JobDoc, SequentialRequest, ShardResponse } from '../protocol/schemas.ts';
import { DEFAULT_RADIUS_TOLERANCE, type SequentialOptions } from '../smoothing/sequential.ts';
import { runTuneJob, tuneSummary } from '../jobs/tune-job.ts';
import { UserError } from '../errors.ts';
import { sha256Hex } from '../util/digest.ts';
import { shardedSampler, type ShardDispatcher } from './sharded-sampler.ts';
import { httpDispatcher, PermanentShardError } from './http-dispatcher.ts';
import { asRouted, createAudit, type Audit, type AuditStatus } from './audit.ts';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const parse = <T>(b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T;

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
    if (!cfg.dataset) throw new UserError(`${source} is not available on this runtime`);
    const ds = cfg.dataset(source);
    return { source, indices, inputs: indices.map((i) => ds.input(i)), labels };
  }
  if (!source.startsWith('inputs:')) throw new UserError(`original certificate's inputs (${source}) are not available to the service`);
  const all = await resolveInputs(cfg, tenant, { inputs: source.slice('inputs:'.length), skip: 1, offset: 0 });
  return { source, indices, inputs: indices.map((i) => all.inputs[i]), labels };
}

export interface RunJobDeps {
  classifiers?: ClassifierCache;
  inputsCache?: InputsCache;
  /** Overrides the HTTP dispatcher (tests inject faults here). */
  dispatcher?: ShardDispatcher;
  /** Progress writes at most this often (ms). */
  progressEveryMs?: number;
  /** How long a job waits out an object-store outage (default: 8 retries, about a minute). */
  storeRetry?: RetryOptions;
}

export async function runJob(cfg: ServiceConfig, job: JobDoc, deps: RunJobDeps = {}): Promise<JobDoc> {
  const store = withRetries(cfg.store, deps.storeRetry);
  cfg = { ...cfg, store };
  const tenant = job.tenant;
  const save = async (patch: Partial<JobDoc>) => {
    Object.assign(job, patch, { updatedAt: new Date().toISOString() });
    await store.put(keys.job(tenant, job.id), json(job), { contentType: 'application/json' });
  };
  try {
    await save({ status: 'running' });
    const req = job.request;
    const modelBytes = await readModel(store, tenant, req.model);
    const model = { sha256: req.model, bytes: modelBytes.length };
    let original: Certificate | undefined;
    let data: JobInputs;
    if (req.kind === 'certify') data = await resolveInputs(cfg, tenant, req.data);
    else {
      original = await readCertificate(store, tenant, req.original);
      data = await originalInputs(cfg, tenant, original);
    }
    // The job's inputs, in job order, as one stored file the shards refer to.
    const shape = [data.inputs.length, data.inputs[0].length];
    const flat = new Float32Array(shape[0] * shape[1]);
    data.inputs.forEach((x, i) => flat.set(x, i * shape[1]));
    const npy = encodeNpy(flat, shape, '<f4');
    const inputsSha = await sha256Hex(npy);
    await store.putIfAbsent(keys.inputs(tenant, inputsSha), npy);

    const classifiers = deps.classifiers ?? new ClassifierCache(cfg.backend);
    const inputsCache = deps.inputsCache ?? new InputsCache();
    const dispatcher: ShardDispatcher = deps.dispatcher ?? (cfg.workers.length > 0
      ? httpDispatcher({ workers: cfg.workers, secret: cfg.workerToken ?? '', tenant, ...cfg.fanOut })
      : { dispatch: (r) => executeShard(store, classifiers, inputsCache, tenant, r) });
    const results = {
      get: (key: string) => readJson<ShardResponse>(store, keys.shardResult(tenant, job.id, key)),
      put: (key: string, r: ShardResponse) => store.put(keys.shardResult(tenant, job.id, key), json(r)).then(() => {}),
    };
    // Fan-out records who computed each shard, and audits a fraction when the job asks (audit.ts).
    const auditReq = req.kind !== 'tune' ? req.audit : undefined;
    let audit: Audit | undefined;
    if (auditReq || (cfg.workers.length > 0 && !deps.dispatcher)) {
      audit = createAudit({
        remote: deps.dispatcher ? asRouted(deps.dispatcher) : cfg.workers.length > 0 ? (dispatcher as ReturnType<typeof httpDispatcher>) : undefined,
        local: (r) => executeShard(store, classifiers, inputsCache, tenant, r),
        results, fraction: auditReq?.fraction ?? 0, auditor: auditReq?.auditor, backend: cfg.backend,
        resume: job.audit as AuditStatus | undefined,
        onChange: auditReq ? (a) => void save({ audit: a }).catch(() => {}) : undefined,
      });
    }
    const run = <T>(compute: () => Promise<T>) => (audit ? audit.run(compute) : compute());
    const sampler = shardedSampler({
      model: req.model, inputs: inputsSha, dispatcher: audit?.dispatcher ?? dispatcher, results: audit?.results ?? results,
      shardSamples: 2000, inputsPerShard: 8, concurrency: Math.max(1, cfg.workers.length * (cfg.fanOut?.perWorker ?? 2)),
    });

    const perInput = req.kind === 'certify' ? req.n0 + req.n
      : req.kind === 'baseline' ? (req.n0 ?? (original!.params as CertifyParamsDoc).n0) + req.np
        : req.kind === 'tune' ? req.np * req.candidates.length : req.np;
    const total = data.inputs.length * perInput;
    let done = 0;
    let lastWrite = 0;
    const started = Date.now();
    const onProgress = (k: number) => {
      done = Math.min(total, done + k); // an audited job that recomputes a quarantined worker's shards samples them again
      const now = Date.now();
      if (now - lastWrite < (deps.progressEveryMs ?? 1000)) return;
      lastWrite = now;
      const rate = done / ((now - started) / 1000);
      void save({ progress: { samplesDone: done, samplesTotal: total, etaSeconds: rate > 0 ? Math.round((total - done) / rate) : undefined } }).catch(() => {});
    };

    // A local classifier checks batch invariance (and is the sampler's when shards run here).
    const classifier = await loadClassifier(modelBytes, cfg.backend);
    let certificate: Certificate;
    let cache: Uint8Array | undefined;
    try {
      if (req.kind === 'certify') {
        ({ certificate, cache } = await run(() => runCertifyJob({
          classifier, model, data, sampler, onProgress,
          params: { sigma: req.sigma, seed: req.seed, n0: req.n0, n: req.n, alpha: req.alpha, batchSize: req.batchSize, shardSize: req.shardSize },
        })));
      } else if (req.kind === 'recertify') {
        const cacheBytes = await store.get(keys.cache(tenant, original!.id));
        if (!cacheBytes) throw new NotFound(`the IRS cache of certificate ${original!.id} is missing`);
        certificate = await run(() => runRecertifyJob({
          classifier, model, data, original: original!, cacheBytes, np: req.np, alphaZeta: req.alphaZeta, gamma: req.gamma,
          sequential: sequentialOptions(req.sequential), batchSize: req.batchSize, shardSize: req.shardSize, sampler, onProgress,
        }));
      } else if (req.kind === 'tune') {
        // Candidates share each batch of noise in this process (one pass), so tuning does not fan out.
        const cacheBytes = await store.get(keys.cache(tenant, original!.id));
        if (!cacheBytes) throw new NotFound(`the IRS cache of certificate ${original!.id} is missing`);
        let calibration;
        if (req.candidates.some((c) => c.method === 'int8')) {
          const spec = req.calibration ?? { source: 'mnist:train' as const, count: 512 };
          if (!cfg.dataset) throw new UserError(`calibration.source: ${spec.source} is not available on this runtime`);
          const ds = cfg.dataset(spec.source);
          calibration = { source: spec.source, inputs: Array.from({ length: Math.min(spec.count, ds.size) }, (_, i) => ds.input(i)) };
        }
        const result = await runTuneJob({
          modelBytes, original: original!, cacheBytes, data, candidates: req.candidates, target: req.target, np: req.np,
          alphaZeta: req.alphaZeta, gamma: req.gamma, firstStage: req.firstStage, batchSize: req.batchSize, backend: cfg.backend,
          calibration, onProgress,
        });
        // Every finished candidate's model and certificate are stored; the job links the choice's.
        for (const [name, cert] of result.certificates) {
          const c = result.candidates.find((x) => x.candidate === name)!;
          if (result.choice?.candidate === name) await store.putIfAbsent(keys.model(tenant, c.sha256), result.choice.bytes, { contentType: 'application/octet-stream' });
          await store.put(keys.certificate(tenant, cert.id), json(cert), { contentType: 'application/json' });
        }
        await save({ status: 'done', tune: tuneSummary(result), ...(result.choice ? { certificateId: result.choice.certificate.id } : {}), progress: { samplesDone: total, samplesTotal: total, etaSeconds: 0 } });
        return job;
      } else {
        const op = original!.params as CertifyParamsDoc;
        ({ certificate } = await run(() => runCertifyJob({
          classifier, model, data, sampler, onProgress, baselineOf: { id: original!.id, modelSha256: original!.model.sha256 },
          params: {
            sigma: op.sigma, seed: op.seed, n0: req.n0 ?? op.n0, n: req.np, alpha: op.alpha + req.alphaZeta, batchSize: req.batchSize, shardSize: req.shardSize,
            sequential: sequentialOptions(req.sequential),
          },
        })));
      }
    } finally {
      await classifier.dispose();
    }
    // Shards ran with the service's backend; the certificate says so (and who ran them: provenance, outside the id).
    if (audit) certificate.provenance = audit.provenance();
    if (cache) await store.put(keys.cache(tenant, certificate.id), cache, { contentType: 'application/octet-stream' });
    await store.put(keys.certificate(tenant, certificate.id), json(certificate), { contentType: 'application/json' });
    await save({ status: 'done', certificateId: certificate.id, progress: { samplesDone: total, samplesTotal: total, etaSeconds: 0 }, ...(auditReq ? { audit: audit!.status() } : {}) });
  } catch (e) {
    const message = e instanceof UserError || e instanceof PermanentShardError ? e.message
      : e instanceof StoreError ? `object store unavailable, job stopped (submit it again to resume): ${e.message}`
        : `internal error: ${(e as Error).message}`;
    await save({ status: 'failed', error: message }).catch(() => {});
  }
  return job;
}

function sequentialOptions(s: SequentialRequest | undefined): SequentialOptions | undefined {
  if (!s) return undefined;
  return {
    firstStage: s.firstStage,
    stop: s.mode === 'decision' ? { kind: 'decision', radius: s.radius! } : { kind: 'tolerance', tolerance: s.tolerance ?? DEFAULT_RADIUS_TOLERANCE },
  };
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
