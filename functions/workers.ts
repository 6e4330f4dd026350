/**
 * Cloudflare Workers (workerd) entry, for `wrangler dev` / `wrangler deploy`: the store is the
 * R2 binding IRS_BUCKET, tokens come from IRS_TOKENS (a secret in production), shards run on
 * onnxruntime-web's wasm build.
 *
 * Workers forbid compiling WebAssembly from bytes at run time, so the .wasm is imported as a
 * module that wrangler precompiles at upload, and Emscripten's WebAssembly.instantiate(bytes)
 * is redirected to it (see the platform notes). Pinned onnxruntime-web version: this relies on
 * its glue honouring env.wasm.wasmBinary; the workerd test is the canary.
 */
import type { ExecutionContext } from 'hono';
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from '../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
import { createService, type Service } from './app.ts';
import { R2Store, type R2BucketLike } from '../src/store/r2.ts';
import { parseTokens } from '../src/service/runtime.ts';
import { registerOrtModule } from '../src/inference/index.ts';
import type { OrtModule } from '../src/inference/ort.ts';

const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (m: WebAssembly.Module, i?: WebAssembly.Imports) => Promise<WebAssembly.Instance>;
(WebAssembly as unknown as { instantiate: unknown }).instantiate = async (source: unknown, imports?: WebAssembly.Imports) =>
  source instanceof WebAssembly.Module ? instantiate(source, imports) : { instance: await instantiate(ortWasm, imports), module: ortWasm };
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmBinary = new Uint8Array([0, 97, 115, 109]); // placeholder: never compiled, see above
registerOrtModule('wasm', ort as unknown as OrtModule);

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
