/**
 * The same functions under Deno (the `deno` npm package's binary): a certify job gives the
 * certificate Node computes in-process. Deno here sees only Mesa's software WebGPU adapter,
 * so the entry picks wasm, as it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { certifyInProcess, certifyOverHttp, freePort, waitForHealth, withoutTimes } from './helpers/http.ts';

const TOKEN = 'deno-token';

describe('Deno', () => {
  let deno: ChildProcess;
  let base = '';
  let log = '';
  beforeAll(async () => {
    const port = await freePort();
    deno = spawn('node_modules/.bin/deno', ['run', '--allow-net', '--allow-read', '--allow-write', '--allow-env', '--allow-ffi', '--allow-sys', 'functions/deno.ts'], {
      env: { ...process.env, IRS_PORT: String(port), IRS_STORE: 'memory:', IRS_TOKENS: `d:${TOKEN}`, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    deno.stdout!.on('data', (d) => (log += d));
    deno.stderr!.on('data', (d) => (log += d));
    base = `http://127.0.0.1:${port}`;
    await waitForHealth(base, 'deno', () => log, () => deno.exitCode === null);
  }, 90_000);
  afterAll(() => {
    deno?.kill('SIGTERM');
  });

  it('serves the health check on the wasm backend (no hardware WebGPU adapter here)', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true, backend: 'wasm' });
  });

  it('serves the console page and its listings', async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/data-testid="jobs-table"/);
    expect((await fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('has the bundled mnist:test dataset (a certify job on it finishes)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const model = (await (await fetch(`${base}/v1/models`, { method: 'POST', headers: auth, body: readFileSync('models/mnist-small-s0.50.onnx') })).json()).sha256;
    const job = await (await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'certify', model, data: { source: 'mnist:test', count: 2 }, sigma: 0.5, n0: 10, n: 100 }) })).json();
    let s = job;
    for (let i = 0; i < 300 && s.status !== 'done' && s.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth })).json();
    }
    expect(s.error).toBeUndefined();
    expect(s.status).toBe('done');
  }, 60_000);

  it('certifies with the same certificate as Node in-process', async () => {
    const onDeno = await certifyOverHttp((p, init) => fetch(base + p, init), TOKEN);
    const inProcess = await certifyInProcess(TOKEN, 'd');
    expect(onDeno.id).toBe(inProcess.id);
    expect(withoutTimes(onDeno)).toEqual(withoutTimes(inProcess));
    expect(onDeno.cache!.sha256).toBe(inProcess.cache!.sha256);
  }, 120_000);
});
