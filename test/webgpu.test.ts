/**
 * The webgpu backend, run for real: Deno's WebGPU on Mesa's llvmpipe (a software adapter, which
 * DENO_WEBGPU_BACKEND=gl gives on a machine without a GPU; libegl-mesa0 and libgl1-mesa-dri).
 *
 * - A certify job on webgpu gives a certificate that records its adapter, and its per-sample
 *   predictions are compared with wasm's on the same noise (decoded from the two IRS caches).
 * - A cross-backend IRS replay: the cache recorded on wasm, f^p computed on webgpu. It stays
 *   sound (zeta bounds the disagreement of exactly these two computations); what it costs in
 *   zeta over a wasm replay is measured, and the certificate names cacheBackend beside backend.
 * - bench/webgpu.ts's agreement mode: logits against wasm, and which ops run off the GPU.
 *
 * Figures go to out/webgpu-test.json and the log (BENCHMARKS.md quotes them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHealth, type Fetcher } from './helpers/http.ts';
import { createService, type Service } from '../src/http/app.ts';
import { FileStore } from '../src/store/fs.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { encodeNpy } from '../src/protocol/npy-codec.ts';
import { decodeCache } from '../src/protocol/cache-codec.ts';
import { keys } from '../src/service/keys.ts';
import { compressModel } from '../src/onnx/compress/index.ts';
import type { Certificate, IrsParamsDoc } from '../src/protocol/certificate.ts';

const TOKEN = 'gpu-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const MODEL = new Uint8Array(readFileSync('models/mnist-small-s0.50.onnx'));
const mnist = loadMnist('test');
// Small on purpose: software WebGPU does tens to hundreds of samples/s on a shared 2-core machine.
const INPUTS = [0, 1, 2].map((i) => i * 100);
const dirA = mkdtempSync(join(tmpdir(), 'irs-gpu-a-'));
const dirB = mkdtempSync(join(tmpdir(), 'irs-gpu-b-'));
const figures: Record<string, unknown> = {};

async function upload(f: Fetcher, model: Uint8Array): Promise<string> {
  return (await (await f('/v1/models', { method: 'POST', headers: auth, body: model as Uint8Array<ArrayBuffer> })).json()).sha256;
}
async function uploadInputs(f: Fetcher): Promise<string> {
  const x = new Float32Array(INPUTS.length * 784);
  INPUTS.forEach((i, k) => x.set(mnist.input(i), k * 784));
  return (await (await f('/v1/inputs', { method: 'POST', headers: auth, body: encodeNpy(x, [INPUTS.length, 1, 28, 28], '<f4') as Uint8Array<ArrayBuffer> })).json()).sha256;
}
/** Starts a job and polls it to its certificate. */
async function runJob(f: Fetcher, body: object, after?: () => Promise<void>): Promise<Certificate> {
  const res = await f('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const job = await res.json();
  if (!res.ok) throw new Error(JSON.stringify(job));
  await after?.();
  for (let i = 0; i < 3000; i++) {
    const s = await (await f(`/v1/jobs/${job.id}`, { headers: auth })).json();
    if (s.status === 'done') return (await f(`/v1/certificates/${s.certificateId}`, { headers: auth })).json();
    if (s.status === 'failed') throw new Error(s.error);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('job did not finish');
}
const inProcess = (svc: Service): Fetcher => async (p, init) => svc.app.request(p, init);
const certifyBody = (model: string, inputs: string, seed: number) => ({
  kind: 'certify', model, data: { inputs, labels: INPUTS.map((i) => mnist.label(i)) }, sigma: 0.5, n0: 20, n: 240, seed, shardSize: 240,
});

describe('webgpu backend (Deno on a software adapter)', () => {
  let deno: ChildProcess;
  let gpu: Fetcher;
  let log = '';
  let wasmSvc: Service;
  let wasm: Fetcher;
  let original: Certificate;
  let pruned: Uint8Array;

  beforeAll(async () => {
    // The original certification, on wasm, in a file store the Deno service then gets a copy of.
    wasmSvc = createService({ store: new FileStore(dirA), tokens: new Map([[TOKEN, 't']]), workers: [], backend: 'wasm' });
    wasm = inProcess(wasmSvc);
    const model = await upload(wasm, MODEL);
    const inputs = await uploadInputs(wasm);
    original = await runJob(wasm, certifyBody(model, inputs, 11), () => wasmSvc.idle());
    pruned = (await compressModel(MODEL, { method: 'prune', amount: 0.1, backend: 'wasm' })).bytes;
    await upload(wasm, pruned);
    cpSync(dirA, dirB, { recursive: true });

    const port = await freePort();
    deno = spawn('node_modules/.bin/deno', ['run', '--allow-net', '--allow-read', '--allow-write', '--allow-env', '--allow-ffi', '--allow-sys', 'functions/deno.ts'], {
      env: { ...process.env, IRS_PORT: String(port), IRS_STORE: `file:${dirB}`, IRS_TOKENS: `t:${TOKEN}`, IRS_BACKEND: 'webgpu', DENO_WEBGPU_BACKEND: 'gl', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    deno.stdout!.on('data', (d) => (log += d));
    deno.stderr!.on('data', (d) => (log += d));
    const base = `http://127.0.0.1:${port}`;
    gpu = (p, init) => fetch(base + p, init);
    await waitForHealth(base, 'deno (webgpu)', () => log, () => deno.exitCode === null);
  }, 120_000);

  afterAll(() => {
    deno?.kill('SIGTERM');
    mkdirSync('out', { recursive: true });
    writeFileSync('out/webgpu-test.json', JSON.stringify(figures, null, 1) + '\n');
    console.log('webgpu figures:', JSON.stringify(figures, null, 1));
  });

  it('runs on the webgpu backend and reports its (software) adapter', async () => {
    const h = await (await gpu('/healthz')).json();
    expect(h).toMatchObject({ ok: true, backend: 'webgpu', adapter: { fallback: true } });
    figures.adapter = h.adapter;
  });

  it('certifies on webgpu; the certificate records the adapter, and agrees with wasm on the same noise', async () => {
    const started = Date.now();
    const [model, inputs] = [await upload(gpu, MODEL), await uploadInputs(gpu)];
    const onGpu = await runJob(gpu, certifyBody(model, inputs, 12));
    const seconds = (Date.now() - started) / 1000;
    const refStore = new MemoryStore();
    const ref = createService({ store: refStore, tokens: new Map([[TOKEN, 't']]), workers: [], backend: 'wasm' });
    const onWasm = await runJob(inProcess(ref), certifyBody(await upload(inProcess(ref), MODEL), await uploadInputs(inProcess(ref)), 12), () => ref.idle());

    expect(onGpu.params.backend).toBe('webgpu');
    expect(onGpu.params.adapter).toMatchObject({ fallback: true });
    expect(onGpu.params.adapter!.description + onGpu.params.adapter!.vendor).not.toBe('');
    expect(onWasm.params.adapter).toBeUndefined();
    // Same job, same id: the backend is an execution detail, recorded but not part of the id.
    expect(onGpu.id).toBe(onWasm.id);

    // Per-sample argmax agreement, from the two caches (n predictions per input each).
    const gpuCache = decodeCache((await new FileStore(dirB).get(keys.cache('t', onGpu.id)))!);
    const wasmCache = decodeCache((await refStore.get(keys.cache('t', onWasm.id)))!);
    let differ = 0, total = 0;
    gpuCache.entries.forEach((e, i) => {
      const w = wasmCache.entries[i].predictions;
      for (let s = 0; s < e.predictions.length; s++, total++) if (e.predictions[s] !== w[s]) differ++;
    });
    const radiusDiff = Math.max(...onGpu.results.map((r, i) => Math.abs(r.radius - onWasm.results[i].radius)));
    figures.certify = { samples: total, argmaxDiffer: differ, argmaxDifferShare: differ / total, maxRadiusDiff: radiusDiff, seconds, predictEqual: onGpu.results.every((r, i) => r.predict === onWasm.results[i].predict) };
    expect(differ / total).toBeLessThan(0.01);
    expect(radiusDiff).toBeLessThan(0.05);
  }, 600_000);

  it('replays a wasm-recorded IRS cache with f^p on webgpu: sound, cacheBackend recorded, extra zeta measured', async () => {
    const prunedSha = await upload(wasm, pruned);
    const replay = (model: string) => ({ kind: 'recertify', model, original: original.id, np: 200, gamma: 0.99, shardSize: 200 });
    const results: Record<string, unknown> = {};
    for (const [label, model] of [['same model', original.model.sha256], ['prune 10%', prunedSha]] as const) {
      const onWasm = await runJob(wasm, replay(model), () => wasmSvc.idle());
      const onGpu = await runJob(gpu, replay(model));
      const pg = onGpu.params as IrsParamsDoc;
      expect(pg.backend).toBe('webgpu');
      expect(pg.cacheBackend).toBe('wasm');
      expect(pg.adapter).toMatchObject({ fallback: true });
      expect((onWasm.params as IrsParamsDoc).cacheBackend).toBe('wasm');
      const rows = onGpu.results.map((r, i) => {
        const w = onWasm.results[i];
        return { branch: [w.branch, r.branch], disagreements: [w.disagreements, r.disagreements], zeta: [w.zeta, r.zeta], radius: [w.radius, r.radius] };
      });
      const zetaRows = rows.filter((r) => r.zeta[0] !== undefined && r.zeta[1] !== undefined);
      const extra = zetaRows.map((r) => r.zeta[1]! - r.zeta[0]!);
      results[label] = {
        np: 200,
        disagreementsWasm: rows.map((r) => r.disagreements[0]), disagreementsWebgpu: rows.map((r) => r.disagreements[1]),
        meanZetaWasm: onWasm.summary.meanZeta, meanZetaWebgpu: onGpu.summary.meanZeta,
        maxExtraZeta: extra.length ? Math.max(...extra) : 0,
        maxRadiusLoss: Math.max(...rows.map((r) => r.radius[0] - r.radius[1])),
      };
      // Both backends compute the same network: webgpu may add a few disagreements, not many.
      for (const r of rows) if (r.disagreements[0] !== undefined && r.disagreements[1] !== undefined) expect(Math.abs(r.disagreements[1] - r.disagreements[0])).toBeLessThanOrEqual(4);
      if (label === 'same model') for (const r of rows) if (r.disagreements[0] !== undefined) expect(r.disagreements[0]).toBe(0);
    }
    figures.crossBackendReplay = results;
  }, 600_000);

  it('bench/webgpu.ts: logits against wasm on the same noise, and every op placed on the GPU', () => {
    const out = join(dirB, 'bench.json');
    const r = spawnSync('node_modules/.bin/deno', ['run', '-A', 'bench/webgpu.ts', '--models', 'mnist-small-s0.50', '--samples', '256', '--no-throughput', '--out', out], {
      env: { ...process.env, DENO_WEBGPU_BACKEND: 'gl', NO_COLOR: '1' }, encoding: 'utf8', timeout: 240_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const [m] = doc.results;
    figures.logits = { model: m.model, ...m.agreement, placement: m.placement, cpuOps: m.cpuOps };
    expect(m.placement.join(' ')).toMatch(/placed on \[WebGpuExecutionProvider\]/);
    expect(m.agreement.maxAbsLogitDiff).toBeLessThan(1e-3);
    expect(m.agreement.argmaxDifferShare).toBeLessThan(0.01);
  }, 300_000);
});

