/**
 * The `irs` command: certify, recertify (IRS), tune, predict, and the tools around them. A job
 * command maps its flags to a JobRequest (protocol/schemas.ts: the same fields, defaults and
 * checks as POST /v1/jobs), plans it from files (cli/file-sources.ts, jobs/plan.ts planJob),
 * runs it with runPlanned and renders the result. Exit codes: errors.ts EXIT, carried by each
 * error class; messages name the request field, and main() adds the flag (`np (--np): ...`).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, fieldOf, KnownError, UserError } from '../errors.ts';
import { guaranteeFor } from '../smoothing/guarantee.ts';
import { certificateId } from '../protocol/certificate.ts';
import { basename, join, resolve } from 'node:path';
import {
  loadClassifierAuto, reportingBackend, resolveBackend, type BackendChoice, type Classifier,
} from '../inference/index.ts';
import { AuditFailed, RemoteWorkers } from '../coordinator/remote-workers.ts';
import { perModelSampler } from '../coordinator/sharded-sampler.ts';
import { calibrationSet, planJob, runPlanned, sequentialOptions, type JobPlan } from '../jobs/plan.ts';
import { FileSources } from './file-sources.ts';
import { describeIssues, jobSchemas, NO_LIMITS, type JobRequest } from '../protocol/schemas.ts';
import { DEFAULTS } from '../protocol/defaults.ts';
import type { AuditStatus, Provenance } from '../coordinator/audit.ts';
import type { BackendName } from '../inference/classifier.ts';
import type { Sampler } from '../smoothing/stream.ts';
import { checkBatchInvariance, makeProbes } from '../inference/batch-invariance.ts';
import { checkInputsFit, cleanAccuracy, type JobInputs } from '../jobs/common.ts';
import { compressModel, METHODS, trainingSigma } from '../onnx/compress/index.ts';
import { runRecertifyCandidates } from '../jobs/recertify-job.ts';
import { parseCandidates, tuneSummary, type CompressedCandidate } from '../jobs/tune-job.ts';
import { runPredictJob } from '../jobs/predict-job.ts';
import type { Certificate } from '../protocol/certificate.ts';
import { TOOL } from '../version.ts';
import { sha256Hex } from '../util/digest.ts';
import {
  cachePathFor, certificateTsv, loadModel, openDataset, readBytes, readCertificate, selectInputs, writeAtomic,
} from './io.ts';
import { auditFraction, backendName, closedUnit, failureProbability, nonNegativeInt, nonNegativeNumber, openUnit, positiveInt, positiveNumber, sampleCount, workerUrls } from './options.ts';
import { progressBar } from './progress.ts';
import { formatSummary } from './summary.ts';
import { parseTokens } from '../service/runtime.ts';
import { runDemo } from './demo.ts';
import { reportHtml, reportMarkdown } from '../report/html.ts';
import { describeGate, evaluateGate, parseAccuracyFloor, type GateResult } from '../report/gate.ts';

export { EXIT };

/** A job as the API takes it, without the service's limits (this machine runs its own job). */
const LocalJobRequest = jobSchemas(NO_LIMITS).JobRequest;

/** Flags to a JobRequest: the schema applies the defaults and the checks, errors name the field. */
function jobRequest(fields: Record<string, unknown>): JobRequest {
  const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const parsed = LocalJobRequest.safeParse(given);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error));
  return parsed.data;
}

/** The flag of each request field, for messages (`np: ...` prints as `np (--np): ...`). */
const FLAGS: Record<string, string> = {
  model: '--model', original: '--original', data: '--data', 'data.source': '--data', 'data.inputs': '--data', 'data.labels': '--labels',
  'data.count': '--count', 'data.skip': '--skip', 'data.offset': '--offset', sigma: '--sigma', n0: '--n0', n: '--n', alpha: '--alpha',
  seed: '--seed', np: '--np', alphaZeta: '--alpha-zeta', gamma: '--gamma', firstStage: '--first-stage', 'sequential.firstStage': '--first-stage',
  'sequential.radius': '--radius', 'sequential.tolerance': '--radius-tolerance', batchSize: '--batch', shardSize: '--shard-size',
  candidates: '--candidates', target: '--min-certified-accuracy', 'target.radius': '--min-certified-accuracy', 'target.accuracy': '--min-certified-accuracy',
  calibration: '--calibration', 'calibration.source': '--calibration', 'calibration.count': '--calibration-count',
};

/** A message naming request fields, with the flags added: `np: 401 exceeds` -> `np (--np): 401 exceeds`. */
export function withFlags(message: string): string {
  return message.split('; ').map((part) => {
    const field = fieldOf(part);
    const flag = field === undefined ? undefined : FLAGS[field] ?? FLAGS[field.replace(/\.\d+(\..*)?$/, '')];
    return flag ? `${field} (${flag})${part.slice(field!.length)}` : part;
  }).join('; ');
}

interface Common {
  batch: number;
  backend: BackendChoice;
  threads: number;
  quiet?: boolean;
  json?: boolean;
  out: string;
  tsv?: string;
  shardSize?: number;
}

const BACKEND_HELP = 'onnxruntime backend: auto (onnxruntime-node where it is installed and runs the model, else wasm), wasm (onnxruntime-web, as on Workers), node, or webgpu (onnxruntime-web on a WebGPU adapter; under Deno: npm run irs:deno)';
const backendOption = () => new Option('--backend <name>', BACKEND_HELP).argParser(backendName).default(DEFAULTS.backend);

/** Loads a classifier on --backend (auto: node where it runs the model) and says which it took. */
async function openClassifier(bytes: Uint8Array, o: { backend: BackendChoice; threads?: number; quiet?: boolean }, announce = true): Promise<Classifier> {
  const { classifier, why } = await loadClassifierAuto(bytes, o.backend, { threads: o.threads });
  if (announce && !o.quiet) process.stderr.write(`backend: ${classifier.backend} (${why})\n`);
  return classifier;
}

interface FanOutFlags {
  workers?: string[];
  token?: string;
  perWorker: number;
  shardTimeout: number;
  retries: number;
  shardResults?: string;
  audit?: number;
  auditor?: 'worker' | 'aggregator';
  backend?: BackendChoice;
  quiet?: boolean;
}

/** --workers and what goes with it (certify, recertify, predict, tune). */
function addFanOutOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--workers <urls>', 'run the shards on these irs serve workers, comma-separated (e.g. http://w1:8787,http://w2:8787)').argParser(workerUrls))
    .option('--token <t>', "--workers: the workers' bearer token (irs serve --token; default IRS_TOKEN)")
    .addOption(new Option('--per-worker <k>', '--workers: shard requests in flight per worker').argParser(positiveInt).default(DEFAULTS.shardsPerWorker))
    .addOption(new Option('--shard-timeout <s>', '--workers: seconds before a shard request is abandoned and retried').argParser(positiveNumber).default(120))
    .addOption(new Option('--retries <k>', '--workers: retries per shard request (5xx, 429, timeouts, dropped connections), with backoff').argParser(nonNegativeInt).default(5))
    .option('--shard-results <dir>', '--workers: where finished shard results are kept, so a rerun computes only the missing ones (default: beside --out, cert.json -> cert.shards/)')
    .addOption(new Option('--audit <F>', '--workers: recompute a secretly chosen fraction F in (0, 1] of the shards on another worker or in this process, ' +
      'compare them exactly, and on a mismatch find the lying worker by a third computation, drop its results and recompute them').argParser(auditFraction))
    .addOption(new Option('--auditor <who>', "--audit: who recomputes an audited shard: worker (another worker, default) or aggregator (this process)").choices(['worker', 'aggregator']));
}

/** Where --workers keeps finished shard results by default: beside the certificate, like its cache. */
const shardsPathFor = (out: string) => out.replace(/\.json$/i, '') + '.shards';

const kebab = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The workers of --workers (token checked on the first upload), or undefined to run in this process. */
async function openFanOut(o: FanOutFlags, cmd: Command, defaultResults: string): Promise<RemoteWorkers | undefined> {
  if (!o.workers) {
    const given = ['token', 'perWorker', 'shardTimeout', 'retries', 'shardResults', 'audit', 'auditor'].filter((k) => cmd.getOptionValueSource(k) === 'cli');
    if (given.length) throw new UserError(`${given.map(kebab).join(', ')} need${given.length > 1 ? '' : 's'} --workers${given.includes('audit') ? ' (audits check shard workers; in-process runs have none to check)' : ''}`);
    return undefined;
  }
  if (o.auditor !== undefined && o.audit === undefined) throw new UserError('--auditor needs --audit F');
  const token = o.token ?? process.env.IRS_TOKEN;
  if (!token) throw new UserError('--workers needs --token T, the token the workers were started with (irs serve --token T), or IRS_TOKEN');
  const resultsDir = o.shardResults ?? defaultResults;
  let retried = 0;
  const remote = await RemoteWorkers.connect({
    workers: o.workers, token, perWorker: o.perWorker, timeoutMs: o.shardTimeout * 1000, retries: o.retries, resultsDir,
    onRetry: () => { retried++; },
  });
  if (!o.quiet) {
    process.stderr.write(`shards: on ${o.workers.length} worker${o.workers.length > 1 ? 's' : ''} (${o.workers.map((w, i) => `${w} ${remote.backends[i]}`).join(', ')}), ` +
      `${o.perWorker} in flight each; finished shards kept in ${resultsDir}\n`);
  }
  fanOutReports.push(() => (o.quiet || remote.computed + remote.reused === 0 ? undefined : `shards: ${remote.computed} computed on the workers, ${remote.reused} reused from ${resultsDir}, ${retried} request${retried === 1 ? '' : 's'} retried`));
  return remote;
}
const fanOutReports: (() => string | undefined)[] = [];

/**
 * Puts the audit layer over the fan-out: provenance always, spot-check audits with --audit.
 * `own` is the backend this process runs the model on. The audited comparison is on the
 * workers' backend; this process recomputes shards on that backend where it can (auto), and
 * otherwise states its own, which the layer refuses rather than compare across backends.
 */
function auditFanOut(remote: RemoteWorkers | undefined, o: FanOutFlags, own: BackendName): void {
  if (!remote) return;
  const fraction = o.audit ?? 0;
  const backend = remote.backend ?? own;
  const localBackend: BackendName = o.backend === 'auto' && backend === 'wasm' ? 'wasm' : own;
  if (fraction > 0) {
    if (localBackend !== backend && o.auditor === 'aggregator') {
      throw new UserError(`--auditor aggregator: this process runs ${localBackend}, the workers ${backend}, and audits across backends are refused (they can differ on borderline samples); pass --backend ${backend}, or audit with another worker`);
    }
    if (remote.backend === undefined) {
      process.stderr.write(`irs: warning: audit: the workers run different backends (${remote.backends.join(', ')}); the audited job runs on ${backend}, workers on another backend are excluded and their shards recomputed\n`);
    }
    if (localBackend !== backend) {
      process.stderr.write(`irs: warning: audit: this process runs ${localBackend}, the workers ${backend}: audits across backends are refused, so this process recomputes nothing ` +
        `and a mismatch needs a third worker to settle it (pass --backend ${backend} to let this process referee)\n`);
    }
    if (!o.quiet) {
      process.stderr.write(`audit: about ${Math.round(fraction * 100)}% of the shards (F = ${fraction}, chosen by a secret key drawn for this run) recomputed by ` +
        `${o.auditor === 'aggregator' ? 'this process' : 'another worker'} on ${backend} and compared exactly; a mismatch is settled by a third computation${localBackend === backend ? ' (this process by preference)' : ''}\n`);
    }
  }
  remote.startAudit({ fraction, auditor: o.auditor, backend, localBackend });
}

/** The party names as printed: the aggregator is this process. */
const partyName = (p: string) => (p === 'aggregator' ? 'this process (aggregator)' : p);
const shardName = (s: { stream?: number; start: number; count: number; inputs?: number[] }) =>
  `[${s.start}, ${s.start + s.count}) of stream ${s.stream ?? 0}, inputs ${(s.inputs ?? []).join(',')}`;

/** What the audit found, on stderr: the workers caught, the shards recomputed, the counts. */
function auditReport(status: AuditStatus, provenance?: Provenance): string[] {
  const lines: string[] = [];
  const by = new Map((provenance?.shards ?? []).map((s) => [s.key, s]));
  const unsettled = status.compared - status.agreed - status.mismatches.length;
  for (const q of status.quarantined) {
    const stated = q.stated ? ` (it states id ${q.stated.id}, backend ${q.stated.backend}${q.stated.key ? `, key ${q.stated.key}` : ''})` : '';
    if (q.reason === 'backend') {
      lines.push(`irs: warning: audit: ${partyName(q.party)} excluded: ${q.detail}; its shards were recomputed elsewhere`);
      continue;
    }
    lines.push(`irs: warning: audit: worker ${q.party} caught returning wrong shard results${stated}; quarantined for the rest of the run`);
    for (const m of status.mismatches.filter((x) => x.faulty === q.party)) {
      lines.push(`  shard ${shardName(m)}: ${m.differences.slice(0, 3).join('; ')}${m.differences.length > 3 ? '; …' : ''} (recomputed by ${[m.primary, m.auditor, m.referee].filter((p) => p !== q.party).map(partyName).join(' and ')}, who agree)`);
    }
    if (q.discarded.length) {
      const redone = q.discarded.map((k) => by.get(k)).filter((s) => s !== undefined);
      const who = [...new Set(redone.map((s) => partyName(s.by)))];
      lines.push(`  its other ${q.discarded.length} shard result${q.discarded.length === 1 ? '' : 's'} of this run discarded and recomputed${who.length ? ` by ${who.join(', ')}` : ''}:`);
      for (const s of redone.slice(0, 8)) lines.push(`    shard ${shardName(s)} -> ${partyName(s.by)}`);
      if (redone.length > 8) lines.push(`    … and ${redone.length - 8} more (the certificate's provenance lists every shard)`);
    }
  }
  lines.push(`audit: ${status.compared} of ${status.selected} selected shard${status.selected === 1 ? '' : 's'} recomputed and compared on ${status.backend} (F = ${status.fraction}), ` +
    `${status.agreed} agreed, ${status.mismatches.length} mismatch${status.mismatches.length === 1 ? '' : 'es'}` +
    (unsettled > 0 ? `, ${unsettled} unsettled (two answers, no majority)` : '') +
    (status.skipped ? `, ${status.skipped} not compared (no independent party left)` : '') + (status.rounds > 1 ? `; the computation ran ${status.rounds} times` : ''));
  if (status.mismatches.length) {
    lines.push('irs: warning: audit: a worker lied and was caught; the results written are the honest ones, computed without it (provenance in the output lists who computed each shard)');
  }
  return lines;
}

/** Prints the audit's findings after a successful run (nothing without --audit). */
function printAudit(remote: RemoteWorkers | undefined, provenance?: Provenance): void {
  const status = remote?.auditStatus();
  if (!status || status.fraction === 0) return;
  if (remote!.unaudited > 0) process.stderr.write(`audit: ${remote!.unaudited} stored shard result${remote!.unaudited === 1 ? '' : 's'} from runs without --audit recomputed, not reused\n`);
  process.stderr.write(auditReport(status, provenance ?? remote!.provenance()).join('\n') + '\n');
}

/**
 * With --workers, the local classifier only checks the inputs and batch invariance; the
 * certificate records the backend the workers drew the samples with.
 */
function recordedBackend(c: Classifier, remote: RemoteWorkers | undefined): Classifier {
  if (!remote) return c;
  if (remote.backend === undefined) {
    process.stderr.write(`irs: warning: the workers run different backends (${remote.backends.join(', ')}); the certificate records ${c.backend}\n`);
    return c;
  }
  return reportingBackend(c, remote.backend);
}

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('--batch <b>', `inference batch size (does not change results; default ${DEFAULTS.batchSize})`).argParser(positiveInt))
    .addOption(new Option('--shard-size <k>', 'samples per shard (does not change results)').argParser(positiveInt))
    .addOption(backendOption())
    .addOption(new Option('--threads <t>', 'intra-op threads').argParser(positiveInt).default(1))
    .requiredOption('--out <file>', 'certificate JSON to write')
    .option('--tsv <file>', "also write Cohen et al.'s TSV table")
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress bar');
}

/** The options that pick a model and the inputs to run it on (certify, predict). */
function addInputOptions(cmd: Command, defaultN: number): Command {
  return cmd
    .requiredOption('--model <file>', 'ONNX model (a path, or a bundled model name such as mnist-small-s0.50)')
    .requiredOption('--data <source>', 'mnist:test, mnist:train, or inputs.npy (float32 [N, ...input shape])')
    .option('--labels <file>', 'labels.npy (integer [N]) for --data inputs.npy')
    .addOption(new Option('--sigma <s>', 'noise standard deviation').argParser(positiveNumber).makeOptionMandatory())
    .addOption(new Option('--n <n>', 'estimation samples').argParser(sampleCount).default(defaultN))
    .addOption(new Option('--alpha <a>', `failure probability, at least 1e-15 (default ${DEFAULTS.alpha})`).argParser(failureProbability))
    .addOption(new Option('--count <c>', 'inputs to certify (default: all selected)').argParser(positiveInt))
    .addOption(new Option('--skip <k>', 'take every k-th input (default 1)').argParser(positiveInt))
    .addOption(new Option('--offset <i>', 'first input index (default 0)').argParser(nonNegativeInt))
    .addOption(new Option('--seed <seed>', `noise seed, integer in [0, 2^53) (default ${DEFAULTS.seed})`).argParser(nonNegativeInt));
}

/** Loads --model and the first --count inputs of --data, runs fn with a classifier, and releases it. */
async function withModelOnInputs(
  o: { model: string; data: string; labels?: string; count?: number; backend: BackendChoice },
  fn: (classifier: Classifier, data: JobInputs, model: Awaited<ReturnType<typeof loadModel>>) => Promise<void>,
): Promise<void> {
  const model = await loadModel(o.model);
  const data = selectInputs(openDataset(o.data, o.labels), o.count, 1, 0);
  const classifier = await openClassifier(model.bytes, o);
  try {
    checkInputsFit(classifier, data);
    await fn(classifier, data, model);
  } finally {
    await classifier.dispose();
  }
}

/** IRS's sample budget and confidence, shared by recertify and tune. */
function addIrsOptions(cmd: Command, npHelp: string): Command {
  return cmd
    .addOption(new Option('--np <np>', `${npHelp} (default ${DEFAULTS.np})`).argParser(sampleCount))
    .addOption(new Option('--alpha-zeta <a>', `failure probability of the disagreement bound, at least 1e-15 (default ${DEFAULTS.alphaZeta})`).argParser(failureProbability))
    .addOption(new Option('--gamma <g>', `inputs with cached pA_lower >= gamma take plain RS instead (default ${DEFAULTS.gamma})`).argParser(closedUnit));
}

/** Adaptive replay and decision mode (smoothing/sequential.ts), shared by recertify and tune. */
function addSequentialOptions(cmd: Command): Command {
  return cmd
    .option('--adaptive', 'replay in stages (doubling up to --np), each input stopping once more samples cannot raise its radius by more than --radius-tolerance')
    .addOption(new Option('--radius <r>', 'decision mode: decide per input whether it certifies at radius >= r, stopping each input at the first stage that decides it').argParser(nonNegativeNumber))
    .addOption(new Option('--radius-tolerance <t>', 'adaptive: stop an input when more samples could raise its radius by at most t').argParser(nonNegativeNumber))
    .addOption(new Option('--first-stage <k>', `adaptive and decision modes: samples in the first stage (default ${DEFAULTS.firstStage})`).argParser(sampleCount));
}

/** --adaptive, --radius, --radius-tolerance, --first-stage: the request's `sequential` (the schema checks the combinations). */
function sequentialFrom(o: { adaptive?: boolean; radius?: number; radiusTolerance?: number; firstStage?: number }) {
  if (o.radius === undefined && !o.adaptive) {
    if (o.radiusTolerance !== undefined || o.firstStage !== undefined) throw new UserError('--radius-tolerance and --first-stage need --adaptive or --radius');
    return undefined;
  }
  const given = { radius: o.radius, tolerance: o.radiusTolerance, firstStage: o.firstStage };
  return { mode: o.radius !== undefined ? 'decision' : 'adaptive', ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}

function splitList(v: string, flag: string): string[] {
  const items = v.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UserError(`${flag}: empty item in '${v}' (comma-separated, no empty entries)`);
  if (new Set(items).size !== items.length) throw new UserError(`${flag}: '${v}' names an item twice`);
  return items;
}

function emit(cert: Certificate, o: Common, gate?: GateResult): void {
  writeAtomic(o.out, JSON.stringify(cert, null, 1) + '\n');
  if (o.tsv) writeAtomic(o.tsv, certificateTsv(cert));
  if (o.json) {
    process.stdout.write(JSON.stringify({ id: cert.id, kind: cert.kind, out: o.out, summary: cert.summary, ...(gate ? { gate } : {}) }) + '\n');
  } else {
    process.stdout.write(formatSummary(cert) + `\nwrote ${o.out}${o.tsv ? ` and ${o.tsv}` : ''}\n`);
    if (gate) process.stdout.write(describeGate(gate) + '\n');
  }
  if (gate && !gate.passed) {
    process.stderr.write(`irs: the model misses the release criteria:\n${describeGate({ passed: false, checks: gate.checks.filter((c) => !c.passed) })}\n`);
    throw new CheckFailed(EXIT.gateFailed);
  }
}

/** Runs a planned job in this process (or on --workers), with a progress bar over its samples. */
async function runLocal(
  plan: JobPlan, remote: RemoteWorkers | undefined,
  x: Omit<Parameters<typeof runPlanned>[1], 'backend' | 'onProgress'> & { label: string; quiet?: boolean; backend?: BackendName },
) {
  const bar = progressBar(x.label, plan.samplesTotal, !!x.quiet);
  const backend = x.backend ?? (x.classifier!.backend as BackendName);
  const onEvent = x.onEvent && ((m: string) => { bar.stop(); x.onEvent!(m); });
  const compute = () => runPlanned(plan, { ...x, backend, onEvent, onProgress: (k) => bar.tick(k) });
  return (remote ? remote.run(compute) : compute()).finally(() => bar.stop());
}

export function buildProgram(): Command {
  const program = new Command('irs')
    .description('Incremental randomized smoothing: certify ONNX classifiers, recertify their compressed variants')
    .version(TOOL.version)
    .showHelpAfterError('(irs <command> --help shows the options)');

  addFanOutOptions(addCommon(
    addInputOptions(program.command('certify'), 100_000)
      .description('certify a model with randomized smoothing (Cohen et al.) and write the IRS cache')
      .addOption(new Option('--n0 <n0>', 'selection samples').argParser(sampleCount).default(100))
      .addOption(new Option('--cache-samples <k>', 'predictions per input kept in the IRS cache (default n)').argParser(positiveInt)),
  )).action(async (o, cmd: Command) => {
    const files = new FileSources();
    const model = await loadModel(o.model);
    const source = await files.addData(o.data, o.labels);
    const plan = await planJob(jobRequest({
      kind: 'certify', model: files.addModel(model),
      // No --count: all the selected inputs.
      data: { ...source, count: o.count ?? ('source' in source ? files.sizeOf(source) : undefined), skip: o.skip, offset: o.offset },
      sigma: o.sigma, n0: o.n0, n: o.n, alpha: o.alpha, seed: o.seed, batchSize: o.batch, shardSize: o.shardSize,
    }), files);
    const { data } = plan;
    const remote = await openFanOut(o, cmd, shardsPathFor(o.out));
    const classifier = await openClassifier(model.bytes, o, !remote);
    try {
      checkInputsFit(classifier, data);
      auditFanOut(remote, o, classifier.backend);
      const sampler = remote ? remote.sampler(await remote.uploadModel(model.bytes), await remote.uploadInputs(data.inputs)) : undefined;
      const outcome = await runLocal(plan, remote, { label: 'certify', quiet: o.quiet, classifier: recordedBackend(classifier, remote), sampler, cacheSamples: o.cacheSamples });
      if (outcome.kind !== 'certificate') throw new Error('a certify job gives a certificate');
      const { certificate, cache } = outcome;
      if (remote) {
        // Who computed each shard, and which were audited: outside the certificate id.
        certificate.provenance = remote.provenance();
        printAudit(remote, certificate.provenance);
      }
      writeAtomic(cachePathFor(o.out), cache!);
      emit(certificate, o);
    } finally {
      await classifier.dispose();
      await remote?.dispose();
    }
  });

  addFanOutOptions(addSequentialOptions(addCommon(addIrsOptions(
    program.command('recertify')
      .description('recertify a modified model with IRS from an original certificate and its cache')
      .requiredOption('--original <cert.json>', 'certificate of the original model (written by irs certify)')
      .option('--cache <file>', 'its IRS cache (default: beside the certificate, .cache)')
      .option('--model <file>', 'the modified ONNX model f^p')
      .option('--models <a.onnx,b.onnx,...>', 'M candidates in one pass over the same noise; --out is then a directory (one certificate each). ' +
        'Each candidate runs at alpha_zeta / M and alpha / M (union bound), so any one certificate you keep after comparing them ' +
        'still holds at alpha + alpha_zeta; its params.candidates and guarantee record M and the levels')
      .option('--data <source>', "inputs, if they moved since the original certification (default: the original's)")
      .option('--labels <file>', 'labels.npy for --data inputs.npy'),
    'samples of f^p per input (adaptive and decision modes: the cap)')
      .option('--baseline', 'instead of IRS, run the from-scratch baseline: RS on f^p with n_p samples at alpha + alpha_zeta')
      .addOption(new Option('--n0 <n0>', 'baseline selection samples (default: the original n0)').argParser(sampleCount))
      .addOption(new Option('--sigma <s>', "must equal the original's if given").argParser(positiveNumber))
      .option('--min-certified-accuracy <r:acc...>', 'CI gate: certified accuracy at radius r at least acc (e.g. 0.5:0.80); exit 4 if missed')
      .addOption(new Option('--max-acr-drop <x>', "CI gate: ACR at most x below the original's; exit 4 if missed").argParser(nonNegativeNumber)),
  ))).action(async (o, cmd: Command) => {
    let floors;
    try {
      floors = ((o.minCertifiedAccuracy ?? []) as string[]).map(parseAccuracyFloor);
    } catch (e) {
      throw new UserError(`--min-certified-accuracy: ${(e as Error).message}`);
    }
    if ((o.model === undefined) === (o.models === undefined)) throw new UserError('give either --model (one modified model) or --models (several candidates)');
    const modelPaths: string[] = o.models !== undefined ? splitList(o.models, '--models') : [o.model];
    if (o.models !== undefined && o.baseline) throw new UserError('--baseline certifies one model; give it with --model');
    if (o.models !== undefined && o.tsv) throw new UserError('--tsv names one file; with --models, convert each certificate with irs report or GET /v1/certificates');
    const files = new FileSources();
    const original = files.addOriginal(o.original, o.cache);
    files.moveOriginalData(o.data, o.labels);
    const op = original.params;
    if (o.sigma !== undefined && o.sigma !== op.sigma) {
      throw new UserError(`--sigma ${o.sigma} differs from the original certificate's sigma ${op.sigma}; IRS replays the original noise`);
    }
    const models: Awaited<ReturnType<typeof loadModel>>[] = [];
    for (const path of modelPaths) models.push(await loadModel(path));
    const shas = models.map((m) => files.addModel(m));
    const irs = { original: original.id, np: o.np ?? DEFAULTS.np, alphaZeta: o.alphaZeta, sequential: sequentialFrom(o), batchSize: o.batch, shardSize: o.shardSize };
    // --models: every candidate passes the same checks; the first one's plan serves them all (same original, inputs, cache).
    const plans: JobPlan[] = [];
    for (const model of shas) {
      plans.push(await planJob(jobRequest(o.baseline ? { kind: 'baseline', model, n0: o.n0, ...irs } : { kind: 'recertify', model, gamma: o.gamma, ...irs }), files));
    }
    const [plan] = plans;
    const { data } = plan;
    const remote = await openFanOut(o, cmd, o.models !== undefined ? join(o.out, 'shards') : shardsPathFor(o.out));
    const classifiers: Classifier[] = [];
    try {
      for (const [i, m] of models.entries()) classifiers.push(await openClassifier(m.bytes, o, !remote && i === 0));
      for (const c of classifiers) checkInputsFit(c, data);
      auditFanOut(remote, o, classifiers[0].backend);
      let samplers: Sampler[] | undefined;
      if (remote) {
        const inputs = await remote.uploadInputs(data.inputs);
        samplers = [];
        for (const m of models) samplers.push(remote.sampler(await remote.uploadModel(m.bytes), inputs));
      }
      const recorded = classifiers.map((c) => recordedBackend(c, remote));
      let certs: Certificate[];
      if (models.length === 1) {
        const outcome = await runLocal(plan, remote, { label: o.baseline ? 'baseline' : 'recertify', quiet: o.quiet, classifier: recorded[0], sampler: samplers?.[0] });
        if (outcome.kind !== 'certificate') throw new Error('a recertify job gives a certificate');
        certs = [outcome.certificate];
      } else {
        const req = plan.request as Extract<JobRequest, { kind: 'recertify' }>;
        const bar = progressBar('recertify', plan.samplesTotal * models.length, !!o.quiet);
        const compute = () => runRecertifyCandidates({
          candidates: models.map((m, i) => ({ classifier: recorded[i], model: m.ref })),
          multiSampler: samplers ? perModelSampler(samplers) : undefined,
          data, original, cacheBytes: plan.cacheBytes!, np: req.np, alphaZeta: req.alphaZeta, gamma: req.gamma, sequential: sequentialOptions(req.sequential),
          batchSize: req.batchSize, shardSize: req.shardSize, onProgress: (k) => bar.tick(k),
        });
        certs = await (remote ? remote.run(compute) : compute()).finally(() => bar.stop());
      }
      if (remote) {
        for (const cert of certs) cert.provenance = remote.provenance(cert.model.sha256);
        printAudit(remote);
      }
      const criteria = { minCertifiedAccuracy: floors, maxAcrDrop: o.maxAcrDrop };
      const gated = floors.length || o.maxAcrDrop !== undefined;
      if (o.models === undefined) {
        emit(certs[0], o, gated ? evaluateGate(certs[0], criteria, original) : undefined);
      } else {
        let failed = false;
        certs.forEach((cert, i) => {
          const out = join(o.out, `${basename(modelPaths[i]).replace(/\.onnx$/i, '')}.json`);
          const gate = gated ? evaluateGate(cert, criteria, original) : undefined;
          if (!o.json) process.stdout.write(`\n${basename(modelPaths[i])}:\n`);
          try {
            emit(cert, { ...o, out }, gate);
          } catch (e) {
            if (!(e instanceof CheckFailed)) throw e;
            failed = true;
          }
        });
        if (failed) throw new CheckFailed(EXIT.gateFailed);
      }
    } finally {
      for (const c of classifiers) await c.dispose();
      await remote?.dispose();
    }
  });

  addFanOutOptions(addIrsOptions(program.command('tune')
    .description('find the smallest compression of a model that keeps a certified-accuracy target (decision-mode IRS over all candidates in one pass)')
    .requiredOption('--model <file>', 'the original float32 ONNX model (the one --original certifies)')
    .requiredOption('--original <cert.json>', 'its certificate (written by irs certify)')
    .option('--cache <file>', 'its IRS cache (default: beside the certificate, .cache)')
    .requiredOption('--candidates <list>', 'compressions to try, e.g. int8,fp16,prune:0.05,prune:0.1,prune:0.2,prune:0.3')
    .requiredOption('--min-certified-accuracy <r:acc>', 'the target: certified accuracy at radius r at least acc (e.g. 0.5:0.80)'),
    'cap on samples of each candidate per input')
    .addOption(new Option('--first-stage <k>', `samples in the first stage (default ${DEFAULTS.firstStage})`).argParser(sampleCount))
    .option('--data <source>', "inputs, if they moved since the original certification (default: the original's)")
    .option('--labels <file>', 'labels.npy for --data inputs.npy')
    .option('--calibration <source>', `int8: calibration inputs (mnist:train, mnist:test or a .npy; default ${DEFAULTS.calibration.source})`)
    .addOption(new Option('--calibration-count <k>', `int8: calibration inputs used (default ${DEFAULTS.calibration.count})`).argParser(positiveInt))
    .addOption(new Option('--batch <b>', `inference batch size (does not change results; default ${DEFAULTS.batchSize})`).argParser(positiveInt))
    .addOption(backendOption())
    .requiredOption('--out <dir>', 'directory for the chosen model, the certificates and tune.json')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress'))
    .action(async (o, cmd: Command) => {
      let target;
      try {
        target = parseAccuracyFloor(o.minCertifiedAccuracy);
      } catch (e) {
        throw new UserError(`--min-certified-accuracy: ${(e as Error).message}`);
      }
      const candidates = parseCandidates(o.candidates);
      const files = new FileSources();
      const original = files.addOriginal(o.original, o.cache);
      files.moveOriginalData(o.data, o.labels);
      const model = await loadModel(o.model);
      const calibrationGiven = o.calibration !== undefined || o.calibrationCount !== undefined;
      const plan = await planJob(jobRequest({
        kind: 'tune', model: files.addModel(model), original: original.id, candidates, target, np: o.np, alphaZeta: o.alphaZeta, gamma: o.gamma,
        firstStage: o.firstStage, batchSize: o.batch,
        calibration: calibrationGiven ? { source: await files.addCalibration(o.calibration ?? DEFAULTS.calibration.source), count: o.calibrationCount } : undefined,
      }), files);
      const { data } = plan;
      // With --workers, every candidate's f^p inferences run on the workers; compression (int8
      // calibration), the batch-invariance checks and the drop / skip decisions between stages
      // run here. Each candidate's noise is then drawn on the workers, not once for all: the
      // results are the same.
      const remote = await openFanOut(o, cmd, join(o.out, 'shards'));
      const { backend, why } = await resolveBackend(model.bytes, o.backend);
      if (!o.quiet && !remote) process.stderr.write(`backend: ${backend} (${why})\n`);
      if (remote?.backend !== undefined && remote.backend !== backend) {
        process.stderr.write(`irs: warning: the workers run ${remote.backend}, this process ${backend}; compression and the candidates' certificates use ${backend} (pass --backend ${remote.backend} to match)\n`);
      }
      auditFanOut(remote, o, backend);
      const inputsSha = remote ? await remote.uploadInputs(data.inputs) : undefined;
      const sampler = remote ? async (models: readonly CompressedCandidate[]) => {
        const samplers: Sampler[] = [];
        for (const m of models) samplers.push(remote.sampler(await remote.uploadModel(m.bytes!), inputsSha!)); // compressed here: bytes at hand
        return perModelSampler(samplers);
      } : undefined;
      const started = performance.now();
      const outcome = await runLocal(plan, remote, {
        label: 'tune', quiet: o.quiet, backend, tuneSampler: sampler,
        onEvent: o.quiet || o.json ? undefined : (m) => process.stderr.write(`${m}\n`),
      }).finally(() => { void remote?.dispose(); });
      if (outcome.kind !== 'tune') throw new Error('a tune job gives a tune result');
      const { result } = outcome;
      if (remote) {
        for (const [, cert] of result.certificates) cert.provenance = remote.provenance(cert.model.sha256);
        printAudit(remote);
      }
      const seconds = (performance.now() - started) / 1000;
      const fileName = (name: string) => name.replace(':', '-');
      for (const [name, cert] of result.certificates) writeAtomic(join(o.out, `${fileName(name)}.json`), JSON.stringify(cert, null, 1) + '\n');
      if (result.choice) writeAtomic(join(o.out, `${fileName(result.choice.candidate)}.onnx`), result.choice.bytes!);
      const summary = { ...tuneSummary(result), seconds };
      writeAtomic(join(o.out, 'tune.json'), JSON.stringify(summary, null, 1) + '\n');
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else {
        const lines = result.candidates.map((c) => `${c.candidate.padEnd(12)} ${String(c.gzipBytes).padStart(9)} B gzip  ${c.outcome.padEnd(7)}  ` +
          `${c.accuracyIs === 'exact' ? '' : `${c.accuracyIs} `}${(100 * c.certifiedAccuracy).toFixed(1)}% at r = ${target.radius}  ${c.samples} samples`);
        process.stdout.write(`target: certified accuracy at r = ${target.radius} >= ${(100 * target.accuracy).toFixed(1)}% (${data.inputs.length} inputs, ${seconds.toFixed(1)} s)\n` +
          lines.join('\n') + '\n' +
          (result.choice ? `choice: ${result.choice.candidate} -> ${join(o.out, `${fileName(result.choice.candidate)}.onnx`)} (certificate ${result.choice.certificate.id})\n` : 'no candidate meets the target\n') +
          `selection over ${result.selection.candidates} candidates: each at alpha_zeta / ${result.selection.candidates} = ${result.selection.alphaZetaEach} ` +
          `and alpha / ${result.selection.candidates} = ${result.selection.alphaRsEach}, so the chosen certificate holds per input with failure probability <= ${result.selection.failureProbability}\n`);
      }
      if (!result.choice) {
        process.stderr.write(`irs: no candidate meets certified accuracy ${target.accuracy} at r = ${target.radius}\n`);
        throw new CheckFailed(EXIT.gateFailed);
      }
    });

  addFanOutOptions(addInputOptions(program.command('predict'), 1000)
    .description("PREDICT (Cohen et al.): the smoothed classifier's prediction, abstaining when unsure")
    .addOption(new Option('--batch <b>', 'inference batch size').argParser(positiveInt).default(DEFAULTS.batchSize))
    .addOption(new Option('--shard-size <k>', 'samples per shard (does not change results)').argParser(positiveInt))
    .addOption(backendOption())
    .addOption(new Option('--threads <t>', 'intra-op threads').argParser(positiveInt).default(1))
    .requiredOption('--out <file>', 'predictions JSON to write')
    .option('--tsv <file>', "also write Cohen et al.'s predict.py table")
    .option('--quiet', 'no progress bar'))
    .action(async (o, cmd: Command) => {
      const model = await loadModel(o.model);
      // Not a service job (PREDICT writes no certificate); the same defaults and input selection.
      const data = selectInputs(openDataset(o.data, o.labels), o.count, o.skip ?? 1, o.offset ?? 0);
      const remote = await openFanOut(o, cmd, shardsPathFor(o.out));
      const classifier = await openClassifier(model.bytes, o, !remote);
      try {
        checkInputsFit(classifier, data);
        auditFanOut(remote, o, classifier.backend);
        const sampler = remote ? remote.sampler(await remote.uploadModel(model.bytes), await remote.uploadInputs(data.inputs)) : undefined;
        const bar = progressBar('predict', data.inputs.length * o.n, !!o.quiet);
        const compute = () => runPredictJob({
          classifier: recordedBackend(classifier, remote), model: model.ref, data, sampler,
          params: { sigma: o.sigma, seed: o.seed ?? DEFAULTS.seed, n: o.n, alpha: o.alpha ?? DEFAULTS.alpha, batchSize: o.batch, shardSize: o.shardSize }, onProgress: (k) => bar.tick(k),
        });
        const doc: Awaited<ReturnType<typeof compute>> & { provenance?: Provenance } = await (remote ? remote.run(compute) : compute()).finally(() => bar.stop());
        if (remote) {
          doc.provenance = remote.provenance();
          printAudit(remote, doc.provenance);
        }
        writeAtomic(o.out, JSON.stringify(doc, null, 1) + '\n');
        if (o.tsv) {
          const rows = doc.results.map((r) => [r.idx, r.label, r.predict, r.correct, r.time].join('\t'));
          writeAtomic(o.tsv, ['idx\tlabel\tpredict\tcorrect\ttime', ...rows].join('\n') + '\n');
        }
        const acc = doc.results.filter((r) => r.correct).length / doc.results.length;
        process.stdout.write(`smoothed accuracy ${(100 * acc).toFixed(1)}% on ${doc.results.length} inputs, ${doc.results.filter((r) => r.predict === -1).length} abstained\nwrote ${o.out}\n`);
      } finally {
        await classifier.dispose();
        await remote?.dispose();
      }
    });
  program.command('compress')
    .description('write a compressed variant of an ONNX model: int8 (static QDQ), fp16 (rounded weights), fp16-native, prune')
    .requiredOption('--model <file>', 'float32 ONNX model (never modified)')
    .addOption(new Option('--method <m>', 'compression method').choices([...METHODS]).makeOptionMandatory())
    .addOption(new Option('--amount <a>', 'prune: fraction of Conv/Gemm/MatMul weights to zero, e.g. 0.05, 0.1, 0.2').argParser(openUnit))
    .option('--calibration <source>', 'int8: calibration inputs (mnist:train, mnist:test or a .npy)', DEFAULTS.calibration.source)
    .addOption(new Option('--calibration-count <k>', 'int8: calibration inputs used').argParser(positiveInt).default(DEFAULTS.calibration.count))
    .addOption(new Option('--calibration-sigma <s>', "int8: Gaussian noise on calibration inputs (default: the model's training sigma from its metadata, else 0)").argParser(nonNegativeNumber))
    .addOption(new Option('--backend <name>', `runtime for calibration and the load check: ${BACKEND_HELP.replace('onnxruntime backend: ', '')}`).argParser(backendName).default(DEFAULTS.backend))
    .requiredOption('--out <file>', 'compressed ONNX model to write')
    .option('--json', 'print the report as JSON')
    .action(async (o, cmd: Command) => {
      if (resolve(o.out) === resolve(o.model)) throw new UserError('--out names the input model; compression never overwrites its input');
      if (o.method === 'prune' && o.amount === undefined) throw new UserError('--method prune needs --amount (e.g. 0.1)');
      if (o.method !== 'prune' && o.amount !== undefined) throw new UserError(`--amount applies to --method prune, not ${o.method}`);
      const calibrationGiven = ['calibration', 'calibrationCount', 'calibrationSigma'].filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (o.method !== 'int8' && calibrationGiven.length) throw new UserError(`calibration options apply to --method int8, not ${o.method}`);
      const model = await loadModel(o.model);
      const { backend } = await resolveBackend(model.bytes, o.backend);
      let calibration;
      if (o.method === 'int8') {
        calibration = { ...calibrationSet(openDataset(o.calibration), o.calibrationCount, o.calibration), sigma: o.calibrationSigma ?? trainingSigma(model.bytes) ?? 0 };
      }
      const { bytes, report } = await compressModel(model.bytes, { method: o.method, amount: o.amount, calibration, backend });
      writeAtomic(o.out, bytes);
      if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
      else {
        process.stdout.write(`${report.method} ${JSON.stringify(report.params)}\n` +
          `size ${report.bytesBefore} -> ${report.bytesAfter} bytes (${(report.bytesBefore / report.bytesAfter).toFixed(2)}x smaller)` +
          (report.sparsity !== undefined ? `, sparsity ${(100 * report.sparsity).toFixed(2)}% of Conv/Gemm/MatMul weights` : '') +
          (report.quantizedNodes !== undefined ? `, ${report.quantizedNodes} nodes quantized` : '') +
          `\nsource sha256 ${report.sourceSha256}\nwrote ${o.out} (sha256 ${report.sha256})\n`);
      }
    });

  program.command('check-batch-invariance')
    .description("check that the model's prediction for a sample does not depend on the rest of its batch (exit 3 if it does)")
    .requiredOption('--model <file>', 'ONNX model')
    .option('--data <source>', 'probe inputs', 'mnist:test')
    .option('--labels <file>', 'labels.npy for --data inputs.npy')
    .addOption(new Option('--count <c>', 'probe inputs').argParser(positiveInt).default(4))
    .addOption(new Option('--sigma <s>', 'noise on the probe copies').argParser(positiveNumber).default(0.5))
    .addOption(backendOption())
    .action((o) => withModelOnInputs(o, async (classifier, data) => {
      const r = await checkBatchInvariance(classifier, makeProbes(data.inputs, o.sigma));
      process.stdout.write(r.ok
        ? `batch-invariant: ${r.checked} probe predictions identical alone and in batches\n`
        : `NOT batch-invariant: ${r.mismatches} of ${r.checked} probe predictions changed with the batch (${r.detail})\n`);
      if (!r.ok) throw new CheckFailed(EXIT.checkFailed);
    }));

  program.command('verify')
    .description('check that a certificate applies to a model file (and its cache to the certificate); exit 3 if not')
    .requiredOption('--certificate <cert.json>', 'an irs-edge certificate')
    .requiredOption('--model <file>', 'the ONNX model the certificate should be about')
    .option('--cache <file>', 'also check this IRS cache against the certificate')
    .action(async (o) => {
      const cert = readCertificate(o.certificate);
      const model = await loadModel(o.model);
      const problems: string[] = [];
      if (model.ref.sha256 !== cert.model.sha256) {
        problems.push(`certificate ${cert.id} is about the model with sha256 ${cert.model.sha256}; ${o.model} has sha256 ${model.ref.sha256}`);
      }
      const id = await certificateId(cert);
      if (id !== cert.id) problems.push(`certificate ${cert.id}: its kind, model, inputs and params give id ${id} (was it edited?)`);
      // The guarantee follows from the params: show the one they imply, and flag a stored one that says otherwise.
      const guarantee = guaranteeFor(cert);
      if (cert.guarantee && cert.guarantee.failureProbability !== guarantee.failureProbability) {
        problems.push(`certificate ${cert.id} states failure probability ${cert.guarantee.failureProbability}; its params give ${guarantee.failureProbability}`);
      }
      if (o.cache) {
        const sha = await sha256Hex(readBytes(o.cache, 'IRS cache'));
        if (sha !== cert.cache?.sha256) problems.push(`cache ${o.cache} (sha256 ${sha}) is not the cache of certificate ${cert.id} (${cert.cache?.sha256 ?? 'none'})`);
      }
      if (problems.length) {
        process.stdout.write(`DOES NOT APPLY\n${problems.join('\n')}\n`);
        throw new CheckFailed(EXIT.checkFailed);
      }
      process.stdout.write(`certificate ${cert.id} (${cert.kind}) applies to ${o.model} (sha256 ${model.ref.sha256})\n`);
      process.stdout.write(`guarantee: per input, P(reported class or radius wrong) <= ${guarantee.failureProbability}${cert.guarantee ? '' : ' (not stated in this older certificate; derived from its params)'}\n`);
      process.stdout.write(`  ${guarantee.derivation}\n`);
      process.stdout.write(`caveats:\n${guarantee.caveats.map((c) => `  - ${c}\n`).join('')}`);
    });

  program.command('evaluate')
    .description('clean (noise-free) accuracy of a model')
    .requiredOption('--model <file>', 'ONNX model')
    .option('--data <source>', 'mnist:test, mnist:train or inputs.npy', 'mnist:test')
    .option('--labels <file>', 'labels.npy for --data inputs.npy')
    .addOption(new Option('--count <c>', 'inputs').argParser(positiveInt))
    .addOption(backendOption())
    .option('--json', 'print the result as JSON')
    .action((o) => withModelOnInputs(o, async (classifier, data, model) => {
      const accuracy = await cleanAccuracy(classifier, data);
      process.stdout.write(o.json
        ? JSON.stringify({ model: model.ref, data: data.source, inputs: data.inputs.length, accuracy }) + '\n'
        : `clean accuracy ${(100 * accuracy).toFixed(2)}% on ${data.inputs.length} inputs of ${data.source}\n`);
    }));

  program.command('serve')
    .description('serve the HTTP functions (shards, jobs, models, certificates) on Node')
    .addOption(new Option('--port <p>', 'port (0: any free port)').argParser(nonNegativeInt).default(8787))
    .option('--host <h>', 'address to listen on', '127.0.0.1')
    .option('--store <url>', 'object store: file:./irs-data, s3://bucket/prefix?endpoint=…, memory:', 'file:./irs-data')
    .option('--token <t>', "a bearer token for the tenant 'default'")
    .option('--tokens <list>', 'tenant:token,tenant:token (also IRS_TOKENS)')
    .option('--worker-token <t>', 'shared secret for aggregator -> shard worker requests (also IRS_WORKER_TOKEN)')
    .option('--workers <urls>', 'shard workers to fan out to, comma-separated (default: run shards in this process)')
    .option('--worker-id <name>', 'the name this server states with its shard results (default: the URL it is reached at)')
    .addOption(new Option('--backend <name>', 'auto (node where onnxruntime-node is installed, else wasm), wasm or node').argParser(backendName).default(DEFAULTS.backend))
    .addOption(new Option('--max-shards <k>', 'shards computed at once before answering 429').argParser(positiveInt).default(DEFAULTS.maxConcurrentShards))
    .action(async (o) => {
      const tokens = parseTokens([o.tokens ?? process.env.IRS_TOKENS, o.token ? `default:${o.token}` : ''].filter(Boolean).join(','));
      if (tokens.size === 0) throw new UserError('serve needs at least one token: --token T, --tokens tenant:token,… or IRS_TOKENS');
      const { serve } = await import('../http/node.ts');
      const s = await serve({
        port: o.port, host: o.host, store: o.store, tokens, backend: o.backend === 'auto' ? undefined : o.backend,
        workerToken: o.workerToken ?? process.env.IRS_WORKER_TOKEN,
        workers: (o.workers ?? '').split(',').map((w: string) => w.trim()).filter(Boolean),
        maxConcurrentShards: o.maxShards, workerId: o.workerId,
      });
      process.stdout.write(`irs-edge serving on ${s.url} (store ${o.store}, ${tokens.size} token${tokens.size > 1 ? 's' : ''})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { void s.close().then(resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program.command('report')
    .description('an HTML page (or Markdown) with certified-accuracy curves and tables for certificates')
    .argument('<certificates...>', 'certificate JSON files')
    .requiredOption('--out <file>', 'report to write')
    .addOption(new Option('--format <f>', 'html or md').choices(['html', 'md']).default('html'))
    .option('--labels <list>', 'comma-separated labels, one per certificate (default: file names)')
    .option('--title <t>', 'page title', 'irs-edge certification report')
    .action(async (files: string[], o) => {
      const labels = o.labels ? String(o.labels).split(',') : files.map((f) => basename(f).replace(/\.json$/, ''));
      if (labels.length !== files.length) throw new UserError(`--labels has ${labels.length} labels for ${files.length} certificates`);
      const items = files.map((f, i) => ({ label: labels[i], certificate: readCertificate(f) }));
      writeAtomic(o.out, o.format === 'md' ? reportMarkdown(items) : reportHtml(items, o.title));
      process.stdout.write(`wrote ${o.out}\n`);
    });

  program.command('demo')
    .description('the main job: certify a bundled model once; per compression, "does it still certify T% at r?" by decision-mode IRS and by RS from scratch; tune; the paper-style comparison')
    .option('--model <name>', 'bundled model or ONNX file', 'mnist-small-s1.00')
    .addOption(new Option('--sigma <s>', "noise level (default: the model's training sigma)").argParser(positiveNumber))
    .addOption(new Option('--count <c>', 'MNIST test images').argParser(positiveInt).default(100))
    .addOption(new Option('--workers <k>', 'local shard-worker processes').argParser(positiveInt).default(2))
    .addOption(new Option('--n <n>', 'samples of the original certification').argParser(sampleCount).default(10_000))
    .addOption(new Option('--radius <r>', 'the CI question: certified accuracy at this radius').argParser(positiveNumber).default(0.5))
    .addOption(new Option('--drop <d>', "the target: f's certified accuracy at --radius less d").argParser(closedUnit).default(0.02))
    .addOption(new Option('--cap <k>', 'decision mode and tune: samples per input at most').argParser(sampleCount).default(2000))
    .addOption(new Option('--np <np>', 'n_p of the paper-style comparison').argParser(sampleCount).default(1000))
    .addOption(new Option('--backend <name>', 'auto (node where onnxruntime-node is installed, else wasm), wasm or node').argParser(backendName).default(DEFAULTS.backend))
    .option('--out <dir>', 'where certificates, the report and the demo store go', 'irs-data/demo')
    .option('--quiet', 'no progress bars')
    .action(async (o) => {
      if (o.cap > o.n || o.np > o.n) throw new UserError(`--cap ${o.cap} and --np ${o.np} must be at most --n ${o.n} (IRS replays f's cached samples)`);
      await runDemo({ ...o, backend: o.backend === 'auto' ? undefined : o.backend, quiet: !!o.quiet });
    });
  return program;
}

/** A check ran to completion and the model failed it; its report is already printed. */
class CheckFailed extends Error {
  constructor(readonly exitCode: number) {
    super('check failed');
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const cmd of program.commands) cmd.exitOverride();
  fanOutReports.length = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CheckFailed) return e.exitCode;
    // One translation: each error class carries its exit code (errors.ts); messages name request fields, shown with their flags.
    if (e instanceof AuditFailed) {
      process.stderr.write(`irs: error: audit: ${e.message}\n`);
      if (e.audit) process.stderr.write(auditReport(e.audit).filter((l) => !l.startsWith('irs: warning: audit: a worker lied')).join('\n') + '\n');
      process.stderr.write('irs: no output written: the audit could not tell which result is honest\n');
      return e.exitCode;
    }
    if (e instanceof KnownError) {
      process.stderr.write(`irs: error: ${withFlags(e.message)}\n`);
      return e.exitCode;
    }
    process.stderr.write(`irs: internal error (please report): ${(e as Error).stack ?? e}\n`);
    return EXIT.internal;
  } finally {
    for (const report of fanOutReports) {
      const line = report();
      if (line) process.stderr.write(line + '\n');
    }
  }
}
