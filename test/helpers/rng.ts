/** Seeded uniforms in [0, 1) for simulations, from the project's own Philox (its KAT is tested). */
import { philox4x32 } from '../../src/noise/philox.ts';

export function philoxUniforms(seed: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const w = new Uint32Array(4);
  for (let i = 0; i < count; i += 4) {
    philox4x32(i / 4, 0, 0, 0x5eed, seed >>> 0, 0, w);
    for (let t = 0; t < 4 && i + t < count; t++) out[i + t] = w[t] / 4294967296;
  }
  return out;
}
