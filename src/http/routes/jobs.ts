/**
 *   POST /v1/jobs       start a certify, recertify, baseline or tune job
 *   GET  /v1/jobs       the tenant's jobs, newest first (?limit=, default 100)
 *   GET  /v1/jobs/:id   its status and progress
 */
import { Hono } from 'hono';
import { UserError } from '../../errors.ts';
import { keys } from '../../service/keys.ts';
import { NotFound } from '../../service/errors.ts';
import { readJson, submitJob } from '../../coordinator/job-machine.ts';
import { JobRequest, type JobDoc } from '../../protocol/schemas.ts';
import { body, limit, MB, sanitize, type HttpDeps, type HttpEnv } from '../context.ts';
import { decode, idsUnder, mapLimited, prefix } from '../listing.ts';

function view(job: JobDoc) {
  const { tenant: _t, ...rest } = job;
  return { ...rest, links: { self: `/v1/jobs/${job.id}`, ...(job.certificateId ? { certificate: `/v1/certificates/${job.certificateId}` } : {}) } };
}

export function jobRoutes({ cfg, classifiers, jobs }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.post('/', limit(cfg.maxBodyBytes ?? MB), async (c) => {
    const tenant = c.get('tenant');
    const req = await body(c, JobRequest);
    if (!jobs.kinds.includes(req.kind)) throw new UserError(`kind: ${req.kind} jobs do not run on this runtime (it runs ${jobs.kinds.join(', ')})`);
    const { job, created } = await submitJob(cfg, tenant, req, { classifiers, plan: jobs.plan?.bind(jobs) });
    if (job.status !== 'done') await jobs.start(job); // new, or left unfinished by an aggregator that stopped: resume
    return c.json(view(job), created ? 202 : 200);
  });

  app.get('/', async (c) => {
    const tenant = c.get('tenant');
    const limit = Math.max(1, Math.min(1000, Number(c.req.query('limit') ?? 100) || 100));
    const ids = await idsUnder(cfg, prefix(tenant, 'jobs'), '.json');
    const docs = (await mapLimited(ids, 8, async ({ id }) => decode<JobDoc>(await cfg.store.get(`${prefix(tenant, 'jobs')}${id}.json`))))
      .filter((j): j is JobDoc => !!j)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id))
      .slice(0, limit);
    return c.json({
      jobs: docs.map((j) => ({
        id: j.id, kind: j.request.kind, status: j.status, createdAt: j.createdAt, updatedAt: j.updatedAt, progress: j.progress,
        model: j.request.model, ...(j.certificateId ? { certificateId: j.certificateId } : {}), ...(j.error ? { error: j.error } : {}),
        links: { self: `/v1/jobs/${j.id}`, ...(j.certificateId ? { certificate: `/v1/certificates/${j.certificateId}` } : {}) },
      })),
    });
  });

  app.get('/:id', async (c) => {
    const job = await readJson<JobDoc>(cfg.store, keys.job(c.get('tenant'), sanitize(c.req.param('id'))));
    if (!job) throw new NotFound(`job ${c.req.param('id')} not found`);
    if (job.status === 'queued' || job.status === 'running') await jobs.touch?.(job);
    return c.json(view(job));
  });

  return app;
}
