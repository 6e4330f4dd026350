/**
 *   POST /v1/models/:sha/compress   a compressed variant (int8, fp16, fp16-native, prune), stored beside it
 */
import { Hono } from 'hono';
import { keys } from '../../service/keys.ts';
import { readModel } from '../../service/models.ts';
import { CompressRequest } from '../../protocol/schemas.ts';
import { compressModel, trainingSigma } from '../../onnx/compress/index.ts';
import { body, limit, MB, sanitize, type HttpDeps, type HttpEnv } from '../context.ts';
import { DEFAULTS } from '../../protocol/defaults.ts';
import { storeSources } from '../../coordinator/job-machine.ts';

export function compressRoutes({ cfg }: HttpDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.post('/:sha/compress', limit(cfg.maxBodyBytes ?? MB), async (c) => {
    const tenant = c.get('tenant');
    const req = await body(c, CompressRequest);
    const source = await readModel(cfg.store, tenant, sanitize(c.req.param('sha')));
    let calibration;
    if (req.method === 'int8') {
      const spec = req.calibration ?? DEFAULTS.calibration;
      calibration = { ...(await storeSources(cfg, tenant).calibration(spec)), sigma: req.calibration?.sigma ?? trainingSigma(source) ?? 0 };
    }
    const { bytes, report } = await compressModel(source, { method: req.method, amount: req.amount, calibration, backend: cfg.backend });
    await cfg.store.putIfAbsent(keys.model(tenant, report.sha256), bytes, { contentType: 'application/octet-stream' });
    return c.json(report, 201);
  });

  return app;
}
