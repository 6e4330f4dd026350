/**
 * The WebGPU adapter behind the `webgpu` backend. onnxruntime-web's webgpu build asks
 * `navigator.gpu` for an adapter itself; asking first lets the backend fail with a clear message
 * where there is none (Node, workerd), hand onnxruntime that same adapter, and record which one
 * computed a certificate: a software (fallback) adapter such as Mesa's llvmpipe or SwiftShader
 * gives different float rounding, and very different speed, from a GPU.
 */
import { UserError } from '../errors.ts';
import type { AdapterInfo } from './backend.ts';

export type { AdapterInfo } from './backend.ts';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike { requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null> }

/** This runtime's `navigator.gpu`, if it has one. */
export function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

export function describeAdapter(adapter: GpuAdapterLike): AdapterInfo {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    // Older implementations put the flag on the adapter; an adapter that cannot say is treated as software.
    fallback: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? true,
  };
}

/** The adapter onnxruntime-web will use, or undefined where this runtime has none. */
export async function requestAdapter(): Promise<{ adapter: GpuAdapterLike; info: AdapterInfo } | undefined> {
  const gpu = navigatorGpu();
  if (!gpu) return undefined;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  return adapter ? { adapter, info: describeAdapter(adapter) } : undefined;
}

/** Like requestAdapter, but a missing adapter is the user's error, with what to do about it. */
export async function requireAdapter(): Promise<{ adapter: GpuAdapterLike; info: AdapterInfo }> {
  const found = await requestAdapter();
  if (found) return found;
  const why = navigatorGpu()
    ? 'navigator.gpu offered no adapter (under Deno on a machine without a GPU, set DENO_WEBGPU_BACKEND=gl to use Mesa\'s llvmpipe)'
    : 'this runtime has no navigator.gpu (Node and workerd have none; run under Deno: npm run irs:deno -- ...)';
  throw new UserError(`backend 'webgpu' needs a WebGPU adapter: ${why}`);
}
