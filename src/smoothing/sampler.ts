/**
 * The hot loop: noise -> add -> infer -> argmax -> histogram, over one sample range of one
 * noise stream for a group of inputs (a shard).
 *
 * Sample j always lands in batch floor(j / batchSize) at position j mod batchSize, whatever
 * range the shard covers, so the mapping from sample to batch position is a pure function
 * of the job's parameters. Noise is generated once per batch and reused for every input of
 * the shard (see noise/gaussian.ts for why that is sound).
 */
import { fillGaussianNoise } from '../noise/gaussian.ts';
import { NO_CLASS, type Classifier } from '../inference/classifier.ts';

export interface SampleRange {
  /** First sample index. */
  start: number;
  /** Number of samples. */
  count: number;
}

export interface ShardSpec extends SampleRange {
  sigma: number;
  seed: number;
  stream: number;
  batchSize: number;
}

export interface ShardOptions {
  /** Keep every sample's prediction (building the IRS cache). */
  record?: boolean;
  /**
   * Per input, the cached predictions of the original model on this stream, indexed by
   * absolute sample index: the shard then also counts disagreements (IRS replay).
   */
  reference?: ArrayLike<number>[];
  /** Sample index of reference[i][0] (default 0: indexed by absolute sample index). */
  referenceOffset?: number;
  /** Called after each batch with the number of samples (summed over inputs) just done. */
  onProgress?: (samples: number) => void;
}

export interface ShardOutput extends SampleRange {
  /** Per input: how often each class was predicted. Length = number of classes. */
  counts: Uint32Array[];
  /** Per input: prediction of sample start + t at index t (only with `record`). */
  predictions?: Int16Array[];
  /** Per input: samples whose prediction differs from the reference (only with `reference`). */
  disagreements?: number[];
  /** Per input: seconds spent, its own inference plus its share of the noise generation. */
  seconds: number[];
}

/** Upper bound on classes: predictions are stored as int16. */
export const MAX_CLASSES = 32767;

export async function runShard(
  classifier: Classifier, inputs: readonly Float32Array[], spec: ShardSpec, options: ShardOptions = {},
): Promise<ShardOutput> {
  const dim = classifier.inputSize;
  for (const x of inputs) {
    if (x.length !== dim) throw new RangeError(`input has ${x.length} values, the model expects ${dim}`);
  }
  const { start, count, batchSize } = spec;
  const predictions = options.record ? inputs.map(() => new Int16Array(count)) : undefined;
  const disagreements = options.reference ? inputs.map(() => 0) : undefined;
  const seconds = inputs.map(() => 0);
  let counts: Uint32Array[] | undefined;

  const noise = new Float32Array(Math.min(batchSize, count) * dim);
  const batch = new Float32Array(noise.length);
  const classes = new Int32Array(Math.min(batchSize, count));
  const end = start + count;
  for (let first = start; first < end; ) {
    // Batches are aligned to multiples of batchSize in absolute sample index.
    const last = Math.min(end, (Math.floor(first / batchSize) + 1) * batchSize);
    const b = last - first;
    const t0 = performance.now();
    fillGaussianNoise(noise, { seed: spec.seed, stream: spec.stream }, first, b, dim, spec.sigma);
    const noiseShare = (performance.now() - t0) / 1000 / inputs.length;
    for (let i = 0; i < inputs.length; i++) {
      const t1 = performance.now();
      const x = inputs[i];
      for (let s = 0; s < b; s++) {
        const o = s * dim;
        for (let e = 0; e < dim; e++) batch[o + e] = x[e] + noise[o + e];
      }
      await classifier.classify(batch, b, classes);
      if (!counts) {
        const k = classifier.numClasses ?? 0;
        if (k < 1 || k > MAX_CLASSES) throw new RangeError(`model has ${k} classes; supported: 1..${MAX_CLASSES}`);
        counts = inputs.map(() => new Uint32Array(k));
      }
      const hist = counts[i];
      const offset = first - start;
      const ref = options.reference?.[i];
      const refAt = first - (options.referenceOffset ?? 0);
      for (let s = 0; s < b; s++) {
        const c = classes[s];
        if (c !== NO_CLASS) hist[c]++;
        if (predictions) predictions[i][offset + s] = c;
        if (ref && ref[refAt + s] !== c) disagreements![i]++;
      }
      seconds[i] += (performance.now() - t1) / 1000 + noiseShare;
    }
    options.onProgress?.(b * inputs.length);
    first = last;
  }
  return {
    start, count,
    counts: counts ?? inputs.map(() => new Uint32Array(classifier.numClasses ?? 0)),
    predictions, disagreements, seconds,
  };
}
