/** The human-readable summary the CLI prints after a job. */
import type { Certificate } from '../protocol/certificate.ts';

export function formatSummary(c: Certificate): string {
  const s = c.summary;
  const lines = [
    `${c.kind} ${c.id}  model ${c.model.name ?? ''} sha256 ${c.model.sha256.slice(0, 16)}…`,
    `inputs ${s.inputs}  abstained ${s.abstained}  ACR ${s.acr.toFixed(4)}  samples ${s.samples}  time ${s.seconds.toFixed(2)} s`,
    `certified accuracy  ${s.certifiedAccuracy.map((c) => `r=${c.radius}: ${(100 * c.accuracy).toFixed(1)}%`).join('  ')}`,
  ];
  if (s.branches) {
    lines.push(`branches  zeta ${s.branches.zeta}  rs ${s.branches.rs}  abstain ${s.branches.abstain}` +
      (s.meanZeta !== undefined ? `  mean zeta ${s.meanZeta.toFixed(5)}` : ''));
  }
  return lines.join('\n');
}
