/**
 * The same functions under workerd (`wrangler dev`, local R2, onnxruntime-web's wasm loaded as
 * a precompiled module): a certify job there gives the certificate Node computes in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService } from '../functions/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { certifyOverHttp, freePort } from './helpers/http.ts';
const TOKEN = 'dev-token'; // wrangler.toml's development default

describe('workerd (wrangler dev)', () => {
  let wrangler: ChildProcess;
  let base = '';
  let log = '';
  beforeAll(async () => {
    const port = await freePort();
    wrangler = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', mkdtempSync(join(tmpdir(), 'irs-wrangler-'))], {
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    wrangler.stdout!.on('data', (d) => (log += d));
    wrangler.stderr!.on('data', (d) => (log += d));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`wrangler dev did not start:\n${log}`);
  }, 90_000);
  afterAll(() => {
    if (wrangler?.pid) process.kill(-wrangler.pid, 'SIGTERM');
  });

  it('reports the wasm backend on the health check', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true, backend: 'wasm' });
  });

  it('certifies with the same certificate as Node in-process (results, id, cache)', async () => {
    const onWorkerd = await certifyOverHttp((p, init) => fetch(base + p, init), TOKEN);
    const node = createService({ store: new MemoryStore(), tokens: new Map([[TOKEN, 'dev']]), workers: [], backend: 'node' });
    const inProcess = await certifyOverHttp(async (p, init) => {
      const res = await node.app.request(p, init);
      if (p.startsWith('/v1/jobs') && init?.method === 'POST') await node.idle();
      return res;
    }, TOKEN);
    expect(onWorkerd.id).toBe(inProcess.id);
    expect(onWorkerd.results.map(({ time, ...r }) => r)).toEqual(inProcess.results.map(({ time, ...r }) => r));
    expect(onWorkerd.cache!.sha256).toBe(inProcess.cache!.sha256);
    expect(onWorkerd.params.backend).toBe('wasm');
  }, 120_000);

  it('keeps the 401 and validation behaviour', async () => {
    expect((await fetch(`${base}/v1/jobs/${'0'.repeat(32)}`)).status).toBe(401);
    const bad = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"kind":"certify","sigma":-1}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/sigma/);
  });
});
