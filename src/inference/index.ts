/**
 * Loads a Classifier for a backend, and registers the default implementations of the backends
 * (inference/backend.ts is the interface and the list of names). Runtime bindings are imported
 * lazily, so code that only needs one backend never loads the other (onnxruntime-node is an
 * optional dependency).
 */
import { OrtClassifier } from './ort.ts';
import type { Classifier } from './classifier.ts';
import { UserError } from '../errors.ts';
import { requireAdapter } from './webgpu.ts';
import { asOrtModule, registerBackend, registeredBackend, type BackendChoice, type BackendName, type LoadOptions, type OrtBinding } from './backend.ts';

export type { AdapterInfo } from './webgpu.ts';
export * from './classifier.ts';
export {
  BACKEND_CHOICES, BACKEND_NAMES, ONNX_BACKENDS, isBackendName, parseBackendChoice, registerBackend,
  type Backend, type BackendChoice, type LoadOptions, type OnnxBackendName, type OrtBinding, type OrtModule,
} from './backend.ts';

/**
 * Supplies the onnxruntime module for a backend, instead of importing the package: the
 * Workers entry registers an onnxruntime-web whose wasm was precompiled at upload.
 */
export function registerOrtModule(backend: 'wasm', module: unknown): void {
  const ort = asOrtModule(module);
  registerBackend(backend, { binding: async () => ({ ort, sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } }) });
}

// Non-literal specifiers keep bundlers (wrangler's esbuild) from pulling a binding into a
// bundle that never uses it: onnxruntime-node is native code, and Workers register their own.
const ORT_WEB = 'onnxruntime-web';
const ORT_NODE = 'onnxruntime-node';
const ORT_WEBGPU = 'onnxruntime-web/webgpu';

registerBackend('wasm', {
  async binding(options) {
    const ort = await import(/* @vite-ignore */ ORT_WEB);
    ort.env.wasm.numThreads = options.threads ?? 1;
    ort.env.logLevel = 'error';
    return { ort: asOrtModule(ort), sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' } };
  },
});

registerBackend('webgpu', {
  async binding() {
    const { adapter, info } = await requireAdapter();
    const ort = await import(/* @vite-ignore */ ORT_WEBGPU);
    ort.env.logLevel = 'error';
    // onnxruntime-web would request its own adapter; give it the one recorded in certificates.
    ort.env.webgpu.adapter = adapter;
    return { ort: asOrtModule(ort), sessionOptions: { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' }, adapter: info };
  },
});

registerBackend('node', {
  async binding(options) {
    let ort: unknown;
    try {
      ort = await import(/* @vite-ignore */ ORT_NODE);
    } catch (e) {
      throw new UserError(`backend 'node' needs the optional package onnxruntime-node: ${(e as Error).message}`);
    }
    return {
      ort: asOrtModule(ort),
      sessionOptions: {
        executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1, logSeverityLevel: 3,
      },
    };
  },
});

/** The onnxruntime binding of a backend and the session options irs-edge uses with it. */
export async function ortBackend(backend: BackendName, options: LoadOptions = {}): Promise<OrtBinding> {
  return registeredBackend(backend).binding(options);
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
  return new Proxy(c, {
    get: (t, k) => {
      if (k === 'backend') return backend;
      const v: unknown = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/** The fastest backend installed: onnxruntime-node when present, else onnxruntime-web. */
export async function defaultFastBackend(): Promise<BackendName> {
  return (await ortNodeInstalled()) ? 'node' : 'wasm';
}
