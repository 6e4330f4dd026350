/**
 * Reproducible Gaussian noise for randomized smoothing.
 *
 * Element e of noise sample j in stream s under seed S is a pure function of (S, s, j, e):
 * Philox4x32-10 with key = S (64 bits) and counters (floor(e / 4), j, s, h) for h = 0, 1 gives
 * two blocks of four 32-bit words; each block makes two 53-bit uniforms (radius and angle) of
 * one Box–Muller transform, so elements 4b, 4b+1 come from block h = 0 and 4b+2, 4b+3 from h = 1.
 *
 * Why 53 bits (scheme v2; v1 used one 32-bit word per uniform): Box–Muller's radius is
 * sqrt(-2 ln u1), so the smallest u1 caps it. With 32-bit uniforms the cap is 6.66 sigma and
 * the Gaussian mass beyond it, 2^-32 per pair of coordinates, adds up to ~1e-7 in total
 * variation for MNIST and ~2e-5 for ImageNet-sized inputs: far above the 1e-10 relative margin
 * the bounds keep. With 53-bit uniforms the cap is sqrt(106 ln 2) = 8.57 sigma and the mass
 * beyond it 2^-53 per pair: ceil(d/2) 2^-53 <= 8e-12 for d = 3x224x224 (RELIABILITY.md). So sample j
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
export const NOISE_SCHEME = 'philox4x32-10/box-muller53/v2';

/**
 * Largest input dimension accepted: the truncated tail's mass per sample, ceil(d/2) 2^-53 <=
 * 2^-35 = 2.9e-11, stays below the smallest absolute margin a certifying bound keeps (1e-10
 * relative on a probability bound > 1/2: 5e-11). RELIABILITY.md, "Noise and floating point".
 */
export const MAX_NOISE_DIM = 2 ** 19;

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
const INV_TWO_POW_53 = 2 ** -53;
const TWO_PI_OVER_TWO_POW_53 = 2 * Math.PI * 2 ** -53;

/** The 53-bit integer of two words: the high 21 bits of `hi`, then `lo`. Exact in a double. */
function bits53(hi: number, lo: number): number {
  return (hi >>> 11) * TWO_POW_32 + lo;
}

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
  if (dim > MAX_NOISE_DIM) throw new RangeError(`inputs of ${dim} values exceed the ${MAX_NOISE_DIM} this noise scheme's tail bound covers`);
  const k0 = key.seed % TWO_POW_32;
  const k1 = Math.floor(key.seed / TWO_POW_32);
  const stream = key.stream >>> 0;
  const words = new Uint32Array(4);
  // sin and cos of one angle share their range reduction (bit-identical to separate calls).
  const sc = new Float64Array(2);
  const blocks = Math.ceil(dim / 4);
  for (let s = 0; s < count; s++) {
    const j = start + s;
    const base = s * dim;
    for (let b = 0; b < blocks; b++) {
      const e = b * 4;
      const left = dim - e;
      for (let h = 0; h < 2 && 2 * h < left; h++) {
        philox4x32(b, j, stream, h, k0, k1, words);
        // u1 in (0, 1] (2^-53 steps) so the log is finite; theta in [0, 2 pi).
        const r = sigma * Math.sqrt(-2 * ln((bits53(words[0], words[1]) + 1) * INV_TWO_POW_53));
        const t = bits53(words[2], words[3]) * TWO_PI_OVER_TWO_POW_53;
        sincos.assign(t, sc, 1, 0);
        out[base + e + 2 * h] = r * sc[1];
        if (left > 2 * h + 1) out[base + e + 2 * h + 1] = r * sc[0];
      }
    }
  }
}
