/**
 * The IRS paper's networks through the `irs` command itself: compress (int8, fp16, prune 10%),
 * certify and recertify (IRS) each, on each backend, at small n. Models come from
 * bench/paper-models.py (run it first).
 *
 *   npm run bench -- paper-cli [--dir irs-data/paper] [--models resnet20,resnet110,resnet50]
 *                              [--backends node,wasm] [--count 2] [--n0 10] [--n 100] [--np 50]
 *
 * Prints one row per command: exit status, wall seconds, peak RSS of the process (from
 * /usr/bin/time when it exists), and what the certificate says (samples, radii, IRS branches).
 * A failing command's row carries the first line of its error, so whatever does not run says why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'irs-data/paper' },
    models: { type: 'string', default: 'resnet20,resnet110,resnet50' },
    backends: { type: 'string', default: 'node,wasm' },
    methods: { type: 'string', default: 'int8,fp16,fp16-native,prune' },
    count: { type: 'string', default: '2' },
    n0: { type: 'string', default: '10' },
    n: { type: 'string', default: '100' },
    np: { type: 'string', default: '50' },
    sigma: { type: 'string', default: '0.5' },
    batch: { type: 'string', default: '16' },
  },
});
const IRS = fileURLToPath(new URL('../bin/irs.js', import.meta.url));
const dir = resolve(values.dir!);
const out = join(dir, 'cli');
mkdirSync(out, { recursive: true });
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Row { step: string; model: string; backend: string; rc: number; seconds: number; rssMB?: number; what: string }
const rows: Row[] = [];

function irs(step: string, model: string, backend: string, args: string[], describe: (json: any) => string): boolean {
  const argv = TIME ? ['-f', 'irs-peak-rss-kb %M', process.execPath, IRS, ...args] : [IRS, ...args];
  const t = performance.now();
  const r = spawnSync(TIME ?? process.execPath, argv, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  const rss = /irs-peak-rss-kb (\d+)/.exec(r.stderr ?? '')?.[1];
  const rc = r.status ?? -1;
  let what: string;
  if (rc === 0) {
    try { what = describe(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')); } catch { what = 'ok'; }
  } else {
    what = ((r.stderr ?? '').split('\n').find((l) => /error|cannot|refus|abort|memory/i.test(l)) ?? (r.stderr ?? '').split('\n')[0] ?? '').slice(0, 200);
  }
  rows.push({ step, model, backend, rc, seconds, rssMB: rss ? Number(rss) / 1024 : undefined, what });
  const last = rows[rows.length - 1];
  console.error(`${step} ${model} ${backend}: rc ${rc}, ${seconds.toFixed(1)} s${last.rssMB ? `, ${last.rssMB.toFixed(0)} MB` : ''}: ${what}`);
  return rc === 0;
}

const radii = (c: any) => (c.results ?? []).map((x: any) => (x.radius ?? 0).toFixed(3)).join(' ');
const common = ['--sigma', values.sigma!, '--batch', values.batch!, '--quiet', '--json'];
for (const model of values.models!.split(',')) {
  const data = model === 'resnet50' ? 'imagenet' : 'cifar';
  for (const backend of values.backends!.split(',')) {
    const tag = `${model}-${backend}`;
    const variants: [string, string][] = [];
    for (const method of values.methods!.split(',')) {
      const extra = method === 'prune' ? ['--amount', '0.1'] : method === 'int8' ? ['--calibration', `${data}-calib.npy`, '--calibration-sigma', values.sigma!] : [];
      const file = join(out, `${tag}-${method}.onnx`);
      if (irs(`compress ${method}`, model, backend, ['compress', '--model', `${model}.onnx`, '--method', method, ...extra, '--backend', backend, '--out', file, '--json'],
        (j) => `${(j.bytesBefore / 1e6).toFixed(1)} -> ${(j.bytesAfter / 1e6).toFixed(1)} MB${j.quantizedNodes ? `, ${j.quantizedNodes} nodes quantized` : ''}${j.sparsity ? `, sparsity ${j.sparsity.toFixed(3)}` : ''}`)) {
        variants.push([method, file]);
      }
    }
    const cert = join(out, `${tag}.json`);
    const ok = irs('certify', model, backend, ['certify', '--model', `${model}.onnx`, '--data', `${data}-inputs.npy`, '--labels', `${data}-labels.npy`, '--count', values.count!,
      '--n0', values.n0!, '--n', values.n!, '--backend', backend, '--out', cert, ...common],
    (j) => `${j.summary?.samples} samples, radii ${radii(JSON.parse(readFileSync(cert, 'utf8')))}`);
    if (!ok) continue;
    for (const [method, file] of variants) {
      const irsOut = join(out, `${tag}-${method}-irs.json`);
      irs(`recertify ${method}`, model, backend, ['recertify', '--original', cert, '--model', file, '--data', `${data}-inputs.npy`, '--labels', `${data}-labels.npy`, '--np', values.np!, '--backend', backend, '--out', irsOut, ...common],
        (j) => { const c = JSON.parse(readFileSync(irsOut, 'utf8')); return `${j.summary?.samples} samples, radii ${radii(c)}, zeta ${(c.results ?? []).map((x: any) => x.zeta === undefined ? '-' : Number(x.zeta).toFixed(3)).join(' ')}`; });
    }
  }
}

console.log(`\ncount ${values.count}, n0 ${values.n0}, n ${values.n}, n_p ${values.np}, sigma ${values.sigma}, batch ${values.batch}, 1 thread\n`);
console.log('| step | model | backend | exit | wall s | peak RSS MB | result |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.step} | ${r.model} | ${r.backend} | ${r.rc} | ${r.seconds.toFixed(1)} | ${r.rssMB?.toFixed(0) ?? '-'} | ${r.what} |`);
