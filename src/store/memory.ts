import { byKey, checkKey, checkPrefix, type ObjectInfo, type ObjectStore, type PutOptions } from './types.ts';

interface Entry {
  bytes: Uint8Array;
  etag: string;
  contentType?: string;
}

/** A process-local store for tests and `memory:` URLs. Bytes are copied in and out, so callers cannot alias them. */
export class MemoryStore implements ObjectStore {
  readonly description = 'memory:';
  private readonly objects = new Map<string, Entry>();
  private version = 0;

  async get(key: string): Promise<Uint8Array | undefined> {
    const entry = this.objects.get(checkKey(key));
    return entry && entry.bytes.slice();
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    this.write(checkKey(key), body, options);
  }

  async putIfAbsent(key: string, body: Uint8Array, options?: PutOptions): Promise<boolean> {
    // No await between the check and the write, so this is atomic on the event loop.
    if (this.objects.has(checkKey(key))) return false;
    this.write(key, body, options);
    return true;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const entry = this.objects.get(checkKey(key));
    return entry && { key, size: entry.bytes.length, etag: entry.etag };
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const out: ObjectInfo[] = [];
    for (const [key, entry] of this.objects) {
      if (key.startsWith(prefix)) out.push({ key, size: entry.bytes.length, etag: entry.etag });
    }
    return out.sort(byKey);
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(checkKey(key));
  }

  private write(key: string, body: Uint8Array, options?: PutOptions): void {
    this.objects.set(key, { bytes: body.slice(), etag: `m${++this.version}`, contentType: options?.contentType });
  }
}
