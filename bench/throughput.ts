/**
 * Samples per second of the sampling loop (noise + add + infer + argmax + count) against bare
 * inference on the same backend, batch size and thread count; the noise generator alone; and
 * the achieved GFLOP/s against this machine's single-core fp32 peak.
 *
 *   npm run bench -- throughput [--models a,b] [--backends wasm,node] [--batches 1,4,16,64,256,1024]
 *                               [--threads 1] [--seconds 0.5] [--reps 3]
 *
 * onnxruntime-web fixes its thread count when its wasm starts, so compare thread counts in
 * separate runs (--threads 2). The peak comes from bench/native/peak-fma.c (12 chains of
 * AVX-512 FMAs), compiled with the system C compiler when there is one.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { runShard } from '../src/smoothing/sampler.ts';
import { fillGaussianNoise } from '../src/noise/gaussian.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { multiplyAdds } from './flops.ts';
import { singleCorePeak } from './peak.ts';
import { median, spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mnist-small-s0.50,mnist-large-s0.50' },
    backends: { type: 'string', default: 'wasm,node' },
    batches: { type: 'string', default: '1,4,16,64,256,1024' },
    threads: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '0.5' },
    reps: { type: 'string', default: '3' },
  },
});
const threads = Number(values.threads);
const minSeconds = Number(values.seconds);
const reps = Number(values.reps);
const mnist = loadMnist('test');
const DIM = 784;

/** Samples per second of `step` (which handles `perStep` samples), run for at least minSeconds. */
async function rate(perStep: number, step: () => Promise<void>): Promise<number> {
  await step(); // warm-up
  let done = 0;
  const t = performance.now();
  while (performance.now() - t < minSeconds * 1000) {
    await step();
    done += perStep;
  }
  return done / ((performance.now() - t) / 1000);
}

const peak = singleCorePeak();
console.log(`threads ${threads}; each figure: median of ${reps} runs of >= ${minSeconds} s (min-max)`);
console.log(peak ? `single-core fp32 peak (bench/native/peak-fma.c, best of 3): ${peak.toFixed(0)} GFLOP/s` : 'no C compiler: single-core peak not measured');
{
  const batch = 256;
  const buf = new Float32Array(batch * DIM);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    let k = 0;
    rates.push((await rate(batch, async () => { fillGaussianNoise(buf, { seed: 1, stream: 1 }, (k++) * batch, batch, DIM, 0.5); })) * DIM / 1e6);
  }
  console.log(`noise generator: ${median(rates).toFixed(1)}M normals/s (${spread(rates)}) = ${(median(rates) * 1e6 / DIM).toFixed(0)} MNIST samples/s`);
}

console.log('\n| model | MFLOP/sample | backend | batch | bare inference (samples/s) | loop, 1 input | loop, 16 inputs (noise shared) | loop/bare (16) | GFLOP/s (bare) | of peak |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const name of values.models!.split(',')) {
  const bytes = readFileSync(new URL(`../models/${name}.onnx`, import.meta.url));
  const mflop = (2 * multiplyAdds(bytes)) / 1e6;
  for (const backend of values.backends!.split(',') as BackendName[]) {
    const c = await loadClassifier(bytes, backend, { threads });
    for (const batch of values.batches!.split(',').map(Number)) {
      const x = new Float32Array(batch * DIM);
      for (let s = 0; s < batch; s++) x.set(mnist.input(s % mnist.size), s * DIM);
      const out = new Int32Array(batch);
      const inputs16 = Array.from({ length: 16 }, (_, i) => mnist.input(i));
      const bare: number[] = [];
      const one: number[] = [];
      const many: number[] = [];
      for (let r = 0; r < reps; r++) {
        bare.push(await rate(batch, () => c.classify(x, batch, out)));
        let k = 0;
        one.push(await rate(batch, async () => { await runShard(c, [inputs16[0]], { sigma: 0.5, seed: r, stream: 1, start: (k++) * batch, count: batch, batchSize: batch }); }));
        let j = 0;
        many.push(await rate(16 * batch, async () => { await runShard(c, inputs16, { sigma: 0.5, seed: r, stream: 1, start: (j++) * batch, count: batch, batchSize: batch }); }));
      }
      const gflops = (median(bare) * mflop) / 1e3;
      console.log(`| ${name} | ${mflop.toFixed(2)} | ${backend} | ${batch} | ${median(bare).toFixed(0)} (${spread(bare)}) | ${median(one).toFixed(0)} (${spread(one)}) | ${median(many).toFixed(0)} (${spread(many)}) | ${(median(many) / median(bare)).toFixed(2)} | ${gflops.toFixed(1)} | ${peak ? `${((100 * gflops) / peak).toFixed(0)}%` : '-'} |`);
    }
    await c.dispose();
  }
}
