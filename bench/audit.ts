/**
 * The cost of spot-check audits: one certify job over two local `irs serve` workers (HTTP on
 * loopback, honest), without audits and with audits at F = 0.05, 0.1, 0.2. Reports the CPU
 * time of the workers and the aggregator together (what an audit costs on a shared machine,
 * where wall time mostly measures the neighbours) and its overhead over no audits, the wall
 * time, the shard requests sent and the extra ones, and the audited shards (job status). Runs are interleaved (F = 0, 0.05, 0.1, 0.2, then
 * again) so drift on a shared machine hits every F alike; each run has its own seed, so its
 * own shards and its own keyed choice of audited shards.
 *
 *   npm run bench -- audit [--count 8] [--n 8000] [--shard 100] [--fractions 0.05,0.1,0.2] [--reps 3]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createService } from '../src/http/app.ts';
import { FileStore } from '../src/store/fs.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { startServe, type ServeProcess } from '../test/helpers/servers.ts';
import { median, spread } from './stats.ts';

const { values } = parseArgs({ options: {
  count: { type: 'string', default: '8' }, n: { type: 'string', default: '8000' }, shard: { type: 'string', default: '100' },
  fractions: { type: 'string', default: '0.05,0.1,0.2' }, reps: { type: 'string', default: '3' },
} });
const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const dir = mkdtempSync(join(tmpdir(), 'irs-bench-audit-'));
const SECRET = 'bench-secret';
const workers: ServeProcess[] = [];
for (let i = 0; i < 2; i++) workers.push(await startServe(['--store', `file:${dir}`, '--tokens', 'b:none', '--worker-token', SECRET, '--backend', 'node']));

const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
function cpuSeconds(): number {
  let ticks = 0;
  for (const w of workers) {
    const f = readFileSync(`/proc/${w.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  }
  const own = process.cpuUsage();
  return ticks / TICK + (own.user + own.system) / 1e6;
}

async function run(fraction: number, seed: number) {
  let requests = 0;
  const counting: typeof fetch = (input, init) => { requests++; return fetch(input, init); };
  const s = createService({
    store: new FileStore(dir), tokens: new Map([['t', 'b']]), workerToken: SECRET,
    workers: workers.map((w) => w.url), backend: 'node', dataset: () => mnist, fanOut: { perWorker: 1, fetch: counting },
  });
  const auth = { authorization: 'Bearer t' };
  const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
  const shardSize = Number(values.shard);
  const body = {
    kind: 'certify', model, data: { source: 'mnist:test', count: Number(values.count), skip: 7 }, sigma: 0.5, n0: 100, n: Number(values.n), seed,
    shardSize, batchSize: shardSize, ...(fraction > 0 ? { audit: { fraction } } : {}),
  };
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const { id } = await (await s.app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  await s.idle();
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const status = await (await s.app.request(`/v1/jobs/${id}`, { headers: auth })).json();
  if (status.status !== 'done') throw new Error(`job failed: ${status.error}`);
  const shards = Math.ceil(Number(values.count) / 8) * (Math.ceil(100 / shardSize) + Math.ceil(Number(values.n) / shardSize));
  process.stderr.write(`F ${fraction} seed ${seed}: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU, ${requests} requests\n`);
  return { wall, cpu, requests, shards, audited: status.audit?.compared ?? 0, mismatches: status.audit?.mismatches.length ?? 0 };
}

const fractions = [0, ...values.fractions!.split(',').map(Number)];
const reps = Number(values.reps);
const out = new Map(fractions.map((f) => [f, [] as Awaited<ReturnType<typeof run>>[]]));
let seed = 100;
await run(0, seed++); // warm the workers' model and inputs caches
for (let r = 0; r < reps; r++) for (const f of fractions) out.get(f)!.push(await run(f, seed++));
await Promise.all(workers.map((w) => w.stop()));

console.log(`certify ${values.count} MNIST images, n0 100 + n ${values.n}, shards of ${values.shard} samples x 8 inputs, 2 honest workers (perWorker 1), median of ${reps} (min-max)\n`);
console.log('| F | CPU (s, workers + aggregator) | CPU overhead vs F = 0 | wall (s) | shard requests | extra requests | audited shards (of all) | mismatches |');
console.log('|---|---|---|---|---|---|---|---|');
const baseCpu = median(out.get(0)!.map((x) => x.cpu));
const baseRequests = median(out.get(0)!.map((x) => x.requests));
for (const f of fractions) {
  const rs = out.get(f)!;
  const walls = rs.map((x) => x.wall);
  const cpus = rs.map((x) => x.cpu);
  const req = median(rs.map((x) => x.requests));
  const audited = rs.map((x) => x.audited);
  console.log(`| ${f} | ${median(cpus).toFixed(2)} (${spread(cpus)}) | ${f === 0 ? '' : `${(100 * (median(cpus) / baseCpu - 1)).toFixed(1)}%`} | ${median(walls).toFixed(2)} (${spread(walls)}) | ${req} | ${f === 0 ? '' : `${(100 * (req / baseRequests - 1)).toFixed(1)}%`} | ${audited.join(', ')} (of ${rs[0].shards}) | ${rs.reduce((a, x) => a + x.mismatches, 0)} |`);
}
