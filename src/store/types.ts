/**
 * The object-store interface the functions keep certificates, caches and models in. Runtime-agnostic
 * (no Node imports): the adapters are memory, a local directory, S3-compatible servers and R2 bindings.
 */

import { EXIT, KnownError } from '../errors.ts';
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
}

export interface PutOptions {
  contentType?: string;
}

export interface ObjectStore {
  /** The bytes at key, or undefined if absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Writes key atomically: a reader sees the previous object or the whole new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /** Writes key only if absent; returns false (and writes nothing) if it exists. Used for content-addressed and idempotent writes. */
  putIfAbsent(key: string, body: Uint8Array, options?: PutOptions): Promise<boolean>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Keys under prefix, sorted, all pages. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  /** Human-readable description for logs/errors, e.g. file:./irs-data, s3://bucket/prefix. Never includes credentials. */
  readonly description: string;
}

/**
 * The store could not be reached or refused the operation (as opposed to a UserError, which is about
 * what was asked). `retryable` says whether the same call may succeed later: network errors, 5xx and
 * throttling are; bad credentials, a missing bucket or a full disk are not.
 */
export class StoreError extends KnownError {
  override name = 'StoreError';
  override readonly status: number = 503;
  override readonly exitCode: number = EXIT.unavailable;
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

export const MAX_KEY_LENGTH = 1024;
const KEY_CHARS = /^[A-Za-z0-9._\-/]*$/;

/**
 * Throws a RangeError unless key is 1..1024 chars of [A-Za-z0-9._-/] made of non-empty segments other
 * than '.' and '..'. Besides keeping keys portable across S3, R2 and file systems, this means a key
 * maps to exactly one path under a FileStore root and can never climb out of it, and names with any
 * other character (such as FileStore's temp files) can never collide with a key.
 */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`invalid store key ${JSON.stringify(key)}: must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  if (!KEY_CHARS.test(key)) {
    throw new RangeError(`invalid store key ${JSON.stringify(key)}: only letters, digits and . _ - / are allowed`);
  }
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new RangeError(
        `invalid store key ${JSON.stringify(key)}: no leading or trailing '/', no '//', no '.' or '..' segments`,
      );
    }
  }
  return key;
}

export function isValidKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * A list prefix is a string prefix of keys (S3 semantics: 'runs/ab' matches 'runs/abc/x'), so it may be
 * empty, end in '/' or end in part of a segment; every complete segment must be valid as in checkKey.
 */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH || !KEY_CHARS.test(prefix)) {
    throw new RangeError(`invalid store prefix ${JSON.stringify(prefix)}: only letters, digits and . _ - / are allowed`);
  }
  const complete = prefix.split('/').slice(0, -1);
  for (const segment of complete) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new RangeError(`invalid store prefix ${JSON.stringify(prefix)}: no leading '/', no '//', no '.' or '..' segments`);
    }
  }
  return prefix;
}

/** Keys are ASCII, so UTF-16 order is byte order: the order S3 and R2 list in. */
export function byKey(a: ObjectInfo, b: ObjectInfo): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
