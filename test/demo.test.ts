/** `irs demo` (npm start) end to end with small numbers: two local workers, every variant, the report. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

describe('irs demo', () => {
  it('certifies, compresses, recertifies every variant with IRS and from scratch, and writes a report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'irs-demo-'));
    const r = await runCli(['demo', '--count', '6', '--n', '400', '--np', '200', '--workers', '2', '--backend', TEST_BACKEND, '--quiet', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const row of ['f (float32)  RS', 'int8         IRS', 'int8         RS from scratch', 'fp16         IRS', 'prune10      IRS', 'prune10      RS from scratch']) {
      expect(lines.some((l) => l.startsWith(row)), row).toBe(true);
    }
    expect(r.stdout).toMatch(/IRS speedup over RS from scratch at the same n_p, in wall time: int8 [0-9.]+x/);
    expect(r.stdout).toMatch(/report: .*report\.html/);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const irs = JSON.parse(readFileSync(join(out, 'int8-irs.json'), 'utf8'));
    expect(irs.kind).toBe('recertify');
    expect(irs.results).toHaveLength(6);
  }, 180_000);
});
