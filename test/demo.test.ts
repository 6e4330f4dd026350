/**
 * `irs demo` (npm start) end to end with small numbers: two local workers; f certified once; per
 * compression the decision-mode question by IRS and by RS from scratch; tune; the paper-style
 * table; the report.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

describe('irs demo', () => {
  it('certifies f once, answers the decision-mode question per compression by IRS and RS from scratch, tunes, compares at equal n_p, and writes a report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'irs-demo-'));
    const r = await runCli(['demo', '--count', '6', '--n', '400', '--np', '200', '--cap', '200', '--workers', '2', '--backend', TEST_BACKEND, '--quiet', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(r.stdout).toMatch(/sigma 1, 6 MNIST test images/); // the default model is the sigma-1.0 one
    expect(r.stdout).toMatch(/does f\^p still certify >= [0-9.]+% at r = 0\.5/);
    for (const name of ['int8', 'fp16', 'prune10']) {
      expect(lines.some((l) => new RegExp(`^ {3}${name} +IRS +(yes|no) +[0-9.]+% +[0-9]+ +[0-9,]+ +[0-9.]+ s$`).test(l)), name).toBe(true);
    }
    expect(lines.filter((l) => /^ {3} +RS from scratch +(yes|no) /.test(l))).toHaveLength(3);
    expect(r.stdout).toMatch(/RS from scratch spent int8 [0-9.]+x, fp16 [0-9.]+x, prune10 [0-9.]+x the f\^p samples IRS did/);
    expect(r.stdout).toMatch(/3\. irs tune/);
    expect(r.stdout).toMatch(/choice: (int8|fp16|prune:0\.[123]|none meets the target)/);
    for (const row of ['f (float32)  RS', 'int8         IRS', 'int8         RS from scratch', 'fp16         IRS', 'prune10      IRS', 'prune10      RS from scratch']) {
      expect(lines.some((l) => l.startsWith('   ' + row)), row).toBe(true);
    }
    expect(r.stdout).toMatch(/report: .*report\.html/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const irs = JSON.parse(readFileSync(join(out, 'int8-irs.json'), 'utf8'));
    expect(irs.kind).toBe('recertify');
    expect(irs.results).toHaveLength(6);
    const decision = JSON.parse(readFileSync(join(out, 'int8-decision-irs.json'), 'utf8'));
    expect(decision.params.sequential).toMatchObject({ mode: 'decision', radius: 0.5 });
    expect(JSON.parse(readFileSync(join(out, 'tune.json'), 'utf8')).candidates).toHaveLength(5);
  }, 300_000);
});
