/**
 * `irs report`: a self-contained HTML page (inline SVG and CSS, no script, no network) with
 * the certified-accuracy-vs-radius curves of every certificate on one plot, a summary table,
 * and for IRS certificates the distribution of zeta and the branch each input took. Also a
 * Markdown summary for CI comments.
 */
import type { Certificate } from '../protocol/certificate.ts';
import { averageCertifiedRadius, certifiedAccuracy } from '../smoothing/metrics.ts';
import { CAVEATS, guaranteeFor } from '../smoothing/guarantee.ts';

export interface Labeled {
  label: string;
  certificate: Certificate;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const RADII = [0, 0.25, 0.5, 0.75, 1.0];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function samplesParam(c: Certificate): string {
  if (c.kind === 'recertify') return `n_p = ${c.params.np}, alpha + alpha_zeta = ${c.params.alpha + c.params.alphaZeta}`;
  return `n0 = ${c.params.n0}, n = ${c.params.n}, alpha = ${c.params.alpha}`;
}

/** Certified accuracy as a step function of the radius, on the plot's grid. */
export function accuracyCurve(c: Certificate, maxRadius: number, points = 241): [number, number][] {
  return Array.from({ length: points }, (_, i) => {
    const r = (maxRadius * i) / (points - 1);
    return [r, certifiedAccuracy(c.results, r)];
  });
}

function curvesSvg(items: Labeled[]): string {
  const W = 720, H = 380, L = 56, R = 16, T = 16, B = 48;
  const top = Math.max(0.25, ...items.flatMap((x) => x.certificate.results.map((r) => (r.correct ? r.radius : 0))));
  const maxRadius = Math.ceil(top * 4) / 4;
  const X = (r: number) => L + ((W - L - R) * r) / maxRadius;
  const Y = (a: number) => T + (H - T - B) * (1 - a);
  const grid: string[] = [];
  for (let a = 0; a <= 1.0001; a += 0.2) {
    grid.push(`<line x1="${L}" x2="${W - R}" y1="${Y(a)}" y2="${Y(a)}" class="grid"/><text x="${L - 8}" y="${Y(a) + 4}" text-anchor="end">${a.toFixed(1)}</text>`);
  }
  for (let r = 0; r <= maxRadius + 1e-9; r += maxRadius > 2 ? 0.5 : 0.25) {
    grid.push(`<line x1="${X(r)}" x2="${X(r)}" y1="${T}" y2="${H - B}" class="grid"/><text x="${X(r)}" y="${H - B + 18}" text-anchor="middle">${r.toFixed(2)}</text>`);
  }
  const lines = items.map((x, i) => {
    const pts = accuracyCurve(x.certificate, maxRadius).map(([r, a]) => `${X(r).toFixed(1)},${Y(a).toFixed(1)}`).join(' ');
    return `<polyline class="curve" data-label="${esc(x.label)}" points="${pts}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`;
  });
  const legend = items.map((x, i) =>
    `<g transform="translate(${W - R - 230},${T + 8 + 18 * i})"><rect width="14" height="4" y="-4" fill="${COLORS[i % COLORS.length]}"/><text x="20" y="0">${esc(x.label)}</text></g>`);
  return `<svg class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="certified accuracy against radius">
${grid.join('\n')}
<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="axis"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" class="axis"/>
<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">L2 radius</text>
<text transform="translate(16,${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">certified accuracy</text>
${lines.join('\n')}
${legend.join('\n')}
</svg>`;
}

function zetaSvg(c: Certificate, color: string): string {
  const zetas = c.results.filter((r) => r.zeta !== undefined).map((r) => r.zeta!);
  if (zetas.length === 0) return '<p>No input took the zeta branch.</p>';
  const W = 360, H = 160, L = 40, B = 30, T = 10, bins = 20;
  const hi = Math.max(...zetas) * 1.0001 || 1;
  const counts = new Array(bins).fill(0);
  for (const z of zetas) counts[Math.min(bins - 1, Math.floor((z / hi) * bins))]++;
  const peak = Math.max(...counts);
  const bw = (W - L - 10) / bins;
  const bars = counts.map((k, i) => {
    const h = ((H - T - B) * k) / peak;
    return `<rect x="${(L + i * bw).toFixed(1)}" y="${(H - B - h).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${k} inputs</title></rect>`;
  });
  return `<svg class="zeta" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="distribution of zeta">
<line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" class="axis"/>
${bars.join('')}
<text x="${L}" y="${H - 12}">0</text><text x="${W - 10}" y="${H - 12}" text-anchor="end">${hi.toFixed(4)}</text>
<text x="${(L + W) / 2}" y="${H - 2}" text-anchor="middle">zeta (${zetas.length} inputs)</text>
<text x="${L - 6}" y="${T + 8}" text-anchor="end">${peak}</text>
</svg>`;
}

export function summaryRows(items: Labeled[]): string[][] {
  return items.map(({ label, certificate: c }) => [
    label, c.kind, c.model.sha256.slice(0, 12), String(c.results.length),
    ...RADII.map((r) => pct(certifiedAccuracy(c.results, r))),
    averageCertifiedRadius(c.results).toFixed(3), String(c.summary.abstained), String(c.summary.samples), c.summary.seconds.toFixed(1),
  ]);
}

const HEAD = ['certificate', 'kind', 'model', 'inputs', ...RADII.map((r) => `r=${r}`), 'ACR', 'abstained', 'samples', 'time (s)'];

export function reportHtml(items: Labeled[], title = 'irs-edge certification report'): string {
  const table = `<table><thead><tr>${HEAD.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>
${summaryRows(items).map((row) => `<tr>${row.map((c, i) => `<td${i > 2 ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
  const irs = items.map((x, i) => ({ ...x, color: COLORS[i % COLORS.length] })).filter((x) => x.certificate.kind === 'recertify');
  const irsSections = irs.map(({ label, certificate: c, color }) => {
    const b = c.summary.branches ?? { zeta: 0, rs: 0, abstain: 0 };
    return `<section class="irs"><h3>${esc(label)}</h3>
<p>Branches: <b>${b.zeta}</b> inputs used the cache (zeta branch), <b>${b.rs}</b> took plain RS on f^p (pA_lower &ge; gamma),
<b>${b.abstain}</b> abstained because the original did. Mean zeta ${c.summary.meanZeta?.toFixed(5) ?? '–'}; ${esc(samplesParam(c))}.</p>
${zetaSvg(c, color)}</section>`;
  }).join('\n');
  const params = items.map(({ label, certificate: c }) =>
    `<li><b>${esc(label)}</b>: ${c.kind} ${c.id}, model sha256 <code>${c.model.sha256}</code>, sigma ${c.params.sigma}, ${esc(samplesParam(c))}, seed ${c.params.seed}, data ${esc(c.data.source)}, ${c.tool.name} ${c.tool.version}</li>`).join('\n');
  // The guarantee its params imply (older certificates do not state one).
  const guarantees = items.map(({ label, certificate: c }) => {
    const g = guaranteeFor(c);
    return `<li><b>${esc(label)}</b>: per input, P(class or radius wrong) &le; <b>${g.failureProbability}</b>. ${esc(g.derivation)}</li>`;
  }).join('\n');
  const caveats = CAVEATS.map((c) => `<li>${esc(c)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}h3{font-size:14px}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif;fill:#333}.grid{stroke:#eee}.axis{stroke:#888}
code{font-size:12px}section.irs{display:inline-block;vertical-align:top;margin-right:24px}
</style></head><body>
<h1>${esc(title)}</h1>
<h2>Certified accuracy against radius</h2>
${curvesSvg(items)}
<h2>Summary</h2>
${table}
${irs.length ? `<h2>Incremental recertification (IRS)</h2>\n${irsSections}` : ''}
<h2>Certificates</h2>
<ul>${params}</ul>
<h2>Guarantee</h2>
<ul>${guarantees}</ul>
<p>Not covered by these probabilities:</p>
<ul>${caveats}</ul>
</body></html>
`;
}

export function reportMarkdown(items: Labeled[]): string {
  const lines = [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i > 2 ? '---:' : '---')).join('|')}|`,
    ...summaryRows(items).map((r) => `| ${r.join(' | ')} |`),
  ];
  for (const { label, certificate: c } of items) {
    if (c.kind !== 'recertify' || !c.summary.branches) continue;
    const b = c.summary.branches;
    lines.push('', `**${label}** (IRS): zeta branch ${b.zeta}, RS branch ${b.rs}, abstained ${b.abstain}; mean zeta ${c.summary.meanZeta?.toFixed(5) ?? '–'}.`);
  }
  lines.push('', '**Guarantee** (per input, over the noise):');
  for (const { label, certificate: c } of items) {
    const g = guaranteeFor(c);
    lines.push(`- ${label}: P(class or radius wrong) <= ${g.failureProbability}. ${g.derivation}`);
  }
  lines.push('', 'Not covered: ' + CAVEATS.join(' '));
  return lines.join('\n') + '\n';
}
