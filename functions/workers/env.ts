/**
 * The Workers deployment: its bindings (wrangler.toml), and the one function that turns them into
 * the service's configuration, shared by the HTTP entry, the queue consumer and the job object.
 */
import type { DurableObjectState } from 'cloudflare:workers';
import { R2Store, type R2BucketLike } from '../../src/store/r2.ts';
import type { ServiceConfig } from '../../src/service/runtime.ts';
import { configFromEnv } from '../../src/http/config.ts';
import type { BackendChoice } from '../../src/inference/backend.ts';
import { largestModelBytes, WORKER_ISOLATE_BUDGET_MIB } from '../../src/inference/memory-budget.ts';
import type { CompressTask, JobDoc, ShardRequest } from '../../src/protocol/schemas.ts';

/**
 * One shard of one job, as a queue message: small, everything large is an R2 key. A shard of
 * samples carries its request; a tune candidate to compress, its task.
 */
export type ShardMessage = {
  tenant: string;
  job: string;
  /** The shard's content address (coordinator/sharded-sampler.ts shardKey; job-machine.ts compressTask). */
  key: string;
} & (
  | {
    request: ShardRequest; compress?: undefined;
    /** Audits (coordinator/queued-parties.ts): consumers asked to leave it to another, and those that may not compute it. */
    avoid?: string[]; quarantined?: string[];
  }
  | { compress: CompressTask; request?: undefined; avoid?: undefined; quarantined?: undefined }
);

export interface QueueLike<T> {
  sendBatch(messages: { body: T }[]): Promise<void>;
}

export interface MessageLike<T> {
  readonly id: string;
  readonly body: T;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface MessageBatchLike<T> {
  readonly queue: string;
  readonly messages: readonly MessageLike<T>[];
}

/** The job object's RPC surface, as a stub sees it. */
export interface JobObjectStub {
  start(job: JobDoc): Promise<void>;
  ensure(): Promise<void>;
  shardDone(key: string): Promise<void>;
  shardFailed(key: string, error: string, kind: 'retrying' | 'dead-lettered' | 'permanent'): Promise<void>;
}

export interface JobNamespace {
  getByName(name: string): JobObjectStub;
}

export interface Env {
  IRS_BUCKET: R2BucketLike;
  JOBS: JobNamespace;
  SHARDS: QueueLike<ShardMessage>;
  /** tenant:token,… (a secret in production). */
  IRS_TOKENS?: string;
  IRS_WORKER_TOKEN?: string;
  /** CPU a shard may take, in ms (default 10,000: a third of the default 30 s per invocation). */
  IRS_SHARD_CPU_MS?: string;
  /** A pending shard is sent again after this long without an answer (ms, default 120,000). */
  IRS_SHARD_TIMEOUT_MS?: string;
  /** The job object's watchdog period (ms, default 30,000). */
  IRS_WATCHDOG_MS?: string;
  /** Sends of one shard before the job fails (default 4; each send has the queue's own retries). */
  IRS_SHARD_SENDS?: string;
  /** Largest model (and inputs file) accepted, in bytes (default: the largest the memory budget can load). */
  IRS_MAX_MODEL_BYTES?: string;
  /** Memory inference may take in an isolate, in MiB (default 115: 128 MB less a margin; src/inference/memory-budget.ts). */
  IRS_ISOLATE_MEMORY_MIB?: string;
  /** Test hooks only (functions/workers/faults.ts). */
  IRS_FAULTS?: string;
}

/** Workers run shards on onnxruntime-web's wasm build, fanned out through the queue (no worker URLs). */
const WORKERS_BACKENDS = ['wasm'] as const satisfies readonly BackendChoice[];

export function serviceConfig(env: Env): ServiceConfig {
  const { tokens, workerToken, backend } = configFromEnv(env, WORKERS_BACKENDS);
  // An isolate has 128 MB, and onnxruntime-web holds about 3 times a model's bytes in wasm memory,
  // the bytes themselves while it loads (BENCHMARKS.md, "Memory"): what cannot load is refused at
  // upload, not stopped mid-job, and batches are computed in pieces that fit.
  const memoryBudgetMiB = numberVar(env.IRS_ISOLATE_MEMORY_MIB, WORKER_ISOLATE_BUDGET_MIB, 'IRS_ISOLATE_MEMORY_MIB');
  const maxModelBytes = numberVar(env.IRS_MAX_MODEL_BYTES, largestModelBytes(memoryBudgetMiB), 'IRS_MAX_MODEL_BYTES');
  return { store: new R2Store(env.IRS_BUCKET), tokens, workerToken, workers: [], backend, maxModelBytes, memoryBudgetMiB };
}

export function numberVar(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got '${value}'`);
  return n;
}

/** A job's object: one per tenant and job id. */
export function jobObject(env: Env, tenant: string, job: string): JobObjectStub {
  return env.JOBS.getByName(`${tenant}/${job}`);
}

export type { DurableObjectState };
