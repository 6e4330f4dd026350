/**
 * Fan-out: an aggregator sends shards to two `irs serve` worker processes over HTTP on
 * loopback, sharing a directory store. The certificate must equal the in-process one, also
 * when 30% of shard requests fail (5xx, dropped connections, timeouts), and when the
 * aggregator is killed mid-job and restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service } from '../src/http/app.ts';
import { FileStore } from '../src/store/fs.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import { startServe, type ServeProcess } from './helpers/servers.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const TOKEN = 'tok';
const SECRET = 'worker-secret';
const job = { kind: 'certify', data: { source: 'mnist:test', count: 4, skip: 50 }, sigma: 0.5, n0: 40, n: 1200, seed: 3, shardSize: 300, batchSize: 100 };

function service(store: MemoryStore | FileStore, workers: string[], fetchImpl?: typeof fetch): Service {
  return createService({
    store, tokens: new Map([[TOKEN, 'acme']]), workerToken: SECRET, workers, backend: TEST_BACKEND, dataset: () => mnist,
    fanOut: { perWorker: 2, timeoutMs: 3000, retries: 8, backoffMs: 20, fetch: fetchImpl },
  });
}

async function certifyVia(s: Service, overrides: Record<string, unknown> = {}): Promise<Certificate> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const up = await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL });
  const model = (await up.json()).sha256;
  const res = await s.app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...job, ...overrides, model }) });
  const { id } = await res.json();
  await s.idle();
  const done = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
  expect(done.status, done.error).toBe('done');
  return (await s.app.request(`/v1/certificates/${done.certificateId}`, { headers: auth })).json();
}

const strip = (c: Certificate) => c.results.map(({ time, ...r }) => r);

describe('fan-out over two irs serve workers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irs-fanout-'));
  let workers: ServeProcess[] = [];
  let reference: Certificate;

  beforeAll(async () => {
    workers = await Promise.all([0, 1].map(() => startServe(['--store', `file:${dir}`, '--tokens', `acme:${TOKEN}`, '--worker-token', SECRET, '--backend', TEST_BACKEND])));
    reference = await certifyVia(service(new MemoryStore(), []));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  it('gives the certificate computed in-process: every radius, pA_lower and cached prediction', async () => {
    const cert = await certifyVia(service(new FileStore(dir), workers.map((w) => w.url)));
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
    expect(cert.cache!.sha256).toBe(reference.cache!.sha256);
  });

  it('survives 30% of shard requests failing (5xx, dropped connections, timeouts) with an identical certificate', async () => {
    let calls = 0;
    const injected = { status503: 0, dropped: 0, timeout: 0 };
    const faulty: typeof fetch = async (input, init) => {
      const k = calls++;
      // A fixed pattern: 3 of every 10 requests fail, one of each kind.
      if (k % 10 === 1) { injected.status503++; return new Response('{"error":"overloaded"}', { status: 503 }); }
      if (k % 10 === 4) { injected.dropped++; throw new TypeError('fetch failed: connection reset'); }
      if (k % 10 === 7) {
        injected.timeout++;
        return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      return fetch(input, init);
    };
    // Another batch size and shard size: a new job with new shards, the same results by design.
    const cert = await certifyVia(service(new FileStore(dir), workers.map((w) => w.url), faulty), { batchSize: 64, shardSize: 100 });
    expect(calls).toBeGreaterThan(13);
    expect(injected.status503).toBeGreaterThan(0);
    expect(injected.dropped).toBeGreaterThan(0);
    expect(injected.timeout).toBeGreaterThan(0);
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
  }, 120_000);

  it('finishes a job whose aggregator was killed mid-job, recomputing only the shards without a stored result', async () => {
    const aggDir = dir; // the aggregator shares the workers' store
    const args = ['--store', `file:${aggDir}`, '--tokens', `acme:${TOKEN}`, '--worker-token', SECRET, '--backend', TEST_BACKEND, '--workers', workers.map((w) => w.url).join(',')];
    let agg = await startServe(args);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const model = (await (await fetch(`${agg.url}/v1/models`, { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
    const long = { ...job, n: 24_000, shardSize: 400, batchSize: 200 };
    const started = await (await fetch(`${agg.url}/v1/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...long, model }) })).json();
    const shardDir = join(aggDir, 'tenants', 'acme', 'jobs', started.id, 'shards');
    const shardFiles = () => { try { return readdirSync(shardDir).filter((f) => f.endsWith('.json')); } catch { return []; } };
    const deadline = Date.now() + 60_000;
    while (shardFiles().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await agg.stop('SIGKILL');
    const before = new Map(shardFiles().map((f) => [f, statSync(join(shardDir, f)).mtimeMs]));
    expect(before.size).toBeGreaterThanOrEqual(8);
    const total = 1 + Math.ceil(long.n / long.shardSize); // selection + estimation shards, 4 inputs in one group
    expect(before.size).toBeLessThan(total);

    agg = await startServe(args); // resumes unfinished jobs at start-up
    let status: any;
    while (Date.now() < deadline + 60_000) {
      status = await (await fetch(`${agg.url}/v1/jobs/${started.id}`, { headers: auth })).json();
      if (status.status === 'done' || status.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.status, status.error).toBe('done');
    const cert: Certificate = await (await fetch(`${agg.url}/v1/certificates/${status.certificateId}`, { headers: auth })).json();
    await agg.stop();
    for (const [f, mtime] of before) expect(statSync(join(shardDir, f)).mtimeMs, `shard ${f} was recomputed`).toBe(mtime);
    expect(shardFiles().length).toBe(total);
    const inProcess = await certifyVia(service(new MemoryStore(), []), { n: long.n, shardSize: long.shardSize, batchSize: long.batchSize });
    expect(cert.id).toBe(inProcess.id);
    expect(strip(cert)).toEqual(strip(inProcess));
  }, 240_000);
});
