/**
 * The HTTP functions as one Hono app on Web-standard Request/Response, so the same code runs
 * under workerd, Node and Deno; the entries in functions/ only adapt it (store, backend,
 * datasets, background work). Routes are grouped by resource under http/routes/:
 *
 *   GET  /healthz                     no token
 *   GET  /v1/openapi.json             the OpenAPI document (http/openapi.ts)
 *   /v1/models                        routes/models.ts, routes/compress.ts (POST /v1/models/:sha/compress)
 *   /v1/inputs                        routes/inputs.ts
 *   /v1/shards                        routes/shards.ts (what the aggregator fans out)
 *   /v1/jobs                          routes/jobs.ts (certify, recertify, baseline, tune)
 *   /v1/certificates                  routes/certificates.ts (JSON, Cohen's TSV, the HTML report)
 *   GET  /                            the console page (http/console.ts)
 */
import { Hono } from 'hono';
import { TOOL } from '../version.ts';
import { KnownError, UserError } from '../errors.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JobDriver, ServiceConfig } from '../service/runtime.ts';
import { TENANT_PATTERN } from '../service/keys.ts';
import { Busy, Conflict, NotFound } from '../service/errors.ts';
import { ClassifierCache } from '../service/models.ts';
import { InputsCache } from '../service/shard.ts';
import { runJob } from '../coordinator/job-runner.ts';
import { pendingJobs } from '../coordinator/job-machine.ts';
import type { JobDoc } from '../protocol/schemas.ts';
import { StoreError } from '../store/types.ts';
import { openApiDocument } from './openapi.ts';
import type { HttpDeps, HttpEnv } from './context.ts';
import { modelRoutes } from './routes/models.ts';
import { compressRoutes } from './routes/compress.ts';
import { inputRoutes } from './routes/inputs.ts';
import { shardRoutes } from './routes/shards.ts';
import { jobRoutes } from './routes/jobs.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { consoleRoutes } from './console.ts';

export type { HttpEnv } from './context.ts';

export interface Service {
  app: Hono<HttpEnv>;
  /** Resumes jobs an earlier aggregator left queued or running; returns how many. */
  resumePending(): Promise<number>;
  /** Resolves when no job is running in this process. */
  idle(): Promise<void>;
}

export function createService(cfg: ServiceConfig): Service {
  const app = new Hono<HttpEnv>();
  const classifiers = new ClassifierCache(cfg.backend, undefined, cfg.memoryBudgetMiB);
  const inputsCache = new InputsCache();
  const running = new Map<string, Promise<JobDoc>>();

  // Jobs run in this process unless the runtime brings its own driver (Workers: a Durable Object per job).
  const jobs: JobDriver = cfg.jobs ?? {
    kinds: ['certify', 'recertify', 'baseline', 'tune'],
    async start(job) {
      const key = `${job.tenant}/${job.id}`;
      if (running.has(key)) return;
      running.set(key, runJob(cfg, job, { classifiers, inputsCache, storeRetry: cfg.storeRetry }).finally(() => running.delete(key)));
    },
  };
  const deps: HttpDeps = { cfg, classifiers, inputsCache, jobs };

  // One translation: each error class carries its status (src/errors.ts).
  app.onError((e, c) => {
    if (e instanceof StoreError) return c.json({ error: `object store unavailable: ${e.message}` }, e.status as ContentfulStatusCode);
    if (e instanceof KnownError) return c.json({ error: e.message }, e.status as ContentfulStatusCode);
    console.error(e);
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

  app.get('/healthz', (c) => c.json({ ok: true, name: TOOL.name, version: TOOL.version, backend: cfg.backend, ...(cfg.adapter ? { adapter: cfg.adapter } : {}), ...(cfg.memory ? { memory: cfg.memory() } : {}) }));

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
  app.route('/v1/models', modelRoutes(deps));
  app.route('/v1/models', compressRoutes(deps));
  app.route('/v1/inputs', inputRoutes(deps));
  app.route('/v1/shards', shardRoutes(deps));
  app.route('/v1/jobs', jobRoutes(deps));
  app.route('/v1/certificates', certificateRoutes(deps));
  app.route('/', consoleRoutes());

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
