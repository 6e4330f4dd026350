/**
 * The CI gate: does a (re)certified model meet the release criteria? Criteria are certified
 * accuracy floors at given radii and a ceiling on the ACR drop against the original.
 */
import type { Certificate } from '../protocol/certificate.ts';
import { certifiedAccuracy, averageCertifiedRadius } from '../smoothing/metrics.ts';

export interface AccuracyFloor {
  radius: number;
  accuracy: number;
}

export interface GateCriteria {
  minCertifiedAccuracy?: AccuracyFloor[];
  /** Largest allowed ACR(original) - ACR(this). */
  maxAcrDrop?: number;
}

export interface GateCheck {
  criterion: string;
  required: number;
  actual: number;
  passed: boolean;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

/** Parses `R:ACC` (e.g. `0.5:0.80`). */
export function parseAccuracyFloor(spec: string): AccuracyFloor {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*:\s*([0-9]*\.?[0-9]+)\s*$/.exec(spec);
  const radius = m ? Number(m[1]) : NaN;
  const accuracy = m ? Number(m[2]) : NaN;
  if (!m || !(radius >= 0) || !(accuracy >= 0 && accuracy <= 1)) {
    throw new RangeError(`'${spec}' is not RADIUS:ACCURACY with radius >= 0 and accuracy in [0, 1] (e.g. 0.5:0.80)`);
  }
  return { radius, accuracy };
}

export function evaluateGate(cert: Certificate, criteria: GateCriteria, original?: Certificate): GateResult {
  const checks: GateCheck[] = [];
  for (const f of criteria.minCertifiedAccuracy ?? []) {
    const actual = certifiedAccuracy(cert.results, f.radius);
    checks.push({ criterion: `certified accuracy at r = ${f.radius}`, required: f.accuracy, actual, passed: actual >= f.accuracy });
  }
  if (criteria.maxAcrDrop !== undefined) {
    if (!original) throw new Error('--max-acr-drop needs the original certificate');
    const drop = averageCertifiedRadius(original.results) - averageCertifiedRadius(cert.results);
    checks.push({ criterion: 'ACR drop against the original', required: criteria.maxAcrDrop, actual: drop, passed: drop <= criteria.maxAcrDrop });
  }
  return { passed: checks.every((c) => c.passed), checks };
}

export function describeGate(g: GateResult): string {
  return g.checks
    .map((c) => `${c.passed ? 'PASS' : 'FAIL'} ${c.criterion}: ${c.actual.toFixed(4)} (${c.criterion.startsWith('ACR') ? 'at most' : 'at least'} ${c.required})`)
    .join('\n');
}
