/** Models from the store, verified against their sha256, with loaded classifiers kept warm. */
import type { ObjectStore } from '../store/types.ts';
import { loadClassifier, type BackendName, type Classifier } from '../inference/index.ts';
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

/** A few loaded sessions, least recently used evicted: shard workers see the same models repeatedly. */
export class ClassifierCache {
  private readonly entries = new Map<string, Promise<Classifier>>();

  constructor(private readonly backend: BackendName, private readonly capacity = 4) {}

  get(store: ObjectStore, tenant: string, sha256: string): Promise<Classifier> {
    const key = `${tenant}/${sha256}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = readModel(store, tenant, sha256).then((bytes) => loadClassifier(bytes, this.backend));
    entry.catch(() => this.entries.delete(key));
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      void evicted.then((c) => c.dispose()).catch(() => {});
    }
    return entry;
  }

  /** Releases every loaded session. */
  async dispose(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.then((c) => c.dispose()).catch(() => {})));
  }
}
