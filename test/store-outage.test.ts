/**
 * The object store goes away mid-job. A short outage: the job waits (retries with backoff) and
 * finishes with the certificate of an undisturbed run. A long one: the job stops with a clear
 * error and leaves no certificate; submitted again after the store is back, it resumes from
 * the shard results it had stored and finishes with the same certificate and an intact cache.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createService, type Service } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { StoreError, type ObjectStore } from '../src/store/types.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { sha256Hex } from '../src/util/digest.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const auth = { authorization: 'Bearer t' };

/** A store that can be switched off: every operation then fails as a refused connection would. */
class SwitchableStore implements ObjectStore {
  down = false;
  readonly description = 'switchable';
  constructor(readonly inner: MemoryStore) {}
  private check() {
    if (this.down) throw new StoreError('connect ECONNREFUSED 127.0.0.1:9000', { retryable: true });
  }
  async get(k: string) { this.check(); return this.inner.get(k); }
  async put(k: string, b: Uint8Array, o?: { contentType?: string }) { this.check(); return this.inner.put(k, b, o); }
  async putIfAbsent(k: string, b: Uint8Array, o?: { contentType?: string }) { this.check(); return this.inner.putIfAbsent(k, b, o); }
  async head(k: string) { this.check(); return this.inner.head(k); }
  async list(p: string) { this.check(); return this.inner.list(p); }
  async delete(k: string) { this.check(); return this.inner.delete(k); }
}

const job = { kind: 'certify', data: { source: 'mnist:test', count: 4, skip: 33 }, sigma: 0.5, n0: 50, n: 6000, seed: 5, shardSize: 300, batchSize: 100 };

function service(store: ObjectStore, retries: number, onRetry?: () => void): Service {
  return createService({ store, tokens: new Map([['t', 'acme']]), workers: [], backend: TEST_BACKEND, dataset: () => mnist, storeRetry: { retries, backoffMs: 20, maxBackoffMs: 100, onRetry } });
}

async function submit(s: Service, model: string) {
  return s.app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...job, model }) });
}

async function shardResults(store: MemoryStore): Promise<number> {
  return (await store.list('tenants/acme/jobs/')).filter((o) => o.key.includes('/shards/')).length;
}

async function reference(): Promise<Certificate> {
  const s = service(new MemoryStore(), 0);
  const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
  const { id } = await (await submit(s, model)).json();
  await s.idle();
  const done = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
  return (await s.app.request(`/v1/certificates/${done.certificateId}`, { headers: auth })).json();
}

const strip = (c: Certificate) => c.results.map(({ time, ...r }) => r);

describe('object store outage mid-job', () => {
  it('a short outage: the job waits and finishes with the undisturbed certificate', async () => {
    const inner = new MemoryStore();
    const store = new SwitchableStore(inner);
    let retries = 0;
    const s = service(store, 30, () => retries++);
    const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
    const { id } = await (await submit(s, model)).json();
    while ((await shardResults(inner)) < 3) await new Promise((r) => setTimeout(r, 5));
    store.down = true;
    // While it is down the API says so (503) instead of failing with a 500.
    expect((await s.app.request(`/v1/jobs/${id}`, { headers: auth })).status).toBe(503);
    await new Promise((r) => setTimeout(r, 400));
    store.down = false;
    await s.idle();
    expect(retries).toBeGreaterThan(0);
    const done = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
    expect(done.status, done.error).toBe('done');
    const cert: Certificate = await (await s.app.request(`/v1/certificates/${done.certificateId}`, { headers: auth })).json();
    const ref = await reference();
    expect(cert.id).toBe(ref.id);
    expect(strip(cert)).toEqual(strip(ref));
  }, 120_000);

  it('a long outage: the job stops without a certificate, and resumes when submitted again', async () => {
    const inner = new MemoryStore();
    const store = new SwitchableStore(inner);
    const s = service(store, 2);
    const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
    const { id } = await (await submit(s, model)).json();
    while ((await shardResults(inner)) < 4) await new Promise((r) => setTimeout(r, 5));
    store.down = true;
    await s.idle(); // the job gave up
    expect(await inner.list('tenants/acme/certificates/')).toEqual([]);
    const before = await shardResults(inner);
    expect(before).toBeGreaterThanOrEqual(4);
    store.down = false;

    const again = await submit(s, model);
    expect(again.status).toBe(200); // the same job, resumed
    await s.idle();
    const done = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
    expect(done.status, done.error).toBe('done');
    const cert: Certificate = await (await s.app.request(`/v1/certificates/${done.certificateId}`, { headers: auth })).json();
    const cache = (await inner.get(`tenants/acme/certificates/${cert.id}.cache`))!;
    expect(await sha256Hex(cache)).toBe(cert.cache!.sha256);
    const ref = await reference();
    expect(strip(cert)).toEqual(strip(ref));
    expect(cert.cache!.sha256).toBe(ref.cache!.sha256);
  }, 120_000);
});
