/**
 *   POST /v1/shards   compute one shard (what the aggregator fans out); signed requests are
 *                     checked here, once the body is read (the /v1/* middleware let them in)
 */
import { Hono } from 'hono';
import { TOOL } from '../../version.ts';
import { Busy } from '../../service/errors.ts';
import { executeShard } from '../../service/shard.ts';
import { asBackground } from '../../util/cooperative.ts';
import { keyFingerprint, verifyShardRequest } from '../../service/signing.ts';
import { ShardRequest } from '../../protocol/schemas.ts';
import { body, limit, MB, type HttpDeps, type HttpEnv } from '../context.ts';
import { DEFAULTS } from '../../protocol/defaults.ts';

export function shardRoutes({ cfg, classifiers, inputsCache }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  let shardsInFlight = 0;

  app.post('/', limit(cfg.maxBodyBytes ?? 16 * MB), async (c) => {
    const text = await c.req.text();
    const signed = c.get('signature');
    if (signed) {
      const why = await verifyShardRequest(cfg.workerToken!, { tenant: c.get('tenant'), ...signed }, text);
      if (why) return c.json({ error: why }, 401);
    }
    const req = await body(c, ShardRequest, text);
    if (shardsInFlight >= (cfg.maxConcurrentShards ?? DEFAULTS.maxConcurrentShards)) throw new Busy('too many shards in flight; retry later');
    shardsInFlight++;
    try {
      // The shard is this request's own work: it must not wait for itself (util/cooperative.ts).
      const result = await asBackground(() => executeShard(cfg.store, classifiers, inputsCache, c.get('tenant'), req));
      // Who computed it, as this worker states it (audits check the backend; provenance records it).
      return c.json({ worker: { id: cfg.workerId ?? new URL(c.req.url).origin, backend: cfg.backend, version: TOOL.version, ...(cfg.workerToken ? { key: await keyFingerprint(cfg.workerToken) } : {}) }, ...result });
    } finally {
      shardsInFlight--;
    }
  });

  return app;
}
