/**
 * What the functions need from the runtime and the deployment, passed in by each entry
 * (workers, node, deno) so the app itself is the same everywhere.
 */
import type { ObjectStore } from '../store/types.ts';
import type { BackendName } from '../inference/classifier.ts';
import type { Dataset } from '../data/dataset.ts';
import type { JobDoc, JobRequest } from '../protocol/schemas.ts';

/** The port between the HTTP layer and whatever drives jobs on this runtime. */
export interface JobDriver {
  /** Job kinds it runs; others are refused at submission with a message. */
  readonly kinds: readonly JobRequest['kind'][];
  /** How it cuts a new job into shards (stored with the job), from a sample's cost measured at submission. */
  plan?(request: JobRequest, cost: { msPerSample: number }): JobDoc['plan'];
  /** Starts a submitted job, or resumes one that is not finished. Idempotent. */
  start(job: JobDoc): Promise<void>;
  /** A client looked at an unfinished job: make sure something will advance it. */
  touch?(job: JobDoc): Promise<void>;
}

export interface ServiceConfig {
  store: ObjectStore;
  /** Bearer token -> tenant. */
  tokens: ReadonlyMap<string, string>;
  /**
   * Secret shared by an aggregator and its shard workers: shard requests HMAC-signed with it
   * (service/signing.ts) run for the tenant they name, on POST /v1/shards only.
   */
  workerToken?: string;
  /** The name this server states as a shard worker (default: the origin it was reached at). */
  workerId?: string;
  /** Shard workers the aggregator fans out to; none: shards run in this process. */
  workers: readonly string[];
  backend: BackendName;
  /** webgpu: the adapter shards run on (reported by /healthz). */
  adapter?: import('../inference/backend.ts').AdapterInfo;
  /**
   * This process's or isolate's inference memory, reported by /healthz: on Workers the wasm
   * linear memory onnxruntime-web holds, which counts against the isolate's 128 MB and never
   * shrinks while the isolate lives.
   */
  memory?: () => { wasmBytes: number };
  /** Bundled datasets (mnist:test, mnist:train) where the runtime can read them. */
  dataset?: (source: string) => Dataset;
  /**
   * What runs submitted jobs. Default: this process (coordinator/job-runner.ts). The Workers
   * entry passes one Durable Object per job instead.
   */
  jobs?: JobDriver;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Largest model upload, in bytes. */
  maxModelBytes?: number;
  /**
   * Memory the isolate may give inference, in MiB (Workers: inference/memory-budget.ts): models
   * that cannot load within it are refused, and batches are computed in pieces that fit.
   */
  memoryBudgetMiB?: number;
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
