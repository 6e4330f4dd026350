/**
 * A Sampler that cuts each request into shards (a few inputs x a sample range), has them
 * executed by a dispatcher (in this process, or over HTTP on shard workers), and merges the
 * results. Finished shard results can be persisted by key, so a restarted aggregator
 * recomputes only the shards it has no result for. Merging is by sample range
 * (smoothing/merge.ts): a shard delivered twice or out of order changes nothing.
 */
import { ShardMerger, type MergedSamples } from '../smoothing/merge.ts';
import type { ShardOutput } from '../smoothing/sampler.ts';
import type { MultiSampler, SampleOptions, Sampler, StreamSpec } from '../smoothing/stream.ts';
import { decodePredictions, encodePredictions } from '../protocol/codec.ts';
import type { CompressTask, ShardRequest, ShardResponse } from '../protocol/schemas.ts';
import { canonicalJson, sha256Hex } from '../util/digest.ts';

export interface ShardDispatcher {
  dispatch(request: ShardRequest): Promise<ShardResponse>;
}

/**
 * Thrown by a dispatcher that does not wait for results (the Workers job object sends shards to
 * a Queue): the shard is recorded as wanted, and the sampler goes on with the other shards.
 */
export class ShardPending extends Error {
  override name = 'ShardPending';
  /** What to queue, when it is not the plain shard (an audit's recomputation: its own slot). */
  constructor(readonly wanted?: WantedShard) {
    super('shard pending');
  }
}

/**
 * Work the job is waiting for, by its content-addressed key: a shard of samples, or (tune) a
 * candidate to compress.
 */
export type WantedShard =
  | {
    key: string; request: ShardRequest; compress?: undefined;
    /** Audits on a queue (queued-parties.ts): consumers asked to leave it to others, and those that must. */
    avoid?: string[]; quarantined?: string[];
  }
  | { key: string; compress: CompressTask; request?: undefined; avoid?: undefined; quarantined?: undefined };

/**
 * The job cannot go on until these shards are computed (a deferring dispatcher was used). The
 * job's algorithm is a pure function of the stored shard results, so running it again once they
 * are stored continues exactly where it stopped.
 */
export class JobSuspended extends Error {
  override name = 'JobSuspended';
  constructor(readonly shards: WantedShard[]) {
    super(`waiting for ${shards.length} shard(s)`);
  }
}

/** The shard's content address: a shard is a pure function of its request. */
export async function shardKey(request: ShardRequest): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(canonicalJson(request)))).slice(0, 40);
}

export interface ShardStore {
  get(key: string): Promise<ShardResponse | undefined>;
  put(key: string, result: ShardResponse): Promise<void>;
}

export interface ShardedSamplerOptions {
  model: string;
  /** Stored inputs file holding the job's inputs, in job order. */
  inputs: string;
  dispatcher: ShardDispatcher;
  /** Samples per shard (per input); spec.shardSize overrides. */
  shardSamples: number;
  inputsPerShard: number;
  /** Shards in flight at once. */
  concurrency: number;
  results?: ShardStore;
  /**
   * IRS replay: name f's cached predictions by the stored cache of this certificate instead of
   * inlining them (job input position = cache entry), so a shard request stays small.
   */
  referenceCache?: { certificate: string; sha256: string };
}

/** One MultiSampler over a sampler per model (tune's candidates, each fanned out on its own). */
export function perModelSampler(samplers: readonly Sampler[]): MultiSampler {
  return {
    models: samplers.length,
    async sampleMany(active, spec, start, count, options = {}) {
      return Promise.all(samplers.map(async (s, m): Promise<MergedSamples> => {
        const inputs = active[m];
        if (inputs.length === 0) return { start, count, counts: [], seconds: [], disagreements: [] };
        const reference = options.reference ? inputs.map((i) => options.reference![i]!) : undefined;
        return s.sample(inputs, spec, start, count, { reference, onProgress: options.onProgress });
      }));
    },
  };
}

export function shardedSampler(o: ShardedSamplerOptions): Sampler {
  return {
    async sample(inputs: readonly number[], spec: StreamSpec, start: number, count: number, options: SampleOptions = {}): Promise<MergedSamples> {
      const size = spec.shardSize ?? o.shardSamples;
      const groups: number[][] = [];
      for (let i = 0; i < inputs.length; i += o.inputsPerShard) groups.push(inputs.slice(i, i + o.inputsPerShard).map((_, k) => i + k));
      const mergers = groups.map((g) => new ShardMerger({ start, count }, g.length));
      const tasks: { group: number; request: ShardRequest }[] = [];
      groups.forEach((g, group) => {
        for (let first = start; first < start + count; first += size) {
          const n = Math.min(size, start + count - first);
          const request: ShardRequest = {
            model: o.model,
            inputs: g.map((pos) => ({ inputs: o.inputs, index: inputs[pos] })),
            sigma: spec.sigma, seed: spec.seed, stream: spec.stream, start: first, count: n, batchSize: spec.batchSize,
            ...(options.record ? { record: true } : {}),
            ...(options.reference && o.referenceCache ? { referenceCache: { ...o.referenceCache, entries: g.map((pos) => inputs[pos]) } } : {}),
            ...(options.reference && !o.referenceCache ? { reference: g.map((pos) => encodePredictions(Int16Array.from(sliceOf(options.reference![pos], first, n)))) } : {}),
          };
          tasks.push({ group, request });
        }
      });
      let next = 0;
      const wanted: WantedShard[] = [];
      const worker = async () => {
        while (next < tasks.length) {
          const { group, request } = tasks[next++];
          const key = await shardKey(request);
          let result = await o.results?.get(key);
          if (!result) {
            try {
              result = await o.dispatcher.dispatch(request);
            } catch (e) {
              if (e instanceof ShardPending) { wanted.push(e.wanted ?? { key, request }); continue; }
              throw e;
            }
            checkResponse(request, result);
            await o.results?.put(key, result);
          }
          mergers[group].add(toOutput(request, result));
          options.onProgress?.(request.count * request.inputs.length);
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, tasks.length) }, worker));
      if (wanted.length) throw new JobSuspended(wanted);
      const parts = mergers.map((m) => m.result());
      return {
        start, count,
        counts: parts.flatMap((p) => p.counts),
        predictions: options.record ? parts.flatMap((p) => p.predictions!) : undefined,
        disagreements: options.reference ? parts.flatMap((p) => p.disagreements!) : undefined,
        seconds: parts.flatMap((p) => p.seconds),
      };
    },
  };
}

function sliceOf(a: ArrayLike<number>, first: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = a[first + j];
  return out;
}

/** A response that does not answer its request is a fault of the worker, never merged. */
export function checkResponse(req: ShardRequest, res: ShardResponse): void {
  const k = req.inputs.length;
  const bad = (why: string) => { throw new Error(`shard worker answered a different shard: ${why}`); };
  if (res.model !== req.model || res.start !== req.start || res.count !== req.count) bad('model or sample range differs');
  if (res.counts.length !== k || res.seconds.length !== k) bad('wrong number of inputs');
  if (res.counts.some((c) => c.reduce((a, b) => a + b, 0) > req.count)) bad('more votes than samples');
  if (req.record && (!res.predictions || res.predictions.length !== k)) bad('predictions missing');
  if ((req.reference || req.referenceCache) && (!res.disagreements || res.disagreements.length !== k || res.disagreements.some((d) => d > req.count))) bad('disagreements missing');
}

function toOutput(req: ShardRequest, res: ShardResponse): ShardOutput {
  return {
    start: res.start,
    count: res.count,
    counts: res.counts.map((c) => Uint32Array.from(c)),
    predictions: res.predictions?.map((p) => decodePredictions(p, req.count)),
    disagreements: res.disagreements,
    seconds: res.seconds,
  };
}
