/**
 * `irs certify` on both backends against Cohen et al.'s CERTIFY loop in PyTorch, in one run,
 * one thread each, on the same inputs, model weights and parameters.
 *
 *   npm run bench -- backends-vs-pytorch [--model models/mnist-small-s0.50.onnx] [--sigma 0.5]
 *       [--count 100] [--n0 100] [--n 10000] [--alpha 0.001] [--rounds 3]
 *       [--torch-batches 256,1000] [--python /usr/bin/python3] [--budget-s S]
 *
 * --budget-s: start another round only if the rounds so far say it will end within S seconds
 * of the start (the machine is shared, and one round of the default problem takes minutes).
 *
 * The torch side is bench/pytorch-cohen.py: models/train.py's architecture with the ONNX
 * file's initializers loaded into it (Debian's python3-torch, python3-onnx, python3-scipy).
 * Before any timing, the torch model's clean predictions on the whole MNIST test set are
 * checked against onnxruntime-node's on the same ONNX file; the benchmark stops if one differs.
 *
 * Each round runs every runner once, as a separate process, the order rotated by one each
 * round so that a change in the machine's load does not always fall on the same runner.
 * Reported per runner: the median over rounds of the certify loop's seconds (torch: Cohen's
 * per-input timing summed; irs: the certificate's `seconds`), of the process's wall time
 * (interpreter start, imports, model load included), samples/s = (n0 + n) * count / loop
 * seconds, the ACR, and its difference from irs --backend node in the same round.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClassifier } from '../src/inference/index.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/mnist-small-s0.50.onnx' },
    sigma: { type: 'string', default: '0.5' },
    count: { type: 'string', default: '100' },
    n0: { type: 'string', default: '100' },
    n: { type: 'string', default: '10000' },
    alpha: { type: 'string', default: '0.001' },
    rounds: { type: 'string', default: '3' },
    'budget-s': { type: 'string', default: 'Infinity' },
    'torch-batches': { type: 'string', default: '256,1000' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const { model, sigma, count, n0, n, alpha, python } = values;
const rounds = Number(values.rounds);
const samples = (Number(n0) + Number(n)) * Number(count);
const dir = mkdtempSync(join(tmpdir(), 'irs-vs-torch-'));

function run(cmd: string, args: string[]): { stdout: string; wall: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr}`);
  return { stdout: r.stdout, wall };
}

// 1. The torch model is the ONNX model: same clean predictions on all 10,000 test images.
{
  const mnist = loadMnist('test');
  const clf = await loadClassifier(new Uint8Array(readFileSync(model)), 'node', { threads: 1 });
  const preds: number[] = [];
  const B = 1000;
  for (let i = 0; i < mnist.size; i += B) {
    const m = Math.min(B, mnist.size - i);
    const x = new Float32Array(m * 784);
    for (let j = 0; j < m; j++) x.set(mnist.input(i + j), j * 784);
    const out = new Int32Array(m);
    await clf.classify(x, m, out);
    preds.push(...out);
  }
  await clf.dispose();
  const file = join(dir, 'onnx-preds.json');
  writeFileSync(file, JSON.stringify(preds));
  const r = spawnSync(python, ['bench/pytorch-cohen.py', '--model', model, '--sigma', sigma, '--verify', file], { encoding: 'utf8' });
  console.log(`torch vs onnxruntime-node, clean predictions: ${r.stdout.trim()}`);
  if (r.status !== 0) {
    console.error(r.stderr);
    throw new Error('the torch model does not reproduce the ONNX model; not timing it');
  }
}

// 2. The runners.
interface Runner { name: string; exec(): { seconds: number; wall: number; acr: number; abstained: number } }
const common = ['--sigma', sigma, '--n0', n0, '--n', n, '--alpha', alpha, '--count', count];
const runners: Runner[] = [
  ...values['torch-batches'].split(',').map((b): Runner => ({
    name: `PyTorch, Cohen's CERTIFY, batch ${b}`,
    exec() {
      const r = run(python, ['bench/pytorch-cohen.py', '--model', model, ...common, '--batch', b, '--threads', '1']);
      const j = JSON.parse(r.stdout);
      return { seconds: j.seconds, wall: r.wall, acr: j.acr, abstained: j.abstained };
    },
  })),
  ...(['node', 'wasm'] as const).map((backend): Runner => ({
    name: `irs certify --backend ${backend}`,
    exec() {
      const r = run(process.execPath, ['bin/irs.js', 'certify', '--model', model, '--data', 'mnist:test', ...common,
        '--backend', backend, '--threads', '1', '--json', '--quiet', '--out', join(dir, `${backend}.json`)]);
      const j = JSON.parse(r.stdout);
      return { seconds: j.summary.seconds, wall: r.wall, acr: j.summary.acr, abstained: j.summary.abstained };
    },
  })),
];

type Result = ReturnType<Runner['exec']> & { round: number };
const results = new Map<string, Result[]>(runners.map((r) => [r.name, []]));
const loads: number[] = [];
console.log(`${count} MNIST test images (0..${Number(count) - 1}), ${model}, sigma ${sigma}, n0 ${n0}, n ${n}, alpha ${alpha}, 1 thread, ${rounds} rounds`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const start = Date.now();
const budget = Number(values['budget-s']);
let done = 0;
for (let round = 0; round < rounds; round++) {
  const elapsed = (Date.now() - start) / 1000;
  if (round > 0 && elapsed + elapsed / round > budget) {
    console.log(`stopping after ${round} round(s): another would end past --budget-s ${budget}`);
    break;
  }
  for (let k = 0; k < runners.length; k++) {
    const runner = runners[(k + round) % runners.length];
    const res = { ...runner.exec(), round };
    loads.push(loadavg()[0]);
    results.get(runner.name)!.push(res);
    console.log(`round ${round + 1}  ${runner.name.padEnd(38)} loop ${res.seconds.toFixed(1)} s  wall ${res.wall.toFixed(1)} s  ACR ${res.acr.toFixed(4)}  abstained ${res.abstained}  (load ${loadavg()[0].toFixed(2)})`);
  }
  done = round + 1;
}

// 3. The table.
const nodeAcr = new Map(results.get('irs certify --backend node')!.map((r) => [r.round, r.acr]));
const med = (name: string, f: (r: Result) => number) => median(results.get(name)!.map(f));
const torchNames = runners.filter((r) => r.name.startsWith('PyTorch')).map((r) => r.name);
const best = torchNames.reduce((a, b) => (med(a, (r) => r.seconds) <= med(b, (r) => r.seconds) ? a : b));
const bestSec = med(best, (r) => r.seconds);
console.log(`\nload average (1 min) after each run: min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}`);
console.log(`${done} round(s), ${((Date.now() - start) / 1000).toFixed(0)} s in all; PyTorch's best batch: ${best}\n`);
console.log('| runner | certify loop, s (median) | process wall, s (median) | samples/s | speed vs PyTorch best | ACR (median) | ACR − irs node (max abs over rounds) |');
console.log('|---|---|---|---|---|---|---|');
for (const { name } of runners) {
  const sec = med(name, (r) => r.seconds);
  const dAcr = Math.max(...results.get(name)!.map((r) => Math.abs(r.acr - nodeAcr.get(r.round)!)));
  console.log(`| ${name} | ${sec.toFixed(1)} | ${med(name, (r) => r.wall).toFixed(1)} | ${Math.round(samples / sec).toLocaleString('en-US')} | ${(bestSec / sec).toFixed(2)}x | ${med(name, (r) => r.acr).toFixed(4)} | ${dAcr.toFixed(4)} |`);
}
