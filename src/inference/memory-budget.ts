/**
 * How much of a memory-limited isolate (a Worker has 128 MB) onnxruntime-web's wasm build needs
 * for a model, and the largest batch that keeps it inside.
 *
 * Nothing inside an isolate can be asked "will this batch fit?" before it runs: wasm memory only
 * grows, and an isolate over its limit is killed, not refused. So the estimate is made from the
 * model's size and the input's, with constants fitted to what BENCHMARKS.md ("Inside a Worker
 * isolate") measured inside workerd, erring up on every measured point (test/memory-budget.test.ts
 * holds it to them):
 *   - a fixed part (onnxruntime's runtime in wasm memory, the V8 heap, buffers): 38 MiB;
 *   - the model: 4.0 x its bytes. After session creation wasm memory holds about 3 x (the bytes
 *     are copied in and parsed there, and wasm memory never shrinks); during creation the
 *     caller's copy of the bytes is alive as well, and that moment is the isolate's peak;
 *   - 2.0 x its float16 weights on top (onnxruntime's CPU kernels have no float16: the graph
 *     runs through Casts, and those weights are held in float32 as well);
 *   - each sample of a batch beyond the first: 24 x its input's float32 bytes (activations, the
 *     noisy-input copies; int8 graphs also hold quantized copies; ResNets' first convolution alone
 *     is 5.3 x the input).
 * A model of another shape than the measured ResNets and CNNs may need more: the budget keeps a
 * margin below the platform's limit for that.
 */
import { UserError } from '../errors.ts';
import type { Classifier } from './classifier.ts';

const MiB = 1024 * 1024;
export const FIXED_MIB = 38;
export const WEIGHTS_PER_MODEL_BYTE = 4.0;
export const WEIGHTS_PER_FLOAT16_BYTE = 2.0;
export const ACTIVATION_PER_INPUT_BYTE = 24;

/** A Worker isolate's 128 MB in MiB, less a 5% margin for models unlike the measured ones. */
export const WORKER_ISOLATE_BUDGET_MIB = Math.floor((128e6 / MiB) * 0.95);

/** The largest model (bytes) whose estimate at batch 1 stays within `budgetMiB`. */
export function largestModelBytes(budgetMiB: number): number {
  return Math.max(0, Math.floor(((budgetMiB - FIXED_MIB) * MiB) / WEIGHTS_PER_MODEL_BYTE));
}

/**
 * Estimated memory (MiB) a loaded model of `modelBytes` holds, its creation peak included;
 * `float16Bytes`: how many of those bytes are float16 weights (onnx/model.ts float16InitializerBytes).
 */
export function weightsMiB(modelBytes: number, float16Bytes = 0): number {
  return (WEIGHTS_PER_MODEL_BYTE * modelBytes + WEIGHTS_PER_FLOAT16_BYTE * float16Bytes) / MiB;
}

/** Estimated extra memory (MiB) of a batch of `batch` inputs of `inputSize` floats over a batch of one. */
export function batchMiB(inputSize: number, batch: number): number {
  return (ACTIVATION_PER_INPUT_BYTE * 4 * inputSize * Math.max(0, batch - 1)) / MiB;
}

/** Estimated isolate memory (MiB) for one model of `modelBytes` (`float16Bytes` of them float16 weights) run at `batch`. */
export function isolateMiB(modelBytes: number, inputSize: number, batch: number, float16Bytes = 0): number {
  return FIXED_MIB + weightsMiB(modelBytes, float16Bytes) + batchMiB(inputSize, batch);
}

/**
 * The largest batch whose estimate, with `residentMiB` of weights already held (this model's
 * included), stays within `budgetMiB`; 0 if not even one input does.
 */
export function largestBatch(budgetMiB: number, residentMiB: number, inputSize: number): number {
  const headroom = budgetMiB - FIXED_MIB - residentMiB;
  if (headroom < 0) return 0;
  return 1 + Math.floor((headroom * MiB) / (ACTIVATION_PER_INPUT_BYTE * 4 * inputSize));
}

/**
 * The memory (MiB) a model of `modelBytes`, `float16Bytes` of them float16 weights, adds to an
 * isolate under `budgetMiB`; refuses it (as `Refusal`: 400 by default) when not even one input
 * fits, before its session is created.
 */
export function requireLoadable(
  modelBytes: number, float16Bytes: number, budgetMiB: number, Refusal: new (message: string) => UserError = UserError,
): number {
  const own = weightsMiB(modelBytes, float16Bytes);
  if (largestBatch(budgetMiB, own, 1) >= 1) return own;
  const fp16 = float16Bytes > 0 ? `, float16 weights twice more` : '';
  throw new Refusal(
    `the model (${(modelBytes / MiB).toFixed(1)} MiB) needs about ${isolateMiB(modelBytes, 1, 1, float16Bytes).toFixed(0)} MiB ` +
    `to load here (onnxruntime-web's wasm build holds about 3x a model's bytes, and the bytes themselves while it ` +
    `loads${fp16}), over this runtime's ${budgetMiB} MiB budget: compress it (irs compress --method int8) or run it on Node (irs serve)`,
  );
}

/**
 * `classifier` computing at most `cap` inputs per inference, whatever batch it is asked for:
 * results are the same (every model is checked to be batch-invariant), only memory differs.
 */
export function withBatchCap(classifier: Classifier, cap: number): Classifier {
  if (cap >= classifier.maxBatch) return classifier;
  return {
    backend: classifier.backend,
    adapter: classifier.adapter,
    inputShape: classifier.inputShape,
    inputSize: classifier.inputSize,
    maxBatch: cap,
    get numClasses() { return classifier.numClasses; },
    set numClasses(n) { classifier.numClasses = n; },
    async classify(inputs, count, out) {
      const size = classifier.inputSize;
      for (let first = 0; first < count; first += cap) {
        const b = Math.min(cap, count - first);
        await classifier.classify(inputs.subarray(first * size, (first + b) * size), b, out.subarray(first, first + b));
      }
    },
    dispose: () => classifier.dispose(),
  };
}
