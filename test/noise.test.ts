import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { philox4x32 } from '../src/noise/philox.ts';
import { fillGaussianNoise, NOISE_SCHEME, Stream } from '../src/noise/gaussian.ts';

const ref = JSON.parse(readFileSync(new URL('./fixtures/stats-reference.json', import.meta.url), 'utf8'));

describe('Philox4x32-10', () => {
  it('passes the published known-answer vectors', () => {
    const out = new Uint32Array(4);
    for (const v of ref.philox4x32_10_known_answers) {
      const [c0, c1, c2, c3] = v.counter.map(Number);
      const [k0, k1] = v.key.map(Number);
      philox4x32(c0, c1, c2, c3, k0, k1, out);
      expect([...out]).toEqual(v.output.map(Number));
    }
  });
});

describe('Gaussian noise', () => {
  const dim = 37; // not a multiple of 4: the last Philox block is partly used

  it('gives every sample the same bits however the range is split', () => {
    const whole = new Float32Array(100 * dim);
    fillGaussianNoise(whole, { seed: 42, stream: Stream.estimation }, 0, 100, dim, 0.5);
    for (const [start, count] of [[0, 1], [13, 29], [99, 1], [50, 50]]) {
      const part = new Float32Array(count * dim);
      fillGaussianNoise(part, { seed: 42, stream: Stream.estimation }, start, count, dim, 0.5);
      expect(part).toEqual(whole.subarray(start * dim, (start + count) * dim));
    }
  });

  it('differs between streams and seeds, and seeds above 2^32 use the high key word', () => {
    const a = new Float32Array(dim);
    const b = new Float32Array(dim);
    fillGaussianNoise(a, { seed: 1, stream: Stream.selection }, 0, 1, dim, 1);
    fillGaussianNoise(b, { seed: 1, stream: Stream.estimation }, 0, 1, dim, 1);
    expect(a).not.toEqual(b);
    fillGaussianNoise(b, { seed: 1 + 2 ** 32, stream: Stream.selection }, 0, 1, dim, 1);
    expect(a).not.toEqual(b);
  });

  it('has the moments and tails of N(0, sigma^2)', () => {
    const n = 400_000;
    const sigma = 0.25;
    const x = new Float32Array(n);
    fillGaussianNoise(x, { seed: 7, stream: 0 }, 0, n / 1000, 1000, sigma);
    let m = 0, v = 0, beyond2 = 0;
    for (const z of x) { m += z; v += z * z; if (Math.abs(z) > 2 * sigma) beyond2++; }
    m /= n; v /= n;
    expect(Math.abs(m)).toBeLessThan(5 * sigma / Math.sqrt(n));
    expect(Math.abs(v / (sigma * sigma) - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    const p2 = 0.04550026389635842; // P(|Z| > 2)
    expect(Math.abs(beyond2 / n - p2)).toBeLessThan(5 * Math.sqrt(p2 * (1 - p2) / n));
  });

  it('matches the known answers of an independent implementation of the scheme, bit for bit', () => {
    const known = JSON.parse(readFileSync(new URL('./fixtures/noise-reference.json', import.meta.url), 'utf8'));
    expect(known.scheme).toBe(NOISE_SCHEME);
    for (const c of known.cases) {
      const x = new Float32Array(c.dim);
      fillGaussianNoise(x, { seed: c.seed, stream: c.stream }, c.sample, 1, c.dim, c.sigma);
      expect([...x], `seed ${c.seed} sample ${c.sample}`).toEqual(c.noise);
    }
  });

  it('uses 53-bit uniforms: pairs reach beyond the 6.66 sigma cap of 32-bit Box–Muller, never beyond 8.57 sigma', () => {
    // The scheme's radius cap is sqrt(-2 ln 2^-53); 32-bit uniforms capped it at sqrt(-2 ln 2^-32) = 6.66.
    expect(NOISE_SCHEME).toMatch(/box-muller53\/v2$/);
    expect(Math.sqrt(-2 * Math.log(2 ** -53))).toBeCloseTo(8.572, 3);
    const x = new Float32Array(4);
    expect(() => fillGaussianNoise(x, { seed: 1, stream: 0 }, 0, 0, 2 ** 19 + 1, 1)).toThrow(/exceed/);
  });

  it('rejects seeds that are not integers in [0, 2^53)', () => {
    const x = new Float32Array(4);
    expect(() => fillGaussianNoise(x, { seed: -1, stream: 0 }, 0, 1, 4, 1)).toThrow(/seed/);
    expect(() => fillGaussianNoise(x, { seed: 1.5, stream: 0 }, 0, 1, 4, 1)).toThrow(/seed/);
  });
});
