import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import betainc from '@stdlib/math-base-special-betainc';
import {
  ALPHA_FLOOR, binomialTails, binomialTestTwoSided, certifiedRadius, clopperPearsonLower, clopperPearsonUpper, MAX_TRIALS, normalQuantile, TAIL_RTOL,
} from '../src/stats/index.ts';
import { philoxUniforms } from './helpers/rng.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
// The project's reference values, and an extension to n = 1e6 and alpha = 1e-6 made with SciPy
// by fixtures/make_extended_reference.py.
const ref = fixture('stats-reference.json');
const extended = fixture('stats-reference-extended.json');
const allBounds = [...ref.clopper_pearson, ...extended.clopper_pearson];
// Exact binomial tail sums in mpmath (fixtures/make_extreme_reference.py): n up to 2^32, alpha down to 1e-20.
const extreme = fixture('stats-reference-extreme.json');

describe('Clopper–Pearson bounds at the extremes the CLI and API accept (n up to 2^32, alpha down to 1e-20)', () => {
  type Row = { k: number; n: number; alpha: number; lower: string; upper: string; lowerDown: number; upperUp: number; tailAtLowerDown: string; tailAtUpperUp: string };
  const rows: Row[] = extreme.clopper_pearson;

  it(`are never on the unsafe side of the exact values, at ${rows.length} points`, () => {
    for (const c of rows) {
      // lowerDown / upperUp are the doubles just outside the exact bounds: a sound bound is at or beyond them.
      expect(clopperPearsonLower(c.k, c.n, c.alpha), `lower(${c.k}, ${c.n}, ${c.alpha})`).toBeLessThanOrEqual(c.lowerDown);
      expect(clopperPearsonUpper(c.k, c.n, c.alpha), `upper(${c.k}, ${c.n}, ${c.alpha})`).toBeGreaterThanOrEqual(c.upperUp);
    }
  });

  it('are tight: within 1e-9 relative of the exact values (5e-9 on 1 - bound near 1)', () => {
    for (const c of rows) {
      const lo = clopperPearsonLower(c.k, c.n, c.alpha), up = clopperPearsonUpper(c.k, c.n, c.alpha);
      const L = Number(c.lower), U = Number(c.upper);
      if (L > 0) expect(relErr(lo, L), `lower(${c.k}, ${c.n}, ${c.alpha})`).toBeLessThanOrEqual(1e-9);
      expect(relErr(up, U), `upper(${c.k}, ${c.n}, ${c.alpha})`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('rest on a tail evaluator within a tenth of TAIL_RTOL of the exact tails, at the same doubles', () => {
    let worst = 0;
    for (const c of rows) {
      if (c.k > 0 && c.lowerDown > 0) worst = Math.max(worst, relErr(binomialTails.sf(c.k, c.n, c.lowerDown), Number(c.tailAtLowerDown)));
      if (c.k < c.n && c.upperUp < 1) worst = Math.max(worst, relErr(binomialTails.cdf(c.k, c.n, c.upperUp), Number(c.tailAtUpperUp)));
    }
    expect(worst).toBeLessThan(TAIL_RTOL / 10);
  });

  it('refuse what they cannot make sound, with a message', () => {
    expect(() => clopperPearsonUpper(1, 10, ALPHA_FLOOR / 2)).toThrow(/below 1e-20/);
    expect(() => clopperPearsonLower(1, MAX_TRIALS + 1, 0.01)).toThrow(/n must be an integer in \[1, 2\^32\]/);
    expect(clopperPearsonUpper(MAX_TRIALS - 1, MAX_TRIALS, ALPHA_FLOOR)).toBeLessThanOrEqual(1);
  });
});

function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

describe('Clopper–Pearson bounds against SciPy', () => {
  it(`match all ${allBounds.length} reference values to 1e-9 relative, never on the unsafe side`, () => {
    for (const c of allBounds) {
      const lo = clopperPearsonLower(c.k, c.n, c.alpha);
      const up = clopperPearsonUpper(c.k, c.n, c.alpha);
      expect(relErr(lo, c.lower), `lower(${c.k}, ${c.n}, ${c.alpha})`).toBeLessThanOrEqual(1e-9);
      expect(relErr(up, c.upper), `upper(${c.k}, ${c.n}, ${c.alpha})`).toBeLessThanOrEqual(1e-9);
      expect(lo, `lower(${c.k}, ${c.n}, ${c.alpha}) above SciPy`).toBeLessThanOrEqual(c.lower);
      expect(up, `upper(${c.k}, ${c.n}, ${c.alpha}) below SciPy`).toBeGreaterThanOrEqual(c.upper);
    }
  });

  it('match the paper notes’ test vectors', () => {
    // The example of an unsafe bound at n = 1e8 (it came out below the exact value).
    expect(clopperPearsonUpper(1, 1e8, 1e-3)).toBeGreaterThanOrEqual(extreme.clopper_pearson.find((c: { k: number; n: number; alpha: number }) => c.k === 1 && c.n === 1e8 && c.alpha === 1e-3).upperUp);
    expect(clopperPearsonLower(10000, 10000, 0.001)).toBeCloseTo(0.999309, 6);
    expect(clopperPearsonLower(9900, 10000, 0.001)).toBeCloseTo(0.986531, 6);
    expect(clopperPearsonLower(7000, 10000, 0.001)).toBeCloseTo(0.685658, 6);
    expect(clopperPearsonUpper(0, 1000, 0.001)).toBeCloseTo(0.006884, 6);
    expect(clopperPearsonUpper(5, 1000, 0.001)).toBeCloseTo(0.016361, 6);
  });

  // Beyond the reference files, the defining equations on a grid up to n = 1e6, alpha = 1e-6:
  // lower solves I_x(k, n-k+1) = alpha and upper solves 1 - I_x(k+1, n-k) = alpha. A sound
  // bound leaves at most alpha outside it (up to the library's own error in I).
  const ns = [1, 7, 1000, 123457, 1_000_000];
  const alphas = [0.05, 1e-3, 1e-6];
  it('leave at most alpha outside them by their defining equations, n up to 1e6, alpha down to 1e-6', () => {
    for (const n of ns) {
      const ks = [...new Set([0, 1, 2, Math.floor(n / 3), Math.floor(n / 2), n - 2, n - 1, n].filter((k) => k >= 0 && k <= n))];
      for (const alpha of alphas) {
        for (const k of ks) {
          const lo = clopperPearsonLower(k, n, alpha);
          const up = clopperPearsonUpper(k, n, alpha);
          expect(lo).toBeLessThan(up);
          if (k > 0) expect(betainc(lo, k, n - k + 1), `I(lower) k=${k} n=${n} a=${alpha}`).toBeLessThanOrEqual(alpha * (1 + 1e-9));
          // upper tail of the regularized incomplete beta (no 1 - x cancellation)
          if (k < n) expect(betainc(up, k + 1, n - k, true, true), `I(upper) k=${k} n=${n} a=${alpha}`).toBeLessThanOrEqual(alpha * (1 + 1e-9));
        }
        // The verified bounds aim 3 TAIL_RTOL of alpha inside for the tail evaluator's own error, then the margin.
        expect(relErr(clopperPearsonLower(n, n, alpha), Math.pow(alpha, 1 / n))).toBeLessThan(5e-10);
        expect(relErr(clopperPearsonUpper(0, n, alpha), -Math.expm1(Math.log(alpha) / n))).toBeLessThan(5e-10);
      }
    }
  });

  it('are monotone in k and symmetric: lower(k) = 1 - upper(n - k)', () => {
    const n = 500;
    let prev = -1;
    for (let k = 0; k <= n; k++) {
      const lo = clopperPearsonLower(k, n, 0.001);
      expect(lo).toBeGreaterThan(prev);
      prev = lo;
      // equal up to the two conservative margins
      expect(Math.abs(lo - (1 - clopperPearsonUpper(n - k, n, 0.001)))).toBeLessThan(3e-10);
    }
  });

  it('reject impossible arguments with a message', () => {
    expect(() => clopperPearsonLower(5, 4, 0.01)).toThrow(/k must be/);
    expect(() => clopperPearsonLower(1, 0, 0.01)).toThrow(/n must be/);
    expect(() => clopperPearsonUpper(1, 10, 0)).toThrow(/alpha/);
    expect(() => clopperPearsonUpper(1, 10, 1)).toThrow(/alpha/);
    expect(() => clopperPearsonLower(1.5, 10, 0.1)).toThrow(/k must be/);
  });
});

describe('Clopper–Pearson coverage by simulation', () => {
  // Many draws of Binomial(n, p): the bound must hold in at least 1 - alpha of them. Allowance:
  // 3 standard errors of the empirical rate above alpha.
  const draws = 20_000;
  const n = 60;
  const alpha = 0.05;
  for (const p of [0.05, 0.3, 0.5, 0.8, 0.97]) {
    it(`lower and upper bounds cover p = ${p} in >= 1 - alpha of ${draws} draws (n = ${n})`, () => {
      const u = philoxUniforms(Math.round(p * 1e6), draws * n);
      let missLower = 0;
      let missUpper = 0;
      for (let d = 0; d < draws; d++) {
        let k = 0;
        for (let t = 0; t < n; t++) if (u[d * n + t] < p) k++;
        if (clopperPearsonLower(k, n, alpha) > p) missLower++;
        if (clopperPearsonUpper(k, n, alpha) < p) missUpper++;
      }
      const slack = 3 * Math.sqrt((alpha * (1 - alpha)) / draws);
      expect(missLower / draws).toBeLessThanOrEqual(alpha + slack);
      expect(missUpper / draws).toBeLessThanOrEqual(alpha + slack);
    });
  }

  it('a deliberately anti-conservative bound fails the same check (the test has teeth)', () => {
    const p = 0.5;
    const u = philoxUniforms(7, draws * n);
    let miss = 0;
    for (let d = 0; d < draws; d++) {
      let k = 0;
      for (let t = 0; t < n; t++) if (u[d * n + t] < p) k++;
      if (clopperPearsonLower(k, n, 0.25) > p) miss++; // a bound at level 0.25 used as if 0.05
    }
    expect(miss / draws).toBeGreaterThan(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / draws));
  });
});

describe('normal quantile and binomial test against SciPy', () => {
  it('normalQuantile matches norm.ppf to 1e-9 relative', () => {
    for (const c of [...ref.normal_quantile, ...extended.normal_quantile]) {
      expect(relErr(normalQuantile(c.p), c.quantile), `p=${c.p}`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('binomialTestTwoSided matches binomtest(...).pvalue to 1e-9 relative, never smaller', () => {
    for (const c of ref.binomtest_two_sided) {
      const v = binomialTestTwoSided(c.k, c.n, c.p);
      expect(relErr(v, c.pvalue), `k=${c.k} n=${c.n}`).toBeLessThanOrEqual(1e-9);
      expect(v).toBeGreaterThanOrEqual(c.pvalue);
    }
  });

  it('binomialTestTwoSided handles asymmetric p like SciPy (exact sums for small n)', () => {
    // Exact two-sided p-value by brute force over all outcomes, SciPy's definition.
    const exact = (k: number, n: number, p: number) => {
      const pmf = (x: number) => {
        let lc = 0;
        for (let i = 1; i <= x; i++) lc += Math.log((n - x + i) / i);
        return Math.exp(lc + x * Math.log(p) + (n - x) * Math.log1p(-p));
      };
      const d = pmf(k);
      let s = 0;
      for (let x = 0; x <= n; x++) if (pmf(x) <= d * (1 + 1e-7)) s += pmf(x);
      return Math.min(1, s);
    };
    for (const [k, n, p] of [[3, 20, 0.3], [12, 20, 0.3], [0, 15, 0.1], [9, 9, 0.7], [4, 30, 0.25]] as const) {
      expect(relErr(binomialTestTwoSided(k, n, p), exact(k, n, p)), `k=${k} n=${n} p=${p}`).toBeLessThan(1e-9);
    }
  });

  it('certifiedRadius is sigma * Phi^-1(p), rounded down, and 0 at or below 1/2', () => {
    expect(certifiedRadius(0.5, 0.5)).toBe(0);
    expect(certifiedRadius(0.5, 0.3)).toBe(0);
    const r = certifiedRadius(0.5, 0.999309);
    expect(r).toBeLessThanOrEqual(0.5 * normalQuantile(0.999309));
    expect(r).toBeCloseTo(0.5 * 3.1986, 3);
  });
});
