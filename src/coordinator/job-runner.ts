/**
 * The Node and Deno driver of the job state machine (job-machine.ts): every shard is awaited,
 * computed in this process or dispatched over HTTP to shard workers. Finished shard results are
 * persisted under the job, so running a job again after a crash recomputes only the shards
 * without a stored result.
 */
import { withRetries, type RetryOptions } from '../store/retry.ts';
import type { ServiceConfig } from '../service/runtime.ts';
import { ClassifierCache } from '../service/models.ts';
import { executeShard, InputsCache } from '../service/shard.ts';
import type { JobDoc } from '../protocol/schemas.ts';
import type { ShardDispatcher } from './sharded-sampler.ts';
import { httpDispatcher } from './http-dispatcher.ts';
import { finalize, jobFailureMessage, jobSampler, loadJob, runPlanned, saveJob } from './job-machine.ts';

export interface RunJobDeps {
  classifiers?: ClassifierCache;
  inputsCache?: InputsCache;
  /** Overrides the HTTP dispatcher (tests inject faults here). */
  dispatcher?: ShardDispatcher;
  /** Progress writes at most this often (ms). */
  progressEveryMs?: number;
  /** How long a job waits out an object-store outage (default: 8 retries, about a minute). */
  storeRetry?: RetryOptions;
}

export async function runJob(cfg: ServiceConfig, job: JobDoc, deps: RunJobDeps = {}): Promise<JobDoc> {
  const store = withRetries(cfg.store, deps.storeRetry);
  cfg = { ...cfg, store };
  try {
    await saveJob(store, job, { status: 'running' });
    const loaded = await loadJob(cfg, job);
    job.progress.samplesTotal = loaded.samplesTotal;
    const classifiers = deps.classifiers ?? new ClassifierCache(cfg.backend);
    const inputsCache = deps.inputsCache ?? new InputsCache();
    const dispatcher: ShardDispatcher = deps.dispatcher ?? (cfg.workers.length > 0
      ? httpDispatcher({ workers: cfg.workers, secret: cfg.workerToken ?? '', tenant: job.tenant, ...cfg.fanOut })
      : { dispatch: (r) => executeShard(store, classifiers, inputsCache, job.tenant, r) });
    const sampler = jobSampler(store, loaded, dispatcher, Math.max(1, cfg.workers.length * (cfg.fanOut?.perWorker ?? 2)));

    const total = loaded.samplesTotal;
    let done = 0;
    let lastWrite = 0;
    const started = Date.now();
    const onProgress = (k: number) => {
      done += k;
      const now = Date.now();
      if (now - lastWrite < (deps.progressEveryMs ?? 1000)) return;
      lastWrite = now;
      const rate = done / ((now - started) / 1000);
      void saveJob(store, job, { progress: { samplesDone: done, samplesTotal: total, etaSeconds: rate > 0 ? Math.round((total - done) / rate) : undefined } }).catch(() => {});
    };
    await finalize(store, job, await runPlanned(cfg, loaded, { sampler, onProgress }));
  } catch (e) {
    await saveJob(store, job, { status: 'failed', error: jobFailureMessage(e) }).catch(() => {});
  }
  return job;
}
