/**
 * Where the samples come from. CERTIFY, PREDICT and IRS ask a Sampler for one noise stream's
 * sample range over some of a job's inputs and get merged totals back; whether the samples
 * were drawn in this process (localSampler) or fanned out as shards to other machines
 * (coordinator/) cannot change a result, because every shard draws the same noise for the
 * same sample index and merging is exact.
 */
import type { Classifier } from '../inference/classifier.ts';
import { runShard, runShardMulti } from './sampler.ts';
import { ShardMerger, type MergedSamples } from './merge.ts';

export interface StreamSpec {
  sigma: number;
  seed: number;
  stream: number;
  batchSize: number;
  /** Samples per shard (default: the whole range in one shard). Does not change any result. */
  shardSize?: number;
}

export interface SampleOptions {
  /** Keep every sample's prediction (building the IRS cache). */
  record?: boolean;
  /** Per selected input: f's cached predictions, indexed by absolute sample index (IRS replay). */
  reference?: ArrayLike<number>[];
  onProgress?: (samples: number) => void;
}

export interface Sampler {
  /** Samples [start, start + count) of one stream for the job inputs at the given positions. */
  sample(inputs: readonly number[], spec: StreamSpec, start: number, count: number, options?: SampleOptions): Promise<MergedSamples>;
}

/** Draws samples in this process, shard by shard (spec.shardSize), and merges them. */
export function localSampler(classifier: Classifier, jobInputs: readonly Float32Array[]): Sampler {
  return {
    async sample(inputs, spec, start, count, options = {}) {
      const selected = inputs.map((i) => jobInputs[i]);
      const merger = new ShardMerger({ start, count }, selected.length);
      const shardSize = spec.shardSize ?? count;
      for (let first = start; first < start + count; first += shardSize) {
        const n = Math.min(shardSize, start + count - first);
        merger.add(await runShard(classifier, selected, { ...spec, start: first, count: n }, options));
      }
      return merger.result();
    },
  };
}

/**
 * Samples for several models (IRS candidates) over the same noise. `active[m]` lists the job
 * inputs model m needs; result m covers exactly those, in that order. The reference
 * predictions (IRS replay), if any, are given per job input position.
 */
export interface MultiSampler {
  readonly models: number;
  sampleMany(active: readonly (readonly number[])[], spec: StreamSpec, start: number, count: number, options?: MultiSampleOptions): Promise<MergedSamples[]>;
}

export interface MultiSampleOptions {
  /** Per job input (indexed by job position): f's cached predictions by absolute sample index. */
  reference?: (ArrayLike<number> | undefined)[];
  onProgress?: (samples: number) => void;
}

/** One model's Sampler seen as a MultiSampler (how the coordinator's sharded sampler is used). */
export function singleModel(sampler: Sampler): MultiSampler {
  return {
    models: 1,
    async sampleMany(active, spec, start, count, options = {}) {
      const inputs = active[0];
      if (inputs.length === 0) return [emptySamples(start, count)];
      const reference = options.reference ? inputs.map((i) => options.reference![i]!) : undefined;
      return [await sampler.sample(inputs, spec, start, count, { reference, onProgress: options.onProgress })];
    },
  };
}

/** Draws samples for every model in this process; noise is generated once per batch for all. */
export function localMultiSampler(classifiers: readonly Classifier[], jobInputs: readonly Float32Array[]): MultiSampler {
  return {
    models: classifiers.length,
    async sampleMany(active, spec, start, count, options = {}) {
      // The union of the models' inputs, and where each model's inputs sit in it.
      const union = [...new Set(active.flat())].sort((a, b) => a - b);
      const pos = new Map(union.map((j, u) => [j, u]));
      const local = active.map((list) => list.map((j) => pos.get(j)!));
      const reference = options.reference ? union.map((j) => options.reference![j] ?? []) : undefined;
      const mergers = active.map((list) => new ShardMerger({ start, count }, list.length));
      const shardSize = spec.shardSize ?? count;
      for (let first = start; first < start + count; first += shardSize) {
        const n = Math.min(shardSize, start + count - first);
        const outs = await runShardMulti(classifiers, union.map((j) => jobInputs[j]), local, { ...spec, start: first, count: n }, {
          reference, onProgress: options.onProgress,
        });
        outs.forEach((o, m) => mergers[m].add(o));
      }
      return mergers.map((m) => m.result());
    },
  };
}

function emptySamples(start: number, count: number): MergedSamples {
  return { start, count, counts: [], seconds: [], disagreements: [] };
}

/** 0, 1, ..., n - 1: every input of a job. */
export function allInputs(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The most frequent class; ties go to the smallest class index (deterministic). -1 if no votes. */
export function topClass(counts: ArrayLike<number>): number {
  let best = -1;
  let bestCount = 0;
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] > bestCount) {
      best = c;
      bestCount = counts[c];
    }
  }
  return best;
}

/** The two most frequent classes' counts, n1 >= n2, and the top class. */
export function topTwo(counts: ArrayLike<number>): { top: number; n1: number; n2: number } {
  const top = topClass(counts);
  let n2 = 0;
  for (let c = 0; c < counts.length; c++) if (c !== top && counts[c] > n2) n2 = counts[c];
  return { top, n1: top < 0 ? 0 : counts[top], n2 };
}
