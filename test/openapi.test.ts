import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createService } from '../src/http/app.ts';
import { openApiDocument, ROUTES } from '../src/http/openapi.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { IrsApiError, IrsClient } from 'irs-edge/client';
import { clopperPearsonLower } from 'irs-edge';
import { TEST_BACKEND } from './helpers/backend.ts';

const mnist = loadMnist('test');
const service = () => createService({ store: new MemoryStore(), tokens: new Map([['t', 'acme']]), workers: [], backend: TEST_BACKEND, dataset: () => mnist });

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = openApiDocument();
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents exactly the routes the app serves', () => {
    const served = new Set(service().app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
    const documented = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    expect([...served].filter((r) => !documented.has(r)), 'undocumented routes').toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), 'documented routes that do not exist').toEqual([]);
  });

  it('is served at /v1/openapi.json, generated from the request schemas', async () => {
    const res = await service().app.request('/v1/openapi.json', { headers: { authorization: 'Bearer t' } });
    const doc = await res.json();
    expect(doc.components.schemas.JobRequest.oneOf ?? doc.components.schemas.JobRequest.anyOf).toHaveLength(4);
    expect(doc.components.schemas.ShardRequest.properties.sigma.type).toBe('number');
  });
});

describe('the typed client (irs-edge/client)', () => {
  it('uploads, runs a job to completion and fetches its certificate, JSON and TSV', async () => {
    const s = service();
    const irs = new IrsClient({ baseUrl: 'http://irs.test', token: 't', fetch: (input, init) => Promise.resolve(s.app.request(String(input), init)) });
    expect((await irs.health()).ok).toBe(true);
    const { sha256 } = await irs.uploadModel(new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url))));
    const started = await irs.startJob({ kind: 'certify', model: sha256, data: { source: 'mnist:test', count: 2 }, sigma: 0.5, n0: 10, n: 100 });
    const job = await irs.waitForJob(started.id, { pollMs: 20 });
    const cert = await irs.certificate(job.certificateId!);
    expect(cert.results).toHaveLength(2);
    expect((await irs.certificateTsv(cert.id)).startsWith('idx\tlabel')).toBe(true);
    await expect(irs.startJob({ kind: 'certify', model: sha256, data: { source: 'mnist:test', count: 2 }, sigma: -1, n: 10 })).rejects.toThrow(IrsApiError);
  });

  it('the package exports the statistics under its own name', () => {
    expect(clopperPearsonLower(10, 10, 0.05)).toBeCloseTo(Math.pow(0.05, 0.1), 9);
  });
});
