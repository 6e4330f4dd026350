/**
 *   GET /v1/certificates                the tenant's certificates: id, kind, model, summary
 *   GET /v1/certificates/:id            the certificate: JSON, or Cohen's TSV (Accept: text/tab-separated-values)
 *   GET /v1/certificates/:id/report     the HTML report (src/report/html.ts) of it, plus ?with=id,id
 */
import { Hono } from 'hono';
import { NotFound } from '../../service/errors.ts';
import { readCertificate } from '../../coordinator/job-machine.ts';
import type { Certificate } from '../../protocol/certificate.ts';
import { certificateTsv } from '../../protocol/tsv.ts';
import { reportHtml } from '../../report/html.ts';
import { sanitize, type HttpDeps, type HttpEnv } from '../context.ts';
import { decode, idsUnder, mapLimited, prefix } from '../listing.ts';

export function certificateRoutes({ cfg }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.get('/', async (c) => {
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

  app.get('/:id', async (c) => {
    const cert = await readCertificate(cfg.store, c.get('tenant'), sanitize(c.req.param('id')));
    if ((c.req.header('accept') ?? '').includes('text/tab-separated-values')) {
      return c.body(certificateTsv(cert), 200, { 'content-type': 'text/tab-separated-values; charset=utf-8' });
    }
    return c.json(cert);
  });

  app.get('/:id/report', async (c) => {
    const tenant = c.get('tenant');
    const ids = [c.req.param('id'), ...(c.req.query('with') ?? '').split(',').filter(Boolean)];
    if (ids.length > 10) throw new NotFound('at most 10 certificates in one report');
    const items = [];
    for (const id of ids) {
      const cert = decode<Certificate>(await cfg.store.get(`${prefix(tenant, 'certificates')}${sanitize(id)}.json`));
      if (!cert) throw new NotFound(`certificate ${id} not found`);
      items.push({ label: `${cert.kind} ${cert.id.slice(0, 8)}`, certificate: cert });
    }
    return c.html(reportHtml(items, `certificate ${ids[0].slice(0, 12)}`), 200, {
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
  });

  return app;
}
