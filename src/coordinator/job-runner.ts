/**
 * The Node and Deno driver of the job state machine (job-machine.ts): every shard is awaited,
 * computed in this process or dispatched over HTTP to shard workers. Finished shard results are
 * persisted under the job, so running a job again after a crash recomputes only the shards
 * without a stored result.
 */
import { DEFAULTS } from '../protocol/defaults.ts';
import { withRetries, type RetryOptions } from '../store/retry.ts';
import type { ServiceConfig } from '../service/runtime.ts';
import { ClassifierCache } from '../service/models.ts';
import { executeShard, InputsCache } from '../service/shard.ts';
import type { JobDoc } from '../protocol/schemas.ts';
import type { ShardDispatcher } from './sharded-sampler.ts';
import { httpDispatcher } from './http-dispatcher.ts';
import { asRouted, createAudit, type Audit, type AuditStatus } from './audit.ts';
import { finalize, jobFailureMessage, jobSampler, loadJob, runPlanned, saveJob, shardResults } from './job-machine.ts';

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
    // Fan-out records who computed each shard, and audits a fraction when the job asks (audit.ts).
    const req = job.request;
    const auditReq = req.kind !== 'tune' ? req.audit : undefined;
    let audit: Audit | undefined;
    if (req.kind !== 'tune' && (auditReq || (cfg.workers.length > 0 && !deps.dispatcher))) {
      audit = createAudit({
        remote: deps.dispatcher ? asRouted(deps.dispatcher) : cfg.workers.length > 0 ? (dispatcher as ReturnType<typeof httpDispatcher>) : undefined,
        local: (r) => executeShard(store, classifiers, inputsCache, job.tenant, r),
        results: shardResults(store, job), fraction: auditReq?.fraction ?? 0, auditor: auditReq?.auditor, backend: cfg.backend,
        resume: job.audit as AuditStatus | undefined,
        onChange: auditReq ? (a) => void saveJob(store, job, { audit: a }).catch(() => {}) : undefined,
      });
    }
    const sampler = jobSampler(store, loaded, audit?.dispatcher ?? dispatcher, Math.max(1, cfg.workers.length * (cfg.fanOut?.perWorker ?? DEFAULTS.shardsPerWorker)), audit?.results);

    const total = loaded.samplesTotal;
    let done = 0;
    let lastWrite = 0;
    const started = Date.now();
    const onProgress = (k: number) => {
      done = Math.min(total, done + k); // an audited job that recomputes a quarantined worker's shards samples them again
      const now = Date.now();
      if (now - lastWrite < (deps.progressEveryMs ?? 1000)) return;
      lastWrite = now;
      const rate = done / ((now - started) / 1000);
      void saveJob(store, job, { progress: { samplesDone: done, samplesTotal: total, etaSeconds: rate > 0 ? Math.round((total - done) / rate) : undefined } }).catch(() => {});
    };
    const plannedRun = () => runPlanned(cfg, loaded, { sampler, onProgress });
    const outcome = await (audit ? audit.run(plannedRun) : plannedRun());
    if (audit && outcome.kind === 'certificate') {
      // Who ran the shards: provenance, outside the certificate id.
      outcome.certificate.provenance = audit.provenance();
      if (auditReq) job.audit = audit.status();
    }
    await finalize(store, job, outcome);
  } catch (e) {
    await saveJob(store, job, { status: 'failed', error: jobFailureMessage(e) }).catch(() => {});
  }
  return job;
}
