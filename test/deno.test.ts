/**
 * The same functions under Deno (the `deno` npm package's binary): a certify job gives the
 * certificate Node computes in-process. Deno here sees only Mesa's software WebGPU adapter,
 * so the entry picks wasm, as it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
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

  it('certifies with the same certificate as Node in-process', async () => {
    const onDeno = await certifyOverHttp((p, init) => fetch(base + p, init), TOKEN);
    const inProcess = await certifyInProcess(TOKEN, 'd');
    expect(onDeno.id).toBe(inProcess.id);
    expect(withoutTimes(onDeno)).toEqual(withoutTimes(inProcess));
    expect(onDeno.cache!.sha256).toBe(inProcess.cache!.sha256);
  }, 120_000);
});
