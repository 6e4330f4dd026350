import { describe, expect, it } from 'vitest';
import { createApp } from '../functions/app.ts';

describe('HTTP functions', () => {
  it('answer the health check with the tool version, and 404 with a message elsewhere', async () => {
    const app = createApp();
    const ok = await app.request('/healthz');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, name: 'irs-edge' });
    const missing = await app.request('/v1/nothing');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/no route GET \/v1\/nothing/);
  });
});
