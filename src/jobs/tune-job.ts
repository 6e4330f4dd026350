/**
 * Compression tuning: which of several compressions of a model is the smallest that still
 * meets a certified-accuracy target?
 *
 * Every candidate is compressed, then all are recertified with IRS in decision mode at the
 * target radius in one pass over the same noise (smoothing/irs.ts recertifyMany). After every
 * stage a candidate is dropped as soon as it is known to miss: the inputs certified so far
 * plus those still open (with the right class) cannot reach the target. A candidate is also
 * skipped once a smaller one is known to meet it (its certified inputs alone reach the
 * target; a certified input stays certified). The smallest candidate (gzip size: what a
 * deployment ships; pruning shrinks a model only once compressed) whose decision-mode
 * certificate meets the target is the choice.
 *
 * Selection. The choice looks at every candidate's results, so a single-model certificate
 * would not hold for the one chosen (with M candidates just below the target, any one that
 * errs upward gets picked). All M candidates therefore run with the union bound of
 * smoothing/irs.ts branchLevels: zeta at alpha_zeta / M and the rs branch at alpha / M, M
 * known before the run starts (skipped and dropped candidates count too). The chosen
 * certificate then holds at 1 - (alpha + alpha_zeta), what the user asked for; it records M
 * and the per-candidate levels (params.candidates, guarantee), and so does tune.json.
 */
import { loadClassifier, type BackendName } from '../inference/index.ts';
import type { Classifier } from '../inference/classifier.ts';
import { compressModel, METHODS, type Calibration, type Method } from '../onnx/compress/index.ts';
import type { Certificate } from '../protocol/certificate.ts';
import { certifiedAccuracy } from '../smoothing/metrics.ts';
import { branchLevels, type CandidateControl, type Decision, type Progress } from '../smoothing/irs.ts';
import type { MultiSampler } from '../smoothing/stream.ts';
import { DEFAULT_FIRST_STAGE } from '../smoothing/sequential.ts';
import { gzipSize } from '../util/gzip.ts';
import { UserError } from '../errors.ts';
import type { AccuracyFloor } from '../report/gate.ts';
import { runRecertifyCandidates } from './recertify-job.ts';
import type { JobInputs } from './common.ts';

export interface CandidateSpec {
  method: Method;
  /** prune: fraction of weights zeroed. */
  amount?: number;
}

/** `int8,fp16,prune:0.05,prune:0.1` -> specs; errors name the bad item. */
export function parseCandidates(list: string): CandidateSpec[] {
  const items = list.split(',').map((x) => x.trim());
  if (items.length === 0 || items.some((x) => x === '')) throw new UserError(`--candidates: empty item in '${list}'`);
  const specs = items.map((item) => {
    const [method, amount, extra] = item.split(':');
    if (!(METHODS as readonly string[]).includes(method) || extra !== undefined) {
      throw new UserError(`--candidates: '${item}' is not a compression; use ${METHODS.join(', ')} or prune:AMOUNT (e.g. prune:0.1)`);
    }
    if (method === 'prune') {
      const a = Number(amount);
      if (amount === undefined || amount.trim() === '' || !(a > 0 && a < 1)) throw new UserError(`--candidates: '${item}' needs a pruning amount in (0, 1), e.g. prune:0.1`);
      return { method: 'prune' as const, amount: a };
    }
    if (amount !== undefined) throw new UserError(`--candidates: '${item}': only prune takes an amount`);
    return { method: method as Method };
  });
  const names = specs.map(candidateName);
  if (new Set(names).size !== names.length) throw new UserError(`--candidates: '${list}' names a candidate twice`);
  return specs;
}

export function candidateName(c: CandidateSpec): string {
  return c.method === 'prune' ? `prune:${c.amount}` : c.method;
}

/**
 * A compressed candidate: what tune ranks and recertifies. `bytes` is absent when it was
 * compressed elsewhere (a Workers queue consumer), which stored the model and checked it.
 */
export interface CompressedCandidate {
  spec: CandidateSpec;
  name: string;
  sha256: string;
  size: number;
  gzip: number;
  bytes?: Uint8Array;
}

/**
 * Compresses every candidate, in the order given. The default compresses in this process; the
 * Workers job object defers each to its queue (coordinator/job-machine.ts storedCompressor).
 */
export type CandidateCompressor = (specs: readonly CandidateSpec[]) => Promise<CompressedCandidate[]>;

/** One candidate compressed from the original's bytes: the same function wherever it runs. */
export async function compressCandidate(
  modelBytes: Uint8Array, spec: CandidateSpec, calibration: Calibration | undefined, backend: BackendName,
): Promise<CompressedCandidate & { bytes: Uint8Array }> {
  if (spec.method === 'int8' && !calibration) throw new UserError('int8 needs calibration inputs');
  const { bytes, report } = await compressModel(modelBytes, { method: spec.method, amount: spec.amount, calibration: spec.method === 'int8' ? calibration : undefined, backend });
  return { spec, name: candidateName(spec), sha256: report.sha256, size: bytes.length, gzip: await gzipSize(bytes), bytes };
}

export interface TuneJob {
  /** The original float model (needed to compress in this process) and its certification (with cache). */
  modelBytes?: Uint8Array;
  original: Certificate;
  cacheBytes: Uint8Array;
  data: JobInputs;
  candidates: CandidateSpec[];
  target: AccuracyFloor;
  /** Cap on f^p samples per input. */
  np: number;
  alphaZeta: number;
  gamma: number;
  firstStage?: number;
  batchSize: number;
  backend: BackendName;
  /** int8 calibration inputs (noise sigma defaults to the original's). */
  calibration?: Omit<Calibration, 'sigma'> & { sigma?: number };
  onProgress?: Progress;
  /** Called when a candidate is compressed, dropped or finished. */
  onEvent?: (message: string) => void;
  /** Where candidates are compressed (default: in this process, from modelBytes). */
  compressor?: CandidateCompressor;
  /**
   * Where the candidates' samples are drawn, given the compressed models smallest first
   * (default: in this process, noise drawn once for all candidates). The CLI's --workers
   * uploads them and fans their shards out; the Workers job object queues their shards.
   */
  sampler?: (models: readonly CompressedCandidate[]) => Promise<MultiSampler>;
}

export interface CandidateReport {
  candidate: string;
  sha256: string;
  bytes: number;
  gzipBytes: number;
  /**
   * met: its certificate reaches the target; missed: finished below it; dropped: known to miss
   * early; skipped: a smaller candidate was known to meet the target first.
   */
  outcome: 'met' | 'missed' | 'dropped' | 'skipped';
  /** Certified accuracy at the target radius: exact (met, missed), at most (dropped), at least (skipped). */
  certifiedAccuracy: number;
  accuracyIs: 'exact' | 'at most' | 'at least';
  /** f^p samples spent on this candidate (noise is shared, so the pass costs about the largest). */
  samples: number;
  certificateId?: string;
}

export interface TuneResult {
  target: AccuracyFloor;
  candidates: CandidateReport[];
  /** The smallest candidate that met the target, if any. */
  choice?: { candidate: string; certificate: Certificate; bytes?: Uint8Array };
  /** Certificates of every candidate that ran to the end (met or missed), by candidate name. */
  certificates: Map<string, Certificate>;
  /**
   * The selection's budget: M candidates, each at alpha_zeta / M (zeta) and alpha / M (rs
   * branch), so the chosen certificate fails with probability <= alpha + alpha_zeta per input.
   */
  selection: { candidates: number; alphaZetaEach: number; alphaRsEach: number; failureProbability: number };
}

export async function runTuneJob(job: TuneJob): Promise<TuneResult> {
  const { target, data } = job;
  if (job.candidates.length === 0) throw new UserError('no candidates to tune over');
  const sigma = job.original.params.sigma;
  const compressInProcess: CandidateCompressor = async (specs) => {
    if (!job.modelBytes) throw new Error('tune: compressing in this process needs the model bytes');
    const calibration = job.calibration ? { ...job.calibration, sigma: job.calibration.sigma ?? sigma } : undefined;
    const out: CompressedCandidate[] = [];
    for (const spec of specs) out.push(await compressCandidate(job.modelBytes, spec, calibration, job.backend));
    return out;
  };
  const compressed = await (job.compressor ?? compressInProcess)(job.candidates);
  for (const c of compressed) job.onEvent?.(`compressed ${c.name}: ${c.size} bytes, ${c.gzip} gzip`);
  // Smallest first: the report reads in the order a user would pick.
  compressed.sort((a, b) => a.gzip - b.gzip || a.name.localeCompare(b.name));

  const needed = Math.ceil(target.accuracy * data.inputs.length - 1e-9);
  const cachedClass = job.original.results.map((r) => r.cA ?? -1);
  const labels = data.labels;
  const bestCase: number[] = compressed.map(() => data.inputs.length);
  const worstCase: number[] = compressed.map(() => 0);
  const why: (undefined | 'dropped' | 'skipped')[] = compressed.map(() => undefined);
  // Candidates are reviewed smallest first after every stage, so `secured` is current for all smaller ones.
  const secured: boolean[] = compressed.map(() => false);
  const control: CandidateControl = {
    drop(model: number, decisions: readonly Decision[]): boolean {
      // An input counts only if certified with its label; the class certified is the cached cA.
      let reachable = 0;
      let certified = 0;
      decisions.forEach((d, i) => {
        if (cachedClass[i] !== labels[i]) return;
        if (d !== 'no') reachable++;
        if (d === 'yes') certified++;
      });
      bestCase[model] = reachable;
      worstCase[model] = certified;
      secured[model] = certified >= needed;
      const smaller = secured.slice(0, model).findIndex((x) => x);
      if (smaller >= 0) {
        why[model] = 'skipped';
        job.onEvent?.(`skipped ${compressed[model].name}: the smaller ${compressed[smaller].name} already certifies ${worstCase[smaller]} of ${data.inputs.length} inputs at r = ${target.radius}`);
        return true;
      }
      if (reachable < needed) {
        why[model] = 'dropped';
        job.onEvent?.(`dropped ${compressed[model].name}: at most ${reachable} of ${data.inputs.length} inputs can still certify at r = ${target.radius}, ${needed} needed`);
        return true;
      }
      return false;
    },
  };

  const classifiers: Classifier[] = [];
  try {
    // A candidate compressed elsewhere was loaded and checked (inputs fit, batch invariance) there.
    for (const c of compressed) if (c.bytes) classifiers.push(await loadClassifier(c.bytes, job.backend));
    const local = classifiers.length === compressed.length;
    const multiSampler = job.sampler ? await job.sampler(compressed) : undefined;
    const certs = await runRecertifyCandidates({
      candidates: compressed.map((c, i) => ({
        ...(local ? { classifier: classifiers[i] } : { backend: job.backend }),
        model: { sha256: c.sha256, bytes: c.size, name: `${c.name}.onnx` },
      })),
      data, original: job.original, cacheBytes: job.cacheBytes, np: job.np, alphaZeta: job.alphaZeta, gamma: job.gamma,
      sequential: { firstStage: job.firstStage ?? DEFAULT_FIRST_STAGE, stop: { kind: 'decision', radius: target.radius } },
      batchSize: job.batchSize, onProgress: job.onProgress, control, multiSampler,
    });
    const certificates = new Map<string, Certificate>();
    const reports: CandidateReport[] = compressed.map((c, m) => {
      const cert = certs[m];
      const stopped = control.dropped?.[m] ? why[m] : undefined;
      const acc = certifiedAccuracy(cert.results, target.radius);
      if (!stopped) certificates.set(c.name, cert);
      const n = data.inputs.length;
      return {
        candidate: c.name, sha256: c.sha256, bytes: c.size, gzipBytes: c.gzip,
        outcome: stopped ?? (acc >= target.accuracy ? 'met' : 'missed'),
        certifiedAccuracy: stopped === 'dropped' ? bestCase[m] / n : stopped === 'skipped' ? worstCase[m] / n : acc,
        accuracyIs: stopped === 'dropped' ? 'at most' : stopped === 'skipped' ? 'at least' : 'exact',
        samples: cert.summary.samples,
        ...(stopped ? {} : { certificateId: cert.id }),
      };
    });
    const chosen = compressed.findIndex((_, m) => reports[m].outcome === 'met');
    const alpha = job.original.params.alpha;
    const levels = branchLevels({ alpha, alphaZeta: job.alphaZeta, candidates: compressed.length });
    return {
      target,
      candidates: reports,
      certificates,
      selection: { candidates: levels.candidates, alphaZetaEach: levels.zeta, alphaRsEach: levels.rs, failureProbability: alpha + job.alphaZeta },
      ...(chosen >= 0 ? { choice: { candidate: compressed[chosen].name, certificate: certs[chosen], ...(compressed[chosen].bytes ? { bytes: compressed[chosen].bytes } : {}) } } : {}),
    };
  } finally {
    for (const c of classifiers) await c.dispose();
  }
}

/** The report without model bytes or certificates, as JSON. */
export function tuneSummary(r: TuneResult) {
  return {
    target: r.target,
    choice: r.choice ? {
      candidate: r.choice.candidate, certificateId: r.choice.certificate.id, sha256: r.choice.certificate.model.sha256,
      guarantee: r.choice.certificate.guarantee,
    } : null,
    selection: r.selection,
    candidates: r.candidates,
  };
}

