/**
 * The `irs` command under Deno, where navigator.gpu exists, so `--backend webgpu` works:
 *   deno run -A bin/irs-deno.ts certify --backend webgpu ...   (npm run irs:deno -- ...)
 * On a machine without a GPU, DENO_WEBGPU_BACKEND=gl gives Mesa's llvmpipe (a software adapter).
 */
import { main } from '../src/cli/main.ts';

declare const Deno: { args: string[]; exit(code: number): never };
Deno.exit(await main(Deno.args));
