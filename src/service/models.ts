/** Models from the store, verified against their sha256, with loaded classifiers kept warm. */
import type { ObjectStore } from '../store/types.ts';
import { loadClassifier, type BackendName, type Classifier } from '../inference/index.ts';
import { largestBatch, requireLoadable, withBatchCap } from '../inference/memory-budget.ts';
import { float16InitializerBytes } from '../onnx/model.ts';
import { sha256Hex } from '../util/digest.ts';
import { keys } from './keys.ts';
import { NotFound } from './errors.ts';

export async function readModel(store: ObjectStore, tenant: string, sha256: string): Promise<Uint8Array> {
  const bytes = await store.get(keys.model(tenant, sha256));
  if (!bytes) throw new NotFound(`model ${sha256} not found`);
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) throw new Error(`stored model ${sha256} is corrupt (its bytes hash to ${actual})`);
  return bytes;
}

/**
 * A few loaded sessions, least recently used evicted: shard workers see the same models repeatedly.
 *
 * With `memoryBudgetMiB` (a Worker isolate: inference/memory-budget.ts) the cache also keeps
 * what it holds within that memory: a model that cannot load within it is refused before its
 * session is created, older models are evicted to make room for a new one, and each classifier
 * computes at most the batch the estimate leaves room for (results do not depend on it).
 */
export class ClassifierCache {
  private readonly entries = new Map<string, { classifier: Promise<Classifier>; weightsMiB: number }>();

  constructor(
    private readonly backend: BackendName,
    private readonly capacity = 4,
    private readonly memoryBudgetMiB?: number,
  ) {}

  get(store: ObjectStore, tenant: string, sha256: string): Promise<Classifier> {
    const key = `${tenant}/${sha256}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.classifier;
    }
    const entry = { weightsMiB: 0, classifier: readModel(store, tenant, sha256).then((bytes) => this.load(key, bytes)) };
    entry.classifier.catch(() => { if (this.entries.get(key) === entry) this.entries.delete(key); });
    this.entries.set(key, entry);
    this.evict(key, () => this.entries.size > this.capacity);
    return entry.classifier;
  }

  private async load(key: string, bytes: Uint8Array): Promise<Classifier> {
    const budget = this.memoryBudgetMiB;
    if (budget === undefined) return loadClassifier(bytes, this.backend);
    const own = requireLoadable(bytes.length, float16InitializerBytes(bytes), budget);
    const entry = this.entries.get(key);
    if (entry) entry.weightsMiB = own;
    // Room for this model's session before it is created: older models go first.
    this.evict(key, () => largestBatch(budget, this.residentMiB(), 1) < 1);
    const classifier = await loadClassifier(bytes, this.backend);
    return withBatchCap(classifier, largestBatch(budget, this.residentMiB(), classifier.inputSize));
  }

  private residentMiB(): number {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.weightsMiB;
    return sum;
  }

  /** Disposes least recently used entries other than `keep` while `over()` holds. */
  private evict(keep: string, over: () => boolean): void {
    for (const [key, entry] of [...this.entries]) {
      if (!over()) return;
      if (key === keep) continue;
      this.entries.delete(key);
      void entry.classifier.then((c) => c.dispose()).catch(() => {});
    }
  }

  /** Releases every loaded session. */
  async dispose(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.classifier.then((c) => c.dispose()).catch(() => {})));
  }
}
