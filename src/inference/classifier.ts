/**
 * What smoothing needs from a model: the top class of each of a batch of inputs.
 * Implementations live beside this file (onnxruntime-web, onnxruntime-node); the smoothing
 * core depends on this interface only (and backend.ts, the list of backend names).
 */
import type { AdapterInfo, BackendName } from './backend.ts';

export type { AdapterInfo, BackendName } from './backend.ts';

/** Prediction written for a sample whose scores were all NaN: counts for no class. */
export const NO_CLASS = -1;

export interface Classifier {
  readonly backend: BackendName;
  /** webgpu: the adapter that computes (inference/webgpu.ts), recorded in certificates. */
  readonly adapter?: AdapterInfo;
  /** Shape of one input, without the batch dimension. */
  readonly inputShape: readonly number[];
  /** prod(inputShape). */
  readonly inputSize: number;
  /** Largest batch the model accepts (1 for a model whose batch dimension is fixed to 1). */
  readonly maxBatch: number;
  /** Number of classes, known after the first call to `classify` if the model does not declare it. */
  numClasses: number | undefined;
  /**
   * Classifies `count` inputs stored back to back in `inputs` and writes their top classes
   * (first maximum; NO_CLASS if every score is NaN) into `out[0..count)`.
   */
  classify(inputs: Float32Array, count: number, out: Int32Array): Promise<void>;
  dispose(): Promise<void>;
}

/** Index of the first maximum of scores[offset..offset+n), ignoring NaN; NO_CLASS if none. */
export function argmax(scores: ArrayLike<number>, offset: number, n: number): number {
  let best = NO_CLASS;
  let bestScore = -Infinity;
  for (let c = 0; c < n; c++) {
    const s = scores[offset + c];
    if (s > bestScore || (best === NO_CLASS && s === -Infinity)) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}
