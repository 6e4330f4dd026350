/**
 * CLI fan-out: `irs certify | recertify | predict | tune --workers URL,URL --token T` sends the
 * shards to two `irs serve` worker processes (each with its own memory store: the CLI uploads
 * the models and inputs). Every output must equal the in-process run's, also through proxies
 * that fail 30% of shard requests (503, dropped connections, stalls past the timeout); a rerun
 * computes only the shards it has no stored result for; a worker with another token gets the
 * CLI to stop with an error naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { startServe, type ServeProcess } from './helpers/servers.ts';
import { TEST_BACKEND } from './helpers/backend.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const MODEL = 'models/mnist-small-s0.50.onnx';
const TOKEN = 'cli-token';
const dir = mkdtempSync(join(tmpdir(), 'irs-cli-fanout-'));
const at = (f: string) => join(dir, f);
const read = <T = Certificate>(f: string): T => JSON.parse(readFileSync(f, 'utf8'));
const strip = (c: Certificate) => c.results.map(({ time: _t, ...r }) => r);
const common = ['--backend', TEST_BACKEND, '--quiet'];
const certifyArgs = ['certify', '--model', MODEL, '--data', 'mnist:test', '--count', '6', '--skip', '37', '--sigma', '0.5', '--n0', '40', '--n', '1200', ...common];

interface Faults { requests: number; status503: number; dropped: number; stalled: number }

/** A proxy to one worker that fails 3 of every 10 shard requests it sees (counter shared by all proxies). */
function faultyProxy(target: string, faults: Faults): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'POST' && req.url === '/v1/shards') {
      const k = faults.requests++;
      if (k % 10 === 1) { faults.status503++; res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded"}'); return; }
      if (k % 10 === 4) { faults.dropped++; req.socket.destroy(); return; }
      if (k % 10 === 7) { faults.stalled++; return; } // never answers: the CLI's --shard-timeout abandons it
    }
    try {
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type']) if (req.headers[h]) headers[h] = String(req.headers[h]);
      const r = await fetch(new URL(req.url!, target), { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await r.arrayBuffer()));
    } catch {
      req.socket.destroy();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

describe('irs … --workers: fan-out from the CLI over two irs serve workers', () => {
  let workers: ServeProcess[] = [];
  let stranger: ServeProcess;
  let proxies: { url: string; server: Server }[] = [];
  const faults: Faults = { requests: 0, status503: 0, dropped: 0, stalled: 0 };
  let direct: string[];
  let reference: Certificate;

  beforeAll(async () => {
    [workers, stranger] = await Promise.all([
      Promise.all([0, 1].map(() => startServe(['--store', 'memory:', '--token', TOKEN, '--backend', TEST_BACKEND]))),
      startServe(['--store', 'memory:', '--token', 'another-token', '--backend', TEST_BACKEND]),
    ]);
    direct = ['--workers', workers.map((w) => w.url).join(','), '--token', TOKEN];
    proxies = await Promise.all(workers.map((w) => faultyProxy(w.url, faults)));
    writeFileSync(at('fp16.onnx'), (await compressModel(readFileSync(MODEL), { method: 'fp16', backend: TEST_BACKEND })).bytes);
    writeFileSync(at('p10.onnx'), (await compressModel(readFileSync(MODEL), { method: 'prune', amount: 0.1, backend: TEST_BACKEND })).bytes);
    const r = await runCli([...certifyArgs, '--out', at('ref.json')]);
    expect(r.code, r.stderr).toBe(0);
    reference = read(at('ref.json'));
  }, 180_000);
  afterAll(async () => {
    for (const p of proxies) { p.server.closeAllConnections(); p.server.close(); }
    await Promise.all([...workers, stranger].map((w) => w?.stop()));
  });

  it('certify: the same certificate (id, every result, the cache) as in-process, and the workers\' backend recorded', async () => {
    const r = await runCli([...certifyArgs, '--shard-size', '300', ...direct, '--out', at('fan.json')]);
    expect(r.code, r.stderr).toBe(0);
    const cert = read(at('fan.json'));
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
    expect(cert.cache!.sha256).toBe(reference.cache!.sha256);
    expect(readFileSync(at('fan.cache'))).toEqual(readFileSync(at('ref.cache')));
    expect(cert.params.backend).toBe(TEST_BACKEND);
    // 1 selection shard + 4 estimation shards (6 inputs fit one group of 8), all kept for resume.
    expect(readdirSync(at('fan.shards')).filter((f) => f.endsWith('.json'))).toHaveLength(5);
  });

  it('certify through proxies failing 30% of shard requests (503, dropped connections, stalls): still the same certificate', async () => {
    const before = { ...faults };
    // Another batch and shard size: new shards, the same results by design.
    const r = await runCli([...certifyArgs, '--batch', '64', '--shard-size', '100', '--workers', proxies.map((p) => p.url).join(','), '--token', TOKEN,
      '--shard-timeout', '1.5', '--retries', '8', '--out', at('faulty.json')]);
    expect(r.code, r.stderr).toBe(0);
    const cert = read(at('faulty.json'));
    expect(cert.id).toBe(reference.id);
    expect(strip(cert)).toEqual(strip(reference));
    expect(cert.cache!.sha256).toBe(reference.cache!.sha256);
    expect(faults.requests - before.requests).toBeGreaterThanOrEqual(13);
    expect(faults.status503).toBeGreaterThan(before.status503);
    expect(faults.dropped).toBeGreaterThan(before.dropped);
    expect(faults.stalled).toBeGreaterThan(before.stalled);
  }, 120_000);

  it('resumes: a rerun computes only the shards without a stored result', async () => {
    const shards = at('fan.shards');
    const files = readdirSync(shards).filter((f) => f.endsWith('.json')).sort();
    rmSync(join(shards, files[1]));
    rmSync(join(shards, files[3]));
    const r = await runCli([...certifyArgs.filter((a) => a !== '--quiet'), '--shard-size', '300', ...direct, '--out', at('fan.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/shards: 2 computed on the workers, 3 reused from /);
    expect(read(at('fan.json')).id).toBe(reference.id);
  });

  it('recertify (IRS, baseline, several candidates) and predict: the same outputs as in-process', async () => {
    const irs = ['recertify', '--original', at('ref.json'), '--np', '600', '--gamma', '1', ...common];
    const runs: [string, string[]][] = [
      ['irs.json', [...irs, '--model', at('fp16.onnx')]],
      ['decision.json', [...irs, '--model', at('fp16.onnx'), '--radius', '0.5']],
      ['baseline.json', [...irs, '--model', at('fp16.onnx'), '--baseline']],
    ];
    for (const [out, args] of runs) {
      const local = await runCli([...args, '--out', at(`local-${out}`)]);
      const fanned = await runCli([...args, '--shard-size', '250', '--workers', proxies.map((p) => p.url).join(','), '--token', TOKEN, '--shard-timeout', '1.5', '--retries', '8', '--out', at(`fan-${out}`)]);
      expect(local.code, local.stderr).toBe(0);
      expect(fanned.code, fanned.stderr).toBe(0);
      const [a, b] = [read(at(`local-${out}`)), read(at(`fan-${out}`))];
      expect(b.id, out).toBe(a.id);
      expect(strip(b), out).toEqual(strip(a));
    }
    const models = [...irs, '--models', `${at('fp16.onnx')},${at('p10.onnx')}`];
    expect((await runCli([...models, '--out', at('local-multi')])).code).toBe(0);
    expect((await runCli([...models, ...direct, '--out', at('fan-multi')])).code).toBe(0);
    for (const name of ['fp16', 'p10']) {
      const [a, b] = [read(join(at('local-multi'), `${name}.json`)), read(join(at('fan-multi'), `${name}.json`))];
      expect(b.id, name).toBe(a.id);
      expect(strip(b), name).toEqual(strip(a));
    }
    const predict = ['predict', '--model', MODEL, '--data', 'mnist:test', '--count', '6', '--skip', '37', '--sigma', '0.5', '--n', '500', ...common];
    expect((await runCli([...predict, '--out', at('local-pred.json')])).code).toBe(0);
    expect((await runCli([...predict, ...direct, '--shard-size', '200', '--out', at('fan-pred.json')])).code).toBe(0);
    const pr = (f: string) => read<{ results: { time: number }[] }>(at(f)).results.map(({ time: _t, ...r }) => r);
    expect(pr('fan-pred.json')).toEqual(pr('local-pred.json'));
  }, 240_000);

  it('tune: the same report and choice as in-process, the candidates\' inferences on the workers', async () => {
    const tune = ['tune', '--model', MODEL, '--original', at('ref.json'), '--candidates', 'fp16,prune:0.1,prune:0.5', '--min-certified-accuracy', '0.25:0.5', '--np', '600', ...common];
    const local = await runCli([...tune, '--out', at('tune-local')]);
    const fanned = await runCli([...tune, ...direct, '--out', at('tune-fan')]);
    expect(local.code, local.stderr).toBe(0);
    expect(fanned.code, fanned.stderr).toBe(0);
    const summary = (d: string) => { const { seconds: _s, ...rest } = read<Record<string, unknown>>(join(at(d), 'tune.json')); return rest; };
    expect(summary('tune-fan')).toEqual(summary('tune-local'));
    expect(readdirSync(join(at('tune-fan'), 'shards')).length).toBeGreaterThan(0);
  }, 240_000);

  it('a worker started with another token answers 401, and the CLI stops with an error naming it', async () => {
    const r = await runCli([...certifyArgs, '--workers', `${workers[0].url},${stranger.url}`, '--token', TOKEN, '--out', at('x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`worker ${stranger.url} refused the token (401 invalid token)`);
    const noToken = await runCli([...certifyArgs, '--workers', workers[0].url, '--out', at('x.json')]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/--workers needs --token/);
    const noWorkers = await runCli([...certifyArgs, '--token', TOKEN, '--out', at('x.json')]);
    expect(noWorkers.code).toBe(2);
    expect(noWorkers.stderr).toMatch(/--token needs --workers/);
  });
});
