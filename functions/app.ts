/**
 * The HTTP functions as one Hono app on Web-standard Request/Response, so the same code runs
 * under workerd, Node and Deno; runtime entries beside this file only adapt it. So far it
 * answers the health check; the shard, jobs and models routes come with the functions issue.
 */
import { Hono } from 'hono';
import { TOOL } from '../src/version.ts';

export function createApp(): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true, name: TOOL.name, version: TOOL.version }));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  return app;
}
