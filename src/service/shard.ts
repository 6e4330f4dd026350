/**
 * POST /v1/shards, the stateless unit of work: one sample range of one noise stream for a few
 * inputs, on a model from the store. Returns counts, and f's predictions (record) or the
 * disagreements with supplied predictions (replay).
 */
import type { ObjectStore } from '../store/types.ts';
import { runShard } from '../smoothing/sampler.ts';
import { decodePredictions, encodePredictions } from '../protocol/codec.ts';
import type { ShardRequest, ShardResponse } from '../protocol/schemas.ts';
import { parseNpy, type NpyArray } from '../protocol/npy-codec.ts';
import { decodeCache, type CacheEntry } from '../protocol/cache-codec.ts';
import { sha256Hex } from '../util/digest.ts';
import { UserError } from '../errors.ts';
import { keys } from './keys.ts';
import { NotFound } from './errors.ts';
import type { ClassifierCache } from './models.ts';

/** Parsed inputs files, a few kept: every shard of a job reads the same one. */
export class InputsCache {
  private readonly entries = new Map<string, Promise<NpyArray>>();
  constructor(private readonly capacity = 4) {}

  get(store: ObjectStore, tenant: string, sha256: string): Promise<NpyArray> {
    const key = `${tenant}/${sha256}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = store.get(keys.inputs(tenant, sha256)).then((bytes) => {
        if (!bytes) throw new NotFound(`inputs ${sha256} not found`);
        return parseNpy(bytes, `inputs ${sha256}`);
      });
      entry.catch(() => this.entries.delete(key));
      this.entries.set(key, entry);
      while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }
}

/**
 * Decoded IRS caches named by shard requests (referenceCache), a few kept, each checked against
 * the sha256 the request names: a replaced or damaged cache is refused, never replayed.
 */
export class ReferenceCaches {
  private readonly entries = new Map<string, Promise<CacheEntry[]>>();
  constructor(private readonly capacity = 2) {}

  get(store: ObjectStore, tenant: string, certificate: string, sha256: string): Promise<CacheEntry[]> {
    const key = `${tenant}/${certificate}/${sha256}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = store.get(keys.cache(tenant, certificate)).then(async (bytes) => {
        if (!bytes) throw new NotFound(`referenceCache: the IRS cache of certificate ${certificate} is missing`);
        const actual = await sha256Hex(bytes);
        if (actual !== sha256) throw new UserError(`referenceCache: the stored IRS cache of certificate ${certificate} hashes to ${actual}, the request names ${sha256}`);
        return decodeCache(bytes).entries;
      });
      entry.catch(() => this.entries.delete(key));
      this.entries.set(key, entry);
      while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }
}

const sharedReferenceCaches = new ReferenceCaches();

export async function executeShard(
  store: ObjectStore, classifiers: ClassifierCache, inputsCache: InputsCache, tenant: string, req: ShardRequest,
  referenceCaches: ReferenceCaches = sharedReferenceCaches,
): Promise<ShardResponse> {
  const classifier = await classifiers.get(store, tenant, req.model);
  const dim = classifier.inputSize;
  const inputs: Float32Array[] = [];
  for (const [k, ref] of req.inputs.entries()) {
    if ('values' in ref) {
      if (ref.values.length !== dim) throw new UserError(`inputs.${k}.values: the model expects ${dim} values (shape [${classifier.inputShape.join(', ')}]), got ${ref.values.length}`);
      if (ref.values.some((v) => !Number.isFinite(v))) throw new UserError(`inputs.${k}.values: every value must be finite`);
      inputs.push(Float32Array.from(ref.values));
    } else {
      const file = await inputsCache.get(store, tenant, ref.inputs);
      const [size, ...shape] = file.shape;
      const per = shape.reduce((a, b) => a * b, 1);
      if (per !== dim) throw new UserError(`inputs.${k}: stored inputs have ${per} values each, the model expects ${dim}`);
      if (ref.index >= size) throw new UserError(`inputs.${k}.index: ${ref.index} is beyond the ${size} stored inputs`);
      inputs.push(Float32Array.from(file.values.subarray(ref.index * per, (ref.index + 1) * per)));
    }
  }
  let reference: Int16Array[] | undefined;
  if (req.reference) {
    try {
      reference = req.reference.map((r) => decodePredictions(r, req.count));
    } catch (e) {
      throw new UserError(`reference: ${(e as Error).message}`);
    }
  }
  if (req.referenceCache) {
    const { certificate, sha256, entries } = req.referenceCache;
    const cache = await referenceCaches.get(store, tenant, certificate, sha256);
    reference = entries.map((e, k) => {
      if (e >= cache.length) throw new UserError(`referenceCache.entries.${k}: ${e} is beyond the cache's ${cache.length} inputs`);
      if (req.start + req.count > cache[e].predictions.length) throw new UserError(`referenceCache: samples ${req.start}..${req.start + req.count} go beyond the ${cache[e].predictions.length} cached`);
      return cache[e].predictions.subarray(req.start, req.start + req.count);
    });
  }
  const out = await runShard(classifier, inputs, req, { record: req.record, reference, referenceOffset: req.start });
  return {
    model: req.model,
    start: out.start,
    count: out.count,
    counts: out.counts.map((c) => [...c]),
    ...(out.predictions ? { predictions: out.predictions.map(encodePredictions) } : {}),
    ...(out.disagreements ? { disagreements: out.disagreements } : {}),
    seconds: out.seconds,
  };
}
