/**
 * The console: GET / serves one self-contained page (inline CSS and script, no framework, no
 * external request) that drives the public API with a bearer token kept in sessionStorage.
 * Beside it, the listing routes the page needs, tenant-scoped like everything under /v1:
 *
 *   GET /                               the console page (no token: the page asks for one)
 *   GET /v1/jobs                        the tenant's jobs, newest first (?limit=, default 100)
 *   GET /v1/models                      the tenant's stored models (sha256, bytes)
 *   GET /v1/inputs                      the tenant's uploaded inputs files (sha256, bytes)
 *   GET /v1/certificates                the tenant's certificates: id, kind, model, summary
 *   GET /v1/certificates/:id/report     the HTML report (src/report/html.ts) of it, plus ?with=id,id
 *
 * registerConsole must run after the /v1/* token middleware is installed.
 */
import type { Hono } from 'hono';
import type { ServiceConfig } from '../service/runtime.ts';
import type { Certificate } from '../protocol/certificate.ts';
import type { JobDoc } from '../protocol/schemas.ts';
import { reportHtml } from '../report/html.ts';
import { NotFound } from '../service/errors.ts';
import { CONSOLE_HTML } from './console-page.ts';

type App = Hono<{ Variables: { tenant: string } }>;

const ID = /^[0-9a-f]{32,64}$/;

function decode<T>(bytes: Uint8Array | undefined): T | undefined {
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : undefined;
}

/** The hex names of objects directly under prefix with the given suffix (not nested keys). */
async function idsUnder(cfg: ServiceConfig, prefix: string, suffix: string): Promise<{ id: string; size: number }[]> {
  const out: { id: string; size: number }[] = [];
  for (const o of await cfg.store.list(prefix)) {
    const name = o.key.slice(prefix.length);
    if (name.endsWith(suffix) && ID.test(name.slice(0, -suffix.length))) out.push({ id: name.slice(0, -suffix.length), size: o.size });
  }
  return out;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}

export function registerConsole(app: App, cfg: ServiceConfig): void {
  const prefix = (tenant: string, kind: string) => `tenants/${tenant}/${kind}/`;

  app.get('/', (c) => c.html(CONSOLE_HTML, 200, {
    // Everything is inline; nothing may load from anywhere else, nor may the page be framed.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; frame-src 'self' blob: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'cache-control': 'no-store',
  }));

  app.get('/v1/jobs', async (c) => {
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

  app.get('/v1/models', async (c) => {
    const models = await idsUnder(cfg, prefix(c.get('tenant'), 'models'), '.onnx');
    return c.json({ models: models.map((m) => ({ sha256: m.id, bytes: m.size })) });
  });

  app.get('/v1/inputs', async (c) => {
    const inputs = await idsUnder(cfg, prefix(c.get('tenant'), 'inputs'), '.npy');
    return c.json({ inputs: inputs.map((m) => ({ sha256: m.id, bytes: m.size })) });
  });

  app.get('/v1/certificates', async (c) => {
    const tenant = c.get('tenant');
    const ids = await idsUnder(cfg, prefix(tenant, 'certificates'), '.json');
    const certs = (await mapLimited(ids, 8, async ({ id }) => decode<Certificate>(await cfg.store.get(`${prefix(tenant, 'certificates')}${id}.json`))))
      .filter((x): x is Certificate => !!x)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return c.json({
      certificates: certs.map((x) => ({
        id: x.id, kind: x.kind, createdAt: x.createdAt, model: x.model.sha256, inputs: x.results.length, sigma: x.params.sigma,
        backend: x.params.backend, ...(x.original ? { original: x.original.id } : {}), hasCache: !!x.cache,
        summary: { acr: x.summary.acr, abstained: x.summary.abstained, certifiedAccuracy: x.summary.certifiedAccuracy, meanZeta: x.summary.meanZeta },
        links: { self: `/v1/certificates/${x.id}`, report: `/v1/certificates/${x.id}/report` },
      })),
    });
  });

  app.get('/v1/certificates/:id/report', async (c) => {
    const tenant = c.get('tenant');
    const ids = [c.req.param('id'), ...(c.req.query('with') ?? '').split(',').filter(Boolean)];
    if (ids.length > 10) throw new NotFound('at most 10 certificates in one report');
    const items = [];
    for (const id of ids) {
      if (!ID.test(id)) throw new NotFound(`no such id ${id.slice(0, 80)}`);
      const cert = decode<Certificate>(await cfg.store.get(`${prefix(tenant, 'certificates')}${id}.json`));
      if (!cert) throw new NotFound(`certificate ${id} not found`);
      items.push({ label: `${cert.kind} ${cert.id.slice(0, 8)}`, certificate: cert });
    }
    return c.html(reportHtml(items, `certificate ${ids[0].slice(0, 12)}`), 200, {
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
  });
}
