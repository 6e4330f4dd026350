/**
 * The deployable Worker: its size as `wrangler deploy --dry-run` reports it, and under
 * `wrangler dev` the start-up time, the first shard (which creates the onnxruntime session)
 * and warm shards; then the sampling loop's throughput inside workerd (16 inputs sharing the
 * noise, 1,024 samples each, batch 256), to set beside bench/throughput's wasm figures.
 *
 *   npm run bench -- workers-bundle [--reps 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/http.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { median, spread } from './stats.ts';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
const dry = execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', mkdtempSync(join(tmpdir(), 'irs-dry-'))], { env, encoding: 'utf8' });
const size = /Total Upload: ([0-9.]+) KiB \/ gzip: ([0-9.]+) KiB/.exec(dry);
console.log(`wrangler deploy --dry-run: ${size ? `${size[1]} KiB, ${size[2]} KiB gzip` : dry}`);

const mnist = loadMnist('test');
const model = new Uint8Array(readFileSync(new URL('../models/mnist-small-s0.50.onnx', import.meta.url)));
const starts: number[] = [];
const firsts: number[] = [];
const warms: number[] = [];
const loops: number[] = [];
for (let r = 0; r < Number(values.reps); r++) {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', mkdtempSync(join(tmpdir(), 'irs-wr-'))], { env, stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* starting */ }
    await new Promise((res) => setTimeout(res, 25));
  }
  starts.push((performance.now() - t0) / 1000);
  const auth = { authorization: 'Bearer dev-token' };
  const sha = (await (await fetch(`${base}/v1/models`, { method: 'POST', headers: auth, body: model })).json()).sha256;
  const shard = JSON.stringify({ model: sha, inputs: [{ values: [...mnist.input(0)] }], sigma: 0.5, seed: 0, stream: 1, start: 0, count: 256, batchSize: 256 });
  const post = async (body = shard) => {
    const t = performance.now();
    const res = await fetch(`${base}/v1/shards`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    await res.text();
    if (!res.ok) throw new Error(`shard answered ${res.status}`);
    return (performance.now() - t) / 1000;
  };
  firsts.push(await post());
  for (let k = 0; k < 3; k++) warms.push(await post());
  const big = JSON.stringify({ model: sha, inputs: Array.from({ length: 16 }, (_, i) => ({ values: [...mnist.input(i)] })), sigma: 0.5, seed: 0, stream: 1, start: 0, count: 1024, batchSize: 256 });
  for (let k = 0; k < 2; k++) loops.push((16 * 1024) / (await post(big)));
  process.kill(-proc.pid!, 'SIGTERM');
}
console.log(`wrangler dev start to first answer: ${median(starts).toFixed(2)} s (${spread(starts)})`);
console.log(`first shard of 256 samples (loads the model, creates the onnxruntime-web session): ${(1000 * median(firsts)).toFixed(0)} ms (${spread(firsts.map((x) => 1000 * x))})`);
console.log(`warm shard of 256 samples: ${(1000 * median(warms)).toFixed(0)} ms (${spread(warms.map((x) => 1000 * x))}) = ${(256 / median(warms)).toFixed(0)} samples/s`);
console.log(`sampling loop inside workerd (16 inputs x 1,024 samples per shard, batch 256, HTTP included): ${median(loops).toFixed(0)} samples/s (${spread(loops)})`);
