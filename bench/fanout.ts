/**
 * Fan-out: one certify job in-process and over 1 and 2 local `irs serve` workers (HTTP on
 * loopback), at several shard sizes: wall time, speedup over in-process, and the per-shard
 * HTTP overhead (round trip minus the worker's compute) as a share of shard time.
 *
 *   npm run bench -- fanout [--count 16] [--n 4000] [--shards 250,1000,4000] [--reps 3]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createService } from '../src/http/app.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { FileStore } from '../src/store/fs.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { startServe, type ServeProcess } from '../test/helpers/servers.ts';
import { median, spread } from './stats.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { values } = parseArgs({ options: {
  count: { type: 'string', default: '16' }, n: { type: 'string', default: '4000' },
  shards: { type: 'string', default: '250,1000,4000' }, reps: { type: 'string', default: '3' },
} });
const MODEL = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const mnist = loadMnist('test');
const dir = mkdtempSync(join(tmpdir(), 'irs-bench-fanout-'));
const SECRET = 'bench-secret';
const workers: ServeProcess[] = [];
for (let i = 0; i < 2; i++) workers.push(await startServe(['--store', `file:${dir}`, '--tokens', 'b:none', '--worker-token', SECRET, '--backend', 'node']));

async function run(workerUrls: string[], shardSize: number, seed: number) {
  const rtts: number[] = [];
  const computes: number[] = [];
  const timedFetch: typeof fetch = async (input, init) => {
    const t0 = performance.now();
    const res = await fetch(input, init);
    const text = await res.text();
    rtts.push((performance.now() - t0) / 1000);
    try { computes.push((JSON.parse(text).seconds as number[]).reduce((a, b) => a + b, 0)); } catch { /* not a shard */ }
    return new Response(text, { status: res.status, headers: res.headers });
  };
  const s = createService({
    store: workerUrls.length ? new FileStore(dir) : new MemoryStore(), tokens: new Map([['t', 'b']]), workerToken: SECRET,
    workers: workerUrls, backend: 'node', dataset: () => mnist, fanOut: { perWorker: 1, fetch: timedFetch },
  });
  const auth = { authorization: 'Bearer t' };
  const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: MODEL })).json()).sha256;
  const t0 = performance.now();
  const body = { kind: 'certify', model, data: { source: 'mnist:test', count: Number(values.count), skip: 7 }, sigma: 0.5, n0: 100, n: Number(values.n), seed, shardSize, batchSize: 256 };
  await s.app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await s.idle();
  const wall = (performance.now() - t0) / 1000;
  const overhead = rtts.length ? rtts.reduce((a, b) => a + b, 0) - computes.reduce((a, b) => a + b, 0) : 0;
  return { wall, shards: rtts.length, overheadShare: rtts.length ? overhead / rtts.reduce((a, b) => a + b, 0) : 0, perShardMs: rtts.length ? (1000 * overhead) / rtts.length : 0 };
}

console.log(`certify ${values.count} MNIST images, n0 100 + n ${values.n}, 8 inputs per shard, median of ${values.reps} (min-max)\n`);
console.log('| shard size (samples) | where | wall (s) | speedup vs in-process | shards | HTTP overhead per shard | overhead share |');
console.log('|---|---|---|---|---|---|---|');
let seed = 1;
for (const shardSize of values.shards!.split(',').map(Number)) {
  const local = await Promise.all([0].map(async () => { const w: number[] = []; for (let r = 0; r < Number(values.reps); r++) w.push((await run([], shardSize, seed++)).wall); return w; }));
  const inProcess = median(local[0]);
  console.log(`| ${shardSize} | in-process | ${inProcess.toFixed(2)} (${spread(local[0])}) | 1.00x | | | |`);
  for (const k of [1, 2]) {
    const walls: number[] = [];
    let last = { shards: 0, overheadShare: 0, perShardMs: 0 };
    for (let r = 0; r < Number(values.reps); r++) {
      const res = await run(workers.slice(0, k).map((w) => w.url), shardSize, seed++);
      walls.push(res.wall);
      last = res;
    }
    console.log(`| ${shardSize} | ${k} worker${k > 1 ? 's' : ''} | ${median(walls).toFixed(2)} (${spread(walls)}) | ${(inProcess / median(walls)).toFixed(2)}x | ${last.shards} | ${last.perShardMs.toFixed(1)} ms | ${(100 * last.overheadShare).toFixed(1)}% |`);
  }
}
await Promise.all(workers.map((w) => w.stop()));
