/**
 * Per-sample cost of the IRS paper's networks (bench/paper-models.py; compressed variants from
 * bench/paper-cli.ts): bare inference per backend and batch size, the sampling loop (noise +
 * add + infer + argmax + count, one input per shard: the worst case for noise) at the best
 * batch, the noise generator alone at the input's dimension, and GFLOP/s against the core's
 * measured peak.
 *
 *   npm run bench -- paper-cost [--dir irs-data/paper] [--models resnet20,resnet110,resnet50]
 *                               [--backends node,wasm] [--batches 1,4,16] [--seconds 1] [--reps 3]
 *
 * A model name is a file under --dir without `.onnx` (e.g. cli/resnet50-node-int8). One thread.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { runShard } from '../src/smoothing/sampler.ts';
import { fillGaussianNoise } from '../src/noise/gaussian.ts';
import { decodeModel, inputShape } from '../src/onnx/model.ts';
import { multiplyAdds } from './flops.ts';
import { singleCorePeak } from './peak.ts';
import { cpuSeconds, median, spread } from './stats.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'irs-data/paper' },
    models: { type: 'string', default: 'resnet20,resnet110,resnet50' },
    flopsOf: { type: 'string' },
    backends: { type: 'string', default: 'node,wasm' },
    batches: { type: 'string', default: '1,4,16' },
    seconds: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    noise: { type: 'string', default: '3072,150528' },
    peak: { type: 'string' },
  },
});
const minSeconds = Number(values.seconds);
const reps = Number(values.reps);

async function rate(perStep: number, step: () => Promise<void>): Promise<number> {
  await step(); // warm-up
  let done = 0;
  const t = performance.now();
  const c = cpuSeconds();
  do {
    await step();
    done += perStep;
  } while (performance.now() - t < minSeconds * 1000);
  // Per CPU-second of this process (one inference thread): the machine is shared, and CPU time
  // is what Workers bill.
  return done / (cpuSeconds() - c);
}

const peak = values.peak ? Number(values.peak) : singleCorePeak();
console.log(`1 thread; each figure the median of ${reps} runs of >= ${minSeconds} s (min-max), in samples per CPU-second of this process`);
console.log(peak ? `single-core fp32 peak (bench/native/peak-fma.c): ${peak.toFixed(0)} GFLOP/s` : 'no C compiler: peak not measured');

const noiseRate = new Map<number, number>();
console.log('\n| dimension | noise generator (M normals/s) | samples/s | ms per sample |');
console.log('|---|---|---|---|');
for (const dim of values.noise!.split(',').map(Number)) {
  const batch = Math.max(1, Math.floor(2 ** 20 / dim));
  const buf = new Float32Array(batch * dim);
  const rs: number[] = [];
  for (let r = 0; r < reps; r++) {
    let k = 0;
    rs.push(await rate(batch, async () => { fillGaussianNoise(buf, { seed: 1, stream: 1 }, (k++) * batch, batch, dim, 0.5); }));
  }
  noiseRate.set(dim, median(rs));
  console.log(`| ${dim} | ${((median(rs) * dim) / 1e6).toFixed(1)} (${rs.map((x) => ((x * dim) / 1e6).toFixed(1)).join(', ')}) | ${median(rs).toFixed(1)} | ${(1000 / median(rs)).toFixed(2)} |`);
}

console.log('\n| model | GFLOP/sample | backend | batch | bare inference (samples/s) | ms/sample | GFLOP/s | of peak |');
console.log('|---|---|---|---|---|---|---|---|');
const best: string[] = [];
const record: Record<string, Record<string, { batch: number; bareMsPerSample: number; loopMsPerSample: number; gflop: number }>> = {};
for (const name of values.models!.split(',')) {
  const bytes = readFileSync(join(values.dir!, `${name}.onnx`));
  const shape = inputShape(decodeModel(bytes));
  const dim = shape.reduce((a, b) => a * b, 1);
  // FLOPs of the float graph (a QDQ or float16 graph does the same multiply-adds).
  const base = name.replace(/^cli\//, '').replace(/-(node|wasm)-.*$/, '');
  const gflop = (2 * multiplyAdds(readFileSync(join(values.dir!, `${base}.onnx`)), [shape[1], shape[2]])) / 1e9;
  for (const backend of values.backends!.split(',') as BackendName[]) {
    let c;
    try {
      c = await loadClassifier(bytes, backend, { threads: 1 });
    } catch (e) {
      console.log(`| ${name} | ${gflop.toFixed(3)} | ${backend} | - | cannot load: ${(e as Error).message.split('\n')[0]} | | | |`);
      continue;
    }
    let top = { batch: 0, rate: 0 };
    for (const batch of values.batches!.split(',').map(Number)) {
      const x = new Float32Array(batch * dim);
      for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
      const out = new Int32Array(batch);
      const rs: number[] = [];
      for (let r = 0; r < reps; r++) rs.push(await rate(batch, () => c.classify(x, batch, out)));
      const m = median(rs);
      if (m > top.rate) top = { batch, rate: m };
      const g = m * gflop;
      console.log(`| ${name} | ${gflop.toFixed(3)} | ${backend} | ${batch} | ${m.toFixed(1)} (${spread(rs)}) | ${(1000 / m).toFixed(2)} | ${g.toFixed(1)} | ${peak ? `${((100 * g) / peak).toFixed(0)}%` : '-'} |`);
    }
    // The whole sampling loop at the best batch, one input per shard (noise not shared).
    const input = new Float32Array(dim).fill(0.5);
    const loop: number[] = [];
    for (let r = 0; r < reps; r++) {
      let k = 0;
      loop.push(await rate(top.batch, async () => { await runShard(c, [input], { sigma: 0.5, seed: r, stream: 1, start: (k++) * top.batch, count: top.batch, batchSize: top.batch }); }));
    }
    const noise = noiseRate.get(dim);
    const share = noise ? (1 / noise) / (1 / median(loop)) : undefined;
    best.push(`| ${name} | ${gflop.toFixed(3)} | ${backend} | ${top.batch} | ${top.rate.toFixed(1)} | ${median(loop).toFixed(1)} (${spread(loop)}) | ${(1000 / median(loop)).toFixed(2)} | ${(median(loop) / top.rate).toFixed(2)} | ${share === undefined ? '-' : `${(100 * share).toFixed(1)}%`} | ${peak ? `${((100 * top.rate * gflop) / peak).toFixed(0)}%` : '-'} |`);
    (record[name] ??= {})[backend] = { batch: top.batch, bareMsPerSample: 1000 / top.rate, loopMsPerSample: 1000 / median(loop), gflop };
    await c.dispose();
  }
}
// Merged into earlier runs' figures, so models can be measured in separate runs.
const costFile = join(values.dir!, 'cost.json');
const earlier = existsSync(costFile) ? JSON.parse(readFileSync(costFile, 'utf8')).record : {};
for (const [m, b] of Object.entries(record)) earlier[m] = { ...earlier[m], ...b };
writeFileSync(costFile, JSON.stringify({ peak, record: earlier }, null, 1));
console.log('\nBest batch, and the sampling loop there (one input per shard):\n');
console.log('| model | GFLOP/sample | backend | best batch | bare (samples/s) | loop (samples/s) | loop ms/sample | loop/bare | noise share of the loop | of peak (bare) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const b of best) console.log(b);
