/**
 * Which onnxruntime backend the tests run on. onnxruntime-node is an optional dependency: where
 * it is installed (CI, a plain `npm ci`), tests use it and the node-only tests run; where it is
 * missing (`npm ci --omit=optional`, or its installer failed and npm dropped it), the same tests
 * run on onnxruntime-web's wasm, and the tests that need onnxruntime-node itself are skipped
 * with NO_ORT_NODE as the reason.
 */
import type { BackendName } from '../../src/inference/index.ts';
import { ortNodeInstalled } from '../../src/inference/index.ts';

export const HAS_ORT_NODE: boolean = await ortNodeInstalled();
export const TEST_BACKEND: BackendName = HAS_ORT_NODE ? 'node' : 'wasm';
export const NO_ORT_NODE = 'skipped: onnxruntime-node is not installed (optional dependency; `npm ci` installs it), and this test compares it with wasm or inspects its optimizer';
if (!HAS_ORT_NODE) console.warn(`[irs-edge tests] onnxruntime-node is not installed: tests run on wasm; node-only tests are skipped`);
