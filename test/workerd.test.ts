/**
 * The same functions under workerd (`wrangler dev`, local R2, onnxruntime-web's wasm loaded as
 * a precompiled module): a certify job there gives the certificate Node computes in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certifyInProcess, certifyOverHttp, withoutTimes } from './helpers/http.ts';
import { WranglerDev } from './helpers/jobs.ts';
import { largestModelBytes, WORKER_ISOLATE_BUDGET_MIB } from '../src/inference/memory-budget.ts';
const TOKEN = 'dev-token'; // wrangler.toml's development default

describe('workerd (wrangler dev)', () => {
  const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-wrangler-')));
  let base = '';
  beforeAll(async () => {
    await dev.start();
    base = dev.base;
  }, 90_000);
  afterAll(() => dev.kill('SIGTERM'));

  it('reports the wasm backend on the health check', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true, backend: 'wasm' });
  });

  it('certifies with the same certificate as Node in-process (results, id, cache)', async () => {
    const onWorkerd = await certifyOverHttp((p, init) => fetch(base + p, init), TOKEN);
    const inProcess = await certifyInProcess(TOKEN, 'dev');
    expect(onWorkerd.id).toBe(inProcess.id);
    expect(withoutTimes(onWorkerd)).toEqual(withoutTimes(inProcess));
    expect(onWorkerd.cache!.sha256).toBe(inProcess.cache!.sha256);
    expect(onWorkerd.params.backend).toBe('wasm');
    // The isolate now holds onnxruntime's linear memory, which /healthz reports in whole
    // 64 KiB wasm pages (the figure an isolate's 128 MB has to hold; BENCHMARKS "Memory").
    const { memory } = await (await fetch(`${base}/healthz`)).json();
    expect(memory.wasmBytes).toBeGreaterThan(0);
    expect(memory.wasmBytes % 65_536).toBe(0);
  }, 120_000);

  it('refuses a model too large for an isolate at upload, saying why (IRS_MAX_MODEL_BYTES: what the memory budget can load)', async () => {
    const limit = largestModelBytes(WORKER_ISOLATE_BUDGET_MIB);
    const tooLarge = new Uint8Array(limit + 1);
    const r = await fetch(`${base}/v1/models`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: tooLarge });
    expect(r.status).toBe(413);
    expect((await r.json()).error).toMatch(new RegExp(`^request body exceeds ${limit} bytes \\(the model upload limit: .*IRS_MAX_MODEL_BYTES\\).*128 MB.*int8.*irs serve`));
  });

  it('keeps the 401 and validation behaviour', async () => {
    expect((await fetch(`${base}/v1/jobs/${'0'.repeat(32)}`)).status).toBe(401);
    const bad = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"kind":"certify","sigma":-1}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/sigma/);
  });
});
