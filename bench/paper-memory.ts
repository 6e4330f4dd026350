/**
 * Peak memory of one model on one backend, each in a fresh process (wasm memory only grows, so
 * one process per configuration): the wasm linear memory onnxruntime-web allocates (captured
 * by wrapping the WebAssembly.Memory constructor), the process's resident set, and the JS
 * heap and ArrayBuffers, after session creation and after inference at a batch size.
 *
 *   npm run bench -- paper-memory [--dir irs-data/paper] [--models resnet50,cli/resnet50-wasm-int8,...]
 *                                 [--backends wasm,node] [--batches 1,8]
 *
 * A Workers isolate's 128 MB holds the wasm memory, the JS heap and the model's bytes as read
 * from R2 (the caller's copy; onnxruntime copies it into wasm memory to create the session).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'irs-data/paper' },
    models: { type: 'string', default: 'resnet20,resnet110,resnet50' },
    backends: { type: 'string', default: 'wasm,node' },
    batches: { type: 'string', default: '1,8' },
    child: { type: 'string' },
  },
});

const MB = 2 ** 20;

if (values.child) {
  const [file, backend, batchText] = values.child.split('|');
  const memories: WebAssembly.Memory[] = [];
  const Original = WebAssembly.Memory;
  (WebAssembly as any).Memory = new Proxy(Original, {
    construct(target, args) {
      const m = Reflect.construct(target, args) as WebAssembly.Memory;
      memories.push(m);
      return m;
    },
  });
  const { loadClassifier } = await import('../src/inference/index.ts');
  const wasmBytes = () => memories.reduce((s, m) => s + m.buffer.byteLength, 0);
  const snap = () => ({ wasmMB: wasmBytes() / MB, rssMB: process.memoryUsage().rss / MB, heapMB: process.memoryUsage().heapUsed / MB, arrayBuffersMB: process.memoryUsage().arrayBuffers / MB });
  const before = snap();
  let bytes: Uint8Array | undefined = readFileSync(file);
  const modelMB = bytes.length / MB;
  const c = await loadClassifier(bytes, backend as 'wasm' | 'node');
  const loaded = snap();
  bytes = undefined; // a Worker can drop its copy once the session exists
  const batch = Number(batchText);
  const x = new Float32Array(batch * c.inputSize).fill(0.5);
  await c.classify(x, batch, new Int32Array(batch));
  await c.classify(x, batch, new Int32Array(batch));
  const ran = snap();
  console.log(JSON.stringify({ modelMB, before, loaded, ran }));
  await c.dispose();
  process.exit(0);
}

const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const self = fileURLToPath(import.meta.url);
console.log('| model | MB on disk | backend | batch | wasm memory after create (MiB) | wasm memory after inference (MiB) | RSS after inference (MiB) | RSS growth over bare runtime (MiB) | JS heap + ArrayBuffers (MiB) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const model of values.models!.split(',')) {
  for (const backend of values.backends!.split(',')) {
    for (const batch of values.batches!.split(',')) {
      const r = spawnSync(tsx, [self, '--child', `${join(values.dir!, `${model}.onnx`)}|${backend}|${batch}`], { encoding: 'utf8', maxBuffer: 16 << 20 });
      const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
      let j: any;
      try { j = JSON.parse(line); } catch {
        console.log(`| ${model} | - | ${backend} | ${batch} | failed: ${(r.stderr ?? '').split('\n').find((l) => /error/i.test(l)) ?? r.status} | | | | |`);
        continue;
      }
      const wasm = (v: number) => (backend === 'wasm' ? v.toFixed(0) : '-');
      console.log(`| ${model} | ${j.modelMB.toFixed(1)} | ${backend} | ${batch} | ${wasm(j.loaded.wasmMB)} | ${wasm(j.ran.wasmMB)} | ${j.ran.rssMB.toFixed(0)} | ${(j.ran.rssMB - j.before.rssMB).toFixed(0)} | ${(j.ran.heapMB + j.ran.arrayBuffersMB).toFixed(0)} |`);
    }
  }
}
