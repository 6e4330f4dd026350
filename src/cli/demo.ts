/**
 * `irs demo` (npm start): the main job on the embedded default — a directory store, two local
 * shard-worker processes, no account anywhere — told the way a CI user meets IRS:
 *   1. certify the original model f once (its IRS cache is the investment);
 *   2. for each compression, answer "does it still certify T% at radius r?" with decision-mode
 *      IRS, beside RS from scratch on the same question with the same sample cap;
 *   3. let `tune` choose the smallest compression that meets T;
 *   4. the paper's comparison: IRS against RS from scratch at equal n_p.
 * It prints why the numbers are what they are, and ends by naming the HTML report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createService } from '../http/app.ts';
import { IrsClient, type JobRequestInput, type JobView } from '../client/index.ts';
import { defaultFastBackend, type BackendName } from '../inference/index.ts';
import { FileStore } from '../store/fs.ts';
import { loadMnist } from '../data/mnist.ts';
import type { Certificate } from '../protocol/certificate.ts';
import { certifiedAccuracy } from '../smoothing/metrics.ts';
import { trainingSigma } from '../onnx/compress/index.ts';
import { reportHtml } from '../report/html.ts';
import { loadModel, writeAtomic } from './io.ts';
import { progressBar } from './progress.ts';
import { DEFAULTS } from '../protocol/defaults.ts';

export interface DemoOptions {
  model: string;
  /** Default: the model's training sigma (from its metadata). */
  sigma?: number;
  count: number;
  n: number;
  /** Fixed n_p of the paper-style comparison. */
  np: number;
  /** The CI question: certified accuracy at `radius`, at least f's less `drop`. */
  radius: number;
  drop: number;
  /** Sample cap per input of the decision-mode runs (IRS and RS from scratch alike). */
  cap: number;
  out: string;
  workers: number;
  backend?: BackendName;
  quiet: boolean;
}

const BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/irs.js');

async function startWorker(store: string, token: string, secret: string, backend: BackendName): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--store', store, '--tokens', `demo:${token}`, '--worker-token', secret, '--backend', backend], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on (\S+)/.exec(out);
      if (m) res(m[1]);
    });
    proc.on('exit', (code) => rej(new Error(`shard worker exited with ${code}`)));
  });
  return { url, proc };
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const backend = o.backend ?? (await defaultFastBackend());
  const log = (s = '') => process.stdout.write(s + '\n');
  const storeDir = join(o.out, 'store');
  rmSync(storeDir, { recursive: true, force: true }); // a fresh run: timings are measured, not replayed
  const token = randomBytes(16).toString('hex');
  const secret = randomBytes(16).toString('hex');
  const started = performance.now();
  const workers = await Promise.all(Array.from({ length: o.workers }, () => startWorker(`file:${storeDir}`, token, secret, backend)));
  const mnist = loadMnist('test');
  const service = createService({
    store: new FileStore(storeDir), tokens: new Map([[token, 'demo']]), workerToken: secret,
    workers: workers.map((w) => w.url), backend, dataset: (s) => (s === 'mnist:test' ? mnist : loadMnist('train')),
    fanOut: { perWorker: 1 },
  });
  const irs = new IrsClient({ baseUrl: 'http://aggregator.local', token, fetch: (u, init) => Promise.resolve(service.app.request(String(u), init)) });
  try {
    const model = await loadModel(o.model);
    const sigma = o.sigma ?? trainingSigma(model.bytes) ?? 1.0;
    const r = o.radius;
    log(`irs-edge demo: ${model.ref.name}, sigma ${sigma}, ${o.count} MNIST test images, ${o.workers} local shard workers (backend ${backend}), store ${storeDir}`);
    const { sha256 } = await irs.uploadModel(model.bytes);

    const wall = new Map<Certificate, number>();
    const run = async (label: string, req: JobRequestInput): Promise<JobView> => {
      const t0 = performance.now();
      const startedJob = await irs.startJob(req);
      let bar: ReturnType<typeof progressBar> | undefined;
      let shown = 0;
      const job: JobView = await irs.waitForJob(startedJob.id, {
        pollMs: 100,
        onProgress: (j) => {
          if (!bar && j.progress.samplesTotal > 0) bar = progressBar(label, j.progress.samplesTotal, o.quiet);
          bar?.tick(j.progress.samplesDone - shown);
          shown = j.progress.samplesDone;
        },
      }).finally(() => bar?.stop());
      if (job.certificateId) {
        const cert = await irs.certificate(job.certificateId);
        wall.set(cert, (performance.now() - t0) / 1000);
        writeAtomic(join(o.out, `${label}.json`), JSON.stringify(cert, null, 1));
        certs.set(label, cert);
      }
      return job;
    };
    const certs = new Map<string, Certificate>();
    const certOf = async (label: string, req: JobRequestInput) => {
      await run(label, req);
      return certs.get(label)!;
    };
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const secs = (c: Certificate) => `${wall.get(c)!.toFixed(1)} s`;
    const num = (x: number) => x.toLocaleString('en-US');

    // 1. f, once.
    log(`\n1. Certify f once (RS, n0 = ${DEFAULTS.n0}, n = ${num(o.n)}, alpha = ${DEFAULTS.alpha}); irs-edge keeps f's prediction on every sample as the IRS cache.`);
    const original = await certOf('original', { kind: 'certify', model: sha256, data: { source: 'mnist:test', count: o.count, skip: Math.floor(10000 / o.count) }, sigma, n0: DEFAULTS.n0, n: o.n, alpha: DEFAULTS.alpha });
    const fAt = certifiedAccuracy(original.results, r);
    log(`   f: certified accuracy ${pct(fAt)} at r = ${r}, ACR ${original.summary.acr.toFixed(3)}, ${num(original.summary.samples)} samples, ${secs(original)}`);

    // 2. The CI question, per compression, in decision mode.
    const target = Math.max(0, Math.floor(1000 * (fAt - o.drop)) / 1000);
    log(`\n2. The CI question for each compression: does f^p still certify >= ${pct(target)} at r = ${r} (f's ${pct(fAt)} less ${100 * o.drop} points)?`);
    log(`   Decision mode: per input, stop at the first stage (64, 128, ... samples) that decides "radius >= ${r}"; both methods capped at ${num(o.cap)} samples per input.`);
    const variants: [string, { method: 'int8' | 'fp16' | 'prune'; amount?: number }][] = [['int8', { method: 'int8' }], ['fp16', { method: 'fp16' }], ['prune10', { method: 'prune', amount: 0.1 }]];
    const decision = { mode: 'decision' as const, radius: r };
    const sampleModels = new Map<string, string>();
    const rowsQ: string[][] = [];
    const ratios: string[] = [];
    for (const [name, method] of variants) {
      const report = await irs.compress(sha256, { ...method, ...(method.method === 'int8' ? { calibration: { ...DEFAULTS.calibration, sigma } } : {}) });
      sampleModels.set(name, report.sha256);
      const viaIrs = await certOf(`${name}-decision-irs`, { kind: 'recertify', model: report.sha256, original: original.id, np: o.cap, alphaZeta: DEFAULTS.alphaZeta, gamma: DEFAULTS.gamma, sequential: decision });
      const scratch = await certOf(`${name}-decision-rs`, { kind: 'baseline', model: report.sha256, original: original.id, np: o.cap, alphaZeta: DEFAULTS.alphaZeta, sequential: decision });
      for (const [method, c] of [['IRS', viaIrs], ['RS from scratch', scratch]] as const) {
        const acc = certifiedAccuracy(c.results, r);
        const capped = c.results.filter((x) => x.samples !== undefined && x.samples >= o.cap).length;
        rowsQ.push([method === 'IRS' ? name : '', method, acc >= target ? 'yes' : 'no', pct(acc), String(capped), num(c.summary.samples), secs(c)]);
      }
      ratios.push(`${name} ${(scratch.summary.samples / viaIrs.summary.samples).toFixed(1)}x`);
    }
    log(table(['compression', 'method', 'verdict', `cert. acc. at r = ${r}`, 'inputs at the cap', 'f^p samples', 'wall'], rowsQ, 2));
    log(`   RS from scratch spent ${ratios.join(', ')} the f^p samples IRS did on the same question.`);
    const stages = (c: Certificate) => {
      const none = c.results.filter((x) => x.samples === 0).length;
      const first = c.results.filter((x) => (x.samples ?? 0) > 0 && x.stage === 1).length;
      return `${first} decided in the first stage, ${none} with no sample`;
    };
    const [fpIrs, fpRs] = [certs.get('fp16-decision-irs')!, certs.get('fp16-decision-rs')!];
    log(`   Why: IRS starts from f's pA_lower (bounded with ${num(o.n)} samples) and needs only a bound on zeta, how often f^p`);
    log(`   disagrees with f; replayed samples of a close compression barely disagree, so most inputs are decided at once, and an`);
    log(`   input whose cached bound cannot reach r stops without a sample. RS from scratch bounds f^p's own p_A from fresh samples:`);
    log(`   r = ${r} at sigma ${sigma} needs p_A >= Phi(${(r / sigma).toFixed(2)}) = ${phi(r / sigma).toFixed(3)} with confidence, which close inputs reach only in later stages.`);
    log(`   fp16, of ${o.count} inputs: IRS ${stages(fpIrs)}; RS from scratch ${stages(fpRs)}.`);
    const short = (c: Certificate) => c.results.filter((x) => x.samples !== undefined && x.samples >= o.cap && !(x.correct === 1 && x.radius >= r)).length;
    log(`   A "no" is partly the cap's: on fp16, ${short(fpRs)} of RS from scratch's inputs used all ${num(o.cap)} samples and still fell short of r (IRS: ${short(fpIrs)});`);
    log(`   with a larger cap it certifies more (BENCHMARKS.md: at sigma 1 it needed 5,000 to come within a point of f). Both hold`);
    log(`   with probability 1 - 0.002 (IRS: alpha + alpha_zeta; RS from scratch runs at alpha 0.002). IRS certifies pA_lower(f) - zeta,`);
    log(`   so a compression that drifts from f (a larger zeta: int8 here) costs IRS more than RS from scratch.`);

    // 3. tune.
    const candidates = [{ method: 'int8' as const }, { method: 'fp16' as const }, { method: 'prune' as const, amount: 0.1 }, { method: 'prune' as const, amount: 0.2 }, { method: 'prune' as const, amount: 0.3 }];
    log(`\n3. irs tune: the smallest of int8, fp16, prune 10/20/30% (by gzip size) that keeps >= ${pct(target)} at r = ${r}; every candidate in one`);
    log(`   decision-mode pass (cap ${num(o.cap)}), dropping a candidate once it cannot reach the target and skipping larger ones once a smaller meets it.`);
    const t0 = performance.now();
    const tuned = await run('tune', { kind: 'tune', model: sha256, original: original.id, candidates, target: { radius: r, accuracy: target }, np: o.cap });
    const tuneSeconds = (performance.now() - t0) / 1000;
    const summary = tuned.tune as { choice: { candidate: string } | null; candidates: { candidate: string; gzipBytes: number; outcome: string; certifiedAccuracy: number; accuracyIs: string; samples: number }[] };
    writeAtomic(join(o.out, 'tune.json'), JSON.stringify(summary, null, 1));
    log(table(['candidate', 'gzip bytes', 'outcome', `cert. acc. at r = ${r}`, 'f^p samples'],
      summary.candidates.map((c) => [c.candidate, num(c.gzipBytes), c.outcome, `${c.accuracyIs === 'exact' ? '' : `${c.accuracyIs} `}${pct(c.certifiedAccuracy)}`, num(c.samples)]), 3));
    const tuneSamples = summary.candidates.reduce((a, c) => a + c.samples, 0);
    log(`   choice: ${summary.choice?.candidate ?? 'none meets the target'}; ${num(tuneSamples)} f^p samples, ${tuneSeconds.toFixed(1)} s (in the aggregator process: tune's`);
    log(`   candidates share each batch of noise there). Recertifying all ${candidates.length} candidates with fixed n_p = ${num(o.cap)} would take ${num(candidates.length * o.count * o.cap)} samples.`);

    // 4. The paper's comparison.
    log(`\n4. The paper's comparison (Ugare et al., ICLR 2024): IRS against RS from scratch at equal n_p = ${num(o.np)}, every radius.`);
    const rows: [string, string, Certificate][] = [['f (float32)', 'RS', original]];
    for (const [name] of variants) {
      const viaIrs = await certOf(`${name}-irs`, { kind: 'recertify', model: sampleModels.get(name)!, original: original.id, np: o.np, alphaZeta: DEFAULTS.alphaZeta, gamma: DEFAULTS.gamma });
      const scratch = await certOf(`${name}-baseline`, { kind: 'baseline', model: sampleModels.get(name)!, original: original.id, np: o.np, alphaZeta: DEFAULTS.alphaZeta });
      rows.push([name, 'IRS', viaIrs], [name, 'RS from scratch', scratch]);
    }
    log(comparisonTable(rows, wall));
    const pairs = variants.map(([name], i) => ({ name, irs: rows[1 + 2 * i][2], rs: rows[2 + 2 * i][2] }));
    const closer = pairs.filter((p) => p.irs.summary.acr > p.rs.summary.acr).map((p) => p.name);
    const farther = pairs.filter((p) => p.irs.summary.acr <= p.rs.summary.acr).map((p) => p.name);
    const rsShare = (pairs[0].irs.summary.branches?.rs ?? 0) / o.count;
    log(`   Both spend about n_p = ${num(o.np)} samples per input, so the comparison is the ACR each certifies with them:`);
    for (const p of pairs) log(`     ${p.name}: ${p.irs.summary.acr.toFixed(3)} by IRS against ${p.rs.summary.acr.toFixed(3)} (IRS's mean zeta ${p.irs.summary.meanZeta?.toFixed(4) ?? '-'})`);
    if (closer.length) log(`   IRS certifies more with the same samples where f^p stays close to f (${closer.join(', ')}): its bound is f's pA_lower from ${num(o.n)} samples less a small zeta.`);
    if (farther.length) log(`   Where f^p drifts (${farther.join(', ')}), zeta costs more than the fresh bound does, and RS from scratch certifies more.`);
    log(`   The gain is largest at high sigma: here ${pct(rsShare)} of inputs had pA_lower >= gamma = ${DEFAULTS.gamma} and took plain RS; at sigma 0.25 almost`);
    log(`   all do, and IRS gains about 1.1x (BENCHMARKS.md, every sigma). Wall times on a shared machine are rough; samples are exact.`);

    const reportPath = join(o.out, 'report.html');
    writeAtomic(reportPath, reportHtml([...certs.entries()].filter(([l]) => l !== 'tune').map(([label, certificate]) => ({ label, certificate })), 'irs-edge demo: IRS against RS from scratch'));
    log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s. Certificates in ${o.out}/; report: ${reportPath}`);
  } finally {
    await Promise.all(workers.map((w) => new Promise<void>((res) => { w.proc.once('exit', () => res()); w.proc.kill('SIGTERM'); })));
  }
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 on erf; enough for a printed hint). */
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** A plain table: the first `left` columns left-aligned, the rest right-aligned, indented by 3. */
function table(head: string[], body: string[][], left: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => '   ' + cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), '   ' + widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/**
 * One row per certificate: `wall` is the job's wall time as the user waited for it, `compute`
 * the shard workers' summed time; `ACR vs RS` compares each IRS row's ACR with the RS-from-
 * scratch row after it (same model, same n_p).
 */
export function comparisonTable(rows: [string, string, Certificate][], wall: Map<Certificate, number>): string {
  const radii = [0, 0.25, 0.5, 0.75, 1.0];
  const head = ['model', 'method', ...radii.map((r) => `r=${r}`), 'ACR', 'ACR vs RS', 'abstain', 'samples', 'wall (s)', 'compute (s)'];
  const body = rows.map(([model, method, c], i) => {
    const next = rows[i + 1];
    const gain = method === 'IRS' && next && next[0] === model ? c.summary.acr - next[2].summary.acr : undefined;
    return [
      model, method,
      ...radii.map((r) => `${(100 * (c.summary.certifiedAccuracy.find((x) => x.radius === r)?.accuracy ?? 0)).toFixed(1)}%`),
      c.summary.acr.toFixed(3), gain === undefined ? '' : `${gain >= 0 ? '+' : ''}${gain.toFixed(3)}`,
      String(c.summary.abstained), c.summary.samples.toLocaleString('en-US'), (wall.get(c) ?? 0).toFixed(1), c.summary.seconds.toFixed(1),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => '   ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), '   ' + widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
