/**
 * Load on loopback: concurrent shard requests against one `irs serve` (bounded in count and
 * time, stops by itself). Reports throughput, p50/p99 latency of answered shards, and every
 * status seen; only 200 and deliberate 429 backpressure are acceptable.
 *
 *   npm run load -- [--requests 400] [--concurrency 8] [--max-shards 2] [--samples 512] [--seconds 120]
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { startServe } from '../test/helpers/servers.ts';
import { loadMnist } from '../src/data/mnist.ts';

export interface LoadResult {
  /** Shards sent (each until answered). */
  requests: number;
  ok: number;
  /** 429 answers (deliberate backpressure), each followed by a retry. */
  busy: number;
  other: Map<string, number>;
  seconds: number;
  p50: number;
  p99: number;
  samplesPerSecond: number;
}

export async function runLoad(o: { requests: number; concurrency: number; maxShards: number; samples: number; seconds: number }): Promise<LoadResult> {
  const token = 'load-token';
  const server = await startServe(['--store', 'memory:', '--tokens', `load:${token}`, '--max-shards', String(o.maxShards), '--backend', 'node']);
  try {
    const auth = { authorization: `Bearer ${token}` };
    const model = (await (await fetch(`${server.url}/v1/models`, { method: 'POST', headers: auth, body: readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)) })).json()).sha256;
    const mnist = loadMnist('test');
    const latencies: number[] = [];
    const other = new Map<string, number>();
    let ok = 0, busy = 0, sent = 0;
    const deadline = performance.now() + o.seconds * 1000;
    const started = performance.now();
    const client = async (c: number) => {
      while (sent < o.requests && performance.now() < deadline) {
        const k = sent++;
        const body = JSON.stringify({ model, inputs: [{ values: [...mnist.input(k % 100)] }], sigma: 0.5, seed: k, stream: 1, start: 0, count: o.samples, batchSize: 256 });
        // A shard is sent until it is answered: 429 is backpressure, the client backs off and retries.
        for (let attempt = 0; performance.now() < deadline; attempt++) {
          const t0 = performance.now();
          try {
            const res = await fetch(`${server.url}/v1/shards`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
            await res.text();
            if (res.status === 200) { ok++; latencies.push(performance.now() - t0); break; }
            if (res.status === 429) { busy++; await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt) + c)); continue; }
            other.set(String(res.status), (other.get(String(res.status)) ?? 0) + 1);
          } catch (e) {
            other.set((e as Error).message, (other.get((e as Error).message) ?? 0) + 1);
          }
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, (_, c) => client(c)));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    return { requests: sent, ok, busy, other, seconds, p50: q(0.5), p99: q(0.99), samplesPerSecond: (ok * o.samples) / seconds };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: {
    requests: { type: 'string', default: '400' }, concurrency: { type: 'string', default: '8' }, 'max-shards': { type: 'string', default: '2' },
    samples: { type: 'string', default: '512' }, seconds: { type: 'string', default: '120' },
  } });
  const r = await runLoad({ requests: Number(values.requests), concurrency: Number(values.concurrency), maxShards: Number(values['max-shards']), samples: Number(values.samples), seconds: Number(values.seconds) });
  console.log(`requests ${r.requests} in ${r.seconds.toFixed(1)} s at concurrency ${values.concurrency} (server --max-shards ${values['max-shards']}, ${values.samples} samples per shard)`);
  console.log(`shards answered 200: ${r.ok} of ${r.requests}; 429 answers (retried): ${r.busy}; other: ${JSON.stringify([...r.other])}`);
  console.log(`answered shards/s ${(r.ok / r.seconds).toFixed(1)}, samples/s ${r.samplesPerSecond.toFixed(0)}, latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
}
