/**
 * An ObjectStore over a Cloudflare R2 binding (env.BUCKET in a Worker). The binding's type is
 * declared structurally here, so this module needs neither @cloudflare/workers-types nor workerd.
 */
import { byKey, checkKey, checkPrefix, isValidKey, StoreError, type ObjectInfo, type ObjectStore, type PutOptions } from './types.ts';

export interface R2ObjectLike {
  key: string;
  size: number;
  etag: string;
}

/** The part of R2Bucket this store uses. */
export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  head(key: string): Promise<R2ObjectLike | null>;
  /** Resolves to null (it does not throw) when an onlyIf condition fails. */
  put(
    key: string,
    value: Uint8Array,
    options?: { httpMetadata?: { contentType?: string }; onlyIf?: { etagDoesNotMatch?: string } },
  ): Promise<unknown>;
  list(options?: { prefix?: string; cursor?: string }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
  delete(key: string): Promise<void>;
}

export class R2Store implements ObjectStore {
  constructor(
    private readonly bucket: R2BucketLike,
    /** For logs only: the binding's name, e.g. 'CERTS'. */
    name = 'bucket',
  ) {
    this.description = `r2:${name}`;
  }

  readonly description: string;

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    const object = await this.call('get', key, () => this.bucket.get(key));
    if (!object) return undefined;
    return new Uint8Array(await this.call('get', key, () => object.arrayBuffer()));
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    checkKey(key);
    await this.call('put', key, () => this.bucket.put(key, body, { httpMetadata: { contentType: options?.contentType } }));
  }

  async putIfAbsent(key: string, body: Uint8Array, options?: PutOptions): Promise<boolean> {
    checkKey(key);
    // R2 evaluates the condition atomically with the write: exactly one concurrent caller gets an object back.
    const written = await this.call('putIfAbsent', key, () =>
      this.bucket.put(key, body, { httpMetadata: { contentType: options?.contentType }, onlyIf: { etagDoesNotMatch: '*' } }),
    );
    return written !== null;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key);
    const object = await this.call('head', key, () => this.bucket.head(key));
    return object ? { key, size: object.size, etag: object.etag } : undefined;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const out: ObjectInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.call('list', prefix, () => this.bucket.list({ prefix, cursor }));
      for (const o of page.objects) if (isValidKey(o.key)) out.push({ key: o.key, size: o.size, etag: o.etag });
      if (page.truncated && !page.cursor) {
        throw new StoreError(`${this.description}: list ${prefix}: truncated page without a cursor`, { retryable: false });
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return out.sort(byKey);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.call('delete', key, () => this.bucket.delete(key));
  }

  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      // With keys validated up front, what the binding throws is R2 being unavailable or failing internally.
      throw new StoreError(`${this.description}: ${op} ${key} failed: ${e instanceof Error ? e.message : String(e)}`, { retryable: true, cause: e });
    }
  }
}
