/** Cohen et al.'s certify.py TSV table for a certificate. */
import type { Certificate } from './certificate.ts';

/** Cohen's `time` column: Python's str(datetime.timedelta), e.g. 0:00:01.234567. */
export function timedelta(seconds: number): string {
  const micros = Math.round(seconds * 1e6);
  const h = Math.floor(micros / 3.6e9);
  const m = Math.floor((micros % 3.6e9) / 6e7);
  const s = Math.floor((micros % 6e7) / 1e6);
  const us = micros % 1e6;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${us ? '.' + String(us).padStart(6, '0') : ''}`;
}

/** A radius to 3 significant digits, like Cohen's `{:.3}`, but never rounded up: it is a safety claim. */
export function radius3(r: number): string {
  if (!(r > 0)) return '0.0';
  let v = Number(r.toPrecision(3));
  if (v > r) v = Number((v - Math.pow(10, Math.floor(Math.log10(r)) - 2)).toPrecision(3));
  return String(v);
}

/** Cohen et al.'s certify.py table: idx label predict radius correct time. */
export function certificateTsv(c: Certificate): string {
  const lines = ['idx\tlabel\tpredict\tradius\tcorrect\ttime'];
  for (const r of c.results) lines.push([r.idx, r.label, r.predict, radius3(r.radius), r.correct, timedelta(r.time)].join('\t'));
  return lines.join('\n') + '\n';
}
