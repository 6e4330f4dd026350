/** The backend registry's one list of names, and the IRS_* variables every runtime entry reads. */
import { describe, expect, it } from 'vitest';
import { BACKEND_CHOICES, BACKEND_NAMES, isBackendName, listChoices, ONNX_BACKENDS, parseBackendChoice, registeredBackend } from '../src/inference/backend.ts';
import { configFromEnv } from '../src/http/config.ts';
import { backendName } from '../src/cli/options.ts';
import { guaranteeFor } from '../src/smoothing/guarantee.ts';

describe('backend registry', () => {
  it('is the one list of names: the CLI choices and the loadable backends come from it', () => {
    expect(BACKEND_CHOICES).toEqual(['auto', ...ONNX_BACKENDS]);
    for (const b of ONNX_BACKENDS) expect(BACKEND_NAMES).toContain(b);
    expect(isBackendName('js')).toBe(true);
    expect(isBackendName('gpu')).toBe(false);
    expect(isBackendName(undefined)).toBe(false);
    expect(() => backendName('gpu')).toThrow(`choose ${listChoices(BACKEND_CHOICES)}, got 'gpu'.`);
    expect(backendName('webgpu')).toBe('webgpu');
    expect(parseBackendChoice('node', ['wasm'] as const)).toBeUndefined();
  });

  it('has no implementation for a name that loads no ONNX model until one is registered', async () => {
    await import('../src/inference/index.ts'); // registers the default bindings
    for (const b of ONNX_BACKENDS) expect(typeof registeredBackend(b).binding).toBe('function');
    expect(() => registeredBackend('js')).toThrow(/unknown backend 'js'; choose one of wasm, node, webgpu/);
  });
});

describe('configFromEnv (functions/ entries)', () => {
  it('reads the IRS_* variables with their defaults', () => {
    const c = configFromEnv({ IRS_TOKENS: 'acme:t1,beta:t2', IRS_WORKERS: ' http://a:1 , http://b:2,' }, BACKEND_CHOICES);
    expect([...c.tokens]).toEqual([['t1', 'acme'], ['t2', 'beta']]);
    expect(c.workers).toEqual(['http://a:1', 'http://b:2']);
    expect(c).toMatchObject({ store: 'file:./irs-data', backend: 'auto', host: '127.0.0.1', port: 8787 });
    expect(configFromEnv({ IRS_PORT: '9000', IRS_BACKEND: 'wasm' }, ['wasm', 'webgpu', 'auto'] as const)).toMatchObject({ port: 9000, backend: 'wasm' });
  });

  it("takes the runtime's only backend when it offers no auto, and refuses one it does not offer", () => {
    expect(configFromEnv({}, ['wasm'] as const).backend).toBe('wasm');
    expect(() => configFromEnv({ IRS_BACKEND: 'node' }, ['wasm', 'webgpu', 'auto'] as const)).toThrow('IRS_BACKEND=node: choose wasm, webgpu or auto');
  });
});

describe('Certificate discriminated by kind', () => {
  it('derives the guarantee from the params its kind has', () => {
    const base = { sigma: 0.5, seed: 0, noise: 'x', batchSize: 1, backend: 'wasm', alpha: 0.001 };
    expect(guaranteeFor({ kind: 'certify', params: { ...base, n0: 10, n: 100 } }).failureProbability).toBe(0.001);
    expect(guaranteeFor({ kind: 'recertify', params: { ...base, n: 100, np: 50, alphaZeta: 0.001, gamma: 0.99 } }).failureProbability).toBe(0.002);
  });
});
