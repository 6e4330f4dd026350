/**
 * Loads a Classifier for a backend. Runtime bindings are imported lazily, so code that only
 * needs one backend never loads the other (onnxruntime-node is an optional dependency).
 */
import type { InferenceSession } from 'onnxruntime-common';
import { OrtClassifier, type OrtModule } from './ort.ts';
import type { BackendName, Classifier } from './classifier.ts';
import { UserError } from '../errors.ts';
import { requireAdapter, type AdapterInfo } from './webgpu.ts';

export type { AdapterInfo } from './webgpu.ts';

export * from './classifier.ts';

export const BACKENDS: readonly BackendName[] = ['wasm', 'webgpu', 'node'];

export interface LoadOptions {
  /** Intra-op threads (wasm: worker threads; node: intra-op pool). Default 1: shards run in parallel instead. */
  threads?: number;
}

const registered = new Map<BackendName, OrtModule>();

/**
 * Supplies the onnxruntime module for a backend, instead of importing the package: the
 * Workers entry registers an onnxruntime-web whose wasm was precompiled at upload.
 */
export function registerOrtModule(backend: BackendName, ort: OrtModule): void {
  registered.set(backend, ort);
}

// Non-literal specifiers keep bundlers (wrangler's esbuild) from pulling a binding into a
// bundle that never uses it: onnxruntime-node is native code, and Workers register their own.
const ORT_WEB = 'onnxruntime-web';
const ORT_NODE = 'onnxruntime-node';
const ORT_WEBGPU = 'onnxruntime-web/webgpu';

/** The onnxruntime binding of a backend and the session options irs-edge uses with it. */
export async function ortBackend(backend: BackendName, options: LoadOptions = {}): Promise<{ ort: OrtModule; sessionOptions: InferenceSession.SessionOptions; adapter?: AdapterInfo }> {
  const threads = options.threads ?? 1;
  if (backend === 'wasm') {
    const preset = registered.get('wasm');
    if (preset) return { ort: preset, sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } };
    const ort = await import(/* @vite-ignore */ ORT_WEB);
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    return { ort: ort as unknown as OrtModule, sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } };
  }
  if (backend === 'webgpu') {
    const { adapter, info } = await requireAdapter();
    const ort = await import(/* @vite-ignore */ ORT_WEBGPU);
    ort.env.logLevel = 'error';
    // onnxruntime-web would request its own adapter; give it the one recorded in certificates.
    ort.env.webgpu.adapter = adapter;
    return { ort: ort as unknown as OrtModule, sessionOptions: { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' }, adapter: info };
  }
  if (backend === 'node') {
    let ort: unknown;
    try {
      ort = await import(/* @vite-ignore */ ORT_NODE);
    } catch (e) {
      throw new UserError(`backend 'node' needs the optional package onnxruntime-node: ${(e as Error).message}`);
    }
    return {
      ort: ort as OrtModule,
      sessionOptions: {
        executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3,
      },
    };
  }
  throw new UserError(`unknown backend '${backend as string}'; choose one of ${BACKENDS.join(', ')}`);
}

export async function loadClassifier(modelBytes: Uint8Array, backend: BackendName, options: LoadOptions = {}): Promise<Classifier> {
  const { ort, sessionOptions, adapter } = await ortBackend(backend, options);
  return OrtClassifier.create(backend, ort, modelBytes, sessionOptions, adapter);
}

/** Whether onnxruntime-node (an optional dependency) can be imported here. */
export async function ortNodeInstalled(): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ ORT_NODE);
    return true;
  } catch {
    return false;
  }
}

/** What --backend accepts: a backend, or auto (node where it is installed and runs the model, else wasm). */
export type BackendChoice = BackendName | 'auto';

/**
 * Loads a classifier on the chosen backend; `auto` takes onnxruntime-node where it is
 * installed and loads and runs this model, else onnxruntime-web's wasm. `why` says which and why.
 */
export async function loadClassifierAuto(
  modelBytes: Uint8Array, choice: BackendChoice, options: LoadOptions = {},
): Promise<{ classifier: Classifier; why: string }> {
  if (choice !== 'auto') return { classifier: await loadClassifier(modelBytes, choice, options), why: 'chosen with --backend' };
  if (!(await ortNodeInstalled())) {
    return { classifier: await loadClassifier(modelBytes, 'wasm', options), why: 'auto: onnxruntime-node is not installed' };
  }
  let reason: string;
  try {
    const c = await loadClassifier(modelBytes, 'node', options);
    try {
      await c.classify(new Float32Array(c.inputSize), 1, new Int32Array(1));
      return { classifier: c, why: 'auto: onnxruntime-node is installed and runs this model' };
    } catch (e) {
      await c.dispose();
      throw e;
    }
  } catch (e) {
    reason = (e as Error).message.split('\n')[0];
  }
  return { classifier: await loadClassifier(modelBytes, 'wasm', options), why: `auto: onnxruntime-node cannot run this model (${reason})` };
}

/** The backend `auto` picks for a model (loads it once to find out). */
export async function resolveBackend(modelBytes: Uint8Array, choice: BackendChoice): Promise<{ backend: BackendName; why: string }> {
  if (choice !== 'auto') return { backend: choice, why: 'chosen with --backend' };
  const { classifier, why } = await loadClassifierAuto(modelBytes, 'auto');
  await classifier.dispose();
  return { backend: classifier.backend, why };
}

/**
 * The same classifier, reporting another backend: with --workers the shards run on the
 * workers' backend, and certificates record the backend that drew the samples.
 */
export function reportingBackend(c: Classifier, backend: BackendName): Classifier {
  if (c.backend === backend) return c;
  return new Proxy(c, { get: (t, k) => (k === 'backend' ? backend : typeof (t as any)[k] === 'function' ? (t as any)[k].bind(t) : (t as any)[k]) });
}

/** The fastest backend installed: onnxruntime-node when present, else onnxruntime-web. */
export async function defaultFastBackend(): Promise<BackendName> {
  return (await ortNodeInstalled()) ? 'node' : 'wasm';
}
