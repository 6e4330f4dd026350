/**
 * Node entry, configured from the environment like the Deno entry (src/http/config.ts):
 *   npx tsx functions/node.ts
 * IRS_BACKEND is auto (onnxruntime-node where it is installed, else wasm), wasm, node or webgpu.
 * `irs serve` serves the same functions with flags (src/http/node.ts).
 */
import { serve } from '../src/http/node.ts';
import { configFromEnv } from '../src/http/config.ts';
import { BACKEND_CHOICES } from '../src/inference/backend.ts';

const env = configFromEnv(process.env, BACKEND_CHOICES);
const s = await serve({ ...env, backend: env.backend === 'auto' ? undefined : env.backend });
console.log(`irs-edge serving on ${s.url} (node, store ${env.store}, ${env.tokens.size} token${env.tokens.size === 1 ? '' : 's'})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void s.close());
