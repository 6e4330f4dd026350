/**
 * The paper's networks inside workerd (`wrangler dev`, onnxruntime-web wasm, one thread): upload
 * the model, one cold shard (loads it, creates the session), then warm shards of one input; the
 * rate per wall second and per CPU-second of the workerd process (from /proc), workerd's peak
 * resident set (VmHWM), and the Worker isolate's own memory after the shards: its V8 heap and
 * ArrayBuffers (Runtime.getHeapUsage over the inspector wrangler opens) plus onnxruntime's wasm
 * linear memory (GET /healthz: the V8 figures leave it out). That sum is what a Workers isolate's
 * 128 MB holds; `wrangler dev` enforces no memory or CPU limit.
 *
 *   npm run bench -- paper-workerd [--models irs-data/paper/resnet20.onnx,...] [--count 32] [--batch 16] [--reps 3]
 *                                  [--memory-budget-mib N] [--max-model-bytes N]
 *   (IRS_ISOLATE_MEMORY_MIB and IRS_MAX_MODEL_BYTES for the run, to measure a model the default
 *   budget refuses; the budget also caps the batch the isolate computes at once)
 *
 * The peak while the model loads, from below: when session creation ends, wasm memory has reached
 * its size after the shards (it only grows, and running does not grow it past creation at batch 1)
 * while the caller still holds the model's bytes; the V8 heap comes on top. The inspector cannot
 * see that moment itself: the isolate answers it only between tasks, and creation is one
 * synchronous wasm call.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freePort } from '../test/helpers/http.ts';
import { decodeModel, inputShape } from '../src/onnx/model.ts';
import { median, spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'irs-data/paper/resnet20.onnx,irs-data/paper/resnet110.onnx' },
    count: { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
    reps: { type: 'string', default: '3' },
    'max-model-bytes': { type: 'string' },
    'memory-budget-mib': { type: 'string' },
  },
});
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

function descendants(pid: number): number[] {
  let out: number[] = [];
  try {
    const kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    for (const k of kids) out = [...out, k, ...descendants(k)];
  } catch { /* none */ }
  return out;
}
// Every workerd process wrangler started (its CPU is summed; the peak RSS is the largest).
function workerdPids(root: number): number[] {
  return descendants(root).filter((p) => { try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'workerd'; } catch { return false; } });
}
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function hwmMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

const MiB = 2 ** 20;

/**
 * The Worker isolate's V8 heap over the inspector wrangler dev serves (one target: the Worker).
 * No forced GC: HeapProfiler.collectGarbage does not answer through wrangler's proxy, so the
 * figures include garbage not yet collected (upper bounds).
 */
async function inspector(inspectorPort: number) {
  const [target] = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json() as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  type Heap = { usedSize: number; backingStorageSize: number };
  const waiting = new Map<number, (h: Heap) => void>();
  ws.on('message', (m) => {
    const reply = JSON.parse(String(m)) as { id?: number; result?: Heap };
    if (reply.id !== undefined && reply.result) waiting.get(reply.id)?.(reply.result);
    if (reply.id !== undefined) waiting.delete(reply.id);
  });
  let next = 1;
  const heap = () => new Promise<Heap>((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method: 'Runtime.getHeapUsage' }));
  });
  return { heap, close: () => ws.close() };
}

console.log(`workerd (wrangler dev), one input per shard, ${values.count} samples per shard, batch ${values.batch}; median of ${values.reps} warm shards\n`);
console.log('| model | MB | upload | cold shard (s) | warm samples per wall-s | per workerd CPU-s | ms per sample (CPU) | workerd peak RSS (MiB) | isolate after the shards: wasm memory + V8 heap + ArrayBuffers = total (MiB) | peak while the model loads, at least: wasm + model bytes, V8 heap not counted (MiB) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const vars = [
  ...(values['max-model-bytes'] ? ['--var', `IRS_MAX_MODEL_BYTES:${values['max-model-bytes']}`] : []),
  ...(values['memory-budget-mib'] ? ['--var', `IRS_ISOLATE_MEMORY_MIB:${values['memory-budget-mib']}`] : []),
];
for (const file of values.models!.split(',')) {
  const bytes = new Uint8Array(readFileSync(file));
  const dims = inputShape(decodeModel(bytes));
  const size = dims.reduce((a, b) => a * b, 1);
  const port = await freePort();
  const inspectorPort = await freePort();
  const proc = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', mkdtempSync(join(tmpdir(), 'irs-wr-')), ...vars], { env, stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* starting */ }
      await new Promise((res) => setTimeout(res, 50));
    }
    const pids = workerdPids(proc.pid!);
    const pid = pids.length > 0;
    const cpu = () => pids.reduce((t, p) => t + cpuOf(p), 0);
    const hwm = () => Math.max(...pids.map(hwmMiB));
    const auth = { authorization: 'Bearer dev-token' };
    const up = await fetch(`${base}/v1/models`, { method: 'POST', headers: auth, body: bytes });
    const upBody = await up.text();
    if (!up.ok) {
      console.log(`| ${file} | ${(bytes.length / 1e6).toFixed(1)} | ${up.status}: ${upBody.slice(0, 120)} | | | | | | | |`);
      continue;
    }
    const sha = JSON.parse(upBody).sha256;
    const shard = (start: number) => JSON.stringify({ model: sha, inputs: [{ values: Array(size).fill(0.5) }], sigma: 0.5, seed: 0, stream: 1, start, count: Number(values.count), batchSize: Number(values.batch) });
    const post = async (start: number) => {
      const t = performance.now();
      const c = pid ? cpu() : 0;
      const res = await fetch(`${base}/v1/shards`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: shard(start) });
      const text = await res.text();
      if (!res.ok) throw new Error(`shard answered ${res.status}: ${text.slice(0, 200)}`);
      return { wall: (performance.now() - t) / 1000, cpu: pid ? cpu() - c : NaN };
    };
    const cold = await post(0);
    const warm = [];
    for (let r = 1; r <= Number(values.reps); r++) warm.push(await post(r * Number(values.count)));
    const n = Number(values.count);
    const { wasmBytes } = ((await (await fetch(`${base}/healthz`)).json()) as { memory: { wasmBytes: number } }).memory;
    const probe = await inspector(inspectorPort);
    const heap = await probe.heap();
    probe.close();
    const isolate = [wasmBytes, heap.usedSize, heap.backingStorageSize].map((b) => b / MiB);
    const memory = `${isolate.map((m) => m.toFixed(0)).join(' + ')} = ${isolate.reduce((a, b) => a + b).toFixed(0)}`;
    // Only at batch 1 is the wasm memory after the shards the one creation left (larger batches grow it).
    const peak = Number(values.batch) === 1 ? `>= ${((wasmBytes + bytes.length) / MiB).toFixed(0)}` : '(batch 1 only)';
    const wallRates = warm.map((w) => n / w.wall);
    const cpuRates = warm.map((w) => n / w.cpu);
    console.log(`| ${file} | ${(bytes.length / 1e6).toFixed(1)} | ok | ${cold.wall.toFixed(1)} | ${median(wallRates).toFixed(1)} (${spread(wallRates)}) | ${median(cpuRates).toFixed(1)} (${spread(cpuRates)}) | ${(1000 / median(cpuRates)).toFixed(1)} | ${pid ? hwm().toFixed(0) : '-'} (${pids.length} workerd) | ${memory} | ${peak} |`);
  } catch (e) {
    console.log(`| ${file} | ${(bytes.length / 1e6).toFixed(1)} | failed: ${(e as Error).message.split('\n')[0]} | | | | | | | |`);
  } finally {
    process.kill(-proc.pid!, 'SIGTERM');
  }
}
