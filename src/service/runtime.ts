/**
 * What the functions need from the runtime and the deployment, passed in by each entry
 * (workers, node, deno) so the app itself is the same everywhere.
 */
import type { ObjectStore } from '../store/types.ts';
import type { BackendName } from '../inference/classifier.ts';
import type { Dataset } from '../data/dataset.ts';

export interface ServiceConfig {
  store: ObjectStore;
  /** Bearer token -> tenant. */
  tokens: ReadonlyMap<string, string>;
  /**
   * Secret shared by an aggregator and its shard workers: shard requests HMAC-signed with it
   * (service/signing.ts) run for the tenant they name, on POST /v1/shards only.
   */
  workerToken?: string;
  /** Shard workers the aggregator fans out to; none: shards run in this process. */
  workers: readonly string[];
  backend: BackendName;
  /** webgpu: the adapter shards run on (reported by /healthz). */
  adapter?: import('../inference/webgpu.ts').AdapterInfo;
  /** Bundled datasets (mnist:test, mnist:train) where the runtime can read them. */
  dataset?: (source: string) => Dataset;
  /** Keeps background work (a running job) alive after the response (workerd: waitUntil). */
  background?: (work: Promise<unknown>) => void;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Largest model upload, in bytes. */
  maxModelBytes?: number;
  /** Concurrent shard executions before answering 429. */
  maxConcurrentShards?: number;
  /** Shard requests in flight per worker, and retry policy for fan-out. */
  /** How long jobs wait out an object-store outage (store/retry.ts). */
  storeRetry?: import('../store/retry.ts').RetryOptions;
  fanOut?: { perWorker?: number; timeoutMs?: number; retries?: number; backoffMs?: number; fetch?: typeof fetch };
}

/** Parses `tenant:token,tenant:token` (IRS_TOKENS). */
export function parseTokens(spec: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    if (i < 1 || i === part.length - 1) throw new Error(`malformed token entry '${part.slice(0, 20)}…': expected tenant:token`);
    out.set(part.slice(i + 1), part.slice(0, i));
  }
  return out;
}
