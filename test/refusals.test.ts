/**
 * The same malformed job, submitted through the CLI and through POST /v1/jobs, is refused by
 * both, naming the same request field (the CLI adds its flag), with the HTTP status and the
 * exit code its error class carries (src/errors.ts): one description of a job
 * (protocol/schemas.ts JobRequest), one place that checks it (jobs/plan.ts planJob).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { serviceCalls } from './helpers/http.ts';
import { createService, type Service } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { Conflict, IntegrityError, UserError } from '../src/errors.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const MODEL = 'models/mnist-small-s0.50.onnx';
const dir = mkdtempSync(join(tmpdir(), 'irs-refusals-'));
const at = (f: string) => join(dir, f);
const cliCommon = ['--backend', TEST_BACKEND, '--quiet'];

describe('the CLI and the API refuse the same malformed job, naming the same field', () => {
  const store = new MemoryStore();
  let s: Service;
  let model: string;
  let fp16: string;
  let original: string;
  let recertified: string;
  let edited: unknown;

  const { call, run: runJob } = serviceCalls(() => s, 't');
  const run = async (req: unknown) => (await runJob(req)).certificateId as string;
  const cli = async (args: string[]) => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    const mnist = loadMnist('test');
    s = createService({ store, tokens: new Map([['t', 'alice']]), workers: [], backend: TEST_BACKEND, dataset: () => mnist });
    // The same jobs on both faces: the same certificates (test/golden.test.ts pins them).
    await cli(['certify', '--model', MODEL, '--data', 'mnist:test', '--sigma', '0.5', '--n0', '20', '--n', '400', '--count', '3', '--skip', '97', ...cliCommon, '--out', at('c.json')]);
    await cli(['compress', '--model', MODEL, '--method', 'fp16', '--backend', TEST_BACKEND, '--out', at('fp16.onnx')]);
    await cli(['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), '--np', '100', ...cliCommon, '--out', at('r.json')]);
    model = (await call('POST', '/v1/models', new Uint8Array(readFileSync(MODEL)))).json.sha256;
    fp16 = (await call('POST', '/v1/models', new Uint8Array(readFileSync(at('fp16.onnx'))))).json.sha256;
    original = await run({ kind: 'certify', model, data: { source: 'mnist:test', count: 3, skip: 97 }, sigma: 0.5, n0: 20, n: 400 });
    recertified = await run({ kind: 'recertify', model: fp16, original, np: 100 });
    expect(JSON.parse(readFileSync(at('c.json'), 'utf8')).id).toBe(original);
    expect(JSON.parse(readFileSync(at('r.json'), 'utf8')).id).toBe(recertified);
    const tampered = readFileSync(at('c.cache'));
    tampered[tampered.length - 9] ^= 1;
    writeFileSync(at('tampered.cache'), tampered);
    const cert = JSON.parse(readFileSync(at('c.json'), 'utf8'));
    edited = { ...cert, params: { ...cert.params, alpha: 0.1 } };
    writeFileSync(at('edited.json'), JSON.stringify(edited));
    writeFileSync(at('edited.cache'), readFileSync(at('c.cache')));
  });

  const cacheKey = () => `tenants/alice/certificates/${original}.cache`;
  /** Runs `during` with the stored cache of the original replaced (undefined: deleted), then restores it. */
  const withStoredCache = async (bytes: Uint8Array | undefined, during: () => Promise<void>) => {
    const kept = (await store.get(cacheKey()))!;
    if (bytes) await store.put(cacheKey(), bytes);
    else await store.delete(cacheKey());
    try { await during(); } finally { await store.put(cacheKey(), kept); }
  };

  const certKey = () => `tenants/alice/certificates/${original}.json`;
  const withStoredCertificate = async (cert: unknown, during: () => Promise<void>) => {
    const kept = (await store.get(certKey()))!;
    await store.put(certKey(), new TextEncoder().encode(JSON.stringify(cert)));
    try { await during(); } finally { await store.put(certKey(), kept); }
  };

  const recertify = (extra: string[]) => ['recertify', '--original', at('c.json'), '--model', at('fp16.onnx'), ...cliCommon, '--out', at('x.json'), ...extra];
  type Row = {
    name: string;
    cli: () => string[];
    api: () => unknown;
    field: string;
    flag: string;
    error: new (m: string) => UserError;
    /** The API's store in the same state as the CLI's files. */
    storeCache?: () => Uint8Array | undefined;
    storeCertificate?: () => unknown;
  };
  // (np 99 where the store holds a finished job for np 100: the same request is the same job.)
  const rows: Row[] = [
    {
      name: 'np above the cached samples', field: 'np', flag: '--np', error: UserError,
      cli: () => recertify(['--np', '401']), api: () => ({ kind: 'recertify', model: fp16, original, np: 401 }),
    },
    {
      name: 'the first stage above np', field: 'sequential.firstStage', flag: '--first-stage', error: UserError,
      cli: () => recertify(['--np', '100', '--adaptive', '--first-stage', '200']),
      api: () => ({ kind: 'recertify', model: fp16, original, np: 100, sequential: { mode: 'adaptive', firstStage: 200 } }),
    },
    {
      name: 'a radius tolerance in decision mode (a schema check)', field: 'sequential.tolerance', flag: '--radius-tolerance', error: UserError,
      cli: () => recertify(['--np', '100', '--radius', '0.5', '--radius-tolerance', '0.1']),
      api: () => ({ kind: 'recertify', model: fp16, original, np: 100, sequential: { mode: 'decision', radius: 0.5, tolerance: 0.1 } }),
    },
    {
      name: 'alpha + alphaZeta at 1', field: 'alphaZeta', flag: '--alpha-zeta', error: UserError,
      cli: () => recertify(['--np', '100', '--alpha-zeta', '0.9995']),
      api: () => ({ kind: 'recertify', model: fp16, original, np: 100, alphaZeta: 0.9995 }),
    },
    {
      name: 'an original of the wrong kind', field: 'original', flag: '--original', error: UserError,
      cli: () => ['recertify', '--original', at('r.json'), '--model', at('fp16.onnx'), '--np', '50', ...cliCommon, '--out', at('x.json')],
      api: () => ({ kind: 'recertify', model: fp16, original: recertified, np: 50 }),
    },
    {
      name: 'a tampered cache', field: 'original', flag: '--original', error: Conflict,
      cli: () => recertify(['--np', '99', '--cache', at('tampered.cache')]), api: () => ({ kind: 'recertify', model: fp16, original, np: 99 }),
      storeCache: () => new Uint8Array(readFileSync(at('tampered.cache'))),
    },
    {
      name: 'an edited original (its id no longer follows from its params)', field: 'original', flag: '--original', error: IntegrityError,
      cli: () => ['recertify', '--original', at('edited.json'), '--model', at('fp16.onnx'), '--np', '99', ...cliCommon, '--out', at('x.json')],
      api: () => ({ kind: 'recertify', model: fp16, original, np: 98 }),
      storeCertificate: () => edited,
    },
    {
      name: 'a missing cache', field: 'original', flag: '--original', error: Conflict,
      cli: () => recertify(['--np', '99', '--cache', at('no-such.cache')]), api: () => ({ kind: 'recertify', model: fp16, original, np: 99 }),
      storeCache: () => undefined,
    },
    {
      name: 'tune on a model the original does not certify', field: 'model', flag: '--model', error: UserError,
      cli: () => ['tune', '--model', at('fp16.onnx'), '--original', at('c.json'), '--candidates', 'fp16', '--min-certified-accuracy', '0.25:0.3', '--np', '100', ...cliCommon, '--out', at('tune')],
      api: () => ({ kind: 'tune', model: fp16, original, np: 100, candidates: [{ method: 'fp16' }], target: { radius: 0.25, accuracy: 0.3 } }),
    },
  ];

  for (const row of rows) {
    it(row.name, async () => {
      const { status, exitCode } = new row.error('');
      const cliRun = await runCli(row.cli());
      let api!: { status: number; json: any };
      const submit = async () => { api = await call('POST', '/v1/jobs', row.api()); };
      if (row.storeCache) await withStoredCache(row.storeCache(), submit);
      else if (row.storeCertificate) await withStoredCertificate(row.storeCertificate(), submit);
      else await submit();
      expect(api.status, JSON.stringify(api.json)).toBe(status);
      expect(api.json.error).toMatch(new RegExp(`^${row.field.replace('.', '\\.')}: `));
      expect(cliRun.code, cliRun.stderr).toBe(exitCode);
      expect(cliRun.stderr).toContain(`irs: error: ${row.field} (${row.flag}): `);
      // The same words after the field (ids and paths aside).
      const words = (m: string) => m.slice(m.indexOf(': ') + 2).split(/[\s(),]+/).filter((w) => /^[a-z]+$/.test(w)).slice(0, 4).join(' ');
      expect(words(cliRun.stderr.split('\n')[0].replace(`irs: error: ${row.field} (${row.flag})`, row.field))).toBe(words(api.json.error));
    });
  }
});
