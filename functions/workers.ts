/**
 * Cloudflare Workers (workerd) entry, for `wrangler dev` / `wrangler deploy`: the store is the
 * R2 binding IRS_BUCKET, tokens come from the IRS_TOKENS secret, shards run on onnxruntime-web.
 */
import type { ExecutionContext } from 'hono';
import { createService, type Service } from './app.ts';
import { R2Store, type R2BucketLike } from '../src/store/r2.ts';
import { parseTokens } from '../src/service/runtime.ts';

interface Env {
  IRS_BUCKET: R2BucketLike;
  IRS_TOKENS?: string;
  IRS_WORKER_TOKEN?: string;
  IRS_WORKERS?: string;
}


let service: Service | undefined;
let context: ExecutionContext | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    context = ctx;
    service ??= createService({
      store: new R2Store(env.IRS_BUCKET),
      tokens: parseTokens(env.IRS_TOKENS),
      workerToken: env.IRS_WORKER_TOKEN,
      workers: (env.IRS_WORKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      backend: 'wasm',
      background: (work) => context?.waitUntil(work),
    });
    return service.app.fetch(request, env, ctx);
  },
};
