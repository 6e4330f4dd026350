/**
 * A job on the Workers runtime's own engine, under `wrangler dev` (one job object, shards on the
 * local Queue, results in local R2): the shard size the job object plans from its CPU budget, the
 * consumer's time per shard and its throughput, the job's wall time with the one consumer at a
 * time that wrangler dev runs, the latency of status polls meanwhile; then a model of the
 * deployed cost per certified input from the published Workers, Queues, Durable Objects and R2
 * prices (the local emulator enforces none of the platform's limits and bills nothing).
 *
 *   npm run bench -- edge-jobs [--inputs 16] [--n 10000] [--n0 100] [--cpu-ms 10000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Api, WranglerDev } from '../test/helpers/jobs.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: {
  inputs: { type: 'string', default: '16' }, n: { type: 'string', default: '10000' }, n0: { type: 'string', default: '100' },
  'cpu-ms': { type: 'string', default: '10000' },
} });
const [inputs, n, n0] = [Number(values.inputs), Number(values.n), Number(values.n0)];

const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-edge-bench-')), { IRS_SHARD_CPU_MS: values['cpu-ms']! });
await dev.start();
try {
  const api = new Api(dev.fetcher, 'dev-token');
  const model = await api.uploadModel();
  const data = await api.uploadMnist(inputs);
  const latencies: number[] = [];
  const t0 = performance.now();
  const { job, certificate } = await api.run({ kind: 'certify', model, data, sigma: 0.5, n0, n, seed: 1 }, latencies);
  const wall = (performance.now() - t0) / 1000;
  const shardMs = [...dev.log.matchAll(/QUEUE irs-shards 1\/1 \((\d+)ms\)/g)].map((m) => Number(m[1]));
  const plan = job.plan as { shardSamples: number; inputsPerShard: number };
  const samples = certificate.summary.samples;
  // Per shard: its samples; the selection shards are smaller (n0 per input).
  const perShard = samples / shardMs.length;
  const consumerSeconds = shardMs.reduce((a, b) => a + b, 0) / 1000;
  console.log(`plan: ${plan.shardSamples} samples per input x ${plan.inputsPerShard} inputs per shard (IRS_SHARD_CPU_MS ${values['cpu-ms']})`);
  console.log(`job: ${inputs} inputs, n0 ${n0}, n ${n}: ${samples} samples in ${shardMs.length} shards; wall ${wall.toFixed(1)} s`);
  console.log(`consumer: median ${median(shardMs)} ms per shard (max ${Math.max(...shardMs)}), ${(samples / consumerSeconds).toFixed(0)} samples/s inside the consumer, ` +
    `${(consumerSeconds / wall * 100).toFixed(0)}% of the job's wall time`);
  console.log(`status polls: ${latencies.length}, median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`);

  // Deployed cost per certified input. CPU-ms: the consumer's wall time per shard bounds its CPU
  // time from above (the shard loop is CPU-bound; the R2 reads and writes are a few ms).
  const cpuMsPerSample = (consumerSeconds * 1000) / samples;
  const perInput = n0 + n;
  const shardsPerInput = shardMs.length / inputs;
  const waves = 3; // selection, estimation, finalize: an advance each
  const price = {
    cpuMs: 0.02 / 1e6, request: 0.30 / 1e6, queueOp: 0.40 / 1e6, doRequest: 0.15 / 1e6, doGbSecond: 12.5 / 1e6, r2ClassA: 4.5 / 1e6, r2ClassB: 0.36 / 1e6,
  };
  const cpu = perInput * cpuMsPerSample * price.cpuMs;
  const requests = shardsPerInput * price.request; // one consumer invocation per shard
  const queue = shardsPerInput * 3 * price.queueOp; // write, read, delete per message (< 64 KB)
  const objects = (shardsPerInput + (waves + 1) / inputs) * price.doRequest; // a shardDone RPC per shard, an alarm per advance
  // The object's replays read every stored result once per advance; the consumer heads and puts one per shard.
  const r2 = shardsPerInput * (price.r2ClassA + price.r2ClassB * (1 + waves));
  const total = cpu + requests + queue + objects + r2;
  const usd = (x: number) => `$${(x * 1000).toFixed(4)}`;
  console.log(`deployed cost per 1,000 certified inputs at n0 + n = ${perInput} (Workers Paid list prices, beyond the included usage):`);
  console.log(`  CPU ${usd(cpu)} (${(perInput * cpuMsPerSample).toFixed(0)} CPU-ms per input at $0.02/M CPU-ms), requests ${usd(requests)}, queue ${usd(queue)}, ` +
    `durable objects ${usd(objects)}, R2 ${usd(r2)}: total ${usd(total)}`);
} finally {
  await dev.kill();
}
