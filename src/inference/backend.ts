/**
 * The inference backends: their names, and the port an implementation fills. This is the
 * interface half, in the shape of onnxruntime's js/common (`Backend` and `registerBackend`
 * there; onnxruntime-web and onnxruntime-node register themselves): it imports no
 * implementation. inference/index.ts registers the default bindings; a runtime may register its
 * own (the Workers entry registers an onnxruntime-web whose wasm was precompiled at upload).
 *
 * BACKEND_NAMES is the one list of names: the BackendName type, the CLI's --backend choices,
 * the names a shard worker may state on /healthz and IRS_BACKEND are all read from it.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { UserError } from '../errors.ts';

/** Every backend a classifier can report: the three onnxruntime bindings, and in-process JavaScript models (inference/linear.ts). */
export const BACKEND_NAMES = ['wasm', 'node', 'webgpu', 'js'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The backends that load ONNX models: onnxruntime-web (wasm, webgpu) and onnxruntime-node. */
export const ONNX_BACKENDS = ['wasm', 'node', 'webgpu'] as const satisfies readonly BackendName[];
export type OnnxBackendName = (typeof ONNX_BACKENDS)[number];

/** What --backend (and IRS_BACKEND) accepts: a backend, or auto (node where it is installed and runs the model, else wasm). */
export type BackendChoice = OnnxBackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...ONNX_BACKENDS];

export function isBackendName(v: unknown): v is BackendName {
  return (BACKEND_NAMES as readonly unknown[]).includes(v);
}

/** `a, b or c`. */
export function listChoices(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** A backend choice from its name, or undefined when `allowed` has no such name. */
export function parseBackendChoice<C extends BackendChoice>(v: string, allowed: readonly C[]): C | undefined {
  return allowed.find((c) => c === v);
}

/** webgpu: the adapter that computes (inference/webgpu.ts), recorded in certificates. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software (fallback) adapter: llvmpipe, lavapipe, SwiftShader, WARP. */
  fallback: boolean;
}

/** The parts of an onnxruntime module used here. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;
}

/**
 * The one place an onnxruntime module enters typed code: the packages' own typings declare
 * overloads that do not line up with OrtModule, and a module imported by a computed specifier
 * has none, so the runtime's module is taken as it is (every binding implements the
 * onnxruntime-common API).
 */
export function asOrtModule(module: unknown): OrtModule {
  return module as OrtModule;
}

export interface LoadOptions {
  /** Intra-op threads (wasm: worker threads; node: intra-op pool). Default 1: shards run in parallel instead. */
  threads?: number;
}

/** An onnxruntime binding ready to create sessions, with the session options irs-edge uses with it. */
export interface OrtBinding {
  ort: OrtModule;
  sessionOptions: InferenceSession.SessionOptions;
  adapter?: AdapterInfo;
}

/** A backend implementation: how it gets its onnxruntime binding. */
export interface Backend {
  binding(options: LoadOptions): Promise<OrtBinding>;
}

const registry = new Map<BackendName, Backend>();

/** Makes `name` load through `backend` (a later registration replaces an earlier one). */
export function registerBackend(name: OnnxBackendName, backend: Backend): void {
  registry.set(name, backend);
}

/** The implementation registered for a backend; a name that loads no ONNX model is the user's error. */
export function registeredBackend(name: BackendName): Backend {
  const backend = registry.get(name);
  if (!backend) throw new UserError(`unknown backend '${name as string}'; choose one of ${ONNX_BACKENDS.join(', ')}`);
  return backend;
}
