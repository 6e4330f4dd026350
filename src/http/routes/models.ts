/**
 *   POST /v1/models        upload an ONNX model (content-addressed by sha256)
 *   GET  /v1/models        the tenant's stored models (sha256, bytes)
 *   GET  /v1/models/:sha   its size
 */
import { Hono } from 'hono';
import { TooLarge, UserError } from '../../errors.ts';
import { keys } from '../../service/keys.ts';
import { NotFound } from '../../service/errors.ts';
import { decodeModel, float16InitializerBytes, validateGraph } from '../../onnx/model.ts';
import { requireLoadable } from '../../inference/memory-budget.ts';
import { sha256Hex } from '../../util/digest.ts';
import { bytesOf, limit, MB, sanitize, type HttpDeps, type HttpEnv } from '../context.ts';
import { idsUnder, prefix } from '../listing.ts';

export function modelRoutes({ cfg }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  // A model over the cap would not fit an isolate's 128 MB: ResNet-50 in float32 (102 MB) needs
  // 265 MiB of wasm memory, its fp16 (51 MB) 248 MiB, its int8 (26 MB) 84 MiB (BENCHMARKS.md, "Memory").
  // Under a memory budget (Workers) a model under the cap that still cannot load (float16 weights)
  // is refused here too, with the estimate.
  app.post('/', limit(cfg.maxModelBytes ?? 64 * MB, ' (the model upload limit: maxModelBytes, on Workers IRS_MAX_MODEL_BYTES); onnxruntime-web holds about 3 times a model\'s bytes in wasm memory and the bytes themselves while it loads, and a Worker has 128 MB: compress it (irs compress --method int8), or run it on Node (irs serve)'), async (c) => {
    const tenant = c.get('tenant');
    const bytes = await bytesOf(c);
    if (bytes.length === 0) throw new UserError('empty body: send the ONNX model bytes');
    validateGraph(decodeModel(bytes, 'the uploaded body'), 'the uploaded model');
    if (cfg.memoryBudgetMiB !== undefined) requireLoadable(bytes.length, float16InitializerBytes(bytes), cfg.memoryBudgetMiB, TooLarge);
    const sha256 = await sha256Hex(bytes);
    const created = await cfg.store.putIfAbsent(keys.model(tenant, sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json({ sha256, bytes: bytes.length }, created ? 201 : 200);
  });

  app.get('/', async (c) => {
    const models = await idsUnder(cfg, prefix(c.get('tenant'), 'models'), '.onnx');
    return c.json({ models: models.map((m) => ({ sha256: m.id, bytes: m.size })) });
  });

  app.get('/:sha', async (c) => {
    const info = await cfg.store.head(keys.model(c.get('tenant'), sanitize(c.req.param('sha'))));
    if (!info) throw new NotFound(`model ${c.req.param('sha')} not found`);
    return c.json({ sha256: c.req.param('sha'), bytes: info.size });
  });

  return app;
}
