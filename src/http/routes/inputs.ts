/**
 *   POST /v1/inputs   upload inputs as .npy (float32 [N, ...shape]), content-addressed by sha256
 *   GET  /v1/inputs   the tenant's uploaded inputs files (sha256, bytes)
 */
import { Hono } from 'hono';
import { UserError } from '../../errors.ts';
import { keys } from '../../service/keys.ts';
import { parseNpy } from '../../protocol/npy-codec.ts';
import { sha256Hex } from '../../util/digest.ts';
import { bytesOf, limit, MB, type HttpDeps, type HttpEnv } from '../context.ts';
import { idsUnder, prefix } from '../listing.ts';

export function inputRoutes({ cfg }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.post('/', limit(cfg.maxModelBytes ?? 64 * MB), async (c) => {
    const tenant = c.get('tenant');
    const bytes = await bytesOf(c);
    const file = parseNpy(bytes, 'the uploaded body');
    if (file.shape.length < 2 || file.shape[0] < 1) throw new UserError(`inputs must have shape [N, ...input shape] with N >= 1, got (${file.shape.join(', ')})`);
    for (let i = 0; i < file.values.length; i++) if (!Number.isFinite(file.values[i])) throw new UserError(`input value ${i} is not finite`);
    const sha256 = await sha256Hex(bytes);
    const created = await cfg.store.putIfAbsent(keys.inputs(tenant, sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json({ sha256, count: file.shape[0], shape: file.shape.slice(1) }, created ? 201 : 200);
  });

  app.get('/', async (c) => {
    const inputs = await idsUnder(cfg, prefix(c.get('tenant'), 'inputs'), '.npy');
    return c.json({ inputs: inputs.map((m) => ({ sha256: m.id, bytes: m.size })) });
  });

  return app;
}
