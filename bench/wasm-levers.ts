/**
 * onnxruntime-web wasm levers on one model, side by side in one process (one thread), each
 * against irs-edge's current session (graph optimization 'all', dynamic batch, outputs
 * allocated per run): free dimension overrides (a fixed batch), graph optimization levels,
 * batch size, and preallocated output tensors. Repetitions are interleaved across the levers,
 * so machine load drifts over all of them alike. Each lever's argmax over the same noisy
 * inputs is compared with the current session's (certificates depend on nothing else), and
 * its logits bit for bit.
 *
 *   npm run bench -- wasm-levers [--model mnist-small-s0.50] [--batches 16,64,256] [--seconds 0.5] [--reps 5]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { loadMnist } from '../src/data/mnist.ts';
import { fillGaussianNoise } from '../src/noise/gaussian.ts';
import { cpuSeconds, median, spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mnist-small-s0.50' },
    batches: { type: 'string', default: '16,64,256' },
    seconds: { type: 'string', default: '0.5' },
    reps: { type: 'string', default: '5' },
    check: { type: 'string', default: '4096' },
  },
});
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const bytes = readFileSync(new URL(`../models/${values.model}.onnx`, import.meta.url));
const mnist = loadMnist('test');
const DIM = 784;
const batches = values.batches!.split(',').map(Number);
const minSeconds = Number(values.seconds);
const reps = Number(values.reps);

type Level = 'disabled' | 'basic' | 'extended' | 'all';
interface Lever { name: string; batch: number; level: Level; fixed: boolean; prealloc: boolean; session?: ort.InferenceSession; out?: ort.Tensor; rates: number[]; wall: number[] }
const levers: Lever[] = [];
for (const batch of batches) {
  levers.push({ name: 'current (all, dynamic batch)', batch, level: 'all', fixed: false, prealloc: false, rates: [], wall: [] });
  levers.push({ name: 'free dimension override (batch fixed)', batch, level: 'all', fixed: true, prealloc: false, rates: [], wall: [] });
  levers.push({ name: 'preallocated output', batch, level: 'all', fixed: false, prealloc: true, rates: [], wall: [] });
  levers.push({ name: 'fixed batch + preallocated output', batch, level: 'all', fixed: true, prealloc: true, rates: [], wall: [] });
  for (const level of ['disabled', 'basic', 'extended'] as Level[]) levers.push({ name: `graph optimization '${level}'`, batch, level, fixed: false, prealloc: false, rates: [], wall: [] });
}

const probe = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
const inputName = probe.inputNames[0];
const outputName = probe.outputNames[0];
const dimParam = (probe.inputMetadata[0] as unknown as { shape: readonly (number | string)[] }).shape[0];
await probe.release();

for (const l of levers) {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: l.level };
  if (l.fixed) options.freeDimensionOverrides = { [String(dimParam)]: l.batch };
  l.session = await ort.InferenceSession.create(bytes, options);
}

// Noisy inputs, the same for every lever.
function noisy(count: number): Float32Array {
  const x = new Float32Array(count * DIM);
  fillGaussianNoise(x, { seed: 16, stream: 1 }, 0, count, DIM, 0.5);
  for (let s = 0; s < count; s++) {
    const img = mnist.input(s % mnist.size);
    for (let e = 0; e < DIM; e++) x[s * DIM + e] += img[e];
  }
  return x;
}

async function run(l: Lever, x: Float32Array): Promise<Float32Array> {
  const feeds = { [inputName]: new ort.Tensor('float32', x, [l.batch, 1, 28, 28]) };
  if (l.prealloc) {
    l.out ??= new ort.Tensor('float32', new Float32Array(l.batch * 10), [l.batch, 10]);
    const r = await l.session!.run(feeds, { [outputName]: l.out });
    return r[outputName].data as Float32Array;
  }
  const r = await l.session!.run(feeds, [outputName]);
  return r[outputName].data as Float32Array;
}

// Agreement with the current session of the same batch size.
const checkCount = Number(values.check);
const xs = noisy(checkCount);
const reference = new Map<number, Float32Array>();
const agreement = new Map<Lever, string>();
for (const l of levers) {
  const logits = new Float32Array(checkCount * 10);
  for (let first = 0; first + l.batch <= checkCount; first += l.batch) logits.set(await run(l, xs.subarray(first * DIM, (first + l.batch) * DIM)), first * 10);
  if (!reference.has(l.batch)) { reference.set(l.batch, logits); agreement.set(l, 'reference'); continue; }
  const ref = reference.get(l.batch)!;
  let argDiff = 0;
  let bitDiff = 0;
  for (let s = 0; s < checkCount; s++) {
    let a = 0, b = 0;
    for (let k = 0; k < 10; k++) {
      if (logits[s * 10 + k] !== ref[s * 10 + k]) bitDiff++;
      if (logits[s * 10 + k] > logits[s * 10 + a]) a = k;
      if (ref[s * 10 + k] > ref[s * 10 + b]) b = k;
    }
    if (a !== b) argDiff++;
  }
  agreement.set(l, `${argDiff} argmax, ${bitDiff} logits differ`);
}

const inputs = new Map(batches.map((b) => [b, noisy(b)]));
for (let r = 0; r < reps; r++) {
  for (const l of levers) {
    const x = inputs.get(l.batch)!;
    await run(l, x); // warm-up
    let done = 0;
    const t = performance.now();
    const c = cpuSeconds();
    do { await run(l, x); done += l.batch; } while (performance.now() - t < minSeconds * 1000);
    l.rates.push(done / (cpuSeconds() - c)); // per CPU-second: the machine is shared
    l.wall.push(done / ((performance.now() - t) / 1000));
  }
}

console.log(`${values.model}, onnxruntime-web wasm, 1 thread; median of ${reps} interleaved runs of >= ${minSeconds} s (min-max), samples per CPU-second of this process (wall-clock rate in the last column); agreement over ${checkCount} noisy MNIST inputs (sigma 0.5) against the current session at the same batch\n`);
console.log('| batch | lever | samples per CPU-s | vs current, same batch | vs current at the first batch | agreement | wall samples/s |');
console.log('|---|---|---|---|---|---|---|');
const base16 = median(levers.find((l) => l.batch === batches[0] && l.name.startsWith('current'))!.rates);
for (const l of levers) {
  const cur = median(levers.find((c) => c.batch === l.batch && c.name.startsWith('current'))!.rates);
  console.log(`| ${l.batch} | ${l.name} | ${median(l.rates).toFixed(0)} (${spread(l.rates)}) | ${(median(l.rates) / cur).toFixed(3)} | ${(median(l.rates) / base16).toFixed(3)} | ${agreement.get(l)}${l.prealloc ? ' (outputs left at zero)' : ''} | ${median(l.wall).toFixed(0)} |`);
}
for (const l of levers) await l.session!.release();
