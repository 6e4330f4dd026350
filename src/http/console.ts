/**
 * The console: GET / serves one self-contained page (inline CSS and script, no framework, no
 * external request) that drives the public API with a bearer token kept in sessionStorage.
 * The listings the page needs (GET /v1/jobs, /v1/models, /v1/inputs, /v1/certificates and
 * /v1/certificates/:id/report) are with their resources under http/routes/, tenant-scoped like
 * everything under /v1.
 *
 *   GET /   the console page (no token: the page asks for one)
 */
import { Hono } from 'hono';
import type { HttpEnv } from './context.ts';
import { CONSOLE_HTML } from './console-page.ts';

export function consoleRoutes(): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get('/', (c) => c.html(CONSOLE_HTML, 200, {
    // Everything is inline; nothing may load from anywhere else, nor may the page be framed.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; frame-src 'self' blob: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'cache-control': 'no-store',
  }));
  return app;
}
