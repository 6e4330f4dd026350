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
import { pause } from '../util/cooperative.ts';

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

/**
 * How often the loop hands the thread to other work (util/cooperative.ts): on a single-threaded
 * runtime such as workerd a status request then waits for at most one inference. Outside the
 * timed sections, so no time figure includes it.
 */
const YIELD_EVERY_MS = 25;

/** Upper bound on classes: predictions are stored as int16. */
export const MAX_CLASSES = 32767;

export async function runShard(
  classifier: Classifier, inputs: readonly Float32Array[], spec: ShardSpec, options: ShardOptions = {},
): Promise<ShardOutput> {
  const [out] = await runShardMulti([classifier], inputs, [inputs.map((_, i) => i)], spec, options);
  return out;
}

/**
 * One shard for several models at once (IRS candidates): the noise of each batch is drawn once
 * and reused for every input and every model. `active[m]` lists the positions in `inputs` that
 * model m classifies; output m covers exactly those, in that order.
 */
export async function runShardMulti(
  classifiers: readonly Classifier[], inputs: readonly Float32Array[], active: readonly (readonly number[])[],
  spec: ShardSpec, options: ShardOptions = {},
): Promise<ShardOutput[]> {
  if (classifiers.length === 0 || active.length !== classifiers.length) throw new RangeError('one list of active inputs per model is needed');
  const dim = classifiers[0].inputSize;
  for (const c of classifiers) {
    if (c.inputSize !== dim) throw new RangeError(`models disagree on the input size (${c.inputSize} vs ${dim})`);
  }
  for (const x of inputs) {
    if (x.length !== dim) throw new RangeError(`input has ${x.length} values, the model expects ${dim}`);
  }
  const { start, count, batchSize } = spec;
  // Per input: which models classify it, and at which output position.
  const users: { model: number; at: number }[][] = inputs.map(() => []);
  active.forEach((list, m) => list.forEach((i, at) => users[i].push({ model: m, at })));
  const used = users.filter((u) => u.length > 0).length;
  const outputs = active.map((list) => ({
    predictions: options.record ? list.map(() => new Int16Array(count)) : undefined,
    disagreements: options.reference ? list.map(() => 0) : undefined,
    seconds: list.map(() => 0),
    counts: undefined as Uint32Array[] | undefined,
  }));

  const noise = new Float32Array(Math.min(batchSize, count) * dim);
  const batch = new Float32Array(noise.length);
  const classes = new Int32Array(Math.min(batchSize, count));
  const end = start + count;
  let lastYield = performance.now();
  for (let first = start; first < end && used > 0; ) {
    // Batches are aligned to multiples of batchSize in absolute sample index.
    const last = Math.min(end, (Math.floor(first / batchSize) + 1) * batchSize);
    const b = last - first;
    const t0 = performance.now();
    fillGaussianNoise(noise, { seed: spec.seed, stream: spec.stream }, first, b, dim, spec.sigma);
    const noiseShare = (performance.now() - t0) / 1000 / used;
    let done = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (users[i].length === 0) continue;
      const t1 = performance.now();
      const x = inputs[i];
      for (let s = 0; s < b; s++) {
        const o = s * dim;
        for (let e = 0; e < dim; e++) batch[o + e] = x[e] + noise[o + e];
      }
      const shareOfAdd = (performance.now() - t1) / 1000 / users[i].length + noiseShare / users[i].length;
      for (const { model, at } of users[i]) {
        const t2 = performance.now();
        const classifier = classifiers[model];
        const out = outputs[model];
        await classifier.classify(batch, b, classes);
        if (!out.counts) {
          const k = classifier.numClasses ?? 0;
          if (k < 1 || k > MAX_CLASSES) throw new RangeError(`model has ${k} classes; supported: 1..${MAX_CLASSES}`);
          out.counts = active[model].map(() => new Uint32Array(k));
        }
        const hist = out.counts[at];
        const offset = first - start;
        const ref = options.reference?.[i];
        const refAt = first - (options.referenceOffset ?? 0);
        const rec = out.predictions?.[at];
        let nD = 0;
        for (let s = 0; s < b; s++) {
          const c = classes[s];
          if (c !== NO_CLASS) hist[c]++;
          if (rec) rec[offset + s] = c;
          if (ref && ref[refAt + s] !== c) nD++;
        }
        if (out.disagreements) out.disagreements[at] += nD;
        out.seconds[at] += (performance.now() - t2) / 1000 + shareOfAdd;
        done += b;
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await pause();
          lastYield = performance.now();
        }
      }
    }
    options.onProgress?.(done);
    first = last;
  }
  return outputs.map((o, m) => ({
    start, count,
    counts: o.counts ?? active[m].map(() => new Uint32Array(classifiers[m].numClasses ?? 0)),
    predictions: o.predictions, disagreements: o.disagreements, seconds: o.seconds,
  }));
}
