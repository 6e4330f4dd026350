/**
 * The paper's speedup measure (IRS paper section 3.2): curves of cost against ACR, one point per
 * n_p, compared by the ratio of the areas under them over the ACR range both reach.
 */
export type Point = { acr: number; seconds: number; samples: number };

/** A cost (time or samples) as a function of ACR, piecewise linear through the points sorted by ACR. */
export function costAt(points: Point[], acr: number, cost: 'seconds' | 'samples' = 'seconds'): number {
  const p = [...points].sort((a, b) => a.acr - b.acr);
  if (acr <= p[0].acr) return p[0][cost];
  for (let i = 1; i < p.length; i++) {
    if (acr <= p[i].acr) {
      const t = (acr - p[i - 1].acr) / (p[i].acr - p[i - 1].acr || 1);
      return p[i - 1][cost] + t * (p[i][cost] - p[i - 1][cost]);
    }
  }
  return p[p.length - 1][cost];
}
export const timeAt = (points: Point[], acr: number) => costAt(points, acr, 'seconds');

/**
 * The paper's average speedups for CIFAR-10 ResNet-20 (the smallest network it reports), by n,
 * approximation and sigma: Tables 3 and 5 at n = 10^4, Table 6 at n = 10^5 (quantization only).
 */
export const PAPER: Record<number, Record<string, Record<number, number>>> = {
  10_000: {
    fp16: { 0.25: 1.37, 0.5: 1.79, 1: 2.85 },
    int8: { 0.25: 1.3, 0.5: 1.77, 1: 2.65 },
    'prune:0.05': { 0.25: 1.3, 0.5: 1.63, 1: 2.5 },
    'prune:0.1': { 0.25: 1.25, 0.5: 1.39, 1: 2.09 },
    'prune:0.2': { 0.25: 0.99, 0.5: 1.13, 1: 1.39 },
  },
  100_000: {
    fp16: { 0.25: 1.22, 0.5: 1.73, 1: 3.88 },
    int8: { 0.25: 1.27, 0.5: 1.86, 1: 4.31 },
  },
};

/** Ratio of areas under the time-vs-ACR curves over the common ACR range (trapezoids on 200 points). */
export function areaSpeedup(irs: Point[], base: Point[], cost: 'seconds' | 'samples' = 'seconds'): { speedup: number; from: number; to: number } {
  const from = Math.max(Math.min(...irs.map((p) => p.acr)), Math.min(...base.map((p) => p.acr)));
  const to = Math.min(Math.max(...irs.map((p) => p.acr)), Math.max(...base.map((p) => p.acr)));
  if (!(to > from)) return { speedup: NaN, from, to };
  let a = 0, b = 0;
  const steps = 200;
  for (let k = 0; k <= steps; k++) {
    const w = k === 0 || k === steps ? 0.5 : 1;
    const x = from + ((to - from) * k) / steps;
    a += w * costAt(irs, x, cost);
    b += w * costAt(base, x, cost);
  }
  return { speedup: b / a, from, to };
}

/** One measured n_p of a (sigma, approximation) cell, as bench/speedup.ts --json logs it. */
export interface LoggedPoint {
  sigma: number;
  approx: string;
  n: number;
  count: number;
  np: number;
  irs: Point;
  baseline: Point;
  meanZeta?: number;
  rsBranch: number;
}

/** A cell's table rows: the speedup row and the per-sample cost row. */
export function cellRows(cell: LoggedPoint[]): { speedup: string; cost: string } {
  const { sigma, approx, count, n } = cell[0];
  const irs = cell.map((p) => p.irs);
  const base = cell.map((p) => p.baseline);
  const last = cell.reduce((a, b) => (b.np > a.np ? b : a));
  const s = areaSpeedup(irs, base);
  // The same measure on f^p samples instead of seconds: deterministic, immune to machine load.
  const bySamples = areaSpeedup(irs, base, 'samples');
  const paper = PAPER[n]?.[approx]?.[sigma];
  // Per-sample cost at the highest ACR both methods reach: what each spends to get there.
  const top = s.to;
  const [bs, is] = [costAt(base, top, 'samples'), costAt(irs, top, 'samples')];
  const [bt, it] = [timeAt(base, top), timeAt(irs, top)];
  return {
    speedup: `| ${sigma} | ${approx} | ${s.speedup.toFixed(2)}x | ${bySamples.speedup.toFixed(2)}x | ${paper ? `${paper.toFixed(2)}x` : '-'} | ${s.from.toFixed(3)}-${s.to.toFixed(3)} | ${(last.meanZeta ?? 0).toFixed(4)} | ${((100 * last.rsBranch) / count).toFixed(0)}% | ${last.irs.seconds.toFixed(1)} s | ${last.baseline.seconds.toFixed(1)} s |`,
    cost: `| ${sigma} | ${approx} | ${top.toFixed(3)} | ${Math.round(bs / count)} | ${Math.round(is / count)} | ${(bs / is).toFixed(2)}x | ${bt.toFixed(1)} s | ${it.toFixed(1)} s | ${(bt / it).toFixed(2)}x |`,
  };
}

export const SPEEDUP_HEADER = '| sigma | approximation | speedup (area ratio, time) | the same on f^p samples | paper, CIFAR-10 ResNet-20, same n | common ACR range | mean zeta | inputs with pA_lower >= gamma | IRS time at the largest n_p | baseline time there |\n|---|---|---|---|---|---|---|---|---|---|';
export const COST_HEADER = '| sigma | approximation | ACR | baseline samples/input | IRS samples/input | sample ratio | baseline time | IRS time | time ratio |\n|---|---|---|---|---|---|---|---|---|';
export const COST_CAPTION = 'Per-sample cost at equal ACR (the highest ACR both curves reach; f^p samples per input and wall time, interpolated):';
