/**
 * Reproducible Gaussian noise for randomized smoothing.
 *
 * Element e of noise sample j in stream s under seed S is a pure function of (S, s, j, e):
 * Philox4x32-10 with key = S (64 bits) and counter = (floor(e / 4), j, s, 0) gives four
 * 32-bit words, turned into four standard normals by two Box–Muller transforms. So sample j
 * is bit-identical however the sample range is cut into batches or shards, and on every
 * machine and JS engine: the transcendental functions are stdlib's pure-JS fdlibm ports (ln, sincos), built
 * from IEEE-754 arithmetic alone (V8's own Math.sin/cos differ from them in the last bit for
 * about 1% of arguments, and engines are free to differ among themselves).
 *
 * The noise is keyed by sample, not by input: every input sees i.i.d. N(0, sigma^2 I) noise,
 * which is all a per-input certificate needs, and one noise batch can then serve every input
 * of a job (generation cost amortized).
 */
import ln from '@stdlib/math-base-special-ln';
import sincos from '@stdlib/math-base-special-sincos';
import { philox4x32 } from './philox.ts';

/** Identifies this noise scheme in certificates; bump when any output bit could change. */
export const NOISE_SCHEME = 'philox4x32-10/box-muller/v1';

/** Noise streams: selection and estimation samples must be independent (Cohen et al.). */
export const Stream = {
  /** n0 samples that pick the top class. */
  selection: 0,
  /** n samples that bound its probability; IRS replays a prefix of this stream on f^p. */
  estimation: 1,
  /** fresh samples for IRS's plain-RS branch (pA_lower >= gamma). */
  irsFallback: 2,
  /** PREDICT's samples. */
  predict: 3,
} as const;

export interface NoiseKey {
  /** Job seed: a non-negative integer below 2^53. */
  seed: number;
  stream: number;
}

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_PI_OVER_TWO_POW_32 = (2 * Math.PI) / TWO_POW_32;

export function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`);
  }
}

/**
 * Writes `count` noise samples of `dim` elements each, for sample indices start..start+count-1,
 * scaled by sigma, into out[0 .. count*dim). Each element is rounded to float32.
 */
export function fillGaussianNoise(
  out: Float32Array, key: NoiseKey, start: number, count: number, dim: number, sigma: number,
): void {
  checkSeed(key.seed);
  if (!Number.isInteger(start) || start < 0 || start + count > TWO_POW_32) {
    throw new RangeError(`sample range [${start}, ${start + count}) outside [0, 2^32)`);
  }
  if (out.length < count * dim) throw new RangeError('noise buffer too small');
  const k0 = key.seed % TWO_POW_32;
  const k1 = Math.floor(key.seed / TWO_POW_32);
  const stream = key.stream >>> 0;
  const words = new Uint32Array(4);
  // sin and cos of one angle share their range reduction (bit-identical to separate calls).
  const sc0 = new Float64Array(2);
  const sc1 = new Float64Array(2);
  const blocks = Math.ceil(dim / 4);
  for (let s = 0; s < count; s++) {
    const j = start + s;
    const base = s * dim;
    for (let b = 0; b < blocks; b++) {
      philox4x32(b, j, stream, 0, k0, k1, words);
      // u1 in (0, 1] so the log is finite; theta in [0, 2 pi).
      const r0 = sigma * Math.sqrt(-2 * ln((words[0] + 1) * INV_TWO_POW_32));
      const t0 = words[1] * TWO_PI_OVER_TWO_POW_32;
      const r1 = sigma * Math.sqrt(-2 * ln((words[2] + 1) * INV_TWO_POW_32));
      const t1 = words[3] * TWO_PI_OVER_TWO_POW_32;
      const e = b * 4;
      const left = dim - e;
      sincos.assign(t0, sc0, 1, 0);
      sincos.assign(t1, sc1, 1, 0);
      out[base + e] = r0 * sc0[1];
      if (left > 1) out[base + e + 1] = r0 * sc0[0];
      if (left > 2) out[base + e + 2] = r1 * sc1[1];
      if (left > 3) out[base + e + 3] = r1 * sc1[0];
    }
  }
}
