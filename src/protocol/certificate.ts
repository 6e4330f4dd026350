/**
 * The certificate document (JSON, format `irs-edge/certificate@1`): everything needed to
 * reproduce it, and per-input results in Cohen et al.'s columns plus what IRS adds.
 */
import { canonicalJson, sha256Hex } from '../util/digest.ts';

export const CERTIFICATE_FORMAT = 'irs-edge/certificate@1';

export type CertificateKind = 'certify' | 'recertify' | 'baseline';

export interface ModelRef {
  /** SHA-256 of the exact model bytes certified. */
  sha256: string;
  bytes: number;
  /** File name the user gave (informative only; the hash is what binds). */
  name?: string;
}

export interface DataRef {
  /** `mnist:test`, or the .npy path the user gave. */
  source: string;
  /** Dataset indices certified, in order. */
  indices: number[];
  /** SHA-256 of the certified inputs' float32 bytes, concatenated in order. */
  inputsSha256: string;
}

export interface SamplingParamsDoc {
  sigma: number;
  seed: number;
  /** Noise generator and transform (noise/gaussian.ts NOISE_SCHEME). */
  noise: string;
  /** Execution details: recorded, but by construction they do not change any result. */
  batchSize: number;
  backend: string;
  /**
   * webgpu: the adapter that computed (vendor, architecture, whether it is a software fallback).
   * A certificate certifies the model as computed by its backend, on this adapter.
   */
  adapter?: AdapterDoc;
}

export interface AdapterDoc {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  fallback: boolean;
}

export interface CertifyParamsDoc extends SamplingParamsDoc {
  n0: number;
  n: number;
  alpha: number;
  /** Baseline in stages (adaptive or decision mode); n is then the cap. */
  sequential?: SequentialDoc;
}

/**
 * Adaptive or decision mode (smoothing/sequential.ts): each input samples in stages ending at
 * `stages` samples and stops on its own; each branch's failure probability is split evenly
 * over the stages.
 */
export interface SequentialDoc {
  mode: 'adaptive' | 'decision';
  stages: number[];
  split: 'even';
  /** decision: the radius decided per input (certified at >= radius, or not). */
  radius?: number;
  /** adaptive: stop when more samples could raise the radius by at most this. */
  tolerance?: number;
}

export interface IrsParamsDoc extends SamplingParamsDoc {
  np: number;
  /** The original certification's alpha, and its n. */
  alpha: number;
  n: number;
  alphaZeta: number;
  gamma: number;
  /**
   * The backend (and adapter) that computed the replayed cache: the original certificate's.
   * When it differs from `backend`, zeta bounds the disagreement of f^p on this backend with f
   * on that one, so it also pays for the two backends' numerical differences (still sound).
   */
  cacheBackend?: string;
  cacheAdapter?: AdapterDoc;
  /** Adaptive or decision mode; np is then the cap. */
  sequential?: SequentialDoc;
  /**
   * Selection among several candidates recertified together (irs tune, recertify --models):
   * how many, and the levels each candidate's branches ran at (smoothing/irs.ts branchLevels).
   * Absent for a single model.
   */
  candidates?: CandidatesDoc;
}

export interface CandidatesDoc {
  count: number;
  /** Per candidate: failure probability of the zeta branch's bounds (alpha_zeta / count). */
  alphaZetaEach: number;
  /** Per candidate: failure probability of the rs branch's bounds (alpha / count). */
  alphaRsEach: number;
}

export interface OriginalRef {
  id: string;
  modelSha256: string;
}

export interface InputResult {
  idx: number;
  label: number;
  /** Certified class, -1 on abstain. */
  predict: number;
  radius: number;
  correct: 0 | 1;
  /** Seconds spent on this input. */
  time: number;
  /** The probability lower bound behind the radius. */
  pALower: number;
  /** Samples of the certified model drawn for this input. */
  samples: number;
  /** Adaptive or decision mode: stages completed when the input stopped (0: decided without sampling). */
  stage?: number;
  /** certify/baseline: selected class and its estimation count. */
  cA?: number;
  nA?: number;
  /** recertify: branch taken, zeta and disagreements (zeta branch). */
  branch?: 'zeta' | 'rs' | 'abstain';
  zeta?: number;
  disagreements?: number;
}

export interface Summary {
  inputs: number;
  abstained: number;
  acr: number;
  /** Certified accuracy at the standard radii. */
  certifiedAccuracy: { radius: number; accuracy: number }[];
  samples: number;
  seconds: number;
  branches?: { zeta: number; rs: number; abstain: number };
  meanZeta?: number;
}

export interface CacheRef {
  /** SHA-256 of the cache file's bytes. */
  sha256: string;
  bytes: number;
  /** Predictions per input stored (the estimation stream's first `samples`). */
  samples: number;
}

/** What a certificate promises (derived from its params by smoothing/guarantee.ts guaranteeFor). */
export interface Guarantee {
  /**
   * Per input: the probability, over the noise, that the certificate's class and radius are
   * wrong for the smoothed classifier (class not its top class, or radius above its true one).
   */
  failureProbability: number;
  /** How failureProbability follows from the bounds' levels. */
  derivation: string;
  /** What the failure probability does not account for. */
  caveats: string[];
}

interface CertificateBase {
  format: typeof CERTIFICATE_FORMAT;
  id: string;
  createdAt: string;
  tool: { name: string; version: string };
  model: ModelRef;
  data: DataRef;
  /** recertify: the certificate whose cache was used; baseline: the one it is compared with. */
  original?: OriginalRef;
  /** certify: the IRS cache written beside the certificate. */
  cache?: CacheRef;
  results: InputResult[];
  summary: Summary;
  /**
   * Fan-out: who computed each shard and which shards were audited (protocol/provenance.ts; coordinator/audit.ts computes it).
   * Not part of the id: it records how the results were obtained, not what they are.
   */
  provenance?: import('./provenance.ts').Provenance;
  /**
   * What the certificate promises (smoothing/guarantee.ts): derived from params, so not part of
   * the id. Certificates written before it existed lack it; readers rebuild it (guaranteeFor).
   */
  guarantee?: Guarantee;
}

/** From scratch: Cohen et al.'s CERTIFY (kind certify writes the IRS cache too). */
export interface CertifyCertificate extends CertificateBase {
  kind: 'certify';
  params: CertifyParamsDoc;
}

/** RS from scratch on a modified model, compared with the IRS run of the same question (`original`). */
export interface BaselineCertificate extends CertificateBase {
  kind: 'baseline';
  params: CertifyParamsDoc;
}

/** IRS: the modified model recertified from the original's cache (`original`). */
export interface RecertifyCertificate extends CertificateBase {
  kind: 'recertify';
  params: IrsParamsDoc;
}

/** A certificate of any kind, discriminated by `kind`: checking `cert.kind` narrows `cert.params`. */
export type Certificate = CertifyCertificate | BaselineCertificate | RecertifyCertificate;

/** The certificate of one kind (`CertificateOf<'recertify'>`). */
export type CertificateOf<K extends CertificateKind> = Extract<Certificate, { kind: K }>;

/** A certificate's kind with its params, still discriminated (what the guarantee is derived from). */
export type KindAndParams<C = Certificate> = C extends Certificate ? Pick<C, 'kind' | 'params'> : never;

/** Parameters that are execution details: recorded, but not part of the id. */
const EXECUTION_DETAILS: ReadonlySet<string> = new Set(['batchSize', 'backend', 'adapter', 'cacheBackend', 'cacheAdapter']);

/**
 * A certificate's id: a digest of what determines its results (kind, model, inputs, the
 * parameters that change outcomes, the original). Repeating a job gives the same id, so
 * writes are idempotent; batch size and backend (with its adapter, and the cache's) are excluded
 * because they are execution details, recorded but not part of what was asked.
 */
export async function certificateId(c: Pick<Certificate, 'kind' | 'model' | 'data' | 'params' | 'original'>): Promise<string> {
  const params = Object.fromEntries(Object.entries(c.params).filter(([k]) => !EXECUTION_DETAILS.has(k)));
  const key = canonicalJson({ kind: c.kind, model: c.model.sha256, data: c.data.inputsSha256, params, original: c.original?.id ?? null });
  return (await sha256Hex(new TextEncoder().encode(key))).slice(0, 32);
}
