/**
 * Sends shards to shard workers over HTTP: bounded requests in flight per worker, a timeout
 * per request, and retries with exponential backoff on anything that may pass (connection
 * errors, timeouts, 5xx, 429), each retry preferring another worker. A 4xx other than 429
 * means the request itself is wrong and fails the job at once.
 */
import { DEFAULTS } from '../protocol/defaults.ts';
import { ShardResponse, type ShardRequest } from '../protocol/schemas.ts';
import { EXIT, KnownError } from '../errors.ts';
import type { ShardDispatcher } from './sharded-sampler.ts';
import { signShardRequest } from '../service/signing.ts';

export interface HttpDispatcherOptions {
  workers: readonly string[];
  /** The secret shared with the workers (requests are HMAC-signed with it) and the tenant the shards run for. */
  secret: string;
  tenant: string;
  /**
   * A bearer token instead of a signature: the CLI fans out to `irs serve` workers as a
   * tenant (`--token`), where an aggregator signs with the worker secret.
   */
  token?: string;
  perWorker?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
  /** Called on each failed attempt (for logs and tests). */
  onRetry?: (worker: string, error: string, attempt: number) => void;
}

export class PermanentShardError extends KnownError {
  override name = 'PermanentShardError';
  override readonly status: number = 502;
  override readonly exitCode: number = EXIT.unavailable;
}

/** Options of one dispatch (audits: never the worker being checked, never a quarantined one). */
export interface DispatchOptions {
  exclude?: ReadonlySet<string>;
}

/** A shard's response and the worker (URL) that gave it. */
export interface Dispatched {
  response: ShardResponse;
  worker: string;
}

/** A dispatcher that says which worker answered and can be told which ones to avoid. */
export interface RoutedDispatcher extends ShardDispatcher {
  readonly workers: readonly string[];
  dispatchVia(request: ShardRequest, options?: DispatchOptions): Promise<Dispatched>;
}

export function httpDispatcher(o: HttpDispatcherOptions): RoutedDispatcher & { readonly attempts: number } {
  if (o.workers.length === 0) throw new Error('no shard workers configured');
  const perWorker = o.perWorker ?? DEFAULTS.shardsPerWorker;
  const inFlight = new Map(o.workers.map((w) => [w, 0]));
  const waiting: (() => void)[] = [];
  const doFetch = o.fetch ?? fetch;
  let attempts = 0;
  let cursor = 0;

  const acquire = async (avoid?: string, exclude?: ReadonlySet<string>): Promise<string> => {
    const usable = exclude ? o.workers.filter((w) => !exclude.has(w)).length : o.workers.length;
    if (usable === 0) throw new PermanentShardError('no shard worker left to send the shard to (all excluded)');
    for (;;) {
      for (let k = 0; k < o.workers.length; k++) {
        const w = o.workers[(cursor + k) % o.workers.length];
        if (exclude?.has(w)) continue;
        if (inFlight.get(w)! < perWorker && (w !== avoid || usable === 1)) {
          cursor = (cursor + k + 1) % o.workers.length;
          inFlight.set(w, inFlight.get(w)! + 1);
          return w;
        }
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  const release = (w: string) => {
    inFlight.set(w, inFlight.get(w)! - 1);
    waiting.shift()?.();
  };

  const once = async (worker: string, body: string): Promise<ShardResponse> => {
    attempts++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), o.timeoutMs ?? 120_000);
    try {
      const res = await doFetch(new URL('/v1/shards', worker), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : await signShardRequest(o.secret, o.tenant, body)),
        },
        body,
        signal: controller.signal,
      });
      const text = await res.text();
      if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
        throw new PermanentShardError(`shard worker ${worker} refused the shard: ${res.status} ${text.slice(0, 300)}`);
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const parsed = ShardResponse.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error('malformed shard response');
      return parsed.data;
    } finally {
      clearTimeout(timer);
    }
  };

  const dispatchVia = async (request: ShardRequest, options: DispatchOptions = {}): Promise<Dispatched> => {
      const body = JSON.stringify(request);
      const retries = o.retries ?? 5;
      let last: string | undefined;
      let avoid: string | undefined;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, (o.backoffMs ?? 200) * 2 ** (attempt - 1)));
        const worker = await acquire(avoid, options.exclude);
        try {
          return { response: await once(worker, body), worker };
        } catch (e) {
          if (e instanceof PermanentShardError) throw e;
          last = (e as Error).name === 'AbortError' ? 'timeout' : (e as Error).message;
          avoid = worker;
          o.onRetry?.(worker, last, attempt);
        } finally {
          release(worker);
        }
      }
      throw new Error(`shard [${request.start}, ${request.start + request.count}) failed after ${retries + 1} attempts: ${last}`);
  };

  return {
    get attempts() {
      return attempts;
    },
    workers: o.workers,
    dispatchVia,
    dispatch: async (request: ShardRequest): Promise<ShardResponse> => (await dispatchVia(request)).response,
  };
}
