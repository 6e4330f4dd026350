/**
 * Evaluation metrics over a certificate's results, as defined in the IRS paper and Cohen's
 * analyze.py: an abstention or a wrong class counts as not certified at any radius.
 */
export interface ScoredResult {
  radius: number;
  /** 1 when the certified class equals the label (0 on abstain). */
  correct: 0 | 1;
}

/** Fraction of inputs certified with the correct class at radius >= r. */
export function certifiedAccuracy(results: readonly ScoredResult[], r: number): number {
  if (results.length === 0) return 0;
  return results.filter((x) => x.correct === 1 && x.radius >= r).length / results.length;
}

/** Average certified radius: mean of the radius over inputs certified correctly, 0 for the rest. */
export function averageCertifiedRadius(results: readonly ScoredResult[]): number {
  if (results.length === 0) return 0;
  return results.reduce((s, x) => s + (x.correct === 1 ? x.radius : 0), 0) / results.length;
}

export const STANDARD_RADII = [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5] as const;
