/**
 * Golden certificates: a few small deterministic jobs through the CLI and through the jobs API
 * (in this process, memory store), whose certificate ids and cache sha256 must stay what the
 * code gave before the job entry was refactored (issue #18). The values live in
 * test/fixtures/golden-certificates.json; regenerate them only on purpose:
 *
 *   IRS_GOLDEN_WRITE=1 npx vitest run --project integration test/golden.test.ts
 *
 * Everything runs on wasm (available everywhere), so the cache bytes (every sample's
 * prediction) do not depend on whether onnxruntime-node is installed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { serviceCalls } from './helpers/http.ts';
import { createService } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { sha256Hex } from '../src/util/digest.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const FIXTURE = new URL('./fixtures/golden-certificates.json', import.meta.url);
const WRITE = process.env.IRS_GOLDEN_WRITE === '1';
const MODEL = 'models/mnist-small-s0.50.onnx';
const dir = mkdtempSync(join(tmpdir(), 'irs-golden-'));
const at = (f: string) => join(dir, f);
const common = ['--backend', 'wasm', '--quiet'];

/** What each job gave: certificate ids, cache sha256, model sha256 (compressions), predictions. */
const got: Record<string, unknown> = {};
const golden: Record<string, unknown> = WRITE ? {} : JSON.parse(readFileSync(FIXTURE, 'utf8'));

function record(name: string, value: unknown) {
  got[name] = value;
  if (!WRITE) expect(value, name).toEqual(golden[name]);
}

const readCert = (f: string): Certificate => JSON.parse(readFileSync(at(f), 'utf8'));
const fileSha = (f: string) => sha256Hex(readFileSync(at(f)));
/** A certificate's results without their timings (ids and caches pin the rest). */
const rows = (c: Certificate) => c.results.map(({ time: _t, ...r }) => r);

afterAll(() => {
  if (WRITE) writeFileSync(FIXTURE, JSON.stringify(got, null, 1) + '\n');
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], code = 0) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(code);
  return r;
}

describe('golden certificates (ids and caches stay bit-identical)', () => {
  it('the CLI: certify, compress, recertify (IRS, decision mode, baseline), tune, predict', async () => {
    await cli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n0', '20', '--n', '400', '--count', '4', '--skip', '97', '--seed', '7', ...common, '--out', at('c.json')]);
    const c = readCert('c.json');
    record('cli.certify', { id: c.id, cache: c.cache!.sha256, cacheFile: await fileSha('c.cache'), rows: rows(c) });

    await cli(['compress', '--model', MODEL, '--method', 'fp16', '--backend', 'wasm', '--out', at('fp16.onnx')]);
    await cli(['compress', '--model', MODEL, '--method', 'int8', '--calibration-count', '64', '--backend', 'wasm', '--out', at('int8.onnx')]);
    record('cli.compress', { fp16: await fileSha('fp16.onnx'), int8: await fileSha('int8.onnx') });

    await cli(['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '200', ...common, '--out', at('r.json')]);
    const r = readCert('r.json');
    record('cli.recertify', { id: r.id, rows: rows(r) });

    await cli(['recertify', '--original', at('c.json'), '--model', at('int8.onnx'), '--np', '400', '--radius', '0.25', '--first-stage', '50', '--gamma', '1', ...common, '--out', at('d.json')]);
    const d = readCert('d.json');
    record('cli.recertify-decision', { id: d.id, rows: rows(d) });

    await cli(['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '200', '--baseline', ...common, '--out', at('b.json')]);
    const b = readCert('b.json');
    record('cli.baseline', { id: b.id, rows: rows(b) });

    await cli(['tune', '--model', MODEL, '--original', at('c.json'), '--candidates', 'int8,fp16,prune:0.1', '--min-certified-accuracy', '0.25:0.3',
      '--np', '400', '--first-stage', '50', '--calibration-count', '64', '--backend', 'wasm', '--quiet', '--json', '--out', at('tune')]);
    const tune = JSON.parse(readFileSync(at('tune/tune.json'), 'utf8'));
    record('cli.tune', {
      choice: tune.choice ? { candidate: tune.choice.candidate, sha256: tune.choice.sha256, certificateId: tune.choice.certificateId } : null,
      candidates: tune.candidates.map((x: { candidate: string; sha256: string; outcome: string; certificateId?: string }) => [x.candidate, x.sha256, x.outcome, x.certificateId ?? null]),
    });

    await cli(['predict', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n', '200', '--count', '4', '--skip', '97', '--seed', '7', ...common, '--out', at('p.json')]);
    const p = JSON.parse(readFileSync(at('p.json'), 'utf8'));
    record('cli.predict', p.results.map((x: { idx: number; predict: number }) => [x.idx, x.predict]));
  });

  it('the jobs API: certify, compress, recertify, decision mode, baseline, tune', async () => {
    const store = new MemoryStore();
    const mnist = { test: loadMnist('test'), train: loadMnist('train') };
    const s = createService({
      store, tokens: new Map([['t', 'golden']]), workers: [], backend: 'wasm',
      dataset: (src) => (src === 'mnist:train' ? mnist.train : mnist.test),
    });
    const { call, run } = serviceCalls(() => s, 't');
    const cert = async (id: string): Promise<Certificate> => (await call('GET', `/v1/certificates/${id}`)).json;

    const model = (await call('POST', '/v1/models', new Uint8Array(readFileSync(MODEL)))).json.sha256;
    const c = await cert((await run({ kind: 'certify', model, data: { source: 'mnist:test', count: 4, skip: 97 }, sigma: 0.5, n0: 20, n: 400, seed: 7 })).certificateId);
    const cache = (await store.get(`tenants/golden/certificates/${c.id}.cache`))!;
    record('api.certify', { id: c.id, cache: c.cache!.sha256, cacheFile: await sha256Hex(cache), rows: rows(c) });

    const fp16 = (await call('POST', `/v1/models/${model}/compress`, { method: 'fp16' })).json.sha256;
    const int8 = (await call('POST', `/v1/models/${model}/compress`, { method: 'int8', calibration: { source: 'mnist:train', count: 64 } })).json.sha256;
    record('api.compress', { fp16, int8 });

    const r = await cert((await run({ kind: 'recertify', model: fp16, original: c.id, np: 200 })).certificateId);
    record('api.recertify', { id: r.id, rows: rows(r) });
    const d = await cert((await run({ kind: 'recertify', model: int8, original: c.id, np: 400, gamma: 1, sequential: { mode: 'decision', radius: 0.25, firstStage: 50 } })).certificateId);
    record('api.recertify-decision', { id: d.id, rows: rows(d) });
    const b = await cert((await run({ kind: 'baseline', model: fp16, original: c.id, np: 200 })).certificateId);
    record('api.baseline', { id: b.id, rows: rows(b) });

    const tune = await run({
      kind: 'tune', model, original: c.id, np: 400, firstStage: 50, target: { radius: 0.25, accuracy: 0.3 },
      candidates: [{ method: 'int8' }, { method: 'fp16' }, { method: 'prune', amount: 0.1 }], calibration: { source: 'mnist:train', count: 64 },
    });
    record('api.tune', {
      certificateId: tune.certificateId ?? null,
      choice: tune.tune.choice ? { candidate: tune.tune.choice.candidate, sha256: tune.tune.choice.sha256 } : null,
      candidates: tune.tune.candidates.map((x: { candidate: string; sha256: string; outcome: string }) => [x.candidate, x.sha256, x.outcome]),
    });
  });
});
