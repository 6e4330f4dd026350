/**
 * Every default of a job, defined once: the zod schemas (schemas.ts) apply them to API
 * requests and CLI flags alike (the CLI builds a JobRequest), and the runtimes read the
 * execution defaults from here.
 */
import { DEFAULT_FIRST_STAGE, DEFAULT_RADIUS_TOLERANCE } from '../smoothing/sequential.ts';

export const DEFAULTS = {
  /** CERTIFY: selection samples, failure probability, noise seed. */
  n0: 100,
  alpha: 0.001,
  seed: 0,
  /** IRS: the disagreement bound's failure probability, and the pA_lower above which inputs take plain RS. */
  alphaZeta: 0.001,
  gamma: 0.99,
  /** Samples of f^p per input (tune: the cap). */
  np: 1000,
  /** Adaptive and decision modes: samples in the first stage; adaptive: the radius tolerance. */
  firstStage: DEFAULT_FIRST_STAGE,
  radiusTolerance: DEFAULT_RADIUS_TOLERANCE,
  /** Inference batch size (never changes a result). */
  batchSize: 256,
  /** int8 compression: calibration inputs, the first `count` of `source`. */
  calibration: { source: 'mnist:train', count: 512 } as { source: 'mnist:train' | 'mnist:test'; count: number },
  /** Shard requests an aggregator keeps in flight per shard worker. */
  shardsPerWorker: 2,
  /** Shards a worker computes at once before answering 429. */
  maxConcurrentShards: 4,
  /** The CLI's backend choice: node where onnxruntime-node is installed and runs the model, else wasm. */
  backend: 'auto' as const,
} as const;
