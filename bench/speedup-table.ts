/**
 * Renders the speedup study's tables from the point logs of one or more runs
 * (bench/speedup.ts --json), e.g. when the study ran as one process per sigma.
 *
 *   npm run bench -- speedup-table run1.jsonl [run2.jsonl ...]
 */
import { readFileSync } from 'node:fs';
import { cellRows, COST_CAPTION, COST_HEADER, SPEEDUP_HEADER, type LoggedPoint } from './curves.ts';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run bench -- speedup-table run.jsonl [more.jsonl ...]');
  process.exit(2);
}
const cells = new Map<string, LoggedPoint[]>();
for (const f of files) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as LoggedPoint;
    const key = `${p.n}|${p.count}|${p.sigma}|${p.approx}`;
    cells.set(key, [...(cells.get(key) ?? []), p]);
  }
}
const order = ['int8', 'fp16', 'prune:0.05', 'prune:0.1', 'prune:0.2'];
const sorted = [...cells.values()].sort((a, b) => a[0].n - b[0].n || a[0].sigma - b[0].sigma || order.indexOf(a[0].approx) - order.indexOf(b[0].approx));
const rows = sorted.map((cell) => ({ cell, ...cellRows(cell) }));
for (const group of new Set(rows.map((r) => `${r.cell[0].n} ${r.cell[0].count}`))) {
  const [n, count] = group.split(' ');
  const these = rows.filter((r) => `${r.cell[0].n} ${r.cell[0].count}` === group);
  console.log(`\n${count} MNIST test images, n = ${n}, n_p points per cell: ${these.map((r) => r.cell.length).join(', ')}\n`);
  console.log(SPEEDUP_HEADER);
  for (const r of these) console.log(r.speedup);
  console.log(`\n${COST_CAPTION}\n`);
  console.log(COST_HEADER);
  for (const r of these) console.log(r.cost);
}
