/** Runs one small certify job against the functions over any fetch, and returns its certificate. */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { loadMnist } from '../../src/data/mnist.ts';
import { encodeNpy } from '../../src/protocol/npy-codec.ts';
import type { Certificate } from '../../src/protocol/certificate.ts';
import { TEST_BACKEND } from './backend.ts';
import { expect } from 'vitest';
import type { Service } from '../../src/http/app.ts';

const MODEL = new Uint8Array(readFileSync(new URL('../../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

export async function certifyOverHttp(fetcher: Fetcher, token: string): Promise<Certificate> {
  const auth = { authorization: `Bearer ${token}` };
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


/** Polls GET /healthz until it answers (or the process died, or 60 s passed). */
export async function waitForHealth(base: string, what: string, log: () => string, alive: () => boolean = () => true): Promise<void> {
  for (let i = 0; i < 600 && alive(); i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start:\n${log()}`);
}

/** The reference: the same small certify job run by Node in-process, on a memory store. */
export async function certifyInProcess(token: string, tenant: string): Promise<Certificate> {
  const { createService } = await import('../../src/http/app.ts');
  const { MemoryStore } = await import('../../src/store/memory.ts');
  const node = createService({ store: new MemoryStore(), tokens: new Map([[token, tenant]]), workers: [], backend: TEST_BACKEND });
  return certifyOverHttp(async (p, init) => {
    const res = await node.app.request(p, init);
    if (p === '/v1/jobs' && init?.method === 'POST') await node.idle();
    return res;
  }, token);
}

/** Certificates equal in everything but the time each input took. */
export function withoutTimes(c: Certificate) {
  return c.results.map(({ time: _t, ...r }) => r);
}

/**
 * An in-process service's routes as a test calls them: JSON in and out, bearer `token`; `run`
 * submits a job, waits for it and expects it done. `service` is read at each call (tests create it in beforeAll).
 */
export function serviceCalls(service: () => Service, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
    if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) { init.body = JSON.stringify(body); (init.headers as Record<string, string>)['content-type'] = 'application/json'; }
    const res = await service().app.request(path, init);
    return { status: res.status, json: await res.json() as any };
  };
  const run = async (req: unknown) => {
    const sub = await call('POST', '/v1/jobs', req);
    expect(sub.status, JSON.stringify(sub.json)).toBe(202);
    await service().idle();
    const job = (await call('GET', `/v1/jobs/${sub.json.id}`)).json;
    expect(job.status, job.error).toBe('done');
    return job;
  };
  return { call, run };
}
