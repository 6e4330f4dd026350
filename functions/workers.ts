/**
 * Cloudflare Workers (workerd) entry, for `wrangler dev` / `wrangler deploy`:
 *   fetch   the HTTP functions; jobs are handed to their Durable Object (JobObject), never run
 *           in the request or in waitUntil;
 *   queue   the shard consumer: one shard per message, its result written to R2 under the job,
 *           then reported to the job's object; and the dead-letter queue's consumer, which fails
 *           the job with the shard's last error.
 * The store is the R2 binding IRS_BUCKET, tokens come from IRS_TOKENS (a secret in production),
 * shards run on onnxruntime-web's wasm build.
 *
 * Workers forbid compiling WebAssembly from bytes at run time, so the .wasm is imported as a
 * module that wrangler precompiles at upload, and Emscripten's WebAssembly.instantiate(bytes)
 * is redirected to it (see the platform notes). Pinned onnxruntime-web version: this relies on
 * its glue honouring env.wasm.wasmBinary; the workerd test is the canary.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { createService, type Service } from '../src/http/app.ts';
import { registerOrtModule } from '../src/inference/index.ts';
import { keys } from '../src/service/keys.ts';
import { ClassifierCache } from '../src/service/models.ts';
import { executeShard, InputsCache } from '../src/service/shard.ts';
import { executeCompression } from '../src/service/compress-task.ts';
import { storeSources } from '../src/coordinator/job-machine.ts';
import { withRetries } from '../src/store/retry.ts';
import { checkResponse } from '../src/coordinator/sharded-sampler.ts';
import { UserError } from '../src/errors.ts';
import { foreground } from '../src/util/cooperative.ts';
import type { JobRequest, WorkerIdentity } from '../src/protocol/schemas.ts';
import { jobObject, numberVar, serviceConfig, type Env, type MessageBatchLike, type ShardMessage } from './workers/env.ts';
import { actingParty, injectFault, lieAbout, parseFaults } from './workers/faults.ts';
import { TOOL } from '../src/version.ts';

export { JobObject } from './workers/job-object.ts';

/**
 * onnxruntime's linear memory (imported by the threaded build, exported otherwise), kept so that
 * /healthz can say how much of the isolate's 128 MB inference holds: the V8 heap figures a
 * debugger sees leave it out.
 */
const ortMemories: WebAssembly.Memory[] = [];
function linearMemories(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): WebAssembly.Memory[] {
  const candidates = [...Object.values(instance.exports), ...Object.values(imports ?? {}).flatMap((m) => Object.values(m))];
  return [...new Set(candidates.filter((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory))];
}
const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (m: WebAssembly.Module, i?: WebAssembly.Imports) => Promise<WebAssembly.Instance>;
Reflect.set(WebAssembly, 'instantiate', async (source: unknown, imports?: WebAssembly.Imports) => {
  if (source instanceof WebAssembly.Module) return instantiate(source, imports);
  const instance = await instantiate(ortWasm, imports);
  ortMemories.push(...linearMemories(instance, imports));
  return { instance, module: ortWasm };
});

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmBinary = new Uint8Array([0, 97, 115, 109]); // placeholder: never compiled, see above
registerOrtModule('wasm', ort);

// Isolate-wide: loaded sessions and parsed inputs serve every shard this isolate computes
// (the sessions within the isolate's memory budget, known once the first message brings env).
let classifiers: ClassifierCache | undefined;
const inputsCache = new InputsCache();
let service: Service | undefined;

/** This isolate's name as a shard party (drawn lazily: Workers allow no randomness at start-up). */
let isolate: WorkerIdentity | undefined;
const isolateIdentity = () => (isolate ??= { id: `workers-isolate:${crypto.randomUUID()}`, backend: 'wasm', version: TOOL.version });
/** Deliveries an avoided consumer hands back before it computes the shard itself. */
const AVOIDED_DELIVERIES = 3;

/** Workers measure CPU per shard; this is how many samples one shard may take (per input). */
function shardPlan(env: Env, request: JobRequest, msPerSample: number) {
  if (request.kind !== 'tune' && request.audit?.auditor === 'aggregator') {
    throw new UserError('audit.auditor: the job object runs no inference here; on Workers another queue consumer audits (auditor: worker)');
  }
  const budgetMs = numberVar(env.IRS_SHARD_CPU_MS, 10_000, 'IRS_SHARD_CPU_MS');
  const inputsPerShard = 8;
  const samples = Math.floor(budgetMs / Math.max(msPerSample, 1e-3) / inputsPerShard);
  // Whole batches, at least one; at most 20,000 so a shard result stays far below R2's and the object's limits.
  const batch = request.batchSize;
  return { inputsPerShard, shardSamples: Math.max(batch, Math.min(20_000, Math.floor(samples / batch) * batch)) };
}

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    service ??= createService({
      ...serviceConfig(env),
      memory: () => ({ wasmBytes: ortMemories.reduce((sum, m) => sum + m.buffer.byteLength, 0) }),
      jobs: {
        kinds: ['certify', 'recertify', 'baseline', 'tune'],
        plan: (req, cost) => shardPlan(env, req, cost.msPerSample),
        start: (job) => jobObject(env, job.tenant, job.id).start(job),
        touch: (job) => jobObject(env, job.tenant, job.id).ensure(),
      },
    });
    const app = service.app;
    // Requests go before shard computation in this isolate (util/cooperative.ts).
    return foreground(() => app.fetch(request, env));
  },

  async queue(batch: MessageBatchLike<ShardMessage>, env: Env): Promise<void> {
    const dead = batch.queue.endsWith('-dlq');
    const faults = parseFaults(env.IRS_FAULTS);
    const cfg = serviceConfig(env);
    const sessions = (classifiers ??= new ClassifierCache('wasm', undefined, cfg.memoryBudgetMiB));
    const store = withRetries(cfg.store);
    for (const message of batch.messages) {
      const { tenant, job, key, request, compress, avoid, quarantined } = message.body;
      const owner = jobObject(env, tenant, job);
      if (dead) {
        await owner.shardFailed(key, 'the queue gave up on it (dead-lettered)', 'dead-lettered');
        message.ack();
        continue;
      }
      // Audits: a consumer the message avoids leaves it to another a few times, then computes it
      // (its identity recorded); a quarantined one never does (coordinator/queued-parties.ts).
      const party = actingParty(faults, message.body, isolateIdentity());
      if (quarantined?.includes(party.id) || (avoid?.includes(party.id) && message.attempts < AVOIDED_DELIVERIES)) {
        message.retry({ delaySeconds: 1 });
        continue;
      }
      try {
        injectFault(faults, message);
        const resultKey = keys.shardResult(tenant, job, key);
        // A duplicate delivery finds the result stored: nothing is computed or written twice.
        if (!(await store.head(resultKey))) {
          let result;
          if (compress) {
            const calibration = storeSources({ ...cfg, store }, tenant).calibration;
            result = await executeCompression(store, sessions, inputsCache, tenant, compress, { backend: 'wasm', calibration });
          } else {
            result = await executeShard(store, sessions, inputsCache, tenant, request);
            checkResponse(request, result);
            // Who computed it, as this consumer states it: audits compare parties, provenance names them.
            result = { worker: party, ...(party.id === faults.lie?.as ? lieAbout(result) : result) };
          }
          await store.put(resultKey, new TextEncoder().encode(JSON.stringify(result)), { contentType: 'application/json' });
        }
        await owner.shardDone(key);
        message.ack();
      } catch (e) {
        const why = (e as Error).message ?? String(e);
        // A request that can never succeed (bad reference, missing model) fails the job at once.
        if (e instanceof UserError) {
          await owner.shardFailed(key, why, 'permanent');
          message.ack();
        } else {
          await owner.shardFailed(key, why, 'retrying').catch(() => {});
          message.retry({ delaySeconds: 1 });
        }
      }
    }
  },
};
