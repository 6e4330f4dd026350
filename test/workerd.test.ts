/**
 * The same functions under workerd (`wrangler dev`, local R2, onnxruntime-web's wasm loaded as
 * a precompiled module): a certify job there gives the certificate Node computes in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService } from '../functions/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { encodeNpy } from '../src/data/npy-codec.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const TOKEN = 'dev-token'; // wrangler.toml's development default

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

async function certify(fetcher: Fetcher): Promise<Certificate> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const model = (await (await fetcher('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
  const x = new Float32Array(3 * 784);
  [0, 1, 2].forEach((i) => x.set(mnist.input(i * 100), i * 784));
  const inputs = (await (await fetcher('/v1/inputs', { method: 'POST', headers: auth, body: encodeNpy(x, [3, 1, 28, 28], '<f4') as Uint8Array<ArrayBuffer> })).json()).sha256;
  const body = { kind: 'certify', model, data: { inputs, labels: [0, 1, 2].map((i) => mnist.label(i * 100)) }, sigma: 0.5, n0: 30, n: 600, seed: 11, shardSize: 200 };
  const job = await (await fetcher('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  for (let i = 0; i < 600; i++) {
    const s = await (await fetcher(`/v1/jobs/${job.id}`, { headers: auth })).json();
    if (s.status === 'done') return (await fetcher(`/v1/certificates/${s.certificateId}`, { headers: auth })).json();
    if (s.status === 'failed') throw new Error(s.error);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('job did not finish');
}

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
    const onWorkerd = await certify((p, init) => fetch(base + p, init));
    const node = createService({ store: new MemoryStore(), tokens: new Map([[TOKEN, 'dev']]), workers: [], backend: 'node' });
    const inProcess = await certify(async (p, init) => {
      const res = await node.app.request(p, init);
      if (p.startsWith('/v1/jobs') && init?.method === 'POST') await node.idle();
      return res;
    });
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
