/**
 * Jobs through the HTTP API over any fetch (a server, wrangler dev, or an app in this process):
 * upload, submit, poll with the latency of every poll recorded, fetch the certificate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadMnist } from '../../src/data/mnist.ts';
import { encodeNpy } from '../../src/protocol/npy-codec.ts';
import type { Certificate } from '../../src/protocol/certificate.ts';
import { freePort, waitForHealth, type Fetcher } from './http.ts';

export const SMALL_MODEL = new Uint8Array(readFileSync(new URL('../../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');

export class Api {
  constructor(readonly fetcher: Fetcher, readonly token: string) {}

  private get auth() {
    return { authorization: `Bearer ${this.token}` };
  }

  async json<T = any>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await this.fetcher(path, { ...init, headers: { ...this.auth, ...(init.headers ?? {}) } });
    return { status: res.status, body: (await res.json()) as T };
  }

  async uploadModel(bytes: Uint8Array = SMALL_MODEL): Promise<string> {
    return (await this.json('/v1/models', { method: 'POST', body: bytes as Uint8Array<ArrayBuffer> })).body.sha256;
  }

  async compress(model: string, method: string): Promise<string> {
    const r = await this.json(`/v1/models/${model}/compress`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method }) });
    if (r.status !== 201) throw new Error(`compress: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.sha256;
  }

  /** MNIST test images 0, 100, 200, … as one uploaded .npy, with their labels. */
  async uploadMnist(count: number): Promise<{ inputs: string; labels: number[] }> {
    const x = new Float32Array(count * 784);
    const labels: number[] = [];
    for (let i = 0; i < count; i++) {
      x.set(mnist.input(i * 100), i * 784);
      labels.push(mnist.label(i * 100));
    }
    const inputs = (await this.json('/v1/inputs', { method: 'POST', body: encodeNpy(x, [count, 1, 28, 28], '<f4') as Uint8Array<ArrayBuffer> })).body.sha256;
    return { inputs, labels };
  }

  async submit(body: unknown): Promise<{ status: number; body: any }> {
    return this.json('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** Polls until the job is done or failed; every poll's latency is pushed onto `latencies`. */
  async wait(id: string, o: { latencies?: number[]; until?: (job: any) => boolean; timeoutMs?: number; everyMs?: number } = {}): Promise<any> {
    const end = Date.now() + (o.timeoutMs ?? 180_000);
    while (Date.now() < end) {
      const t0 = performance.now();
      const job = (await this.json(`/v1/jobs/${id}`)).body;
      o.latencies?.push(performance.now() - t0);
      if (job.status === 'done' || job.status === 'failed' || o.until?.(job)) return job;
      await new Promise((r) => setTimeout(r, o.everyMs ?? 200));
    }
    throw new Error(`job ${id} did not finish in time`);
  }

  async certificate(id: string): Promise<Certificate> {
    const r = await this.json<Certificate>(`/v1/certificates/${id}`);
    if (r.status !== 200) throw new Error(`certificate ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Submits, waits, returns the finished job and its certificate. */
  async run(body: unknown, latencies?: number[]): Promise<{ job: any; certificate: Certificate }> {
    const submitted = await this.submit(body);
    if (submitted.status >= 300) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
    const job = await this.wait(submitted.body.id, { latencies });
    if (job.status !== 'done') throw new Error(`job ${job.id} ${job.status}: ${job.error}`);
    return { job, certificate: await this.certificate(job.certificateId) };
  }
}

/** The service in this process on a memory store (the in-process reference). */
export async function inProcessApi(token: string, backend: 'wasm' | 'node' = 'wasm'): Promise<Api> {
  const { createService } = await import('../../src/http/app.ts');
  const { MemoryStore } = await import('../../src/store/memory.ts');
  const service = createService({ store: new MemoryStore(), tokens: new Map([[token, 'ref']]), workers: [], backend });
  return new Api(async (p, init) => {
    const res = await service.app.request(p, init);
    if (p === '/v1/jobs' && init?.method === 'POST') await service.idle();
    return res;
  }, token);
}

/** `wrangler dev` on a persisted state directory, as its own process group (killable as a whole). */
export class WranglerDev {
  private proc?: ChildProcess;
  log = '';
  base = '';

  constructor(readonly persistTo: string, readonly vars: Record<string, string> = {}) {}

  async start(): Promise<void> {
    const port = await freePort();
    const args = ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', this.persistTo];
    for (const [k, v] of Object.entries(this.vars)) args.push('--var', `${k}:${v}`);
    this.proc = spawn('npx', args, { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    this.base = `http://127.0.0.1:${port}`;
    const proc = this.proc;
    await waitForHealth(this.base, 'wrangler dev', () => this.log, () => proc.exitCode === null);
  }

  fetcher: Fetcher = (p, init) => fetch(this.base + p, init);

  /** SIGKILL to the whole process group: wrangler, workerd and all. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc?.pid || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    try { process.kill(-proc.pid, signal); } catch { /* already gone */ }
    await exited;
  }
}
