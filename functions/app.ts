/**
 * The HTTP functions as one Hono app on Web-standard Request/Response, so the same code runs
 * under workerd, Node and Deno; the entries beside this file only adapt it (store, backend,
 * datasets, background work).
 *
 *   GET  /healthz                     no token
 *   POST /v1/models                   upload an ONNX model (content-addressed by sha256)
 *   GET  /v1/models/:sha256           its size
 *   POST /v1/models/:sha256/compress  a compressed variant, stored beside it
 *   POST /v1/inputs                   upload inputs as .npy (float32 [N, ...shape])
 *   POST /v1/shards                   compute one shard (what the aggregator fans out)
 *   POST /v1/jobs                     start a certify, recertify, baseline or tune job
 *   GET  /v1/jobs/:id                 its status and progress
 *   GET  /v1/certificates/:id         the certificate: JSON, or Cohen's TSV (Accept: text/tab-separated-values)
 *   GET  /v1/openapi.json             the OpenAPI document (functions/openapi.ts)
 *   GET  /, GET /v1/jobs, /v1/models, /v1/inputs, /v1/certificates, /v1/certificates/:id/report
 *                                     the console and its listings (src/http/console.ts)
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { TOOL } from '../src/version.ts';
import { UserError } from '../src/errors.ts';
import type { JobDriver, ServiceConfig } from '../src/service/runtime.ts';
import { keys, TENANT_PATTERN } from '../src/service/keys.ts';
import { Busy, Conflict, NotFound } from '../src/service/errors.ts';
import { ClassifierCache, readModel } from '../src/service/models.ts';
import { executeShard, InputsCache } from '../src/service/shard.ts';
import { runJob } from '../src/coordinator/job-runner.ts';
import { pendingJobs, readCertificate, readJson, submitJob } from '../src/coordinator/job-machine.ts';
import { CompressRequest, describeIssues, JobRequest, ShardRequest, type JobDoc } from '../src/protocol/schemas.ts';
import { certificateTsv } from '../src/protocol/tsv.ts';
import { parseNpy } from '../src/data/npy-codec.ts';
import { decodeModel, validateGraph } from '../src/onnx/model.ts';
import { compressModel, trainingSigma } from '../src/onnx/compress/index.ts';
import { sha256Hex } from '../src/util/digest.ts';
import { asBackground } from '../src/util/cooperative.ts';
import { StoreError } from '../src/store/types.ts';
import { openApiDocument } from './openapi.ts';
import { keyFingerprint, verifyShardRequest } from '../src/service/signing.ts';
import { registerConsole } from '../src/http/console.ts';

type Env = { Variables: { tenant: string; signature?: { timestamp?: string; signature?: string } } };

const MB = 1024 * 1024;

async function body<T>(c: Context, schema: z.ZodType<T>, text?: string): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? (await c.req.text()));
  } catch {
    throw new UserError('request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  return parsed.data;
}

async function bytesOf(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

export interface Service {
  app: Hono<Env>;
  /** Resumes jobs an earlier aggregator left queued or running; returns how many. */
  resumePending(): Promise<number>;
  /** Resolves when no job is running in this process. */
  idle(): Promise<void>;
}

export function createService(cfg: ServiceConfig): Service {
  const app = new Hono<Env>();
  const classifiers = new ClassifierCache(cfg.backend);
  const inputsCache = new InputsCache();
  const running = new Map<string, Promise<JobDoc>>();
  let shardsInFlight = 0;
  const limit = (bytes: number, hint = '') => bodyLimit({ maxSize: bytes, onError: (c) => c.json({ error: `request body exceeds ${bytes} bytes${hint}` }, 413) });

  // Jobs run in this process unless the runtime brings its own driver (Workers: a Durable Object per job).
  const jobs: JobDriver = cfg.jobs ?? {
    kinds: ['certify', 'recertify', 'baseline', 'tune'],
    async start(job) {
      const key = `${job.tenant}/${job.id}`;
      if (running.has(key)) return;
      running.set(key, runJob(cfg, job, { classifiers, inputsCache, storeRetry: cfg.storeRetry }).finally(() => running.delete(key)));
    },
  };

  app.onError((e, c) => {
    if (e instanceof NotFound) return c.json({ error: e.message }, 404);
    if (e instanceof Conflict) return c.json({ error: e.message }, 409);
    if (e instanceof UserError) return c.json({ error: e.message }, 400);
    if (e instanceof Busy) return c.json({ error: e.message }, 429);
    if (e instanceof StoreError) return c.json({ error: `object store unavailable: ${e.message}` }, 503);
    console.error(e);
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

  app.get('/healthz', (c) => c.json({ ok: true, name: TOOL.name, version: TOOL.version, backend: cfg.backend, ...(cfg.adapter ? { adapter: cfg.adapter } : {}) }));

  // Bearer tokens name the tenant. Shards may instead come signed by the aggregator (HMAC with
  // the worker secret), acting for the tenant they name.
  app.use('/v1/*', async (c, next) => {
    if (c.req.header('x-irs-signature') !== undefined && c.req.path === '/v1/shards' && c.req.method === 'POST') {
      if (!cfg.workerToken) return c.json({ error: 'this server takes no signed shard requests (no worker secret configured)' }, 401);
      const tenant = c.req.header('x-irs-tenant');
      if (!tenant || !TENANT_PATTERN.test(tenant)) return c.json({ error: 'signed requests must name a valid tenant (X-Irs-Tenant)' }, 401);
      // The signature covers the body: the shard route checks it once the body is read.
      c.set('tenant', tenant);
      c.set('signature', { timestamp: c.req.header('x-irs-timestamp'), signature: c.req.header('x-irs-signature') });
      return next();
    }
    const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!token) return c.json({ error: 'missing bearer token (Authorization: Bearer <token>)' }, 401);
    const tenant = cfg.tokens.get(token);
    if (!tenant) return c.json({ error: 'invalid token' }, 401);
    c.set('tenant', tenant);
    await next();
  });

  app.get('/v1/openapi.json', (c) => c.json(openApiDocument()));

  // A model over the cap would not fit a Worker's 128 MB either: ResNet-50 in float32 (102 MB) needs
  // 265 MiB of wasm memory, its int8 variant (26 MB) 84 MiB (BENCHMARKS.md, "Memory").
  app.post('/v1/models', limit(cfg.maxModelBytes ?? 64 * MB, ' (the model upload limit, maxModelBytes); onnxruntime-web needs about 2.7x a float32 model\'s size in wasm memory, so compress it (irs compress --method int8) first'), async (c) => {
    const tenant = c.get('tenant');
    const bytes = await bytesOf(c);
    if (bytes.length === 0) throw new UserError('empty body: send the ONNX model bytes');
    validateGraph(decodeModel(bytes, 'the uploaded body'), 'the uploaded model');
    const sha256 = await sha256Hex(bytes);
    const created = await cfg.store.putIfAbsent(keys.model(tenant, sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json({ sha256, bytes: bytes.length }, created ? 201 : 200);
  });

  app.get('/v1/models/:sha', async (c) => {
    const info = await cfg.store.head(keys.model(c.get('tenant'), sanitize(c.req.param('sha'))));
    if (!info) throw new NotFound(`model ${c.req.param('sha')} not found`);
    return c.json({ sha256: c.req.param('sha'), bytes: info.size });
  });

  app.post('/v1/models/:sha/compress', limit(cfg.maxBodyBytes ?? MB), async (c) => {
    const tenant = c.get('tenant');
    const req = await body(c, CompressRequest);
    const source = await readModel(cfg.store, tenant, sanitize(c.req.param('sha')));
    let calibration;
    if (req.method === 'int8') {
      const spec = req.calibration ?? { source: 'mnist:train' as const, count: 512 };
      if (!cfg.dataset) throw new UserError(`calibration.source: ${spec.source} is not available on this runtime`);
      const ds = cfg.dataset(spec.source);
      calibration = { source: spec.source, inputs: Array.from({ length: Math.min(spec.count, ds.size) }, (_, i) => ds.input(i)), sigma: req.calibration?.sigma ?? trainingSigma(source) ?? 0 };
    }
    const { bytes, report } = await compressModel(source, { method: req.method, amount: req.amount, calibration, backend: cfg.backend });
    await cfg.store.putIfAbsent(keys.model(tenant, report.sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json(report, 201);
  });

  app.post('/v1/inputs', limit(cfg.maxModelBytes ?? 64 * MB), async (c) => {
    const tenant = c.get('tenant');
    const bytes = await bytesOf(c);
    const file = parseNpy(bytes, 'the uploaded body');
    if (file.shape.length < 2 || file.shape[0] < 1) throw new UserError(`inputs must have shape [N, ...input shape] with N >= 1, got (${file.shape.join(', ')})`);
    for (let i = 0; i < file.values.length; i++) if (!Number.isFinite(file.values[i])) throw new UserError(`input value ${i} is not finite`);
    const sha256 = await sha256Hex(bytes);
    const created = await cfg.store.putIfAbsent(keys.inputs(tenant, sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json({ sha256, count: file.shape[0], shape: file.shape.slice(1) }, created ? 201 : 200);
  });

  app.post('/v1/shards', limit(cfg.maxBodyBytes ?? 16 * MB), async (c) => {
    const text = await c.req.text();
    const signed = c.get('signature');
    if (signed) {
      const why = await verifyShardRequest(cfg.workerToken!, { tenant: c.get('tenant'), ...signed }, text);
      if (why) return c.json({ error: why }, 401);
    }
    const req = await body(c, ShardRequest, text);
    if (shardsInFlight >= (cfg.maxConcurrentShards ?? 4)) throw new Busy('too many shards in flight; retry later');
    shardsInFlight++;
    try {
      // The shard is this request's own work: it must not wait for itself (util/cooperative.ts).
      const result = await asBackground(() => executeShard(cfg.store, classifiers, inputsCache, c.get('tenant'), req));
      // Who computed it, as this worker states it (audits check the backend; provenance records it).
      return c.json({ worker: { id: cfg.workerId ?? new URL(c.req.url).origin, backend: cfg.backend, version: TOOL.version, ...(cfg.workerToken ? { key: await keyFingerprint(cfg.workerToken) } : {}) }, ...result });
    } finally {
      shardsInFlight--;
    }
  });

  app.post('/v1/jobs', limit(cfg.maxBodyBytes ?? MB), async (c) => {
    const tenant = c.get('tenant');
    const req = await body(c, JobRequest);
    if (!jobs.kinds.includes(req.kind)) throw new UserError(`kind: ${req.kind} jobs do not run on this runtime (it runs ${jobs.kinds.join(', ')})`);
    const { job, created } = await submitJob(cfg, tenant, req, { classifiers, plan: jobs.plan?.bind(jobs) });
    if (job.status !== 'done') await jobs.start(job); // new, or left unfinished by an aggregator that stopped: resume
    return c.json(view(job), created ? 202 : 200);
  });

  app.get('/v1/jobs/:id', async (c) => {
    const job = await readJson<JobDoc>(cfg.store, keys.job(c.get('tenant'), sanitize(c.req.param('id'))));
    if (!job) throw new NotFound(`job ${c.req.param('id')} not found`);
    if (job.status === 'queued' || job.status === 'running') await jobs.touch?.(job);
    return c.json(view(job));
  });

  app.get('/v1/certificates/:id', async (c) => {
    const cert = await readCertificate(cfg.store, c.get('tenant'), sanitize(c.req.param('id')));
    if ((c.req.header('accept') ?? '').includes('text/tab-separated-values')) {
      return c.body(certificateTsv(cert), 200, { 'content-type': 'text/tab-separated-values; charset=utf-8' });
    }
    return c.json(cert);
  });

  registerConsole(app, cfg);

  return {
    app,
    async resumePending() {
      const pending = await pendingJobs(cfg.store);
      for (const job of pending) await jobs.start(job);
      return pending.length;
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running.values()]);
    },
  };
}

/** A path parameter becomes part of a store key: only hex ids and hashes pass. */
function sanitize(id: string): string {
  if (!/^[0-9a-f]{32,64}$/.test(id)) throw new NotFound(`no such id ${id.slice(0, 80)}`);
  return id;
}

function view(job: JobDoc) {
  const { tenant: _t, ...rest } = job;
  return { ...rest, links: { self: `/v1/jobs/${job.id}`, ...(job.certificateId ? { certificate: `/v1/certificates/${job.certificateId}` } : {}) } };
}
