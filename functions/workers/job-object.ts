/**
 * One Durable Object per job (SQLite-backed, named tenant/job-id): the Workers driver of the job
 * state machine (src/coordinator/job-machine.ts). It plans, counts and merges; it never runs
 * inference (single-threaded, with a CPU cap per request).
 *
 *   advance   run the job's algorithm against the shard results stored in R2. Missing shards are
 *             deferred: the run stops with JobSuspended naming the current wave's shards, which
 *             go into the ledger (INSERT OR IGNORE on the content-addressed key, so a shard is
 *             sent once however often it is wanted) and onto the Queue with sendBatch. Once all
 *             of them are done the object advances again; the last run finalizes.
 *   alarm     the watchdog, re-armed while the job runs: it advances a job whose wave is in,
 *             sends overdue shards again (lost messages, a restarted runtime) and fails the job
 *             after IRS_SHARD_SENDS sends, naming the shard and its last error.
 *
 * The job document in R2 (what GET /v1/jobs/:id reads) is written from here: running, progress,
 * then done (after the cache and the certificate) or failed.
 */
import { DurableObject, type DurableObjectState } from 'cloudflare:workers';
import { withRetries } from '../../src/store/retry.ts';
import type { ObjectStore } from '../../src/store/types.ts';
import type { JobDoc, ShardResponse } from '../../src/protocol/schemas.ts';
import type { ServiceConfig } from '../../src/service/runtime.ts';
import { finalize, jobFailureMessage, jobSampler, loadJob, runPlanned, saveJob, shardResults, storedCompressor, type LoadedJob } from '../../src/coordinator/job-machine.ts';
import { JobSuspended, ShardPending, type ShardStore, type WantedShard } from '../../src/coordinator/sharded-sampler.ts';
import { createAudit, type Audit } from '../../src/coordinator/audit.ts';
import { queuedParties } from '../../src/coordinator/queued-parties.ts';
import { numberVar, serviceConfig, type Env, type ShardMessage } from './env.ts';
import { parseFaults } from './faults.ts';

interface ShardRow {
  key: string;
  message: string;
  samples: number;
  state: 'pending' | 'done';
  sends: number;
  sent_at: number;
  done_at: number | null;
  /** Last time a consumer reported a failed delivery of it (the queue is still retrying it). */
  seen_at: number | null;
  error: string | null;
}

/** Shard results kept in the object's memory across advances (characters of their JSON, about bytes). */
const RESULT_CACHE_CHARS = 16_000_000;

/** sendBatch takes at most 100 messages and 256 KB. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200_000;

export class JobObject extends DurableObject<Env> {
  private readonly cfg: ServiceConfig;
  private readonly store: ObjectStore;
  private loaded?: { id: string; job: Promise<LoadedJob> };
  private advancing?: Promise<void>;
  private advanceAgain = false;
  private lastProgressWrite = 0;
  private resultCache: { job: string; entries: Map<string, ShardResponse>; chars: number } = { job: '', entries: new Map(), chars: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.cfg = serviceConfig(env);
    this.store = withRetries(this.cfg.store);
    this.cfg = { ...this.cfg, store: this.store };
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS job (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL)');
    sql.exec(`CREATE TABLE IF NOT EXISTS shards (
      key TEXT PRIMARY KEY, message TEXT NOT NULL, samples INTEGER NOT NULL,
      state TEXT NOT NULL, sends INTEGER NOT NULL, sent_at INTEGER NOT NULL, done_at INTEGER, seen_at INTEGER, error TEXT)`);
    sql.exec('CREATE TABLE IF NOT EXISTS audit_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL)');
  }

  private get timeoutMs() { return numberVar(this.env.IRS_SHARD_TIMEOUT_MS, 120_000, 'IRS_SHARD_TIMEOUT_MS'); }
  private get watchdogMs() { return numberVar(this.env.IRS_WATCHDOG_MS, 30_000, 'IRS_WATCHDOG_MS'); }
  private get maxSends() { return numberVar(this.env.IRS_SHARD_SENDS, 4, 'IRS_SHARD_SENDS'); }

  /**
   * The job's stored shard results, those read by earlier advances kept in memory while the
   * object lives (a result never changes: its key is its request): each advance then reads from
   * R2 only the wave just in. Up to RESULT_CACHE_CHARS; beyond, results are read again.
   */
  private results(job: JobDoc): ShardStore {
    const stored = shardResults(this.store, job);
    if (this.resultCache.job !== job.id) this.resultCache = { job: job.id, entries: new Map(), chars: 0 };
    const cache = this.resultCache;
    return {
      async get(key) {
        const hit = cache.entries.get(key);
        if (hit) return hit;
        const r = await stored.get(key);
        const chars = r ? (r.predictions ?? []).reduce((a, p) => a + p.length, 0) + 16 * r.counts.reduce((a, c) => a + c.length, 0) : 0;
        if (r && cache.chars + chars <= RESULT_CACHE_CHARS) {
          cache.entries.set(key, r);
          cache.chars += chars;
        }
        return r;
      },
      put: (key, r) => stored.put(key, r),
    };
  }

  /** The audit selection's secret: drawn once per job, kept here (consumers can read R2, not this). */
  private auditKey(): Uint8Array {
    const sql = this.ctx.storage.sql;
    sql.exec('INSERT OR IGNORE INTO audit_key (id, key) VALUES (1, ?)', crypto.getRandomValues(new Uint8Array(32)).buffer);
    return new Uint8Array(sql.exec<{ key: ArrayBuffer }>('SELECT key FROM audit_key WHERE id = 1').one().key);
  }

  private doc(): JobDoc | undefined {
    const row = this.ctx.storage.sql.exec<{ doc: string }>('SELECT doc FROM job WHERE id = 1').toArray()[0];
    return row ? (JSON.parse(row.doc) as JobDoc) : undefined;
  }

  /** The object's copy is the truth; R2's is what the API reads. */
  private async save(job: JobDoc, patch: Partial<JobDoc> = {}): Promise<JobDoc> {
    await saveJob(this.store, job, patch);
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO job (id, doc) VALUES (1, ?)', JSON.stringify(job));
    return job;
  }

  private running(): JobDoc | undefined {
    const job = this.doc();
    return job && (job.status === 'queued' || job.status === 'running') ? job : undefined;
  }

  /** Starts a submitted job (or one submitted again after it failed). A repeated start changes nothing. */
  async start(job: JobDoc): Promise<void> {
    const have = this.doc();
    if (have && have.id === job.id && have.status !== 'failed') return this.ensure();
    // A failed job submitted again: its stored shard results stay valid (the run reads them
    // first); the ledger starts over so failed shards are sent again.
    this.ctx.storage.sql.exec('DELETE FROM shards');
    await this.save(job, { status: 'running', error: undefined });
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** Somebody looked at the job: make sure the watchdog is armed (after a restart, say). */
  async ensure(): Promise<void> {
    if (this.running() && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** A consumer stored a shard's result. */
  async shardDone(key: string): Promise<void> {
    const job = this.running();
    if (!job) return;
    const sql = this.ctx.storage.sql;
    if (sql.exec("UPDATE shards SET state = 'done', done_at = ? WHERE key = ? AND state = 'pending'", Date.now(), key).rowsWritten === 0) return; // a duplicate
    const pending = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM shards WHERE state = 'pending'").one().n;
    if (pending === 0) {
      await this.ctx.storage.setAlarm(Date.now()); // the wave is in: advance, outside this call
    } else if (Date.now() - this.lastProgressWrite > 1000) {
      this.lastProgressWrite = Date.now();
      await this.save(job, { progress: this.progress(job) });
    }
  }

  /**
   * A delivery failed. `retrying`: the queue delivers it again (the error is kept for the
   * report); `dead-lettered`: the queue gave up, so the object sends it again while it has sends
   * left; `permanent`: the request can never succeed, the job fails now.
   */
  async shardFailed(key: string, error: string, kind: 'retrying' | 'dead-lettered' | 'permanent'): Promise<void> {
    const job = this.running();
    if (!job) return;
    const sql = this.ctx.storage.sql;
    const row = sql.exec<ShardRow>("SELECT * FROM shards WHERE key = ? AND state = 'pending'", key).toArray()[0];
    if (!row) return;
    if (kind === 'retrying') {
      sql.exec('UPDATE shards SET error = ?, seen_at = ? WHERE key = ?', error.slice(0, 500), Date.now(), key);
    } else if (kind === 'dead-lettered' && row.sends < this.maxSends) {
      sql.exec('UPDATE shards SET sends = sends + 1, sent_at = ? WHERE key = ?', Date.now(), key);
      await this.send([row.message]);
    } else {
      const last = row.error && row.error !== error ? ` (last error: ${row.error})` : '';
      await this.fail(job, `shard ${key} failed after ${row.sends} send(s): ${error}${last}`);
    }
  }

  async alarm(): Promise<void> {
    const job = this.running();
    if (!job) return;
    const sql = this.ctx.storage.sql;
    const pending = sql.exec<ShardRow>("SELECT * FROM shards WHERE state = 'pending'").toArray();
    if (pending.length === 0) {
      await this.advance();
    } else {
      // A shard is overdue when nothing was heard of it, and the job made no progress, for the
      // timeout since it was sent: messages wait in the queue behind others and are retried by
      // the queue, so time since sending alone says nothing.
      const now = Date.now();
      const lastDone = sql.exec<{ t: number | null }>('SELECT MAX(done_at) AS t FROM shards').one().t ?? 0;
      const overdue = pending.filter((r) => now - Math.max(r.sent_at, r.seen_at ?? 0, lastDone) >= this.timeoutMs);
      const exhausted = overdue.find((r) => r.sends >= this.maxSends);
      if (exhausted) {
        return this.fail(job, `shard ${exhausted.key} did not complete after ${exhausted.sends} sends: ${exhausted.error ?? 'no consumer answered in time'}`);
      }
      for (const r of overdue) sql.exec('UPDATE shards SET sends = sends + 1, sent_at = ? WHERE key = ?', now, r.key);
      await this.send(overdue.map((r) => r.message));
    }
    if (this.running()) await this.ctx.storage.setAlarm(Date.now() + this.watchdogMs);
  }

  /** Runs the job's algorithm once more; concurrent requests coalesce into one more run. */
  private advance(): Promise<void> {
    if (this.advancing) {
      this.advanceAgain = true;
      return this.advancing;
    }
    this.advancing = (async () => {
      do {
        this.advanceAgain = false;
        await this.advanceOnce();
      } while (this.advanceAgain);
    })().finally(() => (this.advancing = undefined));
    return this.advancing;
  }

  private async advanceOnce(): Promise<void> {
    const job = this.running();
    if (!job) return;
    try {
      if (this.loaded?.id !== job.id) this.loaded = { id: job.id, job: loadJob(this.cfg, job) };
      const loaded = { ...(await this.loaded.job), job };
      const req = job.request;
      const auditRequest = req.kind !== 'tune' ? req.audit : undefined;
      let outcome;
      if (auditRequest) {
        // Audited: the consumers are the parties (queued-parties.ts); every comparison is replayed
        // from the stored slots on each run, with the job's selection key kept in this object.
        const audit: Audit = createAudit({
          remote: queuedParties(this.store, job, () => new Set(audit.status().quarantined.map((q) => q.party))),
          fraction: auditRequest.fraction, auditor: 'worker', backend: this.cfg.backend, key: this.auditKey(), maxRounds: 8,
        });
        const none = { get: async () => undefined, put: async () => {} }; // the parties read the stored results
        try {
          outcome = await audit.run(() => runPlanned(this.cfg, loaded, { sampler: jobSampler(this.store, loaded, audit.dispatcher, 16, none) }));
        } finally {
          job.audit = audit.status();
        }
        if (outcome.kind === 'certificate') outcome.certificate.provenance = audit.provenance();
      } else {
        const deferring = { dispatch: () => Promise.reject(new ShardPending()) };
        const results = this.results(job);
        outcome = await runPlanned(this.cfg, loaded, {
          sampler: jobSampler(this.store, loaded, deferring, 16, results),
          // tune: candidates are compressed by consumers, and each one's shards queued like any other.
          samplerFor: (model) => jobSampler(this.store, loaded, deferring, 16, results, model),
          compressor: storedCompressor(this.store, loaded),
        });
      }
      await finalize(this.store, job, outcome);
      this.ctx.storage.sql.exec('INSERT OR REPLACE INTO job (id, doc) VALUES (1, ?)', JSON.stringify(job));
      await this.ctx.storage.deleteAlarm();
    } catch (e) {
      if (e instanceof JobSuspended) return this.want(job, e.shards);
      this.loaded = undefined;
      await this.fail(job, jobFailureMessage(e));
    }
  }

  /** The current wave: new shards go into the ledger and onto the queue. */
  private async want(job: JobDoc, shards: readonly WantedShard[]): Promise<void> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const fresh: string[] = [];
    for (const { key, request, compress, avoid, quarantined } of shards) {
      const body: ShardMessage = request
        ? { tenant: job.tenant, job: job.id, key, request, ...(avoid ? { avoid } : {}), ...(quarantined ? { quarantined } : {}) }
        : { tenant: job.tenant, job: job.id, key, compress: compress! };
      const message = JSON.stringify(body);
      const samples = request ? request.count * request.inputs.length : 0;
      if (sql.exec("INSERT OR IGNORE INTO shards (key, message, samples, state, sends, sent_at) VALUES (?, ?, ?, 'pending', 1, ?)", key, message, samples, now).rowsWritten > 0) {
        fresh.push(message);
      } else if (sql.exec("UPDATE shards SET state = 'pending', sends = sends + 1, sent_at = ? WHERE key = ? AND state = 'done'", now, key).rowsWritten > 0) {
        fresh.push(message); // marked done, yet its result is not in R2: compute it again
      }
    }
    await this.send(fresh);
    await this.save(job, { progress: this.progress(job) });
  }

  private async send(messages: readonly string[]): Promise<void> {
    const copies = parseFaults(this.env.IRS_FAULTS).duplicate ? 2 : 1;
    let batch: { body: ShardMessage }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length) await this.env.SHARDS.sendBatch(batch);
      batch = [];
      bytes = 0;
    };
    for (const m of messages) {
      for (let c = 0; c < copies; c++) {
        if (batch.length === BATCH_MESSAGES || bytes + m.length > BATCH_BYTES) await flush();
        batch.push({ body: JSON.parse(m) as ShardMessage });
        bytes += m.length;
      }
    }
    await flush();
  }

  private progress(job: JobDoc): JobDoc['progress'] {
    const done = this.ctx.storage.sql.exec<{ s: number | null }>("SELECT SUM(samples) AS s FROM shards WHERE state = 'done'").one().s ?? 0;
    const total = job.progress.samplesTotal;
    const elapsed = (Date.now() - Date.parse(job.createdAt)) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    return { samplesDone: Math.min(done, total), samplesTotal: total, ...(rate > 0 ? { etaSeconds: Math.max(0, Math.round((total - done) / rate)) } : {}) };
  }

  private async fail(job: JobDoc, error: string): Promise<void> {
    await this.save(job, { status: 'failed', error });
    await this.ctx.storage.deleteAlarm();
  }
}
