/**
 * The IRS paper's Tables 8-10 for irs-edge's bundled models: clean accuracy of every
 * compressed variant, and the mean disagreement bound zeta (n_p = 1,000, alpha_zeta = 0.001)
 * between each variant and the original on the original's estimation noise.
 *
 *   npm run bench -- compression-table [--models mnist-small-s0.25,...] [--count 100] [--backend node]
 *
 * zeta is computed for every input the original certified (gamma = 1 sends all of them to the
 * zeta branch), so the mean covers the same inputs for every method.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadClassifier, type BackendName } from '../src/inference/index.ts';
import { runCertifyJob } from '../src/jobs/certify-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { cleanAccuracy } from '../src/jobs/common.ts';
import { compressModel, type Method } from '../src/onnx/compress/index.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { selectIndices } from '../src/data/dataset.ts';
import { sha256Hex } from '../src/util/digest.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mnist-small-s0.25,mnist-small-s0.50,mnist-small-s1.00' },
    count: { type: 'string', default: '100' },
    np: { type: 'string', default: '1000' },
    backend: { type: 'string', default: 'node' },
  },
});
const backend = values.backend as BackendName;
const np = Number(values.np);
const test = loadMnist('test');
const train = loadMnist('train');
const everything = {
  source: 'mnist:test', indices: [] as number[],
  inputs: Array.from({ length: test.size }, (_, i) => test.input(i)), labels: Array.from({ length: test.size }, (_, i) => test.label(i)),
};
const idx = selectIndices(test.size, Number(values.count), Math.floor(test.size / Number(values.count)));
const data = { source: 'mnist:test', indices: idx, inputs: idx.map((i) => test.input(i)), labels: idx.map((i) => test.label(i)) };
const methods: [string, Method, number?][] = [
  ['int8', 'int8'], ['fp16', 'fp16'], ['fp16-native', 'fp16-native'], ['prune 5%', 'prune', 0.05], ['prune 10%', 'prune', 0.1], ['prune 20%', 'prune', 0.2],
];

const accRows: string[] = [];
const zetaRows: string[] = [];
for (const name of values.models!.split(',')) {
  const bytes = readFileSync(new URL(`../models/${name}.onnx`, import.meta.url));
  const sigma = Number(/s(\d\.\d\d)$/.exec(name)![1]);
  const f = await loadClassifier(bytes, backend);
  const floatAcc = await cleanAccuracy(f, everything);
  const { certificate, cache } = await runCertifyJob({
    classifier: f, model: { sha256: await sha256Hex(bytes), bytes: bytes.length }, data,
    params: { sigma, seed: 0, n0: 100, n: np, alpha: 0.001, batchSize: 500 },
  });
  await f.dispose();
  const acc = [`${(100 * floatAcc).toFixed(2)}`];
  const zetas: string[] = [];
  for (const [, method, amount] of methods) {
    const calibration = { source: 'mnist:train', inputs: Array.from({ length: 512 }, (_, i) => train.input(i)), sigma };
    const { bytes: vb } = await compressModel(bytes, { method, amount, calibration, backend });
    const fp = await loadClassifier(vb, backend);
    acc.push((100 * (await cleanAccuracy(fp, everything))).toFixed(2));
    const irs = await runRecertifyJob({
      classifier: fp, model: { sha256: await sha256Hex(vb), bytes: vb.length }, data, original: certificate, cacheBytes: cache!,
      np, alphaZeta: 0.001, gamma: 1, batchSize: 500,
    });
    await fp.dispose();
    const ds = irs.results.filter((r) => r.branch === 'zeta');
    const meanDisagree = ds.reduce((s, r) => s + r.disagreements! / np, 0) / ds.length;
    zetas.push(`${irs.summary.meanZeta!.toFixed(4)} (${meanDisagree.toFixed(4)})`);
  }
  accRows.push(`| ${name} | ${acc.join(' | ')} |`);
  zetaRows.push(`| ${name} | ${zetas.join(' | ')} |`);
  process.stderr.write(`done ${name}\n`);
}
const head = methods.map(([m]) => m).join(' | ');
console.log(`Clean MNIST test accuracy (%), 10,000 images, backend ${backend}:\n`);
console.log(`| model | float32 | ${head} |\n|---|${'---|'.repeat(methods.length + 1)}`);
console.log(accRows.join('\n'));
console.log(`\nMean zeta = CP upper bound on P(f != f^p) at alpha_zeta = 0.001, n_p = ${np}, over the ${data.inputs.length} inputs certified by f ` +
  `(in brackets: the observed disagreement rate):\n`);
console.log(`| model | ${head} |\n|---|${'---|'.repeat(methods.length)}`);
console.log(zetaRows.join('\n'));
