/**
 * The API refuses, with a 400 before any job starts, an original certificate that does not hold
 * together (issue 13, finding 6): an edited parameter whose id no longer follows, or a
 * re-identified one whose cache header still says otherwise. The CLI side (exit 3) is in
 * test/cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createService } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { certificateId, type Certificate, type CertificateOf } from '../src/protocol/certificate.ts';

const MODEL = readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url));
const TOKEN = 'token-alice';

describe('API: integrity of the original certificate', () => {
  it('answers 409 naming what differs, for an edited alpha and for a forged id', async () => {
    const mnist = loadMnist('test');
    const store = new MemoryStore();
    const s = createService({ store, tokens: new Map([[TOKEN, 'alice']]), workers: [], backend: 'node', dataset: () => mnist });
    const call = async (method: string, path: string, body?: unknown) => {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}` } };
      if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
      else if (body !== undefined) { init.body = JSON.stringify(body); (init.headers as Record<string, string>)['content-type'] = 'application/json'; }
      const res = await s.app.request(path, init);
      return { status: res.status, json: await res.json() as any };
    };
    const model = (await call('POST', '/v1/models', new Uint8Array(MODEL))).json.sha256;
    const job = await call('POST', '/v1/jobs', { kind: 'certify', model, data: { source: 'mnist:test', count: 2 }, sigma: 0.5, n0: 10, n: 200, seed: 3 });
    await s.idle();
    const done = (await call('GET', `/v1/jobs/${job.json.id}`)).json;
    expect(done.status, done.error).toBe('done');
    const cert: CertificateOf<'certify'> = (await call('GET', `/v1/certificates/${done.certificateId}`)).json;
    const cache = (await store.get(`tenants/alice/certificates/${cert.id}.cache`))!;
    const put = async (c: Certificate) => {
      await store.put(`tenants/alice/certificates/${c.id}.json`, new TextEncoder().encode(JSON.stringify(c)), { contentType: 'application/json' });
      await store.put(`tenants/alice/certificates/${c.id}.cache`, cache, { contentType: 'application/octet-stream' });
    };
    const recertify = (original: string) => call('POST', '/v1/jobs', { kind: 'recertify', model, original, np: 100, gamma: 1 });

    // params.alpha edited in place: the id no longer follows from the contents.
    await put({ ...cert, params: { ...cert.params, alpha: 0.1 } });
    let r = await recertify(cert.id);
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/does not hold together/);

    // The same edit under a recomputed id: the cache header still says alpha 0.001 and names the old id.
    const forged = { ...cert, params: { ...cert.params, alpha: 0.1 } };
    forged.id = await certificateId(forged);
    await put(forged);
    r = await recertify(forged.id);
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/cache header does not match certificate .*alpha 0.001 in the cache, 0.1 in the certificate/);
  }, 60_000);
});
