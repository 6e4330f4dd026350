/**
 * Merges shard outputs over one sample range into totals. Shards may arrive in any order;
 * a shard identical to one already merged (a retry or a duplicate delivery) is ignored, a
 * partial overlap is refused, and the totals exist only once the range is fully covered. So
 * any split of the range gives the same totals as one pass.
 */
import type { SampleRange, ShardOutput } from './sampler.ts';

export interface MergedSamples extends SampleRange {
  counts: Uint32Array[];
  predictions?: Int16Array[];
  disagreements?: number[];
  seconds: number[];
}

export class ShardMerger {
  private readonly shards = new Map<number, ShardOutput>();

  constructor(readonly range: SampleRange, readonly inputs: number) {}

  /** Adds a shard; returns false if this exact range was merged already (duplicate). */
  add(shard: ShardOutput): boolean {
    const { start, count } = shard;
    const end = this.range.start + this.range.count;
    if (!Number.isInteger(start) || !Number.isInteger(count) || count < 1 || start < this.range.start || start + count > end) {
      throw new RangeError(`shard [${start}, ${start + count}) is outside the range [${this.range.start}, ${end})`);
    }
    if (shard.counts.length !== this.inputs) throw new RangeError(`shard has ${shard.counts.length} inputs, expected ${this.inputs}`);
    const same = this.shards.get(start);
    if (same && same.count === count) return false;
    for (const other of this.shards.values()) {
      if (start < other.start + other.count && other.start < start + count) {
        throw new RangeError(`shard [${start}, ${start + count}) overlaps merged shard [${other.start}, ${other.start + other.count})`);
      }
    }
    this.shards.set(start, shard);
    return true;
  }

  /** Sample ranges not yet covered, in order. */
  missing(): SampleRange[] {
    const out: SampleRange[] = [];
    let at = this.range.start;
    for (const s of [...this.shards.values()].sort((a, b) => a.start - b.start)) {
      if (s.start > at) out.push({ start: at, count: s.start - at });
      at = s.start + s.count;
    }
    const end = this.range.start + this.range.count;
    if (at < end) out.push({ start: at, count: end - at });
    return out;
  }

  get complete(): boolean {
    return this.missing().length === 0;
  }

  result(): MergedSamples {
    const gaps = this.missing();
    if (gaps.length > 0) throw new Error(`samples [${gaps[0].start}, ${gaps[0].start + gaps[0].count}) are missing`);
    const shards = [...this.shards.values()].sort((a, b) => a.start - b.start);
    const classes = Math.max(...shards.map((s) => s.counts[0]?.length ?? 0));
    const counts = Array.from({ length: this.inputs }, () => new Uint32Array(classes));
    const seconds = new Array<number>(this.inputs).fill(0);
    const record = shards.every((s) => s.predictions);
    const predictions = record ? Array.from({ length: this.inputs }, () => new Int16Array(this.range.count)) : undefined;
    const replay = shards.every((s) => s.disagreements);
    const disagreements = replay ? new Array<number>(this.inputs).fill(0) : undefined;
    for (const s of shards) {
      for (let i = 0; i < this.inputs; i++) {
        s.counts[i].forEach((v, c) => (counts[i][c] += v));
        seconds[i] += s.seconds[i];
        if (predictions) predictions[i].set(s.predictions![i], s.start - this.range.start);
        if (disagreements) disagreements[i] += s.disagreements![i];
      }
    }
    return { ...this.range, counts, predictions, disagreements, seconds };
  }
}
