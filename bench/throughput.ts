/**
 * Samples per second of the sampling loop (noise + add + infer + argmax + count) against bare
 * inference on the same backend and batch, and the noise generator alone.
 *
 *   npm run bench -- throughput [--models a,b] [--backends wasm,node] [--batch 256] [--reps 5]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { runShard } from '../src/smoothing/sampler.ts';
import { fillGaussianNoise } from '../src/noise/gaussian.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { median, spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mnist-small-s0.50,mnist-large-s0.50' },
    backends: { type: 'string', default: 'wasm,node' },
    batch: { type: 'string', default: '256' },
    samples: { type: 'string', default: '4096' },
    reps: { type: 'string', default: '5' },
  },
});
const batch = Number(values.batch);
const samples = Number(values.samples);
const reps = Number(values.reps);
const mnist = loadMnist('test');

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

console.log(`batch ${batch}, ${samples} samples per measurement, median of ${reps} (min-max)`);
{
  const dim = 784;
  const buf = new Float32Array(batch * dim);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = await time(async () => {
      for (let k = 0; k < samples / batch; k++) fillGaussianNoise(buf, { seed: 1, stream: 1 }, k * batch, batch, dim, 0.5);
    });
    rates.push((samples * dim) / s / 1e6);
  }
  console.log(`noise generator: ${median(rates).toFixed(1)}M normals/s (${spread(rates)}) = ${(median(rates) * 1e6 / dim).toFixed(0)} MNIST samples/s`);
}

console.log('\n| model | backend | bare inference (samples/s) | loop, 1 input | loop, 16 inputs (noise shared) | loop/bare (16) |');
console.log('|---|---|---|---|---|---|');
for (const name of values.models!.split(',')) {
  const bytes = readFileSync(new URL(`../models/${name}.onnx`, import.meta.url));
  for (const backend of values.backends!.split(',') as BackendName[]) {
    const c = await loadClassifier(bytes, backend);
    const x = new Float32Array(batch * 784);
    for (let s = 0; s < batch; s++) x.set(mnist.input(s), s * 784);
    const out = new Int32Array(batch);
    await c.classify(x, batch, out); // warm-up
    const bare: number[] = [];
    const one: number[] = [];
    const many: number[] = [];
    const inputs16 = Array.from({ length: 16 }, (_, i) => mnist.input(i));
    for (let r = 0; r < reps; r++) {
      bare.push(samples / (await time(async () => { for (let k = 0; k < samples / batch; k++) await c.classify(x, batch, out); })));
      const spec = { sigma: 0.5, seed: r, stream: 1, start: 0, count: samples, batchSize: batch };
      one.push(samples / (await time(async () => { await runShard(c, [inputs16[0]], spec); })));
      const spec16 = { ...spec, count: samples / 16 };
      many.push(samples / (await time(async () => { await runShard(c, inputs16, spec16); })));
    }
    await c.dispose();
    console.log(`| ${name} | ${backend} | ${median(bare).toFixed(0)} (${spread(bare)}) | ${median(one).toFixed(0)} (${spread(one)}) | ${median(many).toFixed(0)} (${spread(many)}) | ${(median(many) / median(bare)).toFixed(2)} |`);
  }
}
