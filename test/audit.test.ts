/**
 * Spot-check audits (issue 17): a job fanned out over an honest `irs serve` worker and a
 * lying one (a proxy in front of another honest worker that rewrites 20% of the shard
 * responses it serves: moves votes between classes, or alters disagreement counts).
 *
 * - Audits on: the lie is detected, the proxy is named and quarantined, its results are
 *   recomputed elsewhere, and the certificate equals the in-process one.
 * - Audits off: the certificate differs (the check has teeth).
 * - An honest fan-out audited at F = 1 reports no mismatch; a worker on another backend is
 *   excluded from an audited job rather than compared across backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service } from '../src/http/app.ts';
import { FileStore } from '../src/store/fs.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import type { AuditStatus } from '../src/coordinator/audit.ts';
import { startServe, type ServeProcess } from './helpers/servers.ts';
import { startLyingProxy, type LyingProxy } from './helpers/lying-proxy.ts';

const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const TOKEN = 'tok';
const SECRET = 'worker-secret';
// 2 inputs in one shard group, 200 estimation shards of 30 samples (small shards: the test
// is about shard counts, not samples). The liar serves about half and lies on one in five of
// the responses it serves (~20 lies before it is caught), so an audit at F = 0.5 misses every
// lie with probability about 0.5^20 ~ 1e-6, at F = 0.2 about 0.8^20 ~ 1% (RELIABILITY.md).
const job = { kind: 'certify', data: { source: 'mnist:test', count: 2, skip: 50 }, sigma: 0.5, n0: 40, n: 6000, seed: 3, shardSize: 30, batchSize: 30 };
const auth = { authorization: `Bearer ${TOKEN}` };

function service(store: MemoryStore | FileStore, workers: string[]): Service {
  return createService({
    store, tokens: new Map([[TOKEN, 'acme']]), workerToken: SECRET, workers, backend: 'node', dataset: () => mnist,
    fanOut: { perWorker: 2, timeoutMs: 20_000, retries: 4, backoffMs: 20 },
  });
}

async function submit(s: Service, body: Record<string, unknown>): Promise<{ status: any; certificate?: Certificate }> {
  const up = await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL });
  return submitAs(s, { model: (await up.json()).sha256, ...body });
}

/** Submits a job whose body names its model. */
async function submitAs(s: Service, body: Record<string, unknown>): Promise<{ status: any; certificate?: Certificate }> {
  const res = await s.app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const { id } = await res.json();
  await s.idle();
  const status = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
  if (status.status !== 'done') return { status };
  return { status, certificate: await (await s.app.request(`/v1/certificates/${status.certificateId}`, { headers: auth })).json() };
}

const strip = (c: Certificate) => c.results.map(({ time, ...r }) => r);

describe('audits over one honest and one lying worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irs-audit-'));
  let workers: ServeProcess[] = [];
  let proxy: LyingProxy;
  let reference: Certificate;
  let inProcess: Service;

  beforeAll(async () => {
    workers = await Promise.all([0, 1].map(() => startServe(['--store', `file:${dir}`, '--tokens', `acme:${TOKEN}`, '--worker-token', SECRET, '--backend', 'node'])));
    proxy = await startLyingProxy(workers[1].url);
    inProcess = service(new MemoryStore(), []);
    reference = (await submit(inProcess, job)).certificate!;
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await Promise.all(workers.map((w) => w.stop()));
  });

  it('with audits at F = 0.5: detects the lie, names the proxy, and finishes with the in-process certificate', async () => {
    const before = proxy.lies;
    const { status, certificate } = await submit(service(new FileStore(dir), [workers[0].url, proxy.url]), { ...job, audit: { fraction: 0.5 } });
    expect(status.status, status.error).toBe('done');
    // Caught at its first audited lie, it is sent nothing more.
    expect(proxy.lies - before).toBeGreaterThan(0);
    const audit: AuditStatus = status.audit;
    expect(audit.mismatches.length).toBeGreaterThan(0);
    for (const m of audit.mismatches) {
      expect(m.faulty).toBe(proxy.url);
      expect(m.differences.length).toBeGreaterThan(0);
      expect(m.differences.join(' ')).toMatch(/counts\[\d+\]/);
    }
    expect(audit.quarantined.map((q) => q.party)).toEqual([proxy.url]);
    expect(audit.quarantined[0].reason).toBe('mismatch');
    // The proxy states the identity of the worker behind it: recorded, but the party is the URL the aggregator used.
    expect(audit.quarantined[0].stated?.backend).toBe('node');
    expect(audit.discarded).toBeGreaterThan(0);
    expect(audit.quarantined[0].discarded.length).toBe(audit.discarded);
    expect(audit.rounds).toBeGreaterThanOrEqual(1);

    const cert = certificate!;
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
    expect(cert.cache!.sha256).toBe(reference.cache!.sha256);
    // Provenance: every shard of the final results, none from the quarantined proxy, some audited.
    const p = cert.provenance!;
    expect(p.shards.length).toBe(Math.ceil(job.n0 / job.shardSize) + job.n / job.shardSize);
    expect(p.shards.every((s) => s.by !== proxy.url)).toBe(true);
    expect(p.shards.filter((s) => s.audit).length).toBeGreaterThan(0);
    expect(p.parties.map((x) => x.party)).toContain(workers[0].url);
    expect(p.audit!.quarantined[0].party).toBe(proxy.url);
  }, 300_000);

  it('a recertify job whose replays the proxy lies about (disagreement counts): detected, named, the in-process certificate', async () => {
    // f^p: f pruned by 20%; gamma 1 sends every input down the zeta branch (replays with disagreements).
    const compress = async (s: Service) => {
      const sha = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
      const res = await s.app.request(`/v1/models/${sha}/compress`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ method: 'prune', amount: 0.2 }) });
      return (await res.json()).sha256 as string;
    };
    const recertify = { kind: 'recertify', original: reference.id, np: job.n, gamma: 1, shardSize: 30, batchSize: 30 };
    const expected = (await submit(inProcess, { ...recertify, model: await compress(inProcess) })).certificate!;
    expect(expected.results.every((r) => r.branch === 'zeta')).toBe(true);

    // The original certificate and its cache are in the shared store (written by the audited job above).
    const fanOut = service(new FileStore(dir), [workers[0].url, proxy.url]);
    const prunedSha = await compress(fanOut);
    const before = proxy.lies;
    const { status, certificate } = await submitAs(fanOut, { ...recertify, model: prunedSha, audit: { fraction: 0.5 } });
    expect(status.status, status.error).toBe('done');
    expect(proxy.lies - before).toBeGreaterThan(0);
    const audit: AuditStatus = status.audit;
    expect(audit.mismatches.length).toBeGreaterThan(0);
    expect(audit.mismatches.every((m) => m.faulty === proxy.url && m.differences.every((d) => /disagreements \d+ vs \d+/.test(d)))).toBe(true);
    expect(audit.quarantined.map((q) => q.party)).toEqual([proxy.url]);
    expect(certificate!.id).toBe(expected.id);
    expect(strip(certificate!)).toEqual(strip(expected));
  }, 300_000);

  it('with audits off the same fan-out gives a different certificate', async () => {
    const before = proxy.lies;
    const { status, certificate } = await submit(service(new FileStore(dir), [workers[0].url, proxy.url]), { ...job, batchSize: 60 });
    expect(status.status, status.error).toBe('done');
    expect(proxy.lies - before).toBeGreaterThan(0);
    expect(status.audit).toBeUndefined();
    // Same parameters, so the same id: only the results tell the lie.
    expect(certificate!.id).toBe(reference.id);
    expect(strip(certificate!)).not.toEqual(strip(reference));
    // Provenance still says who computed what: some shards came from the proxy.
    expect(certificate!.provenance!.shards.some((s) => s.by === proxy.url)).toBe(true);
    expect(certificate!.provenance!.audit).toBeUndefined();
  }, 300_000);

  it('audits of an honest fan-out at F = 1 never report a mismatch', async () => {
    proxy.lying = false;
    try {
      const small = { ...job, n: 600 };
      const inProcess = (await submit(service(new MemoryStore(), []), small)).certificate!;
      const { status, certificate } = await submit(service(new FileStore(dir), [workers[0].url, proxy.url]), { ...small, audit: { fraction: 1 } });
      expect(status.status, status.error).toBe('done');
      const audit: AuditStatus = status.audit;
      expect(audit.selected).toBe(Math.ceil(small.n0 / small.shardSize) + small.n / small.shardSize);
      expect(audit.compared).toBe(audit.selected);
      expect(audit.agreed).toBe(audit.compared);
      expect(audit.mismatches).toEqual([]);
      expect(audit.quarantined).toEqual([]);
      expect(audit.rounds).toBe(1);
      expect(certificate!.id).toBe(inProcess.id);
      expect(strip(certificate!)).toEqual(strip(inProcess));
      // Each shard audited by the other worker: both parties computed and audited.
      expect(certificate!.provenance!.shards.every((s) => s.audit?.agreed && s.audit.by !== s.by)).toBe(true);
    } finally {
      proxy.lying = true;
    }
  }, 300_000);

  it('an audited job does not compare across backends: a wasm worker is excluded, the certificate is the node one', async () => {
    const wasm = await startServe(['--store', `file:${dir}`, '--tokens', `acme:${TOKEN}`, '--worker-token', SECRET, '--backend', 'wasm']);
    try {
      const small = { ...job, n: 600, batchSize: 20 };
      const expected = (await submit(inProcess, small)).certificate!;
      const { status, certificate } = await submit(service(new FileStore(dir), [workers[0].url, wasm.url]), { ...small, audit: { fraction: 0.2 } });
      expect(status.status, status.error).toBe('done');
      const audit: AuditStatus = status.audit;
      expect(audit.crossBackend).toBe('refused');
      expect(audit.mismatches).toEqual([]);
      expect(audit.quarantined.map((q) => [q.party, q.reason, q.stated?.backend])).toEqual([[wasm.url, 'backend', 'wasm']]);
      expect(certificate!.provenance!.shards.every((s) => s.by !== wasm.url && s.stated?.backend === 'node')).toBe(true);
      expect(strip(certificate!)).toEqual(strip(expected));
    } finally {
      await wasm.stop();
    }
  }, 300_000);
});
