/**
 * The HTTP functions in-process (Hono's app.request) over a memory store: routes, tenants,
 * validation, and jobs whose certificates equal the CLI's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createService, type Service } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { loadClassifier } from '../src/inference/index.ts';
import { runCertifyJob } from '../src/jobs/certify-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import { selectIndices } from '../src/data/dataset.ts';
import { sha256Hex } from '../src/util/digest.ts';
import { encodeNpy } from '../src/protocol/npy-codec.ts';
import type { Certificate } from '../src/protocol/certificate.ts';
import { signShardRequest } from '../src/service/signing.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const MODEL = readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url));
const mnist = loadMnist('test');
const ALICE = 'token-alice';
const BOB = 'token-bob';

/** The MNIST inputs a certificate names, in its order. */
function inputsOf(c: Certificate) {
  return { source: 'mnist:test', indices: c.data.indices, inputs: c.data.indices.map((i) => mnist.input(i)), labels: c.data.indices.map((i) => mnist.label(i)) };
}

const stores = new WeakMap<Service, MemoryStore>();
async function cacheOf(s: Service, id: string): Promise<Uint8Array> {
  return (await stores.get(s)!.get(`tenants/alice/certificates/${id}.cache`))!;
}

export function makeService(overrides: Partial<Parameters<typeof createService>[0]> = {}): Service {
  const store = new MemoryStore();
  const service = createService({
    store,
    tokens: new Map([[ALICE, 'alice'], [BOB, 'bob']]),
    workers: [],
    backend: TEST_BACKEND,
    dataset: () => mnist,
    ...overrides,
  });
  stores.set(service, (overrides.store as MemoryStore | undefined) ?? store);
  return service;
}

async function call(s: Service, method: string, path: string, body?: unknown, token: string | null = ALICE, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } };
  if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
  else if (typeof body === 'string') init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); (init.headers as Record<string, string>)['content-type'] = 'application/json'; }
  const res = await s.app.request(path, init);
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

async function waitForJob(s: Service, id: string, token = ALICE) {
  await s.idle();
  return (await call(s, 'GET', `/v1/jobs/${id}`, undefined, token)).json;
}

describe('HTTP functions', () => {
  let s: Service;
  let modelSha: string;
  let cert: Certificate;
  const certifyJob = { kind: 'certify', data: { source: 'mnist:test', count: 3, skip: 97 }, sigma: 0.5, n0: 20, n: 400, seed: 7 };

  beforeAll(async () => {
    s = makeService();
    const up = await call(s, 'POST', '/v1/models', new Uint8Array(MODEL), ALICE, { 'content-type': 'application/octet-stream' });
    expect(up.status).toBe(201);
    modelSha = up.json.sha256;
    const job = await call(s, 'POST', '/v1/jobs', { ...certifyJob, model: modelSha });
    expect(job.status).toBe(202);
    const done = await waitForJob(s, job.json.id);
    expect(done.status, done.error).toBe('done');
    cert = (await call(s, 'GET', `/v1/certificates/${done.certificateId}`)).json;
  });

  it('answers the health check without a token, and 401 without or with a wrong token', async () => {
    expect((await call(s, 'GET', '/healthz', undefined, null)).json).toMatchObject({ ok: true, name: 'irs-edge' });
    expect((await call(s, 'GET', `/v1/certificates/${cert.id}`, undefined, null)).status).toBe(401);
    expect((await call(s, 'GET', `/v1/certificates/${cert.id}`, undefined, 'nope')).status).toBe(401);
  });

  it('stores models by sha256: a repeated upload is idempotent, a non-ONNX body is refused', async () => {
    expect(modelSha).toBe(await sha256Hex(MODEL));
    expect((await call(s, 'POST', '/v1/models', new Uint8Array(MODEL))).status).toBe(200);
    const bad = await call(s, 'POST', '/v1/models', new TextEncoder().encode('not a model'));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/not an ONNX model/);
    expect((await call(s, 'GET', `/v1/models/${modelSha}`)).json.bytes).toBe(MODEL.length);
  });

  it('a certify job gives the same certificate as the in-process job the CLI runs', async () => {
    const classifier = await loadClassifier(MODEL, TEST_BACKEND);
    const indices = selectIndices(mnist.size, 3, 97);
    const local = await runCertifyJob({
      classifier, model: { sha256: modelSha, bytes: MODEL.length },
      data: { source: 'mnist:test', indices, inputs: indices.map((i) => mnist.input(i)), labels: indices.map((i) => mnist.label(i)) },
      params: { sigma: 0.5, seed: 7, n0: 20, n: 400, alpha: 0.001, batchSize: 256 },
    });
    await classifier.dispose();
    expect(cert.id).toBe(local.certificate.id);
    expect(cert.results.map(({ time, ...r }) => r)).toEqual(local.certificate.results.map(({ time, ...r }) => r));
    expect(cert.cache!.sha256).toBe(local.certificate.cache!.sha256);
  });

  it('serves the certificate as Cohen TSV on request, and repeats a job idempotently', async () => {
    const tsv = await call(s, 'GET', `/v1/certificates/${cert.id}`, undefined, ALICE, { accept: 'text/tab-separated-values' });
    expect(tsv.headers.get('content-type')).toMatch(/tab-separated/);
    expect(tsv.text.split('\n')[0]).toBe('idx\tlabel\tpredict\tradius\tcorrect\ttime');
    const again = await call(s, 'POST', '/v1/jobs', { ...certifyJob, model: modelSha });
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('done');
  });

  it('recertifies a compressed variant made by the service, reading the original cache from the store', async () => {
    const variant = await call(s, 'POST', `/v1/models/${modelSha}/compress`, { method: 'fp16' });
    expect(variant.status).toBe(201);
    const job = await call(s, 'POST', '/v1/jobs', { kind: 'recertify', model: variant.json.sha256, original: cert.id, np: 200, gamma: 1 });
    expect(job.status).toBe(202);
    const done = await waitForJob(s, job.json.id);
    expect(done.status, done.error).toBe('done');
    expect(done.progress.samplesDone).toBe(done.progress.samplesTotal);
    const rec: Certificate = (await call(s, 'GET', `/v1/certificates/${done.certificateId}`)).json;
    expect(rec.kind).toBe('recertify');
    expect(rec.original!.id).toBe(cert.id);
    expect(rec.results.every((r) => r.branch !== 'zeta' || r.zeta! > 0)).toBe(true);
  });

  it('runs a decision-mode recertify job and a tune job; the tune job names every candidate and links the choice', async () => {
    const variant = (await call(s, 'POST', `/v1/models/${modelSha}/compress`, { method: 'fp16' })).json.sha256;
    const decision = await call(s, 'POST', '/v1/jobs', { kind: 'recertify', model: variant, original: cert.id, np: 400, sequential: { mode: 'decision', radius: 0.25, firstStage: 50 } });
    const rec: Certificate = (await call(s, 'GET', `/v1/certificates/${(await waitForJob(s, decision.json.id)).certificateId}`)).json;
    expect(rec.params).toMatchObject({ sequential: { mode: 'decision', radius: 0.25, stages: [50, 100, 200, 400] } });
    expect(rec.results.every((r) => r.stage !== undefined)).toBe(true);
    // Staged replay through shards (sample ranges that start mid-cache) equals the in-process run.
    const fp16 = (await compressModel(MODEL, { method: 'fp16', backend: TEST_BACKEND })).bytes;
    const classifier = await loadClassifier(fp16, TEST_BACKEND);
    const local = await runRecertifyJob({
      classifier, model: { sha256: variant, bytes: fp16.length }, data: inputsOf(cert), original: cert, cacheBytes: await cacheOf(s, cert.id),
      np: 400, alphaZeta: 0.001, gamma: 0.99, batchSize: 256, sequential: { firstStage: 50, stop: { kind: 'decision', radius: 0.25 } },
    });
    await classifier.dispose();
    expect(rec.id).toBe(local.id);
    expect(rec.results.map(({ time, ...r }) => r)).toEqual(local.results.map(({ time, ...r }) => r));

    const tune = await call(s, 'POST', '/v1/jobs', {
      kind: 'tune', model: modelSha, original: cert.id, np: 400, firstStage: 50, target: { radius: 0.25, accuracy: 0.3 },
      candidates: [{ method: 'fp16' }, { method: 'prune', amount: 0.1 }],
    });
    expect(tune.status).toBe(202);
    const done = await waitForJob(s, tune.json.id);
    expect(done.status, done.error).toBe('done');
    expect(done.tune.candidates.map((c: { candidate: string }) => c.candidate).sort()).toEqual(['fp16', 'prune:0.1']);
    expect(done.tune.choice.certificateId).toBe(done.certificateId);
    const chosen: Certificate = (await call(s, 'GET', `/v1/certificates/${done.certificateId}`)).json;
    expect(chosen.model.sha256).toBe(done.tune.choice.sha256);
    expect((await call(s, 'GET', `/v1/models/${chosen.model.sha256}`)).status).toBe(200);

    for (const [body, message] of [
      [{ kind: 'tune', model: variant, original: cert.id, np: 400, target: { radius: 0.25, accuracy: 0.3 }, candidates: [{ method: 'fp16' }] }, /tune compresses the model/],
      [{ kind: 'tune', model: modelSha, original: cert.id, np: 400, target: { radius: 0.25, accuracy: 0.3 }, candidates: [{ method: 'prune' }] }, /prune needs amount/],
      [{ kind: 'recertify', model: variant, original: cert.id, np: 100, sequential: { mode: 'decision' } }, /decision mode needs radius/],
      [{ kind: 'recertify', model: variant, original: cert.id, np: 100, sequential: { mode: 'adaptive', firstStage: 200 } }, /firstStage: 200 exceeds np 100/],
    ] as const) {
      const r = await call(s, 'POST', '/v1/jobs', body);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(message);
    }
  });

  it('refuses (409) to recertify from a cache that does not match its certificate', async () => {
    const store = new MemoryStore();
    const t = makeService({ store });
    const model = (await call(t, 'POST', '/v1/models', new Uint8Array(MODEL))).json.sha256;
    const job = await call(t, 'POST', '/v1/jobs', { ...certifyJob, model });
    const done = await waitForJob(t, job.json.id);
    const key = `tenants/alice/certificates/${done.certificateId}.cache`;
    const bytes = (await store.get(key))!;
    bytes[bytes.length - 1] ^= 1;
    await store.put(key, bytes);
    const r = await call(t, 'POST', '/v1/jobs', { kind: 'recertify', model, original: done.certificateId, np: 100 });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/does not match/);
  });

  it('keeps tenants apart: another tenant gets 404 for certificates, jobs and models', async () => {
    expect((await call(s, 'GET', `/v1/certificates/${cert.id}`, undefined, BOB)).status).toBe(404);
    expect((await call(s, 'GET', `/v1/models/${modelSha}`, undefined, BOB)).status).toBe(404);
    const job = await call(s, 'POST', '/v1/jobs', { kind: 'recertify', model: modelSha, original: cert.id, np: 100 }, BOB);
    expect(job.status).toBe(404);
  });

  describe('bad requests get a 4xx naming the problem', () => {
    const cases: [string, () => [string, string, unknown], number, RegExp][] = [
      ['malformed JSON', () => ['POST', '/v1/jobs', '{"kind": "certify",'], 400, /not valid JSON/],
      ['a wrong type', () => ['POST', '/v1/jobs', { ...certifyJob, model: modelSha, sigma: 'big' }], 400, /sigma: .*number/],
      ['a negative sigma', () => ['POST', '/v1/jobs', { ...certifyJob, model: modelSha, sigma: -1 }], 400, /sigma/],
      ['a huge n', () => ['POST', '/v1/jobs', { ...certifyJob, model: modelSha, n: 1e12 }], 400, /^n: /],
      ['an unknown field', () => ['POST', '/v1/jobs', { ...certifyJob, model: modelSha, colour: 'red' }], 400, /colour/],
      ['an unknown job kind', () => ['POST', '/v1/jobs', { ...certifyJob, kind: 'hack', model: modelSha }], 400, /kind/],
      ['an unknown model', () => ['POST', '/v1/jobs', { ...certifyJob, model: 'a'.repeat(64) }], 404, /model: a+ not found/],
      ['a malformed model hash', () => ['POST', '/v1/jobs', { ...certifyJob, model: 'xyz' }], 400, /model: expected a lowercase hex sha256/],
      ['an unknown original certificate', () => ['POST', '/v1/jobs', { kind: 'recertify', model: modelSha, original: 'b'.repeat(32), np: 10 }], 404, /certificate b+ not found/],
      ['np above the cache', () => ['POST', '/v1/jobs', { kind: 'recertify', model: modelSha, original: cert.id, np: 401 }], 400, /np: 401 exceeds/],
      ['a shard with inputs of the wrong shape', () => ['POST', '/v1/shards', { model: modelSha, inputs: [{ values: [1, 2, 3] }], sigma: 0.5, seed: 0, stream: 1, start: 0, count: 10, batchSize: 10 }], 400, /expects 784 values/],
      ['a shard with NaN', () => ['POST', '/v1/shards', '{"model":"' + modelSha + '","inputs":[{"values":[NaN]}],"sigma":0.5,"seed":0,"stream":1,"start":0,"count":1,"batchSize":1}'], 400, /not valid JSON/],
      ['an unknown certificate id', () => ['GET', `/v1/certificates/${'c'.repeat(32)}`, undefined], 404, /not found/],
      ['a path id that is not hex', () => ['GET', '/v1/jobs/..%2F..%2Fsecrets', undefined], 404, /no such id/],
    ];
    for (const [name, req, status, message] of cases) {
      it(name, async () => {
        const [method, path, payload] = req();
        const r = await call(s, method, path, payload);
        expect(r.status).toBe(status);
        expect(r.json.error).toMatch(message);
      });
    }

    it('an oversized body gets 413', async () => {
      const big = makeService({ maxBodyBytes: 1000 });
      const r = await call(big, 'POST', '/v1/jobs', { ...certifyJob, model: modelSha, pad: 'x'.repeat(5000) });
      expect(r.status).toBe(413);
    });
  });

  it('runs shards signed by the aggregator for the tenant they name, and refuses forged, tampered or stale ones', async () => {
    const w = makeService({ workerToken: 'secret', store: new MemoryStore() });
    await call(w, 'POST', '/v1/models', new Uint8Array(MODEL), ALICE);
    const shard = JSON.stringify({ model: modelSha, inputs: [{ values: [...mnist.input(0)] }], sigma: 0.5, seed: 0, stream: 1, start: 10, count: 50, batchSize: 16, record: true });
    const signed = async (secret: string, tenant: string, body: string, now?: number) =>
      call(w, 'POST', '/v1/shards', body, null, { 'content-type': 'application/json', ...(await signShardRequest(secret, tenant, body, now)) });
    const ok = await signed('secret', 'alice', shard);
    expect(ok.status).toBe(200);
    expect(ok.json.counts[0].reduce((a: number, b: number) => a + b, 0)).toBe(50);
    expect(ok.json.predictions).toHaveLength(1);
    expect((await signed('secret', 'bob', shard)).status).toBe(404); // bob has no such model
    expect((await signed('guess', 'alice', shard)).json.error).toMatch(/invalid signature/);
    const headers = await signShardRequest('secret', 'alice', shard);
    const tampered = await call(w, 'POST', '/v1/shards', shard.replace('"count":50', '"count":5000'), null, { 'content-type': 'application/json', ...headers });
    expect(tampered.status).toBe(401);
    expect((await signed('secret', 'alice', shard, Date.now() - 10 * 60_000)).json.error).toMatch(/too old/);
    // The secret is not a bearer token, and signatures open no other route.
    expect((await call(w, 'POST', '/v1/shards', shard, 'secret')).status).toBe(401);
    expect((await call(w, 'GET', `/v1/models/${modelSha}`, undefined, null, headers)).status).toBe(401);
  });

  it('accepts users’ own inputs as .npy and certifies them', async () => {
    const x = new Float32Array(2 * 784);
    x.set(mnist.input(5), 0);
    x.set(mnist.input(6), 784);
    const up = await call(s, 'POST', '/v1/inputs', encodeNpy(x, [2, 1, 28, 28], '<f4'));
    expect(up.status).toBe(201);
    expect(up.json).toMatchObject({ count: 2, shape: [1, 28, 28] });
    const job = await call(s, 'POST', '/v1/jobs', { kind: 'certify', model: modelSha, data: { inputs: up.json.sha256, labels: [mnist.label(5), mnist.label(6)] }, sigma: 0.5, n0: 10, n: 100 });
    const done = await waitForJob(s, job.json.id);
    expect(done.status, done.error).toBe('done');
    const c: Certificate = (await call(s, 'GET', `/v1/certificates/${done.certificateId}`)).json;
    expect(c.data.source).toBe(`inputs:${up.json.sha256}`);
    expect(c.results).toHaveLength(2);
    // and recertifies from that certificate, reading the same stored inputs back
    const re = await call(s, 'POST', '/v1/jobs', { kind: 'recertify', model: modelSha, original: c.id, np: 50 });
    const reDone = await waitForJob(s, re.json.id);
    expect(reDone.status, reDone.error).toBe('done');
  });
});
