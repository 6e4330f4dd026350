/**
 * `irs demo` (npm start): the main job on the embedded default — a directory store, two local
 * shard-worker processes, no account anywhere. Certifies a bundled MNIST model, compresses it
 * (int8, fp16, prune 10%), recertifies each variant with IRS and with RS from scratch, prints
 * one table and writes an HTML report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createService } from '../../functions/app.ts';
import { IrsClient, type JobRequestInput, type JobView } from '../client/index.ts';
import { defaultFastBackend, type BackendName } from '../inference/index.ts';
import { FileStore } from '../store/fs.ts';
import { loadMnist } from '../data/mnist.ts';
import type { Certificate } from '../protocol/certificate.ts';
import { reportHtml } from '../report/html.ts';
import { loadModel, writeAtomic } from './io.ts';
import { progressBar } from './progress.ts';

export interface DemoOptions {
  model: string;
  sigma: number;
  count: number;
  n: number;
  np: number;
  out: string;
  workers: number;
  backend?: BackendName;
  quiet: boolean;
}

const BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/irs.js');

async function startWorker(store: string, token: string, secret: string, backend: BackendName): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--store', store, '--tokens', `demo:${token}`, '--worker-token', secret, '--backend', backend], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (\S+)/.exec(out);
      if (m) res(m[1]);
    });
    proc.on('exit', (code) => rej(new Error(`shard worker exited with ${code}`)));
  });
  return { url, proc };
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const backend = o.backend ?? (await defaultFastBackend());
  const log = (s: string) => process.stdout.write(s + '\n');
  const storeDir = join(o.out, 'store');
  rmSync(storeDir, { recursive: true, force: true }); // a fresh run: timings are measured, not replayed
  const token = randomBytes(16).toString('hex');
  const secret = randomBytes(16).toString('hex');
  const workers = await Promise.all(Array.from({ length: o.workers }, () => startWorker(`file:${storeDir}`, token, secret, backend)));
  const mnist = loadMnist('test');
  const service = createService({
    store: new FileStore(storeDir), tokens: new Map([[token, 'demo']]), workerToken: secret,
    workers: workers.map((w) => w.url), backend, dataset: (s) => (s === 'mnist:test' ? mnist : loadMnist('train')),
    fanOut: { perWorker: 1 },
  });
  const irs = new IrsClient({ baseUrl: 'http://aggregator.local', token, fetch: (u, init) => Promise.resolve(service.app.request(String(u), init)) });
  try {
    const model = await loadModel(o.model);
    log(`irs-edge demo: ${model.ref.name}, sigma ${o.sigma}, ${o.count} MNIST test images, n = ${o.n}, n_p = ${o.np}, ` +
      `${o.workers} local shard workers (${backend}), store ${storeDir}`);
    const { sha256 } = await irs.uploadModel(model.bytes);

    const wall = new Map<Certificate, number>();
    const run = async (label: string, req: JobRequestInput): Promise<Certificate> => {
      const t0 = performance.now();
      const started = await irs.startJob(req);
      let bar: ReturnType<typeof progressBar> | undefined;
      let shown = 0;
      const job: JobView = await irs.waitForJob(started.id, {
        pollMs: 250,
        onProgress: (j) => {
          if (!bar && j.progress.samplesTotal > 0) bar = progressBar(label, j.progress.samplesTotal, o.quiet);
          bar?.tick(j.progress.samplesDone - shown);
          shown = j.progress.samplesDone;
        },
      }).finally(() => bar?.stop());
      const cert = await irs.certificate(job.certificateId!);
      wall.set(cert, (performance.now() - t0) / 1000);
      writeAtomic(join(o.out, `${label}.json`), JSON.stringify(cert, null, 1));
      return cert;
    };

    const original = await run('original', { kind: 'certify', model: sha256, data: { source: 'mnist:test', count: o.count, skip: Math.floor(10000 / o.count) }, sigma: o.sigma, n0: 100, n: o.n, alpha: 0.001 });
    const rows: [string, string, Certificate][] = [['f (float32)', 'RS', original]];
    const variants: [string, { method: 'int8' | 'fp16' | 'prune'; amount?: number }][] = [['int8', { method: 'int8' }], ['fp16', { method: 'fp16' }], ['prune10', { method: 'prune', amount: 0.1 }]];
    const speedups: string[] = [];
    for (const [name, method] of variants) {
      const report = await irs.compress(sha256, { ...method, ...(method.method === 'int8' ? { calibration: { source: 'mnist:train', count: 512, sigma: o.sigma } } : {}) });
      const viaIrs = await run(`${name}-irs`, { kind: 'recertify', model: report.sha256, original: original.id, np: o.np, alphaZeta: 0.001, gamma: 0.99 });
      const scratch = await run(`${name}-baseline`, { kind: 'baseline', model: report.sha256, original: original.id, np: o.np, alphaZeta: 0.001 });
      rows.push([name, 'IRS', viaIrs], [name, 'RS from scratch', scratch]);
      speedups.push(`${name} ${(wall.get(scratch)! / wall.get(viaIrs)!).toFixed(2)}x (ACR ${viaIrs.summary.acr.toFixed(3)} vs ${scratch.summary.acr.toFixed(3)}, mean zeta ${viaIrs.summary.meanZeta?.toFixed(4) ?? '-'})`);
    }
    log('');
    log(comparisonTable(rows, wall));
    log(`\nIRS speedup over RS from scratch at the same n_p, in wall time: ${speedups.join('; ')}`);
    const reportPath = join(o.out, 'report.html');
    writeAtomic(reportPath, reportHtml(rows.map(([m, method, c]) => ({ label: `${m} ${method}`, certificate: c })), 'irs-edge demo: IRS against RS from scratch'));
    log(`certificates in ${o.out}/; report: ${reportPath}`);
  } finally {
    await Promise.all(workers.map((w) => new Promise<void>((res) => { w.proc.once('exit', () => res()); w.proc.kill('SIGTERM'); })));
  }
}

/**
 * One row per certificate: `wall` is the job's wall time as the user waited for it, `compute`
 * the shard workers' summed time; `speedup` compares each IRS row's wall time with the RS-from-
 * scratch row after it.
 */
export function comparisonTable(rows: [string, string, Certificate][], wall: Map<Certificate, number>): string {
  const radii = [0, 0.25, 0.5, 0.75, 1.0];
  const head = ['model', 'method', ...radii.map((r) => `r=${r}`), 'ACR', 'abstain', 'samples', 'wall (s)', 'compute (s)', 'speedup'];
  const body = rows.map(([model, method, c], i) => {
    const next = rows[i + 1];
    const speedup = method === 'IRS' && next && next[0] === model ? `${(wall.get(next[2])! / wall.get(c)!).toFixed(2)}x` : '';
    return [
      model, method,
      ...radii.map((r) => `${(100 * (c.summary.certifiedAccuracy.find((x) => x.radius === r)?.accuracy ?? 0)).toFixed(1)}%`),
      c.summary.acr.toFixed(3), String(c.summary.abstained), String(c.summary.samples), (wall.get(c) ?? 0).toFixed(1), c.summary.seconds.toFixed(1), speedup,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

