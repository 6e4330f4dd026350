/**
 * An ObjectStore that rides out short outages: operations failing with a retryable StoreError
 * (network errors, 5xx, throttling) are retried with exponential backoff, so a job waits for
 * the store to come back rather than failing at its first hiccup. Writes are whole-object and
 * idempotent, so repeating one is safe.
 */
import { StoreError, type ObjectStore } from './types.ts';

export interface RetryOptions {
  /** Attempts after the first. */
  retries?: number;
  /** First wait in ms; doubles each time. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onRetry?: (operation: string, error: StoreError, attempt: number) => void;
}

export function withRetries(store: ObjectStore, o: RetryOptions = {}): ObjectStore {
  const retries = o.retries ?? 8;
  const run = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof StoreError) || !e.retryable || attempt >= retries) throw e;
        o.onRetry?.(operation, e, attempt);
        await new Promise((r) => setTimeout(r, Math.min(o.maxBackoffMs ?? 10_000, (o.backoffMs ?? 250) * 2 ** attempt)));
      }
    }
  };
  return {
    description: store.description,
    get: (key) => run('get', () => store.get(key)),
    put: (key, body, options) => run('put', () => store.put(key, body, options)),
    putIfAbsent: (key, body, options) => run('putIfAbsent', () => store.putIfAbsent(key, body, options)),
    head: (key) => run('head', () => store.head(key)),
    list: (prefix) => run('list', () => store.list(prefix)),
    delete: (key) => run('delete', () => store.delete(key)),
  };
}
