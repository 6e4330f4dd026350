/**
 * Deno entry:
 *   deno run --allow-net --allow-read --allow-write --allow-env --allow-ffi functions/deno.ts
 * Configuration from the environment: IRS_PORT (8787), IRS_HOST (127.0.0.1), IRS_STORE
 * (file:./irs-data), IRS_TOKENS (tenant:token,…), IRS_WORKER_TOKEN, IRS_WORKERS, IRS_BACKEND.
 * Shards run on onnxruntime-web: WebGPU when Deno offers a hardware adapter, else wasm (a
 * software adapter such as Mesa's llvmpipe is far slower than wasm).
 */
import { createService } from './app.ts';
import { openStore } from '../src/store/url.ts';
import { parseTokens } from '../src/service/runtime.ts';
import type { BackendName } from '../src/inference/classifier.ts';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(options: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void }, handler: (r: Request) => Response | Promise<Response>): unknown;
};

async function chooseBackend(requested: string | undefined): Promise<BackendName> {
  if (requested === 'wasm' || requested === 'webgpu') return requested;
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  const software = adapter?.info?.isFallbackAdapter ?? adapter?.isFallbackAdapter ?? true;
  return adapter && !software ? 'webgpu' : 'wasm';
}

const env = Deno.env.toObject();
const service = createService({
  store: await openStore(env.IRS_STORE ?? 'file:./irs-data', env),
  tokens: parseTokens(env.IRS_TOKENS),
  workerToken: env.IRS_WORKER_TOKEN,
  workers: (env.IRS_WORKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  backend: await chooseBackend(env.IRS_BACKEND),
});
await service.resumePending();
Deno.serve({
  hostname: env.IRS_HOST ?? '127.0.0.1',
  port: Number(env.IRS_PORT ?? 8787),
  onListen: ({ hostname, port }) => console.log(`irs-edge serving on http://${hostname}:${port} (deno)`),
}, service.app.fetch);
