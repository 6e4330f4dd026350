/** Runs one noise stream's sample range for a group of inputs, shard by shard, and merges. */
import type { Classifier } from '../inference/classifier.ts';
import { runShard, type ShardOptions } from './sampler.ts';
import { ShardMerger, type MergedSamples } from './merge.ts';

export interface StreamSpec {
  sigma: number;
  seed: number;
  stream: number;
  batchSize: number;
  /** Samples per shard (default: the whole range in one shard). Does not change any result. */
  shardSize?: number;
}

export async function sampleStream(
  classifier: Classifier, inputs: readonly Float32Array[], spec: StreamSpec, start: number, count: number,
  options: ShardOptions = {},
): Promise<MergedSamples> {
  const merger = new ShardMerger({ start, count }, inputs.length);
  const shardSize = spec.shardSize ?? count;
  for (let first = start; first < start + count; first += shardSize) {
    const n = Math.min(shardSize, start + count - first);
    merger.add(await runShard(classifier, inputs, { ...spec, start: first, count: n }, options));
  }
  return merger.result();
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
