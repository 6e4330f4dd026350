/**
 * Fan-out from the CLI (`irs certify … --workers URL,URL --token T`): the models and inputs a
 * command needs are uploaded to every `irs serve` worker (content-addressed, so an upload that
 * is already there costs one request), and each noise stream is cut into shards by the same
 * shardedSampler and httpDispatcher the jobs API uses: bounded requests in flight per worker,
 * a timeout per request, retries with backoff. Finished shard results are kept in a local
 * directory, keyed by the shard request's digest, so a rerun computes only the missing shards.
 *
 * Every fan-out goes through the audit layer (audit.ts), which records who computed each shard
 * (the certificate's `provenance`). With `--audit F` it also recomputes a secretly chosen
 * fraction F of the shards on another worker or in this process (the aggregator, which holds
 * the model and the inputs in a memory store and states the backend it really runs), and
 * settles a mismatch by a third computation: the odd party is quarantined, its results are
 * recomputed elsewhere, and the computation is run again (`run`).
 */
import { DEFAULTS } from '../protocol/defaults.ts';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../protocol/npy-codec.ts';
import { EXIT, KnownError, UserError } from '../errors.ts';
import { isBackendName, type BackendName } from '../inference/backend.ts';
import { ShardResponse, type ShardRequest } from '../protocol/schemas.ts';
import type { MergedSamples } from '../smoothing/merge.ts';
import type { MultiSampler, Sampler } from '../smoothing/stream.ts';
import { MemoryStore } from '../store/memory.ts';
import { keys } from '../service/keys.ts';
import { ClassifierCache } from '../service/models.ts';
import { executeShard, InputsCache } from '../service/shard.ts';
import { TOOL } from '../version.ts';
import { sha256Hex } from '../util/digest.ts';
import { AGGREGATOR, createAudit, partyTotals, type Audit, type AuditStatus, type Provenance } from './audit.ts';
import { httpDispatcher, PermanentShardError, type RoutedDispatcher } from './http-dispatcher.ts';
import { shardedSampler, shardKey, type ShardDispatcher, type ShardStore } from './sharded-sampler.ts';

export interface RemoteWorkersOptions {
  workers: readonly string[];
  /** Bearer token every worker was started with (`irs serve --token`). */
  token: string;
  /** Shard requests in flight per worker. */
  perWorker?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  /** Directory of finished shard results (resume); none: kept in memory only. */
  resultsDir?: string;
  /** Samples per shard and input, and inputs per shard. */
  shardSamples?: number;
  inputsPerShard?: number;
  fetch?: typeof fetch;
  onRetry?: (worker: string, error: string, attempt: number) => void;
}

/** The tenant of the aggregator's own memory store (its copy of the models and inputs). */
const LOCAL_TENANT = 'cli';

/** Audits of a fan-out (`--audit F`, `--auditor`). */
export interface FanOutAuditOptions {
  /** Fraction of shards recomputed (0: provenance only). */
  fraction: number;
  auditor?: 'worker' | 'aggregator';
  /** The job's backend (the workers'): every audited comparison is on it. */
  backend: BackendName;
  /** The backend this process recomputes shards on; stated as is, so the layer refuses it when it differs. */
  localBackend: BackendName;
}

/**
 * The audit layer failed the run: two parties disagree and no third settles it, or three
 * answers differ, or no party is left. No certificate is written.
 */
export class AuditFailed extends KnownError {
  override name = 'AuditFailed';
  override readonly status: number = 502;
  override readonly exitCode: number = EXIT.auditFailed;
  constructor(message: string, readonly audit?: AuditStatus) {
    super(message);
  }
}

/** A stored shard result with who computed it, and the audit fraction of the run that stored it. */
type StoredResult = ShardResponse & { provenance?: Provenance['shards'][number]; auditFraction?: number };

/** Shard results as files `<dir>/<key>.json`, written atomically. */
export function directoryShardStore(dir: string): ShardStore {
  mkdirSync(dir, { recursive: true });
  return {
    async get(key) {
      let text: string;
      try {
        text = readFileSync(join(dir, `${key}.json`), 'utf8');
      } catch {
        return undefined;
      }
      try {
        const raw = JSON.parse(text);
        const parsed = ShardResponse.safeParse(raw);
        if (!parsed.success) return undefined; // a damaged file is recomputed
        const out: StoredResult = parsed.data;
        // Who computed it (audit.ts), and whether the run that stored it audited.
        if (raw.provenance && typeof raw.provenance === 'object' && typeof raw.provenance.by === 'string') out.provenance = raw.provenance;
        if (typeof raw.auditFraction === 'number') out.auditFraction = raw.auditFraction;
        return out;
      } catch {
        return undefined;
      }
    },
    async put(key, result) {
      const path = join(dir, `${key}.json`);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(result));
      renameSync(tmp, path);
    },
  };
}

export class RemoteWorkers {
  /** The backend each worker reports on /healthz. */
  readonly backends: BackendName[] = [];
  /** Shards computed by a worker in this run (not read back from the results directory). */
  computed = 0;
  /** Shards found in the results directory. */
  reused = 0;
  /** Audited run: stored results not reused because the run that stored them did not audit. */
  get unaudited(): number {
    return this.unauditedKeys.size;
  }
  private readonly unauditedKeys = new Set<string>();
  /** Shard results stored by this run (read back by a rerun of the computation: not "reused"). */
  private readonly storedNow = new Set<string>();
  private readonly routed: RoutedDispatcher;
  private readonly results: ShardStore;
  private readonly doFetch: typeof fetch;
  /** The aggregator's copy of the models and inputs, for its own recomputations. */
  private readonly local = new MemoryStore();
  private classifiers?: ClassifierCache;
  private audit?: Audit;
  private auditFraction = 0;
  /** Shard key -> model sha256 (provenance per certificate when several models share the run). */
  private readonly modelOf = new Map<string, string>();

  private constructor(private readonly o: RemoteWorkersOptions) {
    if (o.workers.length === 0) throw new UserError('--workers: give at least one worker URL');
    this.doFetch = o.fetch ?? fetch;
    const http = httpDispatcher({
      workers: o.workers, secret: '', tenant: '', token: o.token, perWorker: o.perWorker, timeoutMs: o.timeoutMs,
      retries: o.retries, backoffMs: o.backoffMs, fetch: o.fetch, onRetry: o.onRetry,
    });
    const dispatchVia: RoutedDispatcher['dispatchVia'] = async (request, options) => {
      try {
        const d = await http.dispatchVia(request, options);
        this.computed++;
        return d;
      } catch (e) {
        // The audit layer asks for a worker outside a set; "all excluded" is its signal to look elsewhere.
        if (e instanceof PermanentShardError && /all excluded/.test(e.message)) throw e;
        throw new UserError(e instanceof PermanentShardError ? refusal(e.message) : `fan-out failed: ${(e as Error).message}`);
      }
    };
    this.routed = { workers: http.workers, dispatchVia, dispatch: async (r) => (await dispatchVia(r)).response };
    const memory = new Map<string, ShardResponse>();
    const dir = o.resultsDir ? directoryShardStore(o.resultsDir) : { get: async (k: string) => memory.get(k), put: async (k: string, r: ShardResponse) => { memory.set(k, r); } };
    this.results = {
      get: async (k) => {
        const r = (await dir.get(k)) as StoredResult | undefined;
        if (!r) return undefined;
        // An audited run reuses only results stored by an audited run: the others were never open to an audit.
        if (this.auditFraction > 0 && !((r.auditFraction ?? 0) > 0)) {
          this.unauditedKeys.add(k);
          return undefined;
        }
        if (!this.storedNow.has(k)) this.reused++;
        this.modelOf.set(k, r.model);
        return r;
      },
      put: (k, r) => {
        this.modelOf.set(k, r.model);
        this.storedNow.add(k);
        return dir.put(k, this.auditFraction > 0 ? { ...r, auditFraction: this.auditFraction } as ShardResponse : r);
      },
    };
  }

  /**
   * Puts the audit layer over the fan-out (before any sampler is made). Fraction 0 records
   * provenance only; above 0 the aggregator recomputes shards too, on `localBackend`.
   */
  startAudit(a: FanOutAuditOptions): void {
    if (this.audit) throw new Error('startAudit called twice');
    this.auditFraction = a.fraction;
    let local: ((r: ShardRequest) => Promise<ShardResponse>) | undefined;
    if (a.fraction > 0) {
      const classifiers = (this.classifiers = new ClassifierCache(a.localBackend));
      const inputsCache = new InputsCache();
      local = async (request) => {
        const classifier = await classifiers.get(this.local, LOCAL_TENANT, request.model);
        const response = await executeShard(this.local, classifiers, inputsCache, LOCAL_TENANT, request);
        // The backend this process really ran: the layer refuses it when it is not the job's.
        return { ...response, worker: { id: AGGREGATOR, backend: classifier.backend, version: TOOL.version } };
      };
    }
    this.audit = createAudit({ remote: this.routed, local, results: this.results, fraction: a.fraction, auditor: a.auditor, backend: a.backend });
  }

  /** Runs a command's computation; with audits, again until no result of a quarantined worker is left in it. */
  async run<T>(compute: () => Promise<T>): Promise<T> {
    if (!this.audit) return compute();
    try {
      return await this.audit.run(compute);
    } catch (e) {
      if (e instanceof PermanentShardError) throw new AuditFailed(e.message, this.audit.status());
      throw e;
    } finally {
      this.forgetQuarantined();
    }
  }

  /** The audit's status (undefined: no audit layer). */
  auditStatus(): AuditStatus | undefined {
    return this.audit?.status();
  }

  /** Who computed each shard of the last run, of one model's certificate (all: no model given). */
  provenance(model?: string): Provenance | undefined {
    if (!this.audit) return undefined;
    const p = this.audit.provenance();
    if (model === undefined) return p;
    const shards = p.shards.filter((s) => this.modelOf.get(s.key) === model);
    return { ...p, parties: partyTotals(shards), shards };
  }

  /**
   * Deletes the stored results of workers quarantined in this run (mismatch or malformed): a
   * later run must not reuse what they computed, even shards this run no longer asked for.
   */
  private forgetQuarantined(): void {
    const bad = new Set((this.audit?.status().quarantined ?? []).filter((q) => q.reason !== 'backend').map((q) => q.party));
    if (bad.size === 0 || !this.o.resultsDir) return;
    for (const f of readdirSync(this.o.resultsDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const r = JSON.parse(readFileSync(join(this.o.resultsDir, f), 'utf8')) as StoredResult;
        if (r.provenance && bad.has(r.provenance.by)) rmSync(join(this.o.resultsDir, f), { force: true });
      } catch { /* a damaged file is recomputed anyway */ }
    }
  }

  /** Releases the aggregator's own classifiers (audits). */
  async dispose(): Promise<void> {
    await this.classifiers?.dispose();
  }

  /** Checks every worker answers /healthz, and learns its backend. */
  static async connect(o: RemoteWorkersOptions): Promise<RemoteWorkers> {
    const w = new RemoteWorkers(o);
    for (const url of o.workers) {
      let res: Response;
      try {
        res = await w.request(url, '/healthz', { method: 'GET' });
      } catch (e) {
        throw new UserError(`worker ${url} does not answer: ${(e as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as { backend?: string };
      if (!res.ok) throw new UserError(`worker ${url} answered /healthz with ${res.status}; is it an irs serve worker?`);
      w.backends.push(isBackendName(body.backend) ? body.backend : 'wasm');
    }
    return w;
  }

  /** The backend the shards run on, if every worker uses the same one. */
  get backend(): BackendName | undefined {
    return this.backends.every((b) => b === this.backends[0]) ? this.backends[0] : undefined;
  }

  private async request(worker: string, path: string, init: RequestInit, attempts = 1): Promise<Response> {
    let last: unknown;
    for (let k = 0; k < attempts; k++) {
      if (k > 0) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 200) * 2 ** (k - 1)));
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.o.timeoutMs ?? 120_000);
      try {
        const res = await this.doFetch(new URL(path, worker), { ...init, signal: controller.signal });
        if (res.status >= 500 || res.status === 429) {
          last = new Error(`HTTP ${res.status}`);
          await res.body?.cancel();
          continue;
        }
        return res;
      } catch (e) {
        last = (e as Error).name === 'AbortError' ? new Error('timeout') : e;
      } finally {
        clearTimeout(timer);
      }
    }
    throw last;
  }

  /** Uploads bytes to every worker (POST /v1/models or /v1/inputs); returns their sha256. */
  private async upload(path: '/v1/models' | '/v1/inputs', bytes: Uint8Array, what: string): Promise<string> {
    let sha: string | undefined;
    for (const url of this.o.workers) {
      let res: Response;
      try {
        res = await this.request(url, path, {
          method: 'POST', headers: { authorization: `Bearer ${this.o.token}`, 'content-type': 'application/octet-stream' },
          body: bytes as Uint8Array<ArrayBuffer>,
        }, (this.o.retries ?? 5) + 1);
      } catch (e) {
        throw new UserError(`worker ${url}: uploading the ${what} failed: ${(e as Error).message}`);
      }
      const text = await res.text();
      if (res.status === 401 || res.status === 403) {
        throw new UserError(`worker ${url} refused the token (${res.status} ${errorOf(text)}): start it with the same --token, or pass its token with --token`);
      }
      if (!res.ok) throw new UserError(`worker ${url} refused the ${what}: ${res.status} ${errorOf(text)}`);
      const got = (JSON.parse(text) as { sha256: string }).sha256;
      if (sha !== undefined && got !== sha) throw new Error(`workers disagree on the ${what}'s sha256 (${sha}, ${got})`);
      sha = got;
    }
    // The aggregator keeps its own copy, under the digest it computes itself, for its recomputations.
    const own = await sha256Hex(bytes);
    if (own !== sha) throw new UserError(`the workers name the ${what} ${sha}, its bytes hash to ${own}`);
    await this.local.put(path === '/v1/models' ? keys.model(LOCAL_TENANT, own) : keys.inputs(LOCAL_TENANT, own), bytes);
    return sha!;
  }

  uploadModel(bytes: Uint8Array): Promise<string> {
    return this.upload('/v1/models', bytes, 'model');
  }

  /** The job's inputs in job order, as one float32 .npy [N, inputSize]. */
  uploadInputs(inputs: readonly Float32Array[]): Promise<string> {
    const size = inputs[0].length;
    const flat = new Float32Array(inputs.length * size);
    inputs.forEach((x, i) => flat.set(x, i * size));
    return this.upload('/v1/inputs', encodeNpy(flat, [inputs.length, size], '<f4'), 'inputs');
  }

  /** A Sampler for one model whose shards run on the workers. */
  sampler(model: string, inputs: string): Sampler {
    const results = this.audit?.results ?? this.results;
    const inner = this.audit?.dispatcher ?? this.routed;
    const dispatcher: ShardDispatcher = {
      dispatch: async (request) => {
        const r = await inner.dispatch(request);
        this.modelOf.set(await shardKey(request), request.model);
        return r;
      },
    };
    return shardedSampler({
      model, inputs, dispatcher, results,
      shardSamples: this.o.shardSamples ?? 2000, inputsPerShard: this.o.inputsPerShard ?? 8,
      concurrency: Math.max(1, this.o.workers.length * (this.o.perWorker ?? DEFAULTS.shardsPerWorker)),
    });
  }
}

/**
 * Several models' samplers seen as one MultiSampler (IRS candidates, tune): each model's
 * inputs are sampled through its own sampler, all at once. The noise is drawn per model on
 * the workers rather than once for all, which changes no result.
 */
function errorOf(text: string): string {
  try {
    return String((JSON.parse(text) as { error?: string }).error ?? text).slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

function refusal(message: string): string {
  const m = /^shard worker (\S+) refused the shard: (\d+) (.*)$/s.exec(message);
  if (m && (m[2] === '401' || m[2] === '403')) return `worker ${m[1]} refused the token (${m[2]} ${errorOf(m[3])}): start it with the same --token, or pass its token with --token`;
  return message;
}
