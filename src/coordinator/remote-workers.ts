/**
 * Fan-out from the CLI (`irs certify … --workers URL,URL --token T`): the models and inputs a
 * command needs are uploaded to every `irs serve` worker (content-addressed, so an upload that
 * is already there costs one request), and each noise stream is cut into shards by the same
 * shardedSampler and httpDispatcher the jobs API uses: bounded requests in flight per worker,
 * a timeout per request, retries with backoff. Finished shard results are kept in a local
 * directory, keyed by the shard request's digest, so a rerun computes only the missing shards.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../data/npy-codec.ts';
import { UserError } from '../errors.ts';
import type { BackendName } from '../inference/classifier.ts';
import { ShardResponse } from '../protocol/schemas.ts';
import type { MergedSamples } from '../smoothing/merge.ts';
import type { MultiSampler, Sampler } from '../smoothing/stream.ts';
import { httpDispatcher, PermanentShardError } from './http-dispatcher.ts';
import { shardedSampler, type ShardDispatcher, type ShardStore } from './sharded-sampler.ts';

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

const BACKENDS: readonly string[] = ['wasm', 'webgpu', 'node', 'js'];

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
        const parsed = ShardResponse.safeParse(JSON.parse(text));
        return parsed.success ? parsed.data : undefined; // a damaged file is recomputed
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
  private readonly dispatcher: ShardDispatcher;
  private readonly results?: ShardStore;
  private readonly doFetch: typeof fetch;

  private constructor(private readonly o: RemoteWorkersOptions) {
    if (o.workers.length === 0) throw new UserError('--workers: give at least one worker URL');
    this.doFetch = o.fetch ?? fetch;
    const http = httpDispatcher({
      workers: o.workers, secret: '', tenant: '', token: o.token, perWorker: o.perWorker, timeoutMs: o.timeoutMs,
      retries: o.retries, backoffMs: o.backoffMs, fetch: o.fetch, onRetry: o.onRetry,
    });
    this.dispatcher = {
      dispatch: async (request) => {
        try {
          const r = await http.dispatch(request);
          this.computed++;
          return r;
        } catch (e) {
          throw new UserError(e instanceof PermanentShardError ? refusal(e.message) : `fan-out failed: ${(e as Error).message}`);
        }
      },
    };
    if (o.resultsDir) {
      const dir = directoryShardStore(o.resultsDir);
      this.results = {
        get: async (k) => {
          const r = await dir.get(k);
          if (r) this.reused++;
          return r;
        },
        put: (k, r) => dir.put(k, r),
      };
    }
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
      w.backends.push((BACKENDS.includes(body.backend ?? '') ? body.backend : 'wasm') as BackendName);
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
    return shardedSampler({
      model, inputs, dispatcher: this.dispatcher, results: this.results,
      shardSamples: this.o.shardSamples ?? 2000, inputsPerShard: this.o.inputsPerShard ?? 8,
      concurrency: Math.max(1, this.o.workers.length * (this.o.perWorker ?? 2)),
    });
  }
}

/**
 * Several models' samplers seen as one MultiSampler (IRS candidates, tune): each model's
 * inputs are sampled through its own sampler, all at once. The noise is drawn per model on
 * the workers rather than once for all, which changes no result.
 */
export function perModelSampler(samplers: readonly Sampler[]): MultiSampler {
  return {
    models: samplers.length,
    async sampleMany(active, spec, start, count, options = {}) {
      return Promise.all(samplers.map(async (s, m): Promise<MergedSamples> => {
        const inputs = active[m];
        if (inputs.length === 0) return { start, count, counts: [], seconds: [], disagreements: [] };
        const reference = options.reference ? inputs.map((i) => options.reference![i]!) : undefined;
        return s.sample(inputs, spec, start, count, { reference, onProgress: options.onProgress });
      }));
    },
  };
}

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
